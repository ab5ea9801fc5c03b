"""``polyfn events render``: every kind through every provider gives what the adapter's
own rendering gives, and reads back to the same neutral event."""

from __future__ import annotations

import copy
import json

import pytest
from cli_helpers import EVENTS, run, run_json, shape

from polyfn.cli.neutral import events_from

KINDS = list(EVENTS)


def neutral(kind: str, data: dict | None = None):
    return events_from(kind, copy.deepcopy(data if data is not None else EVENTS[kind]))


def render(capsys, provider: str, kind: str, *extra: str, data=None):
    text = json.dumps(EVENTS[kind] if data is None else data)
    return run_json(capsys, "events", "render", "--as", provider, kind, text, *extra)


# What each kind's event must keep through a provider's native payload and back.
KEPT = {
    "http": ("method", "path", "body"),
    "queue": ("id", "body", "queue", "attributes"),
    "topic": ("id", "topic", "subject", "body", "attributes"),
    "storage": ("bucket", "key", "kind", "size"),
    "schedule": ("scheduled_time",),
    "change": ("operation", "keys", "new"),
    "event": ("id", "source", "type", "data"),
}


def assert_kept(kind: str, back, dropped: tuple[str, ...] = ()) -> None:
    want = neutral(kind)
    for name in KEPT[kind]:
        if name not in dropped:
            assert getattr(back, name) == getattr(want, name), name


# -- AWS -------------------------------------------------------------------------------
AWS_SOURCES = {
    "http": "apigateway-v2",
    "queue": "sqs",
    "topic": "sns",
    "storage": "s3",
    "schedule": "schedule",
    "change": "dynamodb",
    "event": "eventbridge",
}


@pytest.mark.parametrize("kind", KINDS)
def test_aws_render_is_to_native(capsys, kind):
    from polyfn.adapters.aws import from_native, to_native
    from polyfn.adapters.aws.translate import source_of

    out = render(capsys, "aws", kind)
    event = neutral(kind)
    source = AWS_SOURCES[kind]
    records = source in ("sqs", "sns", "s3", "dynamodb")
    expected = to_native([event] if records else event, source=source)
    assert shape(out) == shape(expected)
    assert source_of(out) == source
    back = from_native(out)
    assert_kept(kind, back[0] if records else back)


@pytest.mark.parametrize(
    ("kind", "source"),
    [
        ("http", "apigateway-v1"),
        ("http", "alb"),
        ("queue", "kinesis"),
        ("storage", "s3-eventbridge"),
    ],
)
def test_aws_other_sources(capsys, kind, source):
    from polyfn.adapters.aws.translate import source_of

    out = render(capsys, "aws", kind, "--source", source)
    assert source_of(out) == source


def test_aws_array_is_one_event_of_several_records(capsys):
    batch = [{**EVENTS["queue"], "id": f"m-{i}"} for i in range(3)]
    out = render(capsys, "aws", "queue", data=batch)
    assert [r["messageId"] for r in out["Records"]] == ["m-0", "m-1", "m-2"]


def test_aws_source_of_another_kind_is_refused(capsys):
    code, _, err = run(
        capsys,
        "events",
        "render",
        "--as",
        "aws",
        "queue",
        json.dumps(EVENTS["queue"]),
        "--source",
        "sns",
    )
    assert code == 2
    assert "sqs, kinesis" in err


# -- Azure -----------------------------------------------------------------------------
AZURE_TRIGGERS = {
    "http": "httpTrigger",
    "queue": "queueTrigger",
    "topic": "serviceBusTrigger",
    "storage": "blobTrigger",
    "schedule": "timerTrigger",
    "change": "cosmosDBTrigger",
    "event": "eventGridTrigger",
}
# What the Azure trigger cannot carry: Queue Storage messages have no attributes; a blob
# trigger's content is the blob, whose size its properties tell.
AZURE_DROPS = {"queue": ("attributes",)}


@pytest.mark.parametrize("kind", KINDS)
def test_azure_render_decodes_to_the_event(capsys, kind):
    from polyfn.adapters.azure import from_native
    from polyfn.adapters.azure.sources._common import decode
    from polyfn.local.invoke.native.azure_typed import host_invocation

    out = render(capsys, "azure", kind)
    binding = out["binding"]
    assert binding["type"] == AZURE_TRIGGERS[kind]
    assert set(out) == {"binding", "data", "triggerMetadata"}
    obj = decode(binding["type"], host_invocation(out))  # azure-functions' own converter
    back = from_native(obj, binding)
    back = back[0] if isinstance(back, list) else back
    assert_kept(kind, back, AZURE_DROPS.get(kind, ()))


