"""A tiny app whose handler reports the neutral context it was given, so the end-to-end
tests can check what reaches a handler from the Lambda Runtime API's headers."""

from __future__ import annotations

import os
import threading

from polyfn import App, Context, HttpRequest

app = App("probe")


@app.get("/probe")
def probe(req: HttpRequest, ctx: Context) -> dict:
    return {
        "function_name": ctx.function_name,
        "invocation_id": ctx.invocation_id,
        "provider": ctx.provider,
        "region": ctx.region,
        "deadline": ctx.deadline,
        "remaining_time": ctx.remaining_time(),
        "traceparent": ctx.traceparent,
        "has_native": ctx.native is not None,
    }


@app.get("/hang")
def hang(req: HttpRequest, ctx: Context) -> dict:
    # Never answers in time: the harness must fail the test, not wait for it.
    threading.Event().wait(60)
    return {}


@app.get("/crash")
def crash(req: HttpRequest, ctx: Context) -> dict:
    os._exit(3)  # the runtime process dies mid-invocation
