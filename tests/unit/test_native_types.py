"""polyfn.adapters.aws.native_types against AWS's own sample events, so that the types
cannot drift from what AWS sends.

Sources: every file in tests/events/aws/ (provenance in tests/events/aws/PROVENANCE.md),
checked by file-name prefix against its TypedDict: each key must be declared, each required
key present, each value of the declared type, down through records and nested objects.
"""

from __future__ import annotations

import subprocess
import sys
import types
import typing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pytest
from conftest import EVENTS, aws_event_files, load_event

from polyfn import (
    ChangeEvent,
    CloudEvent,
    HttpRequest,
    HttpResponse,
    QueueMessage,
    ScheduleEvent,
    StorageEvent,
    TopicMessage,
)
from polyfn.adapters.aws import native_types as nt
from polyfn.adapters.aws.recognise import identify, module
from polyfn.events._base import NeutralEvent
from polyfn.results import BatchOutcome, RecordFailure

# File-name prefix → the TypedDict of the whole event.
BY_PREFIX: dict[str, Any] = {
    "sqs": nt.SQSEvent,
    "sns": nt.SNSEvent,
    "s3": nt.S3Event,
    "s3_eventbridge": nt.S3EventBridgeEvent,
    "eventbridge": nt.EventBridgeEvent,  # scheduled ones: nt.ScheduledEvent, see _expected
    "dynamodb": nt.DynamoDBStreamEvent,
    "kinesis": nt.KinesisStreamEvent,
    "apigw_v1": nt.APIGatewayProxyEvent,
    "apigw_v2": nt.APIGatewayProxyEventV2,
    "lambda_url": nt.LambdaFunctionUrlEvent,
    "alb": nt.ALBEvent,
}
# Source key → (whole event, what the view's .native is).
BY_SOURCE: dict[str, tuple[Any, Any]] = {
    "sqs": (nt.SQSEvent, nt.SQSRecord),
    "sns": (nt.SNSEvent, nt.SNSRecord),
    "s3": (nt.S3Event, nt.S3EventRecord),
    "s3-eventbridge": (nt.S3EventBridgeEvent, nt.S3EventBridgeEvent),
    "eventbridge": (nt.EventBridgeEvent, nt.EventBridgeEvent),
    "schedule": (nt.ScheduledEvent, nt.ScheduledEvent),
    "dynamodb": (nt.DynamoDBStreamEvent, nt.DynamoDBStreamRecord),
    "kinesis": (nt.KinesisStreamEvent, nt.KinesisStreamRecord),
    "apigateway-v1": (nt.APIGatewayProxyEvent, nt.APIGatewayProxyEvent),
    "apigateway-v2": (nt.APIGatewayProxyEventV2, nt.APIGatewayProxyEventV2),
    "function-url": (nt.LambdaFunctionUrlEvent, nt.LambdaFunctionUrlEvent),
    "alb": (nt.ALBEvent, nt.ALBEvent),
}
RESULTS = {
    "apigateway-v1": nt.APIGatewayProxyResult,
    "apigateway-v2": nt.APIGatewayProxyResultV2,
    "function-url": nt.LambdaFunctionUrlResult,
    "alb": nt.ALBResult,
}
SAMPLES = sorted((EVENTS / "aws").glob("*.json"))


def _expected(path: Path, event: dict[str, Any]) -> Any:
    prefix = path.name.split("__", 1)[0]
    assert prefix in BY_PREFIX, f"no TypedDict for sample prefix {prefix!r}: add it"
    if prefix == "eventbridge" and identify(event) == "schedule":
        return nt.ScheduledEvent
    return BY_PREFIX[prefix]