@pytest.mark.parametrize(
    ("kind", "function"),
    [("queue", "process_order"), ("http", "create_order"), ("schedule", "nightly_report")],
)
def test_azure_render_is_what_the_worker_renders_for_the_app(capsys, kind, function):
    from polyfn.adapters.azure import function_app
    from polyfn.adapters.azure.worker import Worker
    from polyfn.local.invoke.native.azure_typed import host_json
    from samples.orders.app import app

    out = render(capsys, "azure", kind)
    worker = Worker(function_app(app))
    expected = host_json(worker.render(function, neutral(kind)), worker.function(function).trigger)
    assert out["binding"] == expected["binding"]
    assert shape(out) == shape(expected)


@pytest.mark.parametrize(
    ("kind", "source", "trigger"),
    [
        ("queue", "servicebus", "serviceBusTrigger"),
        ("queue", "eventhub", "eventHubTrigger"),
        ("storage", "eventgrid", "eventGridTrigger"),
    ],
)
def test_azure_other_triggers(capsys, kind, source, trigger):
    data = {**EVENTS[kind], "id": "42"} if source == "eventhub" else None  # a sequence number
    out = render(capsys, "azure", kind, "--source", source, data=data)
    assert out["binding"]["type"] == trigger


def test_azure_schedule_azure_cannot_express(capsys):
    data = {"schedule": "rate(7 minutes)"}
    code, _, err = run(capsys, "events", "render", "--as", "azure", "schedule", json.dumps(data))
    assert code == 2
    assert "rate(7 minutes)" in err


# -- Google Cloud ----------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_gcp_render_is_to_native(capsys, kind):
    from polyfn.adapters.gcp import from_native, to_native

    out = render(capsys, "gcp", kind)
    event = neutral(kind)
    if kind == "http":
        expected = to_native(event)
        assert (out["method"], out["path"]) == (expected.method, expected.path)
        assert out["body"] == json.loads(expected.get_data())
        return
    headers, body = to_native(event, "structured")
    assert out["headers"] == headers
    assert shape(out["body"]) == shape(json.loads(body))
    assert_kept(kind, from_native(out["body"], kind if kind != "event" else None))


@pytest.mark.parametrize("mode", ["binary", "legacy", "push"])
def test_gcp_modes(capsys, mode):
    from polyfn.adapters.gcp import to_native

    out = render(capsys, "gcp", "queue", "--mode", mode)
    headers, _ = to_native(neutral("queue"), mode)
    assert set(out["headers"]) == set(headers)
    assert out["method"] == "POST"


def test_gcp_schedule_through_http(capsys):
    out = render(capsys, "gcp", "schedule", "--source", "http")
    assert out["headers"]["X-CloudScheduler"] == "true"


# -- input -----------------------------------------------------------------------------
def test_invalid_event_is_reported_by_field(capsys):
    bad = {"queue": 5, "delivery_count": "many"}
    code, out, err = run(capsys, "events", "render", "--as", "aws", "queue", json.dumps(bad))
    assert code == 2 and out == ""
    assert "invalid queue event" in err
    assert "delivery_count" in err and "queue" in err


def test_not_json(capsys):
    code, _, err = run(capsys, "events", "render", "--as", "gcp", "queue", "{nope")
    assert code == 2
    assert "not JSON" in err


def test_body_base64_and_json_bodies(capsys, tmp_path):
    data = {"queue": "q", "body_base64": "AAEC"}
    out = render(capsys, "gcp", "queue", data=data)
    assert out["body"]["data"]["message"]["data"] == "AAEC"
    path = tmp_path / "event.json"
    path.write_text(json.dumps({"queue": "q", "body": {"a": [1, 2]}}))
    code, text, _ = run(capsys, "events", "render", "--as", "aws", "queue", f"@{path}")
    assert code == 0
    assert json.loads(text)["Records"][0]["body"] == '{"a":[1,2]}'


def test_mode_is_for_gcp(capsys):
    code, _, err = run(capsys, "events", "render", "--as", "aws", "queue", "{}", "--mode", "binary")
    assert code == 2 and "--mode" in err


def test_azure_batch_collections_decode(capsys):
    from polyfn.adapters.azure import from_native
    from polyfn.adapters.azure.sources._common import decode
    from polyfn.local.invoke.native.azure_typed import host_invocation

    batch = [{"id": str(n), "queue": "clicks", "body": f"click {n}"} for n in (7, 8)]
    out = render(capsys, "azure", "queue", "--source", "eventhub", data=batch)
    assert set(out["data"]) == {"collectionString"}
    obj = decode(out["binding"]["type"], host_invocation(out))
    assert [e.text for e in from_native(obj, out["binding"])] == ["click 7", "click 8"]
