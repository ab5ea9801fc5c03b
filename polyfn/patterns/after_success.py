"""Outputs delivered only after the handler succeeds.

``@outputs_after_success`` holds what the handler sends through ``ctx.outputs`` and
delivers it, in order, once the handler has returned; a handler that raises sends nothing,
so a retried event does not send twice what its failed attempt sent. It works per record
in a batch (it wraps the per-record handler).

What is sent carries the sending span's ``traceparent`` and, inside an idempotent handler,
``polyfn-idempotency-key`` = ``<event key>#<n>`` (n counts the outputs of the call), the
same on every attempt: if delivery fails half-way, the event is retried and consumers can
drop the copies of what the failed attempt delivered. Stack it under ``@idempotent`` so a
duplicate delivery neither runs the handler nor sends again::

    @app.queue("orders")
    @idempotent(store)
    @outputs_after_success
    def handle(msg, ctx):
        ctx.outputs.publish("order-events", {...})

The ids ``send``/``publish``/``emit`` return inside are polyfn's (the service assigns its
own on delivery); ``put`` returns None. Azure output bindings already work this way for
the targets they bind (the host writes them after the function returns).
"""

from __future__ import annotations

import functools
import inspect
import uuid
from collections.abc import Callable
from typing import Any

from polyfn.context import CURRENT
from polyfn.events.cloudevent import CloudEvent
from polyfn.outputs import OutputDriver, Outputs


class PendingOutputs:
    """An OutputDriver that records calls; :meth:`deliver` replays them on ``target``."""

    def __init__(self, target: OutputDriver) -> None:
        self.target = target
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def send(self, *args: Any) -> str:
        self.calls.append(("send", args))
        return uuid.uuid4().hex

    def publish(self, *args: Any) -> str:
        self.calls.append(("publish", args))
        return uuid.uuid4().hex

    def put(self, *args: Any) -> str | None:
        self.calls.append(("put", args))
        return None

    def emit(self, event: CloudEvent, bus: str | None) -> str:
        self.calls.append(("emit", (event, bus)))
        return event.id

    def get(self, bucket: str, key: str) -> bytes:
        # Reads are not effects: they go through at once.
        return self.target.get(bucket, key)

    def deliver(self) -> None:
        calls, self.calls = self.calls, []
        for method, args in calls:
            getattr(self.target, method)(*args)


def outputs_after_success(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Hold ``fn``'s outputs until it returns (see the module)."""
    takes_ctx = _takes_context(fn)

    def begin() -> tuple[Any, Outputs | None, PendingOutputs | None]:
        ctx = CURRENT.get()
        if ctx is None:  # called outside polyfn (a plain unit test): nothing to hold
            return None, None, None
        real = ctx.outputs
        pending = PendingOutputs(real.driver)
        ctx.outputs = Outputs(pending, ctx)
        return ctx, real, pending

    def end(ctx: Any, real: Outputs | None, pending: PendingOutputs | None, ok: bool) -> None:
        if ctx is None:
            return
        ctx.outputs = real
        if ok and pending is not None:
            pending.deliver()

    def args(event: Any, rest: tuple[Any, ...]) -> tuple[Any, ...]:
        return (event, *rest) if takes_ctx else (event,)

    if inspect.iscoroutinefunction(fn):

        async def run_async(event: Any, *rest: Any) -> Any:
            ctx, real, pending = begin()
            ok = False
            try:
                result = await fn(*args(event, rest))
                ok = True
                return result
            finally:
                end(ctx, real, pending, ok)

        wrapper: Callable[..., Any] = run_async
    else:

        def run(event: Any, *rest: Any) -> Any:
            ctx, real, pending = begin()
            ok = False
            try:
                result = fn(*args(event, rest))
                ok = True
                return result
            finally:
                end(ctx, real, pending, ok)

        wrapper = run
    # (event, *rest): the app sees a handler taking the context, which it always passes.
    return functools.wraps(fn)(wrapper)


def _takes_context(fn: Callable[..., Any]) -> bool:
    from polyfn.app import _takes_context as takes

    return takes(fn)
