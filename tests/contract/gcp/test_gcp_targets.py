"""The targets served by the real functions-framework: its test client and a real HTTP
server on 127.0.0.1, CloudEvents in binary and structured mode, legacy events and Pub/Sub
push bodies (Google's samples, tests/events/gcp), the verdicts the framework answers."""

from __future__ import annotations

import base64
import json
import types
from datetime import UTC, datetime

import gcp_probe_app as probe
import pytest
from gcp_samples import (  # noqa: F401 - fixtures
    PUBLISHED,
    cloudevent,
    gcp_environment_fixture,
    load,
    post,
    real_server,
    serve_fixture,
)

from polyfn import MalformedEventError, QueueMessage, ScheduleEvent, StorageEvent, TopicMessage
from polyfn.adapters.gcp import GcpOptions, plan, targets, to_native
from polyfn.adapters.gcp.sources import firestore

STRUCTURED = {"content-type": "application/cloudevents+json"}
T0 = datetime(2026, 3, 1, 8, 15, 0, 250000, tzinfo=UTC)


def _only(name: str):
    seen = probe.take()
    assert [s[0] for s in seen] == [name], seen
    return seen[0][1], seen[0][2]


def _structured(event: dict) -> tuple[dict, bytes]:
    return STRUCTURED, json.dumps(event).encode()


def _binary(event: dict) -> tuple[dict, bytes]:
    headers = {f"ce-{k}": v for k, v in event.items() if k not in ("data", "datacontenttype")}
    headers["content-type"] = event.get("datacontenttype", "application/json")
    data = event["data"]
    return headers, data if isinstance(data, bytes) else json.dumps(data).encode()


# -- the registry -----------------------------------------------------------------------
def test_targets_are_plain_functions_registered_with_their_signature_type():
    from functions_framework import _function_registry as registry

    found = targets(probe.app, outputs=probe.OUTPUTS)
    assert sorted(found) == sorted(probe.app.functions)
    for name, target in found.items():
        assert isinstance(target, types.FunctionType)
        assert target.__name__ == name
    assert {n: registry.REGISTRY_MAP[n] for n in found} == {
        "get_order": "http",
        "put_file": "http",
        "on_order": "cloudevent",
        "on_batch": "cloudevent",
        "on_event": "cloudevent",
        "on_upload": "cloudevent",
        "on_change": "cloudevent",
        "every_quarter": "cloudevent",
        "on_shipped": "cloudevent",
    }
    targets(probe.app, GcpOptions(event_signature="background", scheduler="http"))
    assert registry.REGISTRY_MAP["on_order"] == "event"
    assert registry.REGISTRY_MAP["every_quarter"] == "http"


def test_plan_tells_what_to_deploy():
    specs = {s.name: s.settings for s in plan(probe.app)}
    assert specs["on_order"] == {"trigger": "topic", "topic": "orders", "max_delivery_attempts": 5}
    assert specs["on_event"]["subscription_filter"] == (
        '(attributes.event = "created" OR attributes.event = "updated")'
    )
    assert specs["on_upload"]["event_types"] == [
        "google.cloud.storage.object.v1.finalized",
        "google.cloud.storage.object.v1.deleted",
    ]
    assert specs["on_change"]["document"] == "users/{uid}/orders/{docId}"
    assert specs["every_quarter"]["schedule"] == "*/15 * * * *"
    assert specs["on_shipped"]["event_filters"] == {"type": "com.example.order.shipped"}


def test_targets_reject_what_google_cannot_do():
    from polyfn import App, DefinitionError

    app = App("x")

    @app.storage("b", events=["restored"])
    def restore(event):
        pass

    with pytest.raises(DefinitionError, match="gcp function 'restore': storage trigger: events"):
        targets(app)


