"""The order workflow on a LocalRuntime and through ``polyfn dev``'s control endpoints."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from polyfn import App
from polyfn.local.clock import VirtualClock
from polyfn.local.runtime import LocalRuntime
from polyfn.local.server import DevServer
from polyfn.outputs.memory import MemoryDriver
from polyfn.workflow.local import run, workflow, workflows
from samples.orderflow import app as flow
from samples.orderflow.workflow import order_workflow

ORDER = {"orderId": "o-1", "items": [{"sku": "widget", "qty": 2, "price": 5}], "card": "ok"}


@pytest.fixture
def rt(tmp_path):
    flow.reset()
    with LocalRuntime(flow.app, state_dir=tmp_path / "state", clock=VirtualClock()) as runtime:
        yield runtime
    flow.reset()


def test_the_sample_app_carries_its_workflow():
    assert list(workflows(flow.app)) == ["orderflow"]
    assert workflows(App("other")) == {}


def test_happy_path_matches_the_plain_local_run(rt):
    result = rt.start_workflow("orderflow", ORDER)
    flow.reset()
    plain = run(order_workflow(), ORDER, flow.app, outputs=MemoryDriver())
    assert (result.status, plain.status) == ("SUCCEEDED", "SUCCEEDED")
    notification = result.output.pop("notification")
    plain.output.pop("notification")  # message ids differ
    assert result.output == plain.output
    assert notification["messageId"]
    [execution] = rt.executions()
    assert (execution.name, execution.status) == ("orderflow", "SUCCEEDED")
    assert execution.started is not None and execution.stopped is not None


def test_out_of_stock_fails(rt):
    items = [{"sku": "gadget", "qty": 5, "price": 1}]
    result = rt.start_workflow("orderflow", {**ORDER, "items": items})
    assert (result.status, result.error) == ("FAILED", "OutOfStock")
    assert rt.executions()[-1].error == "OutOfStock"


def test_payment_timeouts_retry_on_the_runtime_clock(rt):
    start = rt.clock.time()
    result = rt.start_workflow("orderflow", {**ORDER, "card": "flaky-2"})
    assert result.status == "SUCCEEDED"
    assert result.output["payment"]["attempts"] == 3
    assert rt.clock.time() - start == pytest.approx(1 + 2)


def test_unknown_workflow_is_a_key_error(rt):
    with pytest.raises(KeyError):
        rt.start_workflow("nope", {})


def test_the_notification_reaches_a_topic_subscriber(tmp_path):
    flow.reset()
    app = App("orderflow-subscribed")
    app.functions.update(flow.app.functions)
    got: list[Any] = []

    @app.topic(flow.ORDER_EVENTS)
    def on_order_event(msg: Any) -> None:
        got.append(msg.json())

    workflow(app, "orderflow", order_workflow())
    with LocalRuntime(app, state_dir=tmp_path / "state", clock=VirtualClock()) as runtime:
        assert runtime.start_workflow("orderflow", ORDER).status == "SUCCEEDED"
        assert runtime.idle()
    assert got == [{"orderId": "o-1", "status": "shipped", "trackingId": "trk-o-1"}]
    flow.reset()


def call(url: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + path, data=data, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_dev_server_runs_workflows(rt):
    server = DevServer(port=0).start(poll_interval=0.01)
    try:
        server.ready(rt)
        status, body = call(server.url, "POST", "/_polyfn/workflows/orderflow", ORDER)
        assert (status, body["status"]) == (200, "SUCCEEDED")
        assert body["output"]["shipment"] == {"trackingId": "trk-o-1"}
        assert body["executionArn"].endswith(body["id"])
        status, body = call(server.url, "POST", "/_polyfn/workflows/nope", {})
        assert status == 404 and "nope" in body["error"]
        status, body = call(server.url, "GET", "/_polyfn/workflows")
        assert status == 200 and body["workflows"] == ["orderflow"]
        assert [e["status"] for e in body["executions"]] == ["SUCCEEDED"]
    finally:
        server.stop()
