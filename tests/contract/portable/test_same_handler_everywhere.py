"""One app, unchanged, on every adapter: the sample runs on Azure as it runs on Lambda,
and the same logical message reaches the same handler as equal neutral events.

Native payloads are rendered by each adapter's own translation (AWS: the Lambda event;
Azure: what the Functions host sends the worker, decoded by azure.functions' converters),
then enter through that adapter's inbound path.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from polyfn import App, HandlerError, QueueMessage, ScheduleEvent, StorageEvent, TopicMessage
from polyfn.adapters import aws
from polyfn.adapters.azure import function_app
from polyfn.adapters.azure.worker import Worker
from polyfn.events import HttpRequest
from polyfn.outputs import Outputs, user_attributes
from polyfn.outputs.memory import MemoryDriver
from samples.orders.app import app as orders

SENT = datetime(2026, 11, 27, 9, 30, 15, 250000, tzinfo=UTC)


def _capturing_app(seen: dict[str, Any]) -> App:
    app = App("portable")

    @app.queue("orders")
    def on_order(msg, ctx):
        seen["queue"] = msg

    @app.topic("order-events")
    def on_event(msg, ctx):
        seen["topic"] = msg

    @app.storage("receipts", events=["created"])
    def on_receipt(event, ctx):
        seen["storage"] = event

    @app.schedule("cron(0 2 * * ? *)")
    def nightly(event, ctx):
        seen["schedule"] = event

    @app.get("/orders/{id}")
    def get_order(req, ctx):
        seen["http"] = req
        return {"id": req.path_params["id"]}

    return app


LOGICAL = {
    "on_order": (
        "queue",
        QueueMessage("m-1", '{"id": "o-1"}', delivery_count=2, enqueued_at=SENT, queue="orders"),
    ),
    "on_event": (
        "topic",
        TopicMessage(
            "t-1",
            "order-events",
            '{"id": "o-1"}',
            subject="processed",
            attributes={"event": "order-processed"},
            published_at=SENT,
        ),
    ),
    "on_receipt": (
        "storage",
        StorageEvent("receipts", "receipts/o 1.json", "created", size=12, etag="0x8DC1", time=SENT),
    ),
    "nightly": (
        "schedule",
        ScheduleEvent("cron(0 2 * * ? *)", SENT.replace(hour=2, minute=0, second=0, microsecond=0)),
    ),
}


@pytest.mark.parametrize("name", sorted(LOGICAL))
def test_aws_and_azure_hand_the_handler_equal_events(name):
    kind, logical = LOGICAL[name]
    on_aws: dict[str, Any] = {}
    on_azure: dict[str, Any] = {}
    aws.handler(_capturing_app(on_aws), name, outputs=Outputs(MemoryDriver()))(
        aws.to_native([logical] if kind != "schedule" else logical), None
    )
    worker = Worker(function_app(_capturing_app(on_azure), outputs=Outputs(MemoryDriver())))
    worker.invoke(name, logical)
    seen_aws, seen_azure = on_aws[kind], on_azure[kind]
    assert (seen_aws.provider, seen_azure.provider) == ("aws", "azure")
    expected = logical.values()
    if kind == "schedule":
        # A schedule's id is the provider's (EventBridge gives every event one; an Azure
        # timer has none); the declared expression and the time are the same.
        expected.pop("id")
        for seen in (seen_aws, seen_azure):
            assert seen.values().pop("id") is not None or seen is seen_azure
        assert seen_aws.values() | {"id": None} == seen_azure.values() | {"id": None}
    assert {k: v for k, v in seen_aws.values().items() if k in expected} == expected
    assert {k: v for k, v in seen_azure.values().items() if k in expected} == expected


def test_same_http_request_on_both():
    logical = HttpRequest(
        "GET",
        "/orders/o-7",
        query=[("tag", "a"), ("tag", "b")],
        headers={"accept": "application/json"},
    )
    on_aws: dict[str, Any] = {}
    on_azure: dict[str, Any] = {}
    aws_resp = aws.handler(_capturing_app(on_aws), "get_order")(
        aws.to_native(logical, source="apigateway-v2"), None
    )
    worker = Worker(function_app(_capturing_app(on_azure)))
    azure_resp = worker.invoke("get_order", logical)
    a, z = on_aws["http"], on_azure["http"]
    for field in ("method", "path", "query", "body", "cookies"):
        assert getattr(a, field) == getattr(z, field) == getattr(logical, field), field
    # Each gateway matched the route and extracted its parameters.
    assert a.route == z.route == "/orders/{id}"
    assert a.path_params == z.path_params == {"id": "o-7"}
    assert a.headers["accept"] == z.headers["accept"] == "application/json"
    assert json.loads(aws_resp["body"]) == json.loads(azure_resp.get_body()) == {"id": "o-7"}


def test_orders_sample_runs_on_azure_unchanged():
    # outputs= stands in for the Azure SDKs; what goes through output bindings (the
    # sample's declared queue) the worker delivers to the same driver, as the host would.
    driver = MemoryDriver()
    worker = Worker(function_app(orders, outputs=Outputs(driver)), deliver=driver)

    order = {"id": "o-1", "items": [{"sku": "apple", "price": 3, "qty": 2}]}
    created = worker.invoke(
        "create_order",
        HttpRequest(
            "POST", "/orders", body=json.dumps(order), headers={"content-type": "application/json"}
        ),
    )
    assert created.status_code == 200
    assert json.loads(created.get_body())["id"] == "o-1"
    # create_order declared its queue: the message went through the queue output binding.
    (message,) = worker.last_outputs["queueOrders"]
    assert json.loads(message) == order
    bad = worker.invoke("create_order", HttpRequest("POST", "/orders", body='{"items": []}'))
    assert bad.status_code == 400
    assert worker.last_outputs == {}

    got = worker.invoke("get_order", HttpRequest("GET", "/orders/o-1", query={"verbose": "1"}))
    assert json.loads(got.get_body()) == {"id": "o-1", "verbose": True}

    (queued,) = [s for s in driver.sent if s.kind == "send"]
    assert (queued.target, json.loads(queued.body)) == ("orders", order)
    worker.invoke("process_order", QueueMessage("m-1", queued.body, queue="orders"))
    put = [s for s in driver.sent if s.kind == "put"]
    published = [s for s in driver.sent if s.kind == "publish"]
    assert [p.target for p in put] == ["receipts/receipts/o-1.json"]
    assert json.loads(put[0].body) == {"order": "o-1", "total": 6, "message": "m-1"}
    assert user_attributes(published[0].options["attributes"]) == {"event": "order-processed"}

    # A bad order fails its invocation: Azure retries it, then moves it to the poison queue.
    with pytest.raises(HandlerError, match="process_order"):
        worker.invoke(
            "process_order", QueueMessage("m-2", '{"id": "o-9", "items": []}', queue="orders")
        )

    worker.invoke(
        "notify",
        TopicMessage(
            "t-1", "order-events", published[0].body, attributes={"event": "order-processed"}
        ),
    )
    worker.invoke("index_receipt", StorageEvent("receipts", "receipts/o-1.json", size=43))
    worker.invoke("nightly_report", ScheduleEvent("0 0 2 * * *", SENT))


# -- Google Cloud: the third leg ----------------------------------------------------------
# Each native event is what Google delivers for the logical one (a CloudEvent, as
# functions-framework hands it to the target), entering through the target main.py holds.


def _gcp_call(app: App, name: str, logical: Any) -> Any:
    from polyfn.adapters import gcp

    target = gcp.targets(app, outputs=Outputs(MemoryDriver()))[name]
    if logical.KIND == "http":
        return target(gcp.to_native(logical))
    return target(gcp.to_native(logical, "cloudevent"))


@pytest.mark.parametrize("name", sorted(LOGICAL))
def test_aws_azure_and_gcp_hand_the_handler_equal_events(name):
    kind, logical = LOGICAL[name]
    on_aws: dict[str, Any] = {}
    on_azure: dict[str, Any] = {}
    on_gcp: dict[str, Any] = {}
    aws.handler(_capturing_app(on_aws), name, outputs=Outputs(MemoryDriver()))(
        aws.to_native([logical] if kind != "schedule" else logical), None
    )
    Worker(function_app(_capturing_app(on_azure), outputs=Outputs(MemoryDriver()))).invoke(
        name, logical
    )
    _gcp_call(_capturing_app(on_gcp), name, logical)
    seen = {"aws": on_aws[kind], "azure": on_azure[kind], "gcp": on_gcp[kind]}
    assert {p: e.provider for p, e in seen.items()} == {
        "aws": "aws",
        "azure": "azure",
        "gcp": "gcp",
    }
    expected = logical.values()
    if kind == "schedule":
        expected.pop("id")  # the provider's own (EventBridge event id, Pub/Sub message id)
    for provider, event in seen.items():
        got = {k: v for k, v in event.values().items() if k in expected}
        assert got == expected, provider
    if kind != "schedule":
        assert seen["aws"] == seen["azure"] == seen["gcp"]


def test_same_http_request_on_gcp():
    logical = HttpRequest(
        "GET",
        "/orders/o-7",
        query=[("tag", "a"), ("tag", "b")],
        headers={"accept": "application/json"},
    )
    on_aws: dict[str, Any] = {}
    on_gcp: dict[str, Any] = {}
    aws.handler(_capturing_app(on_aws), "get_order")(
        aws.to_native(logical, source="apigateway-v2"), None
    )
    resp = _gcp_call(_capturing_app(on_gcp), "get_order", logical)
    a, g = on_aws["http"], on_gcp["http"]
    for field in ("method", "path", "query", "body", "cookies", "route", "path_params"):
        assert getattr(a, field) == getattr(g, field), field
    assert g.headers["accept"] == "application/json"
    assert (resp.status_code, resp.get_json()) == (200, {"id": "o-7"})


def test_orders_sample_runs_on_gcp_unchanged():
    from polyfn.adapters import gcp

    driver = MemoryDriver()
    run = gcp.targets(orders, outputs=Outputs(driver))

    order = {"id": "o-1", "items": [{"sku": "apple", "price": 3, "qty": 2}]}
    created = run["create_order"](
        gcp.to_native(
            HttpRequest(
                "POST",
                "/orders",
                body=json.dumps(order),
                headers={"content-type": "application/json"},
            )
        )
    )
    assert created.status_code == 200
    assert created.get_json()["id"] == "o-1"
    bad = run["create_order"](gcp.to_native(HttpRequest("POST", "/orders", body='{"items": []}')))
    assert bad.status_code == 400
    got = run["get_order"](gcp.to_native(HttpRequest("GET", "/orders/o-1", query={"verbose": "1"})))
    assert got.get_json() == {"id": "o-1", "verbose": True}

    (queued,) = [s for s in driver.sent if s.kind == "send"]
    assert (queued.target, json.loads(queued.body)) == ("orders", order)
    # Pub/Sub delivers the queued message to the queue's target as a CloudEvent.
    run["process_order"](
        gcp.to_native(QueueMessage("m-1", queued.body, queue="orders"), "cloudevent")
    )
    put = [s for s in driver.sent if s.kind == "put"]
    published = [s for s in driver.sent if s.kind == "publish"]
    assert [p.target for p in put] == ["receipts/receipts/o-1.json"]
    assert json.loads(put[0].body) == {"order": "o-1", "total": 6, "message": "m-1"}
    assert user_attributes(published[0].options["attributes"]) == {"event": "order-processed"}

    # A bad order raises: functions-framework answers 500, Pub/Sub redelivers it, then
    # the subscription's dead-letter policy moves it to the dead-letter topic.
    bad_order = QueueMessage("m-2", '{"id": "o-9", "items": []}', queue="orders")
    with pytest.raises(HandlerError, match="process_order"):
        run["process_order"](gcp.to_native(bad_order, "cloudevent"))

    notification = TopicMessage(
        "t-1",
        "order-events",
        published[0].body,
        subject=published[0].options["subject"],
        attributes={"event": "order-processed"},
    )
    run["notify"](gcp.to_native(notification, "cloudevent"))
    run["index_receipt"](
        gcp.to_native(StorageEvent("receipts", "receipts/o-1.json", size=43), "cloudevent")
    )
    run["nightly_report"](gcp.to_native(ScheduleEvent("nightly_report", SENT), "cloudevent"))