# -- HTTP functions -----------------------------------------------------------------------
def test_http_function_matches_its_route(serve):
    client = serve("get_order").test_client()
    client.set_cookie("session", "abc")
    resp = client.get(
        "/orders/o-7?tag=a&tag=b",
        headers={
            "Function-Execution-Id": "exec-1",
            "X-Cloud-Trace-Context": "105445aa7843bc8bf206b12000100000/1;o=1",
            "X-Forwarded-For": "203.0.113.9, 10.0.0.1",
            "Cookie": "session=abc",
        },
    )
    assert resp.status_code == 200
    assert resp.get_json() == {"id": "o-7", "tags": ["a", "b"]}
    req, ctx = _only("get_order")
    assert (req.provider, req.event_source) == ("gcp", "gcp:http")
    assert (req.method, req.path, req.route) == ("GET", "/orders/o-7", "/orders/{id}")
    assert req.path_params == {"id": "o-7"}
    assert req.query.get_all("tag") == ["a", "b"]
    assert req.cookies == {"session": "abc"}
    assert req.client_ip == "203.0.113.9"
    assert ctx.invocation_id == "exec-1"
    assert ctx.traceparent == "00-105445aa7843bc8bf206b12000100000-0000000000000001-01"
    assert (ctx.provider, ctx.function_name) == ("gcp", "get_order")

    assert client.get("/elsewhere").status_code == 404
    wrong = client.post("/orders/o-7")
    assert (wrong.status_code, wrong.headers["allow"]) == (405, "GET")
    missing = client.get("/orders/missing")
    assert (missing.status_code, missing.get_json()) == (404, {"error": "no such order"})
    assert client.get("/robots.txt").status_code == 404  # the framework's own


def test_http_response_headers_cookies_and_greedy_route(serve):
    client = serve("put_file").test_client()
    resp = client.put("/files/a/b/c.bin", data=b"\x00\x01")
    assert resp.status_code == 201
    assert resp.data == b"\x00\x01"
    assert resp.headers["content-type"] == "application/octet-stream"
    assert resp.headers.getlist("Set-Cookie") == ["seen=1; Path=/"]
    req, _ = _only("put_file")
    assert req.path_params == {"path": "a/b/c.bin"}


# -- Pub/Sub --------------------------------------------------------------------------------
def test_queue_message_in_every_mode(serve):
    client = serve("on_order").test_client()
    sample = cloudevent(
        load("pubsub__google-cloudevents__binary-MessagePublishedData-complex.json")
    )
    for headers, body in (_binary(sample), _structured(sample)):
        resp = client.post("/", headers=headers, data=body)
        assert resp.status_code == 200, resp.data
        msg, ctx = _only("on_order")
        assert msg.values() == {
            "id": "message-id",
            "body": b"test message 3",
            "attributes": {"attr1": "attr1-value"},
            "delivery_count": 1,
            "enqueued_at": datetime(2021, 2, 5, 4, 6, 14, 109000, tzinfo=UTC),
            "queue": "my-topic",
            "group_id": "ordering-key",
        }
        assert (
            msg.extensions["subscription"] == "projects/test-project/subscriptions/my-subscription"
        )
        assert ctx.invocation_id == "8134215637394811"
    (sent,) = probe.DRIVER.sent[:1]
    assert (sent.kind, sent.target, sent.body) == ("send", "receipts", b"test message 3")


def test_legacy_and_cloudevent_forms_give_equal_events(serve):
    client = serve("on_order").test_client()
    for pair in ("pubsub_text", "pubsub_binary", "legacy_pubsub"):
        seen = []
        for form in ("cloudevent", "legacy"):
            event = load(f"conformance__{pair}-{form}-input.json")
            headers = STRUCTURED if form == "cloudevent" else {"content-type": "application/json"}
            resp = client.post("/", headers=headers, data=json.dumps(event))
            assert resp.status_code == 200, resp.data
            seen.append(_only("on_order")[0])
        assert seen[0] == seen[1], pair  # the framework converted the legacy one
        assert seen[0].queue == "gcf-test"


def test_push_body_keeps_delivery_attempt_and_ordering_key(serve):
    client = serve("on_order").test_client()
    push = load("pubsub__google-cloudevents__testdata-MessagePublishedData-duplicatedFields.json")
    push["deliveryAttempt"] = 4
    push["message"]["orderingKey"] = "customer-7"
    resp = client.post(
        "/projects/my-project/topics/orders",
        headers={"content-type": "application/json"},
        data=json.dumps(push),
    )
    assert resp.status_code == 200, resp.data
    msg, _ = _only("on_order")
    assert (msg.id, msg.body, msg.delivery_count, msg.group_id) == (
        "message-id",
        b"\x01\x02\x03\x04",
        4,
        "customer-7",
    )
    assert msg.queue == "my-subscription"  # a push body names no topic


