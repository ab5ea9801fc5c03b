"""polyfn.observe: trace context read from each provider's carriers, stamped on outputs,
JSON log lines with correlation ids, and outputs held until the handler succeeds.

Carriers and their sources:
- ``traceparent``: W3C Trace Context, https://www.w3.org/TR/trace-context/#traceparent-header
- ``X-Amzn-Trace-Id`` and SQS ``AWSTraceHeader`` (a message system attribute, listed under
  MessageSystemAttributeName in
  https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html;
  the X-Ray header format is in
  https://docs.aws.amazon.com/xray/latest/devguide/xray-concepts.html#xray-concepts-tracingheader)
- ``X-Cloud-Trace-Context``: https://cloud.google.com/trace/docs/trace-context#legacy-http-header
- ``googclient_traceparent``: google-cloud-pubsub's OpenTelemetry propagation
  (google/cloud/pubsub_v1/open_telemetry/context_propagation.py adds the prefix)
- ``Diagnostic-Id``: azure-servicebus (azure/servicebus/_common/tracing.py sets it and
  ``traceparent`` on sent messages)
"""

from __future__ import annotations

import copy
import io
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from polyfn import App, HttpRequest, QueueMessage
from polyfn.adapters import aws
from polyfn.context import Context, TraceContext
from polyfn.dispatch import run_batch, run_event
from polyfn.observe.logs import JsonFormatter, configure_logging
from polyfn.observe.trace import child_of, trace_of
from polyfn.outputs import IDEMPOTENCY_KEY, Outputs, user_attributes
from polyfn.outputs.memory import MemoryDriver
from polyfn.patterns import MemoryStore, idempotent
from polyfn.patterns.after_success import outputs_after_success

EVENTS = Path(__file__).parents[1] / "events" / "aws"
PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
XRAY = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"traceparent": PARENT, "tracestate": "k=v"}, (TRACE_ID, "00f067aa0ba902b7", True)),
        (
            {"X-Amzn-Trace-Id": XRAY},
            ("5759e988bd862e3fe1be46a994272793", "53995c3f42cd8ad8", True),
        ),
        (
            {"X-Cloud-Trace-Context": "105445aa7843bc8bf206b12000100000/1;o=1"},
            ("105445aa7843bc8bf206b12000100000", "0000000000000001", True),
        ),
        ({"traceparent": "garbage"}, None),
        ({}, None),
    ],
)
def test_http_trace_from_each_providers_header(headers: dict[str, str], expected: Any) -> None:
    trace = trace_of(HttpRequest("GET", "/", headers=headers))
    got = None if trace is None else (trace.trace_id, trace.parent_id, trace.sampled)
    assert got == expected


@pytest.mark.parametrize("attribute", ["traceparent", "googclient_traceparent", "Diagnostic-Id"])
def test_message_trace_from_each_providers_attribute(attribute: str) -> None:
    msg = QueueMessage("m-1", b"x", attributes={attribute: PARENT, "other": "1"})
    trace = trace_of(msg)
    assert trace is not None and trace.traceparent == PARENT


def test_sqs_aws_trace_header_system_attribute() -> None:
    native = json.loads((EVENTS / "sqs__samcli__receive-message.json").read_text())
    record = copy.deepcopy(native["Records"][0])
    record["attributes"]["AWSTraceHeader"] = XRAY
    (msg,) = aws.from_native({"Records": [record]})
    trace = trace_of(msg)
    assert trace is not None
    assert trace.traceparent == "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01"


def test_a_span_is_a_child_or_a_new_root() -> None:
    parent = TraceContext.parse(PARENT)
    child = child_of(parent)
    assert (child.trace_id, child.sampled) == (TRACE_ID, True)
    assert child.parent_id != parent.parent_id and len(child.parent_id) == 16
    root = child_of(None)
    assert len(root.trace_id) == 32 and root.trace_id != TRACE_ID


def _ctx(driver: MemoryDriver, name: str = "f", provider: str = "local") -> Context:
    return Context(name, "inv-1", provider, outputs=Outputs(driver))


def test_outputs_carry_the_sending_span_and_leave_given_values_alone() -> None:
    app = App("t")
    driver = MemoryDriver()

    @app.queue("in")
    def handle(msg: Any, ctx: Any) -> None:
        ctx.outputs.send("out", b"1", attributes={"a": "b"})
        ctx.outputs.send(
            "out", b"2", attributes={"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-00"}
        )
        ctx.outputs.put("bucket", "k", b"3")

    ctx = _ctx(driver)
    msg = QueueMessage("m-1", b"x", attributes={"traceparent": PARENT})
    run_event(app.function("handle"), msg, ctx)
    first, second, put = driver.sent
    assert first.options["attributes"]["a"] == "b"
    sent = TraceContext.parse(first.options["attributes"]["traceparent"])
    assert sent.trace_id == TRACE_ID and sent.parent_id == ctx.span.parent_id
    assert second.options["attributes"]["traceparent"].startswith("00-" + "1" * 32)
    assert put.options["metadata"]["traceparent"] == first.options["attributes"]["traceparent"]
    assert user_attributes(first.options["attributes"]) == {"a": "b"}


