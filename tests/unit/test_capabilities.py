"""polyfn.capabilities: ``@app.requires``, the per-provider table, the verdicts and the
generated docs/capabilities.md.

The facts checked here are the documented service limits the table cites (each Service
fact carries its source URL), e.g. SQS 1 MiB (https://docs.aws.amazon.com/
AWSSimpleQueueService/latest/APIReference/API_SendMessage.html), Queue Storage 64 KB
(https://learn.microsoft.com/rest/api/storageservices/queue-service-rest-api), Pub/Sub
10 MB (https://cloud.google.com/pubsub/quotas#resource_limits).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from polyfn import App
from polyfn.capabilities import (
    CAPABILITIES,
    KINDS,
    PROVIDERS,
    Requirements,
    honours,
    markdown,
    service,
    table,
)
from polyfn.errors import DefinitionError
from polyfn.triggers import HttpTrigger, QueueTrigger, StreamTrigger

DOCS = Path(__file__).resolve().parents[2] / "docs" / "capabilities.md"


def _verdicts(provider: str, fn: Any, app: App | None = None) -> dict[str, Any]:
    return {v.capability: v for t in fn.triggers for v in honours(provider, fn, t, app=app)}


def test_requires_stacks_in_either_order() -> None:
    app = App("caps")

    @app.queue("a")
    @app.requires(ordered=True)
    def below(msg: Any) -> None: ...

    @app.requires(max_payload=10)
    @app.queue("b")
    def above(msg: Any) -> None: ...

    assert app.function("below").requires == Requirements(ordered=True)
    assert app.function("above").requires == Requirements(max_payload=10)
    assert list(app.function("above").requires.declared()) == [("max_payload", 10)]


def test_functions_without_declarations_have_none() -> None:
    app = App("plain")

    @app.queue("a")
    def plain(msg: Any) -> None: ...

    assert app.function("plain").requires is None
    assert honours("aws", app.function("plain"), app.function("plain").trigger) == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"ordered": "yes"}, "ordered"),
        ({"max_payload": 0}, "max_payload"),
        ({"max_payload": 1.5}, "max_payload"),
        ({"max_payload": True}, "max_payload"),
        ({"max_duration": -1}, "max_duration"),
    ],
)
def test_bad_declarations_fail_at_definition(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(DefinitionError, match=f"requires: {field}"):
        App("x").requires(**kwargs)


def test_importing_the_core_does_not_load_the_table() -> None:
    code = (
        "import sys, polyfn, polyfn.app\n"
        "from polyfn import App\n"
        "app = App('a')\n"
        "@app.queue('q')\n"
        "def f(m): pass\n"
        "print('polyfn.capabilities' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_table_says_something_sourced_about_everything() -> None:
    rows = table()
    assert set(rows) == set(PROVIDERS)
    for provider, services in rows.items():
        assert set(KINDS) <= set(services), provider
        for key, svc in services.items():
            assert set(svc.facts) == set(CAPABILITIES), (provider, key)
            for name, fact in svc.facts.items():
                assert fact.source.startswith("https://"), (provider, key, name)
                assert fact.why, (provider, key, name)
                if name in ("partial_batch", "ordered", "exactly_once_output"):
                    assert isinstance(fact.value, bool)
                    assert fact.value or fact.instead, (provider, key, name)
                else:
                    assert fact.value is None or fact.value > 0


@pytest.mark.parametrize(
    ("provider", "key", "limit"),
    [
        ("aws", "queue", 1_048_576),  # SQS SendMessage: 1 MiB
        ("aws", "topic", 262_144),  # SNS default MaximumMessageSize: 256 KiB
        ("aws", "event", 262_144),  # EventBridge PutEvents entry: 256 KB
        ("aws", "stream", 1_048_576),  # Kinesis default record size: 1 MiB
        ("azure", "queue", 65_536),  # Queue Storage: 64 KB
        ("azure", "topic", 262_144),  # Service Bus Standard: 256 KB
        ("azure", "stream", 1_048_576),  # Event Hubs: 1 MB
        ("azure", "event", 1_048_576),  # Event Grid: 1 MB
        ("gcp", "queue", 10_000_000),  # Pub/Sub: 10 MB
        ("gcp", "event", 524_288),  # Eventarc: 512 KB
    ],
)
def test_payload_limits(provider: str, key: str, limit: int) -> None:
    assert table()[provider][key].facts["max_payload"].value == limit


def _app_with(**requires: Any) -> App:
    app = App("caps")

    @app.requires(**requires)
    @app.queue("jobs")
    def plain(msg: Any) -> None: ...

    @app.requires(**requires)
    @app.queue("groups", fifo=True)
    def fifo(msg: Any) -> None: ...

    @app.requires(**requires)
    @app.stream("clicks")
    def stream(msg: Any) -> None: ...

    @app.requires(**requires)
    @app.get("/x")
    def http(req: Any) -> None: ...

    return app


@pytest.mark.parametrize("provider", PROVIDERS)
def test_order_needs_a_fifo_queue_or_a_stream_everywhere(provider: str) -> None:
    app = _app_with(ordered=True)
    assert not _verdicts(provider, app.function("plain"))["ordered"].honoured
    assert _verdicts(provider, app.function("fifo"))["ordered"].honoured
    assert _verdicts(provider, app.function("stream"))["ordered"].honoured
    assert not _verdicts(provider, app.function("http"))["ordered"].honoured


def test_partial_batch_degrades_on_azure_streams_only() -> None:
    app = _app_with(partial_batch=True)
    stream = app.function("stream")
    assert _verdicts("aws", stream)["partial_batch"].honoured  # checkpoint at the failure
    assert _verdicts("gcp", stream)["partial_batch"].honoured  # one message per invocation
    azure = _verdicts("azure", stream)["partial_batch"]
    assert not azure.honoured
    assert "records before the failure run again" in azure.why
    assert "idempotent" in azure.instead
    for provider in PROVIDERS:
        assert _verdicts(provider, app.function("plain"))["partial_batch"].honoured


def test_payload_and_duration_limits_are_compared() -> None:
    app = _app_with(max_payload=300_000, max_duration=700)
    plain = app.function("plain")
    assert _verdicts("aws", plain)["max_payload"].honoured
    assert _verdicts("gcp", plain)["max_payload"].honoured
    small = _verdicts("azure", plain)["max_payload"]
    assert not small.honoured
    assert "300000 bytes asked" in small.why and "64 KB" in small.why
    assert _verdicts("aws", plain)["max_duration"].honoured  # Lambda: 900 s
    assert not _verdicts("azure", plain)["max_duration"].honoured  # Consumption: 10 min
    assert not _verdicts("gcp", plain)["max_duration"].honoured  # event-driven: 9 min
    http = _verdicts("aws", app.function("http"))["max_duration"]
    assert not http.honoured and "30 s" in http.why  # API Gateway HTTP API


def test_exactly_once_output_only_with_azure_output_bindings() -> None:
    app = App("out")

    @app.outputs(queues=["receipts"], topics=["events"])
    @app.requires(exactly_once_output=True)
    @app.queue("orders")
    def bound(msg: Any, ctx: Any) -> None: ...

    @app.requires(exactly_once_output=True)
    @app.queue("orders2")
    def undeclared(msg: Any, ctx: Any) -> None: ...

    @app.outputs(buckets=["archive"])
    @app.requires(exactly_once_output=True)
    @app.queue("orders3")
    def bucket(msg: Any, ctx: Any) -> None: ...

    @app.outputs(queues=["ledger"])
    @app.requires(exactly_once_output=True)
    @app.queue("orders4")
    def to_fifo(msg: Any, ctx: Any) -> None: ...

    @app.queue("ledger", fifo=True)
    def ledger(msg: Any) -> None: ...

    def azure(name: str) -> Any:
        return _verdicts("azure", app.function(name), app)["exactly_once_output"]

    assert azure("bound").honoured
    assert not azure("undeclared").honoured and "@app.outputs" in azure("undeclared").instead
    assert not azure("bucket").honoured and "archive" in azure("bucket").why
    assert not azure("to_fifo").honoured and "ledger" in azure("to_fifo").why
    for provider in ("aws", "gcp"):
        verdict = _verdicts(provider, app.function("bound"), app)["exactly_once_output"]
        assert not verdict.honoured and "retry sends it again" in verdict.why


def test_azure_queue_service_option_picks_service_bus() -> None:
    from polyfn.adapters.azure import AzureOptions

    trigger = QueueTrigger("jobs")
    assert service("azure", trigger).name == "Queue Storage"
    assert (
        service("azure", trigger, AzureOptions(queue_service="servicebus")).name
        == "Service Bus queue"
    )
    assert service("azure", QueueTrigger("jobs", fifo=True)).name.endswith("with sessions")
    assert service("aws", StreamTrigger("s")).name == "Kinesis Data Streams"
    assert service("gcp", HttpTrigger(("GET",), "/")).name == "HTTP function"
    with pytest.raises(ValueError, match="provider 'ibm'"):
        service("ibm", trigger)


def test_verdict_line_names_function_trigger_capability_provider_and_remedy() -> None:
    app = _app_with(ordered=True)
    (verdict,) = honours("aws", app.function("plain"), app.function("plain").trigger)
    line = verdict.line()
    assert line.startswith("function 'plain' (queue): ordered on AWS (SQS standard queue): ")
    assert "instead: declare queue(..., fifo=True)" in line
    assert verdict.as_json()["source"].startswith("https://docs.aws.amazon.com/")


def test_committed_docs_equal_the_generated_table() -> None:
    assert DOCS.read_text(encoding="utf-8") == markdown(), (
        "docs/capabilities.md is stale: python -m polyfn.capabilities > docs/capabilities.md"
    )


def test_payload_limit_for_triggers_and_output_verbs() -> None:
    from polyfn.capabilities import payload_limit

    assert payload_limit("aws", "send") == 1_048_576  # SQS
    assert payload_limit("aws", "emit") == 262_144  # EventBridge
    assert payload_limit("azure", "send") == 65_536  # Queue Storage
    assert payload_limit("azure", "send", fifo=True) == 262_144  # Service Bus
    assert payload_limit("gcp", "emit") == 10_000_000  # a Pub/Sub topic, not Eventarc
    assert payload_limit("gcp", "event") == 524_288  # Eventarc triggers
    assert payload_limit("aws", "storage") is None
    with pytest.raises(ValueError, match="no 'aws' service for 'fax'"):
        payload_limit("aws", "fax")
