"""Running handlers: HTTP errors, single-event failures, async handlers, the context."""

from __future__ import annotations

import time

import pytest

from polyfn import App, Context, HandlerError, HttpError, HttpRequest, StorageEvent, TraceContext
from polyfn.adapters.aws.context import xray_to_trace
from polyfn.dispatch import run_event, run_http
from polyfn.outputs import Outputs
from polyfn.outputs.memory import MemoryDriver


def _ctx(**kw) -> Context:
    return Context("f", "inv-1", outputs=Outputs(MemoryDriver()), **kw)


def test_http_error_and_crash_become_statuses():
    app = App("x")

    @app.get("/missing")
    def missing(req):
        raise HttpError(404, "no such thing", headers={"x-why": "gone"})

    @app.get("/crash")
    def crash(req):
        raise RuntimeError("secret detail")

    resp = run_http(app.function("missing"), HttpRequest("GET", "/missing"), _ctx())
    assert (resp.status, resp.json(), resp.headers["x-why"]) == (
        404,
        {"error": "no such thing"},
        "gone",
    )
    resp = run_http(app.function("crash"), HttpRequest("GET", "/crash"), _ctx())
    assert resp.status == 500 and b"secret" not in resp.body


def test_single_event_failure_names_function_provider_and_source():
    app = App("x")

    @app.storage("b")
    def on_blob(ev, ctx):
        raise KeyError("size")

    with pytest.raises(HandlerError) as info:
        run_event(app.function("on_blob"), StorageEvent("b", "k"), _ctx())
    assert info.value.function == "on_blob" and info.value.source == "local:storage"
    assert "on_blob" in str(info.value) and "local" in str(info.value)
    assert isinstance(info.value.cause, KeyError)


def test_async_handlers_run():
    app = App("x")

    @app.get("/a")
    async def a(req, ctx):
        return {"id": ctx.invocation_id}

    resp = run_http(app.function("a"), HttpRequest("GET", "/a"), _ctx())
    assert resp.json() == {"id": "inv-1"}


def test_outputs_encode_bodies():
    driver = MemoryDriver()
    ctx = Context("f", "i", outputs=Outputs(driver))
    ctx.outputs.send("q", {"a": 1}, attributes={"k": "v"})
    ctx.outputs.publish("t", "text")
    ctx.outputs.put("b", "k", b"\x00")
    assert [(s.kind, s.target, s.body) for s in driver.sent] == [
        ("send", "q", b'{"a":1}'),
        ("publish", "t", b"text"),
        ("put", "b/k", b"\x00"),
    ]


def test_context_deadline_and_trace():
    ctx = _ctx(
        deadline=time.time() + 3, trace_source=lambda: TraceContext("a" * 32, "b" * 16, True)
    )
    assert 2 < ctx.remaining_time() <= 3
    assert ctx.traceparent == f"00-{'a' * 32}-{'b' * 16}-01"
    assert ctx.logger.extra == {"function": "f", "invocation_id": "inv-1"}
    assert Context("f", "i").remaining_time() is None


def test_xray_header_becomes_w3c_traceparent():
    trace = xray_to_trace(
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    )
    assert trace.traceparent == "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01"
    assert xray_to_trace("Root=1-5759e988-bd862e3fe1be46a994272793") is None
    assert xray_to_trace(None) is None
    assert TraceContext.parse("00-" + "0" * 32 + "-" + "1" * 16 + "-01") is None


def test_an_invalid_request_body_is_answered_400_naming_the_problem():
    from pydantic import BaseModel

    from polyfn import App, HttpRequest
    from polyfn.dispatch import run_http

    class User(BaseModel):
        name: str
        age: int

    app = App("users")

    @app.post("/users")
    def create(req):
        return req.json(User).model_dump()

    fn = app.function("create")
    ctx = Context("create", "inv")
    bad_field = run_http(fn, HttpRequest("POST", "/users", body=b'{"name":"a","age":"x"}'), ctx)
    assert bad_field.status == 400
    assert bad_field.json()["error"].startswith("invalid request body: age: Input should be")
    assert run_http(fn, HttpRequest("POST", "/users", body=b"nope"), ctx).status == 400
    ok = run_http(fn, HttpRequest("POST", "/users", body=b'{"name":"a","age":3}'), ctx)
    assert (ok.status, ok.json()) == (200, {"name": "a", "age": 3})
