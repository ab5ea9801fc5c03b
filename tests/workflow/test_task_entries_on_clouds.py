"""A workflow's task functions (no trigger) as each cloud's workflow engine invokes them.

AWS: Step Functions' direct Lambda integration hands the Lambda the state's input as the
event, takes its return value as the result, and matches Retry/Catch against the
``errorType`` the runtime reports for an exception: the exception's class name
(https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html). The
task runs in the official runtime interface client (awslambdaric) against a Runtime API
on 127.0.0.1, and the handler's own exception is checked against the error document
awslambdaric builds (``build_fault_result``: ``errorType = etype.__name__``).

GCP: Cloud Workflows ``http.post``s the task's input as JSON to the function; a non-2xx
answer raises an HttpError whose ``body`` is the parsed JSON
(https://cloud.google.com/workflows/docs/http-requests,
https://cloud.google.com/workflows/docs/reference/syntax/catching-errors), and
polyfn.workflow.gcp_workflows' retry predicates match ``e.body.error``. The target runs
in functions-framework's own app (its test client).

Azure: the activities are checked in tests/deploy/test_workflow_descriptors.py (indexing).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from polyfn.outputs import Outputs
from polyfn.outputs.memory import MemoryDriver
from polyfn.workflow import gcp_workflows
from samples.orderflow import app as flow
from samples.orderflow.workflow import order_workflow

ORDERFLOW = "samples.orderflow.app:app"
ORDER = {"orderId": "o-1", "items": [{"sku": "widget", "qty": 2, "price": 5}], "card": "ok"}


@pytest.fixture(autouse=True)
def _reset():
    flow.reset()


# -- AWS ----------------------------------------------------------------------------------
def test_lambda_task_gets_the_raw_event_and_returns_its_result():
    from polyfn.adapters.aws import handler

    validate = handler(flow.app, "validate_order", outputs=Outputs(MemoryDriver()))
    assert validate(ORDER, None) == {**ORDER, "total": 10}
    # An input shaped like an event source's is still the raw input of a task.
    sqs_like = {"Records": [{"eventSource": "aws:sqs", "body": "{}"}]}
    check = handler(flow.app, "check_inventory", outputs=Outputs(MemoryDriver()))
    with pytest.raises(KeyError):  # the handler itself reads order["items"]
        check(sqs_like, None)


def test_lambda_task_error_type_is_the_users_exception_class():
    from awslambdaric.bootstrap import build_fault_result

    from polyfn.adapters.aws import handler

    charge = handler(flow.app, "charge_payment", outputs=Outputs(MemoryDriver()))
    order = {**ORDER, "total": 10, "card": "flaky-1"}
    with pytest.raises(flow.PaymentGatewayTimeout) as info:
        charge(order, None)
    # The note names the function; the type (what Step Functions matches) is untouched.
    assert any("'charge_payment'" in n for n in info.value.__notes__)
    error = build_fault_result((info.type, info.value, info.tb), None)
    assert error["errorType"] == "PaymentGatewayTimeout"
    assert error["errorMessage"] == "gateway timed out (attempt 1)"
    # The order workflow's Retry names that very error.
    asl = order_workflow().to_asl()
    retry = asl["States"]["ChargePayment"]["Retry"][0]
    assert retry["ErrorEquals"] == ["PaymentGatewayTimeout"]
    assert charge(order, None)["attempts"] == 2


@pytest.mark.e2e
def test_lambda_task_through_awslambdaric(tmp_path):
    from tests.e2e.conftest import LambdaRuntime, base_env

    # No AWS call is made: the endpoint only keeps boto3 away from the real one.
    env = base_env("http://127.0.0.1:9")
    runtime = LambdaRuntime(ORDERFLOW, "charge_payment", env, tmp_path / "charge.log")
    try:
        order = {**ORDER, "total": 10, "card": "flaky-1"}
        failed = runtime.invoke(order)
        assert failed.error_type == "PaymentGatewayTimeout", runtime.log_tail()
        assert failed.error_message == "gateway timed out (attempt 1)"
        # The same warm runtime: the retry succeeds with the JSON result as the answer.
        done = runtime.invoke(order)
        assert done.response == {"chargeId": "ch-o-1", "amount": 10, "attempts": 2}
        declined = runtime.invoke({**order, "orderId": "o-2", "card": "declined"})
        assert declined.error_type == "PaymentDeclined"
    finally:
        runtime.stop()


# -- GCP ----------------------------------------------------------------------------------
MAIN = """\
from polyfn.adapters.gcp import targets
from polyfn.outputs import Outputs
from polyfn.outputs.memory import MemoryDriver
from samples.orderflow.app import app

globals().update(targets(app, outputs=Outputs(MemoryDriver())))
"""


@pytest.fixture
def gcp_client(tmp_path, monkeypatch):
    import functions_framework

    for name in ("FUNCTION_TARGET", "FUNCTION_SIGNATURE_TYPE", "K_SERVICE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "polyfn-test")
    main = tmp_path / "main.py"
    main.write_text(MAIN, encoding="utf-8")
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2]))

    def client(target: str):
        return functions_framework.create_app(target, str(main)).test_client()

    yield client
    sys.modules.pop("main", None)


def test_gcp_task_target_is_a_json_http_function(gcp_client):
    from functions_framework import _function_registry as registry

    from polyfn.adapters.gcp import plan

    specs = {s.name: s for s in plan(flow.app, tasks=True)}
    assert set(specs) == set(flow.app.functions)
    assert specs["validate_order"].settings == {
        "trigger": "http",
        "allow_unauthenticated": False,
        "task": True,
    }
    assert plan(flow.app) == []  # without tasks=: the triggers' targets only
    client = gcp_client("validate_order")
    assert registry.REGISTRY_MAP["validate_order"] == "http"
    resp = client.post("/", json=ORDER)
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/json"
    assert resp.get_json() == {**ORDER, "total": 10}


def test_gcp_task_error_body_is_what_the_compiled_workflow_matches(gcp_client):
    client = gcp_client("charge_payment")
    order = {**ORDER, "total": 10, "card": "flaky-1"}
    resp = client.post("/", json=order)
    assert resp.status_code == 500
    body = resp.get_json()
    assert body == {"error": "PaymentGatewayTimeout", "message": "gateway timed out (attempt 1)"}
    # The retry predicate gcp_workflows generates compares e.body.error with the name.
    doc = gcp_workflows.compile(order_workflow().to_asl())
    (predicate,) = [v for k, v in doc.items() if k.startswith("polyfn_retry_")]
    condition = predicate["steps"][0]["check"]["return"]
    assert f'map.get(e, ["body", "error"]) == "{body["error"]}"' in condition
    assert client.post("/", json=order).get_json()["attempts"] == 2
    declined = client.post("/", json={**order, "orderId": "o-2", "card": "declined"})
    assert declined.status_code == 500 and declined.get_json()["error"] == "PaymentDeclined"


def test_gcp_task_bad_requests(gcp_client):
    client = gcp_client("validate_order")
    bad = client.post("/", data=b"{not json", content_type="application/json")
    assert bad.status_code == 400
    assert bad.get_json()["error"] == "MalformedEventError"
    assert "gcp" in bad.get_json()["message"] and "body" in bad.get_json()["message"]
    wrong = client.get("/")
    assert wrong.status_code == 405 and wrong.headers["allow"] == "POST"
    failed = client.post("/", json={"orderId": "o-3", "items": []})
    assert failed.status_code == 500
    assert json.loads(failed.data)["error"] == "InvalidOrder"
