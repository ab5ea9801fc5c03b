"""OpenTelemetry spans around invocations (polyfn.observe.otel), recorded by the
opentelemetry-sdk's InMemorySpanExporter: a link per batch record, record spans continuing
their producers' traces, outputs carrying the span that sent them, errors recorded; and a
trace continued from HTTP through a topic and a queue on the local runtime.

Structure after the OpenTelemetry messaging conventions:
https://opentelemetry.io/docs/specs/semconv/messaging/messaging-spans/#trace-structure
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from polyfn import App, HttpError, HttpRequest, QueueMessage
from polyfn.context import Context, TraceContext
from polyfn.dispatch import run_batch, run_http
from polyfn.local.clock import VirtualClock
from polyfn.local.runtime import LocalRuntime
from polyfn.observe.otel import disable_tracing, enable_tracing
from polyfn.outputs import Outputs
from polyfn.outputs.memory import MemoryDriver

A = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
B = "00-" + "a" * 32 + "-" + "b" * 16 + "-01"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    enable_tracing(provider)
    try:
        yield exporter
    finally:
        disable_tracing()


def _hex(value: int, width: int) -> str:
    return f"{value:0{width}x}"


def test_a_batch_span_links_every_record_and_records_continue_their_traces(spans):
    app = App("t")
    driver = MemoryDriver()

    @app.queue("in")
    def handle(msg: Any, ctx: Any) -> None:
        ctx.outputs.send("out", msg.body)
        if msg.body == b"bad":
            raise ValueError("bad record")

    records = [
        QueueMessage("m-1", b"ok", attributes={"traceparent": A}),
        QueueMessage("m-2", b"bad", attributes={"traceparent": B}),
        QueueMessage("m-3", b"ok"),
    ]
    ctx = Context("handle", "inv-1", "aws", outputs=Outputs(driver))
    outcome = run_batch(app.function("handle"), records, ctx)
    assert [f.id for f in outcome.failures] == ["m-2"]

    finished = spans.get_finished_spans()
    batch = next(s for s in finished if s.name == "handle process")
    per_record = [s for s in finished if s.name == "handle"]
    assert batch.kind == SpanKind.CONSUMER
    assert batch.attributes["messaging.batch.message_count"] == 3
    linked = [(_hex(ln.context.trace_id, 32), _hex(ln.context.span_id, 16)) for ln in batch.links]
    assert linked == [
        (TraceContext.parse(t).trace_id, TraceContext.parse(t).parent_id) for t in (A, B)
    ]

    first, second, third = per_record
    for span, parent in ((first, A), (second, B)):
        want = TraceContext.parse(parent)
        assert _hex(span.context.trace_id, 32) == want.trace_id
        assert _hex(span.parent.span_id, 16) == want.parent_id
    # No trace on the third record: a child of the batch span.
    assert third.parent.span_id == batch.context.span_id
    assert second.status.status_code == StatusCode.ERROR
    assert second.events[0].name == "exception"
    assert first.attributes["messaging.message.id"] == "m-1"
    # What each record sent names its own span as the parent.
    sent = [TraceContext.parse(s.options["attributes"]["traceparent"]) for s in driver.sent]
    assert [t.parent_id for t in sent] == [_hex(s.context.span_id, 16) for s in per_record]


def test_http_span_is_a_server_span_under_the_request_trace_and_5xx_is_an_error(spans):
    app = App("t")

    @app.get("/boom")
    def boom(req: Any) -> None:
        raise HttpError(503, "down")

    ctx = Context("boom", "inv-2", "gcp", outputs=Outputs(MemoryDriver()))
    response = run_http(
        app.function("boom"), HttpRequest("GET", "/boom", headers={"traceparent": A}), ctx
    )
    assert response.status == 503
    (span,) = spans.get_finished_spans()
    assert span.kind == SpanKind.SERVER
    assert _hex(span.context.trace_id, 32) == TraceContext.parse(A).trace_id
    assert span.attributes["http.response.status_code"] == 503
    assert span.status.status_code == StatusCode.ERROR


def test_spans_of_one_flow_form_one_trace_on_the_local_runtime(spans):
    app = App("flow")

    @app.post("/signup")
    def signup(req: Any, ctx: Any) -> dict[str, str]:
        ctx.outputs.publish("user-created", {"user": "u-1"})
        return {}

    @app.topic("user-created")
    def welcome(msg: Any, ctx: Any) -> None:
        ctx.outputs.send("emails", {"to": "u-1"})

    @app.queue("emails")
    def email(msg: Any, ctx: Any) -> None:
        pass

    with LocalRuntime(app, provider="aws", clock=VirtualClock()) as rt:
        headers = {"traceparent": A, "content-type": "application/json"}
        assert rt.http(HttpRequest("POST", "/signup", headers=headers, body=b"{}")).status == 200
        assert rt.wait_idle(5.0)

    by_name = {s.name: s for s in spans.get_finished_spans()}
    trace_id = TraceContext.parse(A).trace_id
    for name in ("signup", "welcome", "email"):
        assert _hex(by_name[name].context.trace_id, 32) == trace_id, name
    # Each hop is the child of the span that sent its message.
    assert by_name["welcome"].parent.span_id == by_name["signup"].context.span_id
    assert by_name["email"].parent.span_id == by_name["welcome"].context.span_id
