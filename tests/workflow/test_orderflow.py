"""The seed's order workflow: each path locally, compiled for Step Functions, and the
pure skeleton checked on moto's ASL interpreter."""

from __future__ import annotations

import json

import pytest

from polyfn.outputs.memory import MemoryDriver
from polyfn.workflow import VirtualClock
from polyfn.workflow.local import run
from polyfn.workflow.stepfunctions import compile, pure_skeleton
from samples.orderflow import app as flow
from samples.orderflow.workflow import order_workflow

ORDER = {"orderId": "o-1", "items": [{"sku": "widget", "qty": 2, "price": 5}], "card": "ok"}


@pytest.fixture(autouse=True)
def _reset():
    flow.reset()


def _run(order, clock=None):
    driver = MemoryDriver()
    result = run(order_workflow(), order, flow.app, outputs=driver, clock=clock)
    return result, driver


def test_happy_path():
    result, driver = _run(ORDER)
    assert result.status == "SUCCEEDED", result
    out = result.output
    assert out["total"] == 10
    assert out["payment"] == {"chargeId": "ch-o-1", "amount": 10, "attempts": 1}
    assert out["shipment"] == {"trackingId": "trk-o-1"}
    assert flow.STOCK["widget"] == 8 and flow.SHIPPED == ["o-1"]
    [sent] = driver.sent
    assert sent.kind == "publish" and sent.target == flow.ORDER_EVENTS
    assert json.loads(sent.body) == {"orderId": "o-1", "status": "shipped", "trackingId": "trk-o-1"}
    assert out["notification"] == {"messageId": "publish-1"}


def test_out_of_stock_fails():
    order = {**ORDER, "items": [{"sku": "gadget", "qty": 3, "price": 1}]}
    result, driver = _run(order)
    assert (result.status, result.error) == ("FAILED", "OutOfStock")
    assert flow.STOCK["gadget"] == 2 and not flow.SHIPPED and not driver.sent
    assert "o-1" not in flow.ATTEMPTS


def test_payment_timeouts_are_retried_with_backoff():
    clock = VirtualClock()
    start = clock.now()
    result, _ = _run({**ORDER, "card": "flaky-2"}, clock=clock)
    assert result.status == "SUCCEEDED", result
    assert result.output["payment"]["attempts"] == 3
    assert (clock.now() - start).total_seconds() == pytest.approx(1 + 2)  # 1 s, then 2 s


def test_payment_timing_out_every_time_fails_after_compensation():
    clock = VirtualClock()
    start = clock.now()
    result, _ = _run({**ORDER, "card": "flaky-9"}, clock=clock)
    assert (result.status, result.error) == ("FAILED", "PaymentFailed")
    assert flow.ATTEMPTS["o-1"] == 4  # the first attempt and 3 retries
    assert (clock.now() - start).total_seconds() == pytest.approx(1 + 2 + 4)
    assert flow.STOCK["widget"] == 10  # released


def test_payment_declined_fails_after_compensation():
    result, driver = _run({**ORDER, "card": "declined"})
    assert (result.status, result.error) == ("FAILED", "PaymentFailed")
    assert flow.ATTEMPTS["o-1"] == 1  # PaymentDeclined is not retried
    assert flow.STOCK["widget"] == 10  # reserved, then released by the compensation
    assert not flow.SHIPPED and not driver.sent


def test_invalid_order_fails_with_the_functions_error():
    result, _ = _run({"orderId": "o-2", "items": []})
    assert (result.status, result.error) == ("FAILED", "InvalidOrder")


def test_compiles_for_step_functions():
    asl = compile(order_workflow(), region="eu-west-1", account="111122223333", prefix="shop-")
    text = json.dumps(asl)
    assert "polyfn:" not in text
    assert asl["States"]["ChargePayment"]["Resource"] == (
        "arn:aws:lambda:eu-west-1:111122223333:function:shop-charge_payment"
    )
    assert asl["States"]["ChargePayment"]["Retry"][0]["ErrorEquals"] == ["PaymentGatewayTimeout"]
    assert asl["States"]["ChargePayment"]["Catch"][0]["Next"] == "ReleaseInventory"


# -- the pure skeleton on moto's interpreter --------------------------------------------
SKELETONS = {
    "happy": (
        {"CheckInventory": {"inStock": True}},
        ("SUCCEEDED", None),
    ),
    "out_of_stock": (
        {"CheckInventory": {"inStock": False}},
        ("FAILED", "OutOfStock"),
    ),
}


def _skeleton(results):
    base = {
        "ValidateOrder": {},
        "ReserveInventory": {"reservationId": "r"},
        "ReleaseInventory": {},
        "ChargePayment": {"chargeId": "c"},
        "ShipOrder": {"trackingId": "t"},
        "NotifyCustomer": {"messageId": "m"},
    }
    return pure_skeleton(compile(order_workflow()), {**base, **results})


@pytest.mark.parametrize("case", sorted(SKELETONS))
def test_skeleton_matches_local(case):
    from polyfn.workflow import execute

    results, (status, error) = SKELETONS[case]
    asl = _skeleton(results)
    local = execute(asl, ORDER)
    assert (local.status, local.error) == (status, error)
    moto_status, moto_error, moto_output = _on_moto(asl, ORDER)
    assert (moto_status, moto_error) == (status, error)
    if status == "SUCCEEDED":
        assert moto_output == local.output


def _on_moto(asl, data):
    pytest.importorskip("moto")
    import boto3
    from moto import mock_aws

    @mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
    def go():
        import time

        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        arn = sfn.create_state_machine(
            name="orderflow",
            definition=json.dumps(asl),
            roleArn="arn:aws:iam::123456789012:role/sfn",
        )["stateMachineArn"]
        ex = sfn.start_execution(stateMachineArn=arn, input=json.dumps(data))["executionArn"]
        for _ in range(200):
            d = sfn.describe_execution(executionArn=ex)
            if d["status"] != "RUNNING":
                break
            time.sleep(0.01)
        out = json.loads(d["output"]) if "output" in d else None
        return d["status"], d.get("error"), out

    return go()
