"""A trace started by an HTTP request is continued through a topic and a queue to the last
handler, on the local runtime, under the neutral path and under each provider's adapter;
its ids are in the JSON log lines of every handler.

The hops carry W3C ``traceparent`` (https://www.w3.org/TR/trace-context/) in message
attributes, as polyfn's outputs set them: SQS message attributes under ``--as aws``,
Service Bus application properties under ``--as azure`` (a topic subscription; the queue
hop is a Service Bus queue), Pub/Sub attributes under ``--as gcp``.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from polyfn import App, HttpRequest
from polyfn.adapters.azure import AzureOptions
from polyfn.context import TraceContext
from polyfn.local.clock import VirtualClock
from polyfn.local.runtime import LocalRuntime
from polyfn.observe.logs import configure_logging

PROVIDERS = [None, "aws", "azure", "gcp"]
WAIT = 5.0
INCOMING = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def chain_app(seen: dict[str, Any], declared: bool = False) -> App:
    """signup → user-created → welcome → emails → email. ``declared``: the outputs are
    declared, which Azure turns into output bindings the host delivers."""
    app = App("chain")
    topics = app.outputs(topics=["user-created"]) if declared else (lambda f: f)
    queues = app.outputs(queues=["emails"]) if declared else (lambda f: f)

    @app.post("/signup")
    @topics
    def signup(req: HttpRequest, ctx: Any) -> dict[str, str]:
        ctx.logger.info("signing up")
        seen["signup"] = ctx.span
        ctx.outputs.publish("user-created", {"user": "u-1"})
        return {"ok": "yes"}

    @app.topic("user-created")
    @queues
    def welcome(msg: Any, ctx: Any) -> None:
        ctx.logger.info("welcoming %s", msg.json()["user"])
        seen["welcome"] = (ctx.trace, ctx.span)
        ctx.outputs.send("emails", {"to": "u-1"})

    @app.queue("emails", batch_size=5)
    def email(msg: Any, ctx: Any) -> None:
        logging.getLogger("app.email").info("mailing %s", msg.json()["to"])
        seen["email"] = (ctx.trace, ctx.span, ctx.links)

    return app


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    handler = configure_logging(logging.INFO, stream=stream)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.handlers[:] = before[0]
        root.setLevel(before[1])


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p or "neutral")
@pytest.mark.parametrize("header", [INCOMING, None], ids=["traceparent", "new-trace"])
def test_http_trace_continues_through_topic_and_queue(
    provider: str | None, header: str | None, json_logs: io.StringIO
) -> None:
    seen: dict[str, Any] = {}
    headers = {"content-type": "application/json"}
    if header:
        headers["traceparent"] = header
    # Azure Queue Storage messages have no attributes to carry a trace: the queue hop is a
    # Service Bus queue there (test_azure_storage_queue_starts_a_new_trace).
    options = AzureOptions(queue_service="servicebus") if provider == "azure" else None
    with LocalRuntime(
        chain_app(seen), provider=provider, clock=VirtualClock(), options=options
    ) as rt:
        response = rt.http(HttpRequest("POST", "/signup", headers=headers, body=b"{}"))
        assert response.status == 200
        assert rt.wait_idle(WAIT)

    signup: TraceContext = seen["signup"]
    if header:  # the request's trace is continued, under a span of the handler's own
        assert signup.trace_id == TraceContext.parse(header).trace_id
        assert signup.parent_id != TraceContext.parse(header).parent_id
    welcome_parent, welcome_span = seen["welcome"]
    email_parent, email_span, links = seen["email"]
    # Each hop's parent is the span that sent the message; one trace id all along.
    assert welcome_parent.trace_id == signup.trace_id
    assert welcome_parent.parent_id == signup.parent_id
    assert email_parent.trace_id == signup.trace_id
    assert email_parent.parent_id == welcome_span.parent_id
    assert email_span.trace_id == signup.trace_id
    # An SQS batch (and the neutral one) links to each record's trace; Service Bus and
    # Pub/Sub push hand over one message per invocation: no batch, no links.
    batched = provider in (None, "aws")
    expected = [email_parent.traceparent] if batched else []
    assert [link.traceparent for link in links] == expected

    lines = [json.loads(line) for line in json_logs.getvalue().splitlines()]
    by_message = {line["message"]: line for line in lines}
    for message, function in (
        ("signing up", "signup"),
        ("welcoming u-1", "welcome"),
        ("mailing u-1", "email"),
    ):
        line = by_message[message]
        assert line["function"] == function
        assert line["trace_id"] == signup.trace_id
        assert line["correlation_id"] == signup.trace_id
        assert line["invocation_id"]
    assert by_message["welcoming u-1"]["span_id"] == welcome_span.parent_id
    assert by_message["mailing u-1"]["parent_span_id"] == welcome_span.parent_id
    assert by_message["mailing u-1"]["event_id"]


def test_azure_storage_queue_starts_a_new_trace() -> None:
    """What degrades: Queue Storage keeps no attributes, so the handler of a storage queue
    message starts a trace of its own (the topic hop, Service Bus, still continues it)."""
    seen: dict[str, Any] = {}
    with LocalRuntime(chain_app(seen), provider="azure", clock=VirtualClock()) as rt:
        headers = {"content-type": "application/json", "traceparent": INCOMING}
        assert rt.http(HttpRequest("POST", "/signup", headers=headers, body=b"{}")).status == 200
        assert rt.wait_idle(WAIT)
    assert seen["welcome"][0].trace_id == TraceContext.parse(INCOMING).trace_id
    _, email_span, links = seen["email"]
    assert email_span.trace_id != TraceContext.parse(INCOMING).trace_id
    assert links == []


def test_azure_output_bindings_continue_the_trace_through_the_hosts_diagnostic_id() -> None:
    """Declared outputs are Azure output bindings: the host sends them, stamping Service
    Bus messages with its invocation's trace (Diagnostic-Id), which continues the
    request's trace; the next function's parent is that invocation, not polyfn's span."""
    seen: dict[str, Any] = {}
    options = AzureOptions(queue_service="servicebus")
    app = chain_app(seen, declared=True)
    with LocalRuntime(app, provider="azure", clock=VirtualClock(), options=options) as rt:
        headers = {"content-type": "application/json", "traceparent": INCOMING}
        assert rt.http(HttpRequest("POST", "/signup", headers=headers, body=b"{}")).status == 200
        assert rt.wait_idle(WAIT)
    trace_id = TraceContext.parse(INCOMING).trace_id
    assert seen["welcome"][0].trace_id == trace_id
    assert seen["email"][0].trace_id == trace_id