def test_failure_nacks_with_500(serve):
    client = serve("on_order").test_client()
    msg = QueueMessage("m-9", b"{}", attributes={"fail": "yes"}, queue="orders", delivery_count=5)
    headers, body = to_native(msg, "binary")
    resp = client.post("/", headers=headers, data=body)
    assert resp.status_code == 500  # Eventarc / the push subscription retries, then dead-letters
    assert resp.headers["X-Google-Status"] == "crash"
    seen, _ = _only("on_order")
    assert seen.delivery_count == 5


def test_batch_handler_gets_a_list_of_one_and_failed_ids_nack(serve):
    client = serve("on_batch").test_client()
    ok = QueueMessage("m-1", b"a", queue="batched")
    bad = QueueMessage("m-2", b"b", queue="batched", attributes={"fail": "yes"})
    assert client.post("/", headers=to_native(ok)[0], data=to_native(ok)[1]).status_code == 200
    batch, _ = _only("on_batch")
    assert [m.id for m in batch] == ["m-1"]
    assert client.post("/", headers=to_native(bad)[0], data=to_native(bad)[1]).status_code == 500


def test_topic_filter_acks_what_it_does_not_want(serve):
    client = serve("on_event").test_client()
    wanted = TopicMessage(
        "t-1", "order-events", b"{}", subject="hi", attributes={"event": "created"}, published_at=T0
    )
    unwanted = TopicMessage("t-2", "order-events", b"{}", attributes={"event": "deleted"})
    headers, body = to_native(wanted, "structured")
    assert client.post("/", headers=headers, data=body).status_code == 200
    msg, _ = _only("on_event")
    assert msg.values() == wanted.values()
    headers, body = to_native(unwanted)
    assert client.post("/", headers=headers, data=body).status_code == 200
    assert probe.take() == []


def test_malformed_event_is_nacked_naming_gcp_source_and_field(serve, caplog):
    client = serve("on_order").test_client()
    event = cloudevent({"subscription": "projects/p/subscriptions/s"})  # no message
    resp = client.post("/", headers=STRUCTURED, data=json.dumps(event))
    assert resp.status_code == 500
    assert probe.take() == []
    errors = [r.exc_info[1] for r in caplog.records if r.exc_info]
    assert any(
        isinstance(e, MalformedEventError)
        and (e.provider, e.source, e.field) == ("gcp", "gcp:pubsub", "message")
        for e in errors
    )


# -- Storage, Firestore, schedules, Eventarc ---------------------------------------------------
def test_storage_events_filtered_by_kind_prefix_and_suffix(serve):
    client = serve("on_upload").test_client()
    created = StorageEvent("uploads", "in/a b.csv", "created", size=10, version="7", time=T0)
    for mode in ("binary", "structured", "legacy"):
        headers, body = to_native(created, mode)
        assert client.post("/", headers=headers, data=body).status_code == 200
        event, _ = _only("on_upload")
        assert event.values() == created.values(), mode
    for skipped in (
        StorageEvent("uploads", "out/a.csv", "created"),
        StorageEvent("uploads", "in/a.txt", "deleted"),
        StorageEvent("uploads", "in/a.csv", "archived"),
        StorageEvent("other", "in/a.csv", "created"),
    ):
        headers, body = to_native(skipped)
        assert client.post("/", headers=headers, data=body).status_code == 200
        assert probe.take() == [], skipped


