"""Google's native events ⇄ neutral events, source by source: Google's published samples
(tests/events/gcp, provenance in its PROVENANCE.md) in every native form, exact inverses,
functions-framework's own legacy ⇄ CloudEvent conversion, and typed errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from gcp_samples import (  # noqa: F401 - fixtures
    PUBLISHED,
    cloudevent,
    files,
    flask_request,
    gcp_environment_fixture,
    load,
    serve_fixture,
)

from polyfn import (
    ChangeEvent,
    CloudEvent,
    HttpRequest,
    HttpResponse,
    MalformedEventError,
    QueueMessage,
    ScheduleEvent,
    StorageEvent,
    TopicMessage,
    UnsupportedEventError,
)
from polyfn.adapters.gcp import from_native, response_from_native, response_to_native, to_native
from polyfn.adapters.gcp.sources import _common, eventarc, firestore, pubsub, scheduler, storage

PUBLISH_TIME = datetime(2021, 2, 5, 4, 6, 14, 109000, tzinfo=UTC)
CONFORMANCE_TIME = datetime(2020, 9, 29, 11, 32, 0, 123000, tzinfo=UTC)
PAIRS = (
    "pubsub_text",
    "pubsub_binary",
    "legacy_pubsub",
    "storage",
    "firestore_simple",
    "firestore_complex",
)


def _ff_request(body: dict) -> object:
    return flask_request({"content-type": "application/json"}, json.dumps(body).encode())


# -- Pub/Sub -----------------------------------------------------------------------------------
def test_pubsub_samples_as_queue_messages():
    simple = from_native(
        cloudevent(load("pubsub__google-cloudevents__binary-MessagePublishedData-simple.json"))
    )
    assert simple.values() == {
        "id": "message-id",
        "body": b"\x01\x02\x03\x04",
        "attributes": {},
        "delivery_count": 1,
        "enqueued_at": PUBLISH_TIME,
        "queue": "my-topic",
        "group_id": None,
    }
    assert (simple.provider, simple.event_source) == ("gcp", "gcp:pubsub")
    structured = load("pubsub__google-cloudevents__structured-MessagePublishedData.json")
    msg = from_native(structured)
    assert (msg.text, msg.attributes, msg.group_id) == (
        "test message 3",
        {"attr1": "attr1-value"},
        "ordering-key",
    )
    assert msg.extensions == {
        "cloudevent": {k: v for k, v in structured.items() if k != "data"},
        "subscription": "projects/test-project/subscriptions/my-subscription",
    }
    assert msg.native is structured
    topic = from_native(structured, "topic")
    assert topic.values() == {
        "id": "message-id",
        "topic": "my-topic",
        "subject": None,
        "body": b"test message 3",
        "attributes": {"attr1": "attr1-value"},
        "published_at": PUBLISH_TIME,
    }


@pytest.mark.parametrize("name", files("pubsub__"))
def test_pubsub_samples_round_trip(name):
    sample = load(name)
    event = sample if "specversion" in sample else cloudevent(sample)
    for kind in ("queue", "topic"):
        neutral = from_native(event, kind)
        assert neutral.id == "message-id"
        headers, body = to_native(neutral, "structured")
        assert headers == {"content-type": "application/cloudevents+json"}
        assert json.loads(body) == event  # the exact inverse
        headers, body = to_native(neutral, "binary")
        assert headers["ce-id"] == event["id"] and json.loads(body) == event["data"]
        again = from_native(flask_request(headers, body), kind)
        assert again == neutral


def test_push_body_and_delivery_attempt():
    push = load("pubsub__google-cloudevents__testdata-MessagePublishedData-duplicatedFields.json")
    push["deliveryAttempt"] = 3
    msg = from_native(push)
    assert (msg.delivery_count, msg.queue) == (3, "my-subscription")
    assert msg.extensions["message"]["message_id"] == "message-id"
    _headers, body = to_native(msg, "push")
    assert json.loads(body) == push
    assert from_native(dict(push, deliveryAttempt=0)).delivery_count == 1  # no dead-letter policy


def test_pubsub_subject_travels_as_an_attribute():
    msg = TopicMessage("t-1", "events", b"x", subject="hello", attributes={"a": "1", "b": b"\x00"})
    attrs, data = pubsub.to_cloudevent(msg)
    assert data["message"]["attributes"] == {
        "a": "1",
        "b": "AA==",
        pubsub.SUBJECT_ATTRIBUTE: "hello",
    }
    assert (
        attrs["source"]
        == "//pubsub.googleapis.com/projects/" + _common.project() + "/topics/events"
    )
    back = from_native(to_native(msg, "cloudevent"), "topic")
    assert (back.subject, back.attributes) == ("hello", {"a": "1", "b": "AA=="})


@pytest.mark.parametrize("pair", PAIRS)
def test_legacy_and_cloudevent_forms_are_equal(pair):
    ce_form = load(f"conformance__{pair}-cloudevent-input.json")
    legacy = load(f"conformance__{pair}-legacy-input.json")
    from_ce = from_native(ce_form)
    from_legacy = from_native(legacy)
    assert from_ce == from_legacy
    assert from_ce.time if hasattr(from_ce, "time") else True
    # functions-framework's own conversion of the legacy POST gives the same event.
    from functions_framework import event_conversion

    converted = event_conversion.background_event_to_cloud_event(_ff_request(legacy))
    assert from_native(converted) == from_ce
    # ... and a background function's (data, context) too.
    data, context = to_native(from_ce, "background")
    assert from_native((data, context)) == from_ce
    _headers, body = to_native(from_ce, "legacy")
    assert from_native(json.loads(body)) == from_ce


@pytest.mark.parametrize("pair", ("pubsub_text", "storage", "firestore_simple"))
def test_framework_converts_our_cloudevents_for_background_functions(pair):
    """functions-framework turns a binary CloudEvent into (data, context) for background
    functions: ours convert, and give the same neutral event back."""
    from functions_framework import event_conversion

    event = from_native(load(f"conformance__{pair}-cloudevent-input.json"))
    headers, body = to_native(
        event, "binary", **({"protobuf": False} if pair.startswith("fire") else {})
    )
    data, context = event_conversion.cloud_event_to_background_event(flask_request(headers, body))
    assert from_native((data, context)) == event


def test_ffpython_legacy_sample():
    legacy = load("ffpython__pubsub_text-legacy-input.json")
    msg = from_native(legacy)
    assert (msg.text, msg.attributes, msg.queue) == (
        "test message 3",
        {"attr1": "attr1-value"},
        "gcf-test",
    )
    # The framework's expected output of an older release: the message has no messageId
    # (the conversion now copies the event id there, as docs/mapping.md says).
    older = load("ffpython__pubsub_text-cloud-event-output.json")
    with pytest.raises(MalformedEventError, match=r"message\.messageId"):
        from_native(older)


# -- Cloud Storage -----------------------------------------------------------------------------
def _storage_event(name: str, ce_type: str = "google.cloud.storage.object.v1.finalized") -> dict:
    data = load(name)
    return cloudevent(
        data,
        type=ce_type,
        source=f"//storage.googleapis.com/projects/_/buckets/{data['bucket']}",
        subject=f"objects/{data['name']}",
        bucket=data["bucket"],
        time="2020-04-23T07:38:57.230Z",
    )


def test_storage_sample():
    native = _storage_event("storage__google-cloudevents__binary-StorageObjectData-simple.json")
    event = from_native(native)
    assert event.values() == {
        "bucket": "sample-bucket",
        "key": "folder/Test.cs",
        "kind": "created",
        "size": 352,
        "etag": "CNHZkbuF/ugCEAE=",
        "version": "1587627537231057",
        "time": datetime(2020, 4, 23, 7, 38, 57, 230000, tzinfo=UTC),
    }
    assert event.extensions["md5Hash"] == "kF8MuJ5+CTJxvyhHS1xzRg=="
    assert json.loads(to_native(event, "structured")[1]) == native


@pytest.mark.parametrize(
    ("suffix", "kind"),
    [
        ("finalized", "created"),
        ("deleted", "deleted"),
        ("archived", "archived"),
        ("metadataUpdated", "metadata_updated"),
    ],
)
def test_storage_kinds(suffix, kind):
    native = _storage_event(
        "storage__google-cloudevents__testdata-StorageObjectData-complex.json",
        "google.cloud.storage.object.v1." + suffix,
    )
    event = from_native(native)
    assert (event.kind, event.key, event.size, event.version) == (kind, "MyFile", 0, "96883251")
    # A legacy event of the same kind says the same.
    data, context = to_native(event, "background")
    assert context.event_type.startswith("google.storage.object.")
    assert from_native((data, context)) == event


def test_storage_event_that_never_was_on_google():
    event = StorageEvent("b", "a/b c.txt", "deleted", size=5, etag="e", time=PUBLISH_TIME)
    attrs, data = storage.to_cloudevent(event)
    assert attrs["type"] == "google.cloud.storage.object.v1.deleted"
    assert attrs["subject"] == "objects/a/b c.txt"
    assert data["size"] == "5" and "generation" not in data
    assert from_native(to_native(event, "cloudevent")) == event
    with pytest.raises(UnsupportedEventError, match="restored"):
        to_native(StorageEvent("b", "k", "restored"))


# -- Firestore ---------------------------------------------------------------------------------
def _firestore_protobuf(name: str, ce_type: str) -> dict:
    data = load(name)
    return cloudevent(
        firestore.encode_protobuf(data),
        type=ce_type,
        source="//firestore.googleapis.com/projects/project-id/databases/(default)",
        subject="documents/" + data["value"]["name"].split("/documents/")[1],
        datacontenttype="application/protobuf",
    )


def test_firestore_protobuf_complex_values():
    native = _firestore_protobuf(
        "firestore__google-cloudevents__binary-DocumentEventData-complex.json",
        "google.cloud.firestore.document.v1.created",
    )
    change = from_native(native)
    assert isinstance(change, ChangeEvent)
    assert (change.source, change.keys, change.operation, change.old) == (
        "gcf-test",
        {"id": "IH75dRdeYJKd4uuQiqch"},
        "insert",
        None,
    )
    assert change.new == {
        "arrayValue": [1, 2],
        "booleanValue": True,
        "doubleValue": 5.5,
        "geoPointValue": {"latitude": 51.4543, "longitude": -0.9781},
        "intValue": 50,
        "mapValue": {"field1": "x", "field2": ["x", 1]},
        "nullValue": None,
        "referenceValue": "projects/project-id/databases/(default)/documents/foo/bar/baz/qux",
        "stringValue": "text",
        "timestampValue": "2020-04-23T14:23:53.241Z",
    }
    # Back to protobuf: the same DocumentEventData (typed values keep their types).
    attrs, data = firestore.to_cloudevent(change)
    assert attrs["datacontenttype"] == "application/protobuf"
    original = firestore.decode_protobuf(native["data"])
    assert original.pop("oldValue") == {}  # an empty document: no old value
    assert firestore.decode_protobuf(data) == original


def test_firestore_json_forms_round_trip_exactly():
    for pair in ("firestore_simple", "firestore_complex"):
        native = load(f"conformance__{pair}-cloudevent-input.json")
        change = from_native(native)
        assert json.loads(to_native(change, "structured")[1]) == {
            **native,
            "data": {k: v for k, v in native["data"].items() if v != {} or k == "updateMask"},
        }


def test_firestore_values_encode_and_decode():
    plain = {
        "n": 1,
        "f": 1.5,
        "b": b"\x00",
        "t": datetime(2020, 1, 1, tzinfo=UTC),
        "l": [None, True],
    }
    fields = firestore.encode_fields(plain, None)
    assert fields["t"] == {"timestampValue": "2020-01-01T00:00:00Z"}
    assert firestore.decode_fields(fields, "f")[0] == {**plain, "t": "2020-01-01T00:00:00Z"}
    change = ChangeEvent(
        "c-1", "users", "remove", keys={"id": "u1"}, old={"a": 1}, time=PUBLISH_TIME
    )
    back = from_native(to_native(change, "cloudevent"))
    assert back == change
    data, context = to_native(change, "background")
    assert (
        context.resource == f"projects/{_common.project()}/databases/(default)/documents/users/u1"
    )
    assert from_native((data, context)).operation == "remove"


# -- Cloud Scheduler ---------------------------------------------------------------------------
def test_scheduler_executed_event():
    native = cloudevent(
        load("scheduler__google-cloudevents__binary-SchedulerJobData-simple.json"),
        type=scheduler.EXECUTED,
        source="//cloudscheduler.googleapis.com/projects/p/locations/us-central1/jobs/nightly",
    )
    event = from_native(native)
    assert isinstance(event, ScheduleEvent)
    assert (event.schedule, event.scheduled_time, event.id) == (
        "nightly",
        PUBLISH_TIME,
        "8134215637394811",
    )
    assert event.extensions["customData"] == "bXkgYmFzZTY0IGRhdGE="
    assert json.loads(to_native(event, "structured")[1]) == native


def test_scheduler_through_pubsub_and_http():
    published = cloudevent(
        load("pubsub__google-cloudevents__binary-MessagePublishedData-simple.json")
    )
    event = from_native(published, "schedule")
    assert (event.schedule, event.scheduled_time, event.id) == (
        "my-topic",
        PUBLISH_TIME,
        "message-id",
    )
    assert json.loads(to_native(event, "structured")[1]) == published

    request = flask_request(
        {
            "X-CloudScheduler": "true",
            "X-CloudScheduler-JobName": "nightly",
            "X-CloudScheduler-ScheduleTime": "2021-02-05T04:06:14.109Z",
            "User-Agent": "Google-Cloud-Scheduler",
        },
        b"",
    )
    event = from_native(request)
    assert (event.schedule, event.scheduled_time, event.id) == ("nightly", PUBLISH_TIME, None)
    headers, _body = to_native(event)
    assert headers["X-CloudScheduler-ScheduleTime"] == "2021-02-05T04:06:14.109Z"


# -- Eventarc and HTTP -------------------------------------------------------------------------
def test_any_cloudevent():
    native = {
        "specversion": "1.0",
        "id": "1",
        "source": "//cloudaudit.googleapis.com/projects/p/logs/activity",
        "type": "google.cloud.audit.log.v1.written",
        "time": "2021-02-05T04:06:14.109Z",
        "subject": "storage.googleapis.com/projects/_/buckets/b",
        "datacontenttype": "application/json",
        "methodname": "storage.buckets.create",
        "data": {"protoPayload": {"methodName": "storage.buckets.create"}},
    }
    event = from_native(native)
    assert isinstance(event, CloudEvent) and event.event_source == "gcp:eventarc"
    assert (event.time, event.extensions) == (
        PUBLISH_TIME,
        {"methodname": "storage.buckets.create"},
    )
    assert json.loads(to_native(event, "structured")[1]) == native
    binary = eventarc.to_native(event, "binary")
    assert binary[0]["ce-methodname"] == "storage.buckets.create"
    assert from_native(flask_request(*binary)) == event
    raw = CloudEvent("2", "s", "t", b"\x00\x01", datacontenttype="application/octet-stream")
    assert json.loads(to_native(raw, "structured")[1])["data_base64"] == "AAE="
    assert from_native(to_native(raw, "cloudevent")).data == b"\x00\x01"


def test_http_request_and_response():
    request = HttpRequest(
        "POST",
        "/orders/o 1",
        query=[("a", "1"), ("a", "2")],
        headers={"content-type": "application/json", "x-forwarded-for": "198.51.100.1"},
        cookies={"s": "1"},
        body=b'{"x": 1}',
        client_ip="198.51.100.1",
    )
    native = to_native(request)
    event = from_native(native)
    for field in ("method", "path", "query", "cookies", "body", "client_ip"):
        assert getattr(event, field) == getattr(request, field), field
    assert event.headers["content-type"] == "application/json"
    resp = HttpResponse(b"hi", 202, [("x-a", "1"), ("x-a", "2")], cookies=["a=1", "b=2"])
    flask_resp = response_to_native(resp)
    assert flask_resp.headers.getlist("x-a") == ["1", "2"]
    assert response_from_native(flask_resp) == resp


# -- errors ------------------------------------------------------------------------------------
MALFORMED = [
    (cloudevent({"subscription": "s"}), "queue", "gcp:pubsub", "message"),
    (cloudevent({"message": {"data": "AQ=="}}), "queue", "gcp:pubsub", "message.messageId"),
    (
        cloudevent({"message": {"messageId": "1", "data": "%%"}}),
        "body",
        "gcp:pubsub",
        "message.data",
    ),
    (
        cloudevent({"message": {"messageId": "1", "publishTime": "yesterday"}}),
        "enqueued_at",
        "gcp:pubsub",
        "message.publishTime",
    ),
    (
        cloudevent({"message": {"messageId": "1", "attributes": {"n": 1}}}),
        "attributes",
        "gcp:pubsub",
        "message.attributes.n",
    ),
    (
        cloudevent({"message": {"messageId": "1"}, "deliveryAttempt": "x"}),
        "delivery_count",
        "gcp:pubsub",
        "deliveryAttempt",
    ),
    (
        cloudevent({"bucket": "b", "size": "big"}, type="google.cloud.storage.object.v1.finalized"),
        "size",
        "gcp:storage",
        "data.size",
    ),
    (
        cloudevent({"bucket": "b"}, type="google.cloud.storage.object.v1.finalized"),
        "key",
        "gcp:storage",
        "data.name",
    ),
    (
        cloudevent(
            {
                "value": {
                    "name": "projects/p/databases/d/documents/c/d",
                    "fields": {"a": {"intValue": 1}},
                }
            },
            type="google.cloud.firestore.document.v1.created",
        ),
        "new",
        "gcp:firestore",
        "data.value.fields.a",
    ),
    (
        cloudevent(b"\xff\xff", type="google.cloud.firestore.document.v1.created"),
        "new",
        "gcp:firestore",
        "data",
    ),
    (
        {"context": {"eventType": "google.pubsub.topic.publish"}, "data": {}},
        None,
        "gcp",
        "context.resource",
    ),
]


@pytest.mark.parametrize(("native", "field", "source", "where"), MALFORMED)
def test_malformed_events_name_gcp_the_source_and_the_field(native, field, source, where):
    with pytest.raises(MalformedEventError) as caught:
        event = from_native(native)
        getattr(event, field)
    err = caught.value
    assert (err.provider, err.source, err.field) == ("gcp", source, where)
    assert str(err).startswith(f"gcp {source} event: field {where!r}")


def test_unsupported_events():
    with pytest.raises(UnsupportedEventError, match=r"gcp gcp event: field 'context\.eventType'"):
        from_native({"context": {"eventType": "providers/cloud.unknown/x"}, "data": {}})
    with pytest.raises(UnsupportedEventError, match="gcp gcp:storage event: field 'type'"):
        storage.from_native(cloudevent({}))
    with pytest.raises(UnsupportedEventError):
        from_native(42)
    assert PUBLISHED == pubsub.TYPE
    assert isinstance(
        from_native(QueueMessageLike := cloudevent({"message": {"messageId": "1"}})), QueueMessage
    )
    assert QueueMessageLike


def test_times_render_as_google_writes_them():
    assert _common.format_time(PUBLISH_TIME) == "2021-02-05T04:06:14.109Z"
    assert (
        _common.format_time(CONFORMANCE_TIME.replace(microsecond=211035))
        == "2020-09-29T11:32:00.211035Z"
    )
    assert _common.format_time(CONFORMANCE_TIME.replace(microsecond=0)) == "2020-09-29T11:32:00Z"
    assert _common.parse_time("2014-10-02T15:01:23.045123456Z", "s", "f") == datetime(
        2014, 10, 2, 15, 1, 23, 45123, tzinfo=UTC
    )


# -- the context -------------------------------------------------------------------------------
def test_context_from_google_headers_and_environment(monkeypatch, request):
    from polyfn.adapters.gcp.context import cloud_trace_to_w3c, event_context, http_context
    from polyfn.outputs import Outputs
    from polyfn.outputs.memory import MemoryDriver

    trace = cloud_trace_to_w3c("105445aa7843bc8bf206b12000100000/123;o=1")
    assert trace.traceparent == "00-105445aa7843bc8bf206b12000100000-000000000000007b-01"
    assert cloud_trace_to_w3c("nonsense") is None
    from polyfn.adapters.gcp import context

    monkeypatch.setenv("FUNCTION_REGION", "europe-west1")
    monkeypatch.setenv("FUNCTION_TIMEOUT_SEC", "60")
    # The runtime's environment is read once per process: read it afresh, and again after.
    context._runtime_env.cache_clear()
    request.addfinalizer(context._runtime_env.cache_clear)
    http_request = flask_request(
        {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"},
        b"",
        method="GET",
    )
    ctx = http_context("fn", http_request, Outputs(MemoryDriver()))
    assert (ctx.region, ctx.invocation_id, ctx.native) == ("europe-west1", "local", http_request)
    assert ctx.trace.parent_id == "b7ad6b7169203331" and not ctx.trace.sampled
    assert 55 < ctx.remaining_time() <= 60
    ctx = event_context("fn", None, {"id": "ce-1"}, Outputs(MemoryDriver()))
    assert (ctx.invocation_id, ctx.trace) == ("ce-1", None)