def test_each_batch_record_sends_under_its_own_trace() -> None:
    app = App("t")
    driver = MemoryDriver()

    @app.queue("in")
    def handle(msg: Any, ctx: Any) -> None:
        ctx.outputs.send("out", msg.body)

    other = "00-" + "a" * 32 + "-" + "b" * 16 + "-01"
    records = [
        QueueMessage("m-1", b"1", attributes={"traceparent": PARENT}),
        QueueMessage("m-2", b"2", attributes={"traceparent": other}),
        QueueMessage("m-3", b"3"),
    ]
    ctx = _ctx(driver)
    run_batch(app.function("handle"), records, ctx)
    traces = [TraceContext.parse(s.options["attributes"]["traceparent"]) for s in driver.sent]
    assert [t.trace_id for t in traces[:2]] == [TRACE_ID, "a" * 32]
    assert traces[2].trace_id not in (TRACE_ID, "a" * 32)  # no trace given: a new one
    ctx._batch, ctx._event = records, None
    assert [t.traceparent for t in ctx.links] == [PARENT, other]


def test_outputs_after_success_hold_until_the_handler_returns() -> None:
    app = App("t")
    driver = MemoryDriver()
    calls: list[str] = []

    @app.queue("in")
    @outputs_after_success
    def handle(msg: Any, ctx: Any) -> None:
        before = len(driver.sent)
        ctx.outputs.send("out", msg.body)
        assert len(driver.sent) == before  # held
        calls.append(msg.id)
        if msg.body == b"bad":
            raise ValueError("boom")

    outcome = run_batch(
        app.function("handle"),
        [QueueMessage("m-1", b"ok"), QueueMessage("m-2", b"bad"), QueueMessage("m-3", b"ok3")],
        _ctx(driver),
    )
    assert calls == ["m-1", "m-2", "m-3"]
    assert [f.id for f in outcome.failures] == ["m-2"]
    assert [s.body for s in driver.sent] == [b"ok", b"ok3"]  # the failed record sent nothing


def test_idempotent_outputs_carry_a_stable_key_per_output() -> None:
    app = App("t")
    driver = MemoryDriver()
    store = MemoryStore()
    attempts: list[int] = []

    @app.queue("in")
    @idempotent(store)
    @outputs_after_success
    def handle(msg: Any, ctx: Any) -> None:
        ctx.outputs.send("a", b"1")
        ctx.outputs.publish("b", b"2")
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("first attempt fails after sending")

    fn = app.function("handle")
    msg = QueueMessage("m-1", b"x", queue="in")
    with pytest.raises(Exception, match="first attempt"):
        run_event(fn, msg, _ctx(driver))
    assert driver.sent == []
    run_event(fn, msg, _ctx(driver))
    run_event(fn, msg, _ctx(driver))  # a duplicate delivery: no handler run, nothing sent
    keys = [s.options["attributes"][IDEMPOTENCY_KEY] for s in driver.sent]
    assert keys == [f"{msg.event_source}:m-1#1", f"{msg.event_source}:m-1#2"]
    assert len(attempts) == 2


def _log_line(provider: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "proj")
    app = App("t")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("test.observe")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)

    @app.queue("in")
    def handle(msg: Any, ctx: Any) -> None:
        logger.info("hello %s", "there", extra={"order": "o-1"})

    try:
        msg = QueueMessage("m-1", b"x", attributes={"traceparent": PARENT})
        run_event(app.function("handle"), msg, _ctx(MemoryDriver(), "handle", provider))
    finally:
        logger.removeHandler(handler)
    return json.loads(stream.getvalue())


@pytest.mark.parametrize("provider", ["local", "aws", "azure", "gcp"])
def test_json_log_line_has_correlation_ids_and_the_providers_fields(
    provider: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    line = _log_line(provider, monkeypatch)
    assert line["message"] == "hello there"
    assert line["order"] == "o-1"
    assert (line["function"], line["invocation_id"], line["provider"]) == (
        "handle",
        "inv-1",
        provider,
    )
    assert line["trace_id"] == line["correlation_id"] == TRACE_ID
    assert line["parent_span_id"] == "00f067aa0ba902b7"
    assert line["event_id"] == "m-1"
    if provider == "gcp":
        assert line["severity"] == "INFO" and "level" not in line
        assert line["logging.googleapis.com/trace"] == f"projects/proj/traces/{TRACE_ID}"
        assert line["logging.googleapis.com/spanId"] == line["span_id"]
        assert line["logging.googleapis.com/trace_sampled"] is True
    else:
        assert line["level"] == "INFO"
    if provider == "aws":
        assert line["xray_trace_id"] == f"1-{TRACE_ID[:8]}-{TRACE_ID[8:]}"
    if provider == "azure":
        assert line["operation_Id"] == TRACE_ID


def test_configure_logging_formats_the_runtimes_handler_once() -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    runtime = logging.StreamHandler(io.StringIO())  # what Lambda or the Azure worker installs
    root.handlers[:] = [runtime]
    try:
        configure_logging()
        assert root.handlers == [runtime] and isinstance(runtime.formatter, JsonFormatter)
        stream = io.StringIO()
        configure_logging(stream=stream)
        configure_logging(stream=stream)  # again: replaces, does not add
        assert len(root.handlers) == 2
        logging.getLogger("x").warning("outside any invocation")
        line = json.loads(stream.getvalue())
        assert line["message"] == "outside any invocation" and "trace_id" not in line
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