def test_firestore_protobuf_event(serve):
    client = serve("on_change").test_client()
    data = load("firestore__google-cloudevents__binary-DocumentEventData-simple.json")
    for doc in (data["value"], data["oldValue"]):
        doc["name"] = "projects/project-id/databases/(default)/documents/users/u1/orders/o1"
    event = cloudevent(
        firestore.encode_protobuf(data),
        type="google.cloud.firestore.document.v1.updated",
        source="//firestore.googleapis.com/projects/project-id/databases/(default)",
        subject="documents/users/u1/orders/o1",
        datacontenttype="application/protobuf",
        document="users/u1/orders/o1",
        database="(default)",
        namespace="(default)",
    )
    resp = client.post("/", headers=_binary(event)[0], data=_binary(event)[1])
    assert resp.status_code == 200, resp.data
    change, _ = _only("on_change")
    assert (change.source, change.operation, change.keys) == (
        "users/u1/orders",
        "modify",
        {"id": "o1"},
    )
    assert change.old == {"another test": "asd", "count": 3, "foo": "bar"}
    assert change.new == {"another test": "asd", "count": 4, "foo": "bar"}
    # Another collection: acked, not handled.
    other = load("conformance__firestore_simple-cloudevent-input.json")
    assert client.post("/", headers=STRUCTURED, data=json.dumps(other)).status_code == 200
    assert probe.take() == []


def test_schedule_through_pubsub_and_http(serve):
    fired = ScheduleEvent("every_quarter", T0)
    client = serve("every_quarter").test_client()
    headers, body = to_native(fired)
    assert client.post("/", headers=headers, data=body).status_code == 200
    event, _ = _only("every_quarter")
    assert (event.schedule, event.scheduled_time) == ("rate(15 minutes)", T0)
    assert event.event_source == "gcp:scheduler"

    client = serve("every_quarter", 'scheduler="http"').test_client()
    headers, body = to_native(fired, via="http")
    resp = client.post("/", headers=headers, data=body)
    assert resp.status_code == 200
    event, _ctx = _only("every_quarter")
    assert (event.schedule, event.scheduled_time, event.id) == ("rate(15 minutes)", T0, None)
    assert event.extensions["headers"]["X-Cloudscheduler-Jobname"] == "every_quarter"


def test_any_eventarc_event(serve):
    client = serve("on_shipped").test_client()
    shipped = {
        "specversion": "1.0",
        "id": "e-1",
        "source": "//eventarc.googleapis.com/projects/p/locations/us-central1/channels/orders",
        "type": "com.example.order.shipped",
        "time": "2026-03-01T08:15:00.250Z",
        "subject": "orders/o-1",
        "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "data": {"order": "o-1"},
    }
    headers, body = _binary(shipped)
    headers["ce-traceparent"] = shipped["traceparent"]
    assert client.post("/", headers=headers, data=body).status_code == 200
    event, ctx = _only("on_shipped")
    assert (event.id, event.type, event.subject, event.time) == (
        "e-1",
        "com.example.order.shipped",
        "orders/o-1",
        T0,
    )
    assert event.data == {"order": "o-1"}
    assert event.extensions == {"traceparent": shipped["traceparent"]}
    assert ctx.trace.trace_id == "0af7651916cd43dd8448eb211c80319c"
    other = dict(shipped, type="com.example.order.created")
    assert client.post("/", headers=STRUCTURED, data=json.dumps(other)).status_code == 200
    assert probe.take() == []
    failing = dict(shipped, data={"fail": True})
    assert client.post("/", headers=STRUCTURED, data=json.dumps(failing)).status_code == 500


def test_background_functions_get_the_same_events(serve):
    """Legacy background targets (1st gen): the legacy POST and a CloudEvent the framework
    converts to (data, context) give the events the CloudEvent targets get."""
    client = serve("on_order", 'event_signature="background"').test_client()
    for pair in ("pubsub_text", "legacy_pubsub"):
        legacy = load(f"conformance__{pair}-legacy-input.json")
        assert client.post("/", json=legacy).status_code == 200
        from_legacy, _ = _only("on_order")
        headers, body = _binary(load(f"conformance__{pair}-cloudevent-input.json"))
        assert client.post("/", headers=headers, data=body).status_code == 200
        from_cloudevent, ctx = _only("on_order")
        assert from_legacy == from_cloudevent
        assert ctx.invocation_id == "aaaaaa-1111-bbbb-2222-cccccccccccc"
    storage = serve("on_upload", 'event_signature="background"').test_client()
    event = StorageEvent("uploads", "in/x.csv", size=3, time=T0)
    headers, body = to_native(event, "legacy")
    assert storage.post("/", headers=headers, data=body).status_code == 200
    assert _only("on_upload")[0] == event