def conformance(value: Any, tp: Any, where: str = "") -> list[str]:
    """What of ``value`` does not fit type ``tp`` (empty when it fits)."""
    if tp is Any:
        return []
    if typing.is_typeddict(tp):
        if not isinstance(value, dict):
            return [f"{where or '(event)'}: expected an object for {tp.__name__}"]
        hints = typing.get_type_hints(tp)  # NotRequired stripped
        assert set(hints) == tp.__required_keys__ | tp.__optional_keys__
        problems = [f"{where}.{k}: not a key of {tp.__name__}" for k in value.keys() - hints.keys()]
        problems += [
            f"{where}.{k}: required by {tp.__name__} but absent"
            for k in tp.__required_keys__ - value.keys()
        ]
        for key in sorted(value.keys() & hints.keys()):
            problems += conformance(value[key], hints[key], f"{where}.{key}")
        return problems
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        options = [conformance(value, arg, where) for arg in args]
        if any(not p for p in options):
            return []
        return [p for option in options for p in option]
    if origin is Literal:
        return [] if value in args else [f"{where}: {value!r} is not one of {args}"]
    if origin is list:
        if not isinstance(value, list):
            return [f"{where}: expected a list, got {type(value).__name__}"]
        return [
            p for i, item in enumerate(value) for p in conformance(item, args[0], f"{where}[{i}]")
        ]
    if origin is dict:
        if not isinstance(value, dict):
            return [f"{where}: expected an object, got {type(value).__name__}"]
        return [p for k, v in value.items() for p in conformance(v, args[1], f"{where}.{k}")]
    if tp is type(None):
        return [] if value is None else [f"{where}: expected null, got {value!r}"]
    # JSON numbers: an int is a valid float (PEP 484), a bool is no number.
    accepted = (int, float) if tp is float else tp
    if isinstance(value, accepted) and not (isinstance(value, bool) and tp is not bool):
        return []
    return [f"{where}: expected {tp.__name__}, got {type(value).__name__} {value!r}"]


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_sample_event_fits_its_typed_dict(path):
    event = load_event(path)
    assert conformance(event, _expected(path, event)) == []


def test_the_checker_finds_drift():
    # An undeclared key, a missing required key and a wrong value type are all reported.
    event = load_event("sqs__powertools__sqsEvent.json")
    record = event["Records"][0]
    record["brandNewField"] = 1
    del record["receiptHandle"]
    record["attributes"]["ApproximateReceiveCount"] = 1
    assert conformance(event, nt.SQSEvent) == [
        ".Records[0].brandNewField: not a key of SQSRecord",
        ".Records[0].receiptHandle: required by SQSRecord but absent",
        ".Records[0].attributes.ApproximateReceiveCount: expected str, got int 1",
    ]


def test_every_sample_prefix_and_source_is_mapped():
    prefixes = {p.name.split("__", 1)[0] for p in SAMPLES}
    assert prefixes == set(BY_PREFIX)
    from polyfn.adapters.aws.recognise import MODULES

    assert set(BY_SOURCE) == set(MODULES)
    assert {identify(load_event(p)) for p in SAMPLES} == set(BY_SOURCE)


def test_declared_keys_cover_the_named_samples():
    # Spot checks that the TypedDicts carry AWS's exact spellings.
    assert "SigningCertUrl" in nt.SNSMessage.__required_keys__
    assert "x-amz-request-id" in nt.S3ResponseElements.__required_keys__
    assert "detail-type" in nt.EventBridgeEvent.__required_keys__
    assert "replay-name" in nt.EventBridgeEvent.__optional_keys__
    assert {"MessageGroupId", "SequenceNumber"} <= nt.SQSRecordAttributes.__optional_keys__
    assert nt.SQSBatchResponse.__required_keys__ == {"batchItemFailures"}
    assert nt.LambdaFunctionUrlEvent is nt.APIGatewayProxyEventV2


def _hint(obj: Any, name: str = "return") -> Any:
    # The source modules import native_types only for type checkers: supply it here.
    return typing.get_type_hints(obj, localns={"native_types": nt})[name]


def _first_sample(key: str) -> dict[str, Any]:
    for path in SAMPLES:
        event = load_event(path)
        if identify(event) == key:
            return event
    raise AssertionError(f"no sample for {key}")