# -- a real HTTP server ----------------------------------------------------------------------
def test_real_server_on_loopback(serve):
    message = QueueMessage("m-5", b"hello", attributes={"k": "v"}, enqueued_at=T0, queue="orders")
    with real_server(serve("on_order")) as url:
        for mode in ("binary", "structured", "legacy", "push"):
            headers, body = to_native(message, mode)
            status, _, answer = post(url + "/", headers, body)
            assert status == 200, (mode, answer)
            seen, _ = _only("on_order")
            assert seen == message, mode
        headers, body = to_native(QueueMessage("m-6", b"", attributes={"fail": "yes"}))
        assert post(url + "/", headers, body)[0] == 500
        probe.take()
    with real_server(serve("get_order")) as url:
        status, headers, body = post(url + "/orders/o-9?tag=x", {}, b"", method="GET")
        assert (status, json.loads(body)) == (200, {"id": "o-9", "tags": ["x"]})
        assert post(url + "/nowhere", {}, b"", method="GET")[0] == 404
    _only("get_order")


def test_orders_main_py_serves_unchanged():
    """samples/orders/main.py is the one line a user writes; the framework finds every
    function in it by name."""
    from gcp_samples import create_app

    client = create_app("get_order", "samples/orders/main.py").test_client()
    resp = client.get("/orders/o-1?verbose=1")
    assert resp.get_json() == {"id": "o-1", "verbose": True}
    client = create_app("nightly_report", "samples/orders/main.py").test_client()
    headers, body = to_native(ScheduleEvent("nightly_report", T0))
    assert client.post("/", headers=headers, data=body).status_code == 200
    assert base64  # (imported for the samples' data)
    assert PUBLISHED


def _logical() -> dict[str, tuple[tuple[str, ...], object]]:
    from polyfn import ChangeEvent, CloudEvent

    return {
        "on_order": (
            ("binary", "structured", "legacy", "push"),
            QueueMessage("m-1", b"x", attributes={"k": "v"}, enqueued_at=T0, queue="orders"),
        ),
        "on_batch": (
            ("binary", "structured"),
            QueueMessage("m-2", b"y", enqueued_at=T0, queue="batched"),
        ),
        "on_event": (
            ("binary", "structured", "legacy"),
            TopicMessage(
                "t-1", "order-events", b"{}", attributes={"event": "updated"}, published_at=T0
            ),
        ),
        "on_upload": (
            ("binary", "structured", "legacy"),
            StorageEvent("uploads", "in/r.csv", "deleted", size=1, etag="e", version="3", time=T0),
        ),
        "on_change": (
            ("binary", "structured", "legacy"),
            ChangeEvent(
                "c-1",
                "users/u1/orders",
                "modify",
                keys={"id": "o1"},
                old={"n": 1},
                new={"n": 2, "at": "2026-03-01T08:15:00Z"},
                time=T0,
            ),
        ),
        "every_quarter": (
            ("binary", "structured", "legacy"),
            ScheduleEvent("rate(15 minutes)", T0, id="s-1"),
        ),
        "on_shipped": (
            ("binary", "structured"),
            CloudEvent(
                "e-1",
                "//x/y",
                "com.example.order.shipped",
                {"a": 1},
                time=T0,
                datacontenttype="application/json",
            ),
        ),
    }


@pytest.mark.parametrize("target", sorted(_logical()))
def test_every_event_target_behind_a_real_server(serve, target):
    modes, logical = _logical()[target]
    with real_server(serve(target)) as url:
        for mode in modes:
            headers, body = to_native(logical, mode)
            status, _, answer = post(url + "/", headers, body)
            assert status == 200, (mode, answer)
            seen, ctx = _only(target)
            if isinstance(seen, list):
                (seen,) = seen
            assert seen.values() == logical.values(), mode
            assert seen.provider == "gcp" and ctx.provider == "gcp"