@pytest.mark.parametrize("key", sorted(BY_SOURCE))
def test_views_and_translations_are_annotated_with_the_native_types(key):
    whole, part = BY_SOURCE[key]
    mod = module(key)
    event = _first_sample(key)
    neutral = mod.from_native(event)
    view = neutral[0] if isinstance(neutral, list) else neutral
    assert _hint(type(view).native.fget) is part
    assert view.native is (event["Records"][0] if "Records" in event else event)
    assert conformance(view.native, part) == []
    assert _hint(mod.to_native) is whole
    if key in RESULTS:
        assert _hint(mod.response) is RESULTS[key]
    if hasattr(mod, "batch_response"):
        assert _hint(mod.batch_response) is nt.SQSBatchResponse


_NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
# Neutral events built by value (provider "local"), one per source.
LOCAL: dict[str, NeutralEvent | list[NeutralEvent]] = {
    "sqs": [QueueMessage("id-1", b"hi", queue="orders", attributes={"k": "v", "b": b"\x00"})],
    "sns": TopicMessage("id-1", "alerts", "hi", subject="s", attributes={"k": "v"}),
    "s3": StorageEvent("bucket", "a b.txt", "created", size=3, etag="e", time=_NOW),
    "s3-eventbridge": StorageEvent("bucket", "a.txt", "deleted", time=_NOW),
    "eventbridge": CloudEvent("id-1", "my.app", "Thing Happened", {"n": 1}, time=_NOW),
    "schedule": ScheduleEvent("nightly", _NOW),
    "dynamodb": ChangeEvent("id-1", "table", "insert", keys={"pk": "a"}, new={"pk": "a"}),
    "kinesis": QueueMessage("seq-1", b"hi", queue="stream"),
    "apigateway-v1": HttpRequest("POST", "/a", query={"q": "1"}, body="x", client_ip="1.2.3.4"),
    "apigateway-v2": HttpRequest("POST", "/a", query={"q": "1"}, body="x", client_ip="1.2.3.4"),
    "function-url": HttpRequest("GET", "/", cookies={"c": "1"}, client_ip="1.2.3.4"),
    "alb": HttpRequest("GET", "/", headers={"h": "1"}, client_ip="1.2.3.4"),
}


@pytest.mark.parametrize("key", sorted(BY_SOURCE))
def test_rendered_events_fit_the_types(key):
    # What to_native renders for a value-constructed event is annotated with the native
    # type: it must fit it too (AWS's realistic defaults, not just the round trip).
    event = module(key).to_native(LOCAL[key])
    assert conformance(event, BY_SOURCE[key][0]) == []


@pytest.mark.parametrize("key", sorted(RESULTS))
def test_http_responses_fit_the_types(key):
    event = _first_sample(key)
    resp = HttpResponse(b"\x00\x01", 201, {"content-type": "image/png"}, ["a=1", "b=2"])
    assert conformance(module(key).response(resp, event), RESULTS[key]) == []


@pytest.mark.parametrize("key", ["sqs", "kinesis", "dynamodb"])
def test_batch_responses_fit_the_type(key):
    mod = module(key)
    records = mod.from_native(_first_sample(key))
    outcome = BatchOutcome(len(records), [RecordFailure(0, records[0].id, ValueError("x"))])
    out = mod.batch_response(outcome, records)
    assert conformance(out, nt.SQSBatchResponse) == []
    assert len(out["batchItemFailures"]) == 1


def test_handling_an_event_never_imports_native_types():
    # Type-only: loading it would cost every cold start.
    sample = aws_event_files("sqs")[0]
    code = (
        "import json, sys\n"
        "from polyfn import App\n"
        "from polyfn.adapters.aws import handler\n"
        "app = App('t')\n"
        "@app.queue('q')\n"
        "def work(msg, ctx):\n"
        "    msg.native, msg.attributes, msg.extensions\n"
        f"event = json.load(open({str(sample)!r}))\n"
        "for r in event['Records']:\n"
        "    r['eventSourceARN'] = r['eventSourceARN'].rsplit(':', 1)[0] + ':q'\n"
        "print(json.dumps(handler(app)(event, None)))\n"
        "assert 'polyfn.adapters.aws.native_types' not in sys.modules, 'imported'\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == '{"batchItemFailures": []}'
