"""``polyfn invoke``: one function, once, through each provider's inbound path."""

from __future__ import annotations

import json

import pytest
from cli_helpers import ORDERS, ORDERS_DIR, run, run_json

PROVIDERS = ["none", "aws", "azure", "gcp"]
ORDER = {"body": {"id": "o-1", "items": [{"sku": "apple", "price": 3, "qty": 2}]}}
EMPTY_ORDER = {"body": {"id": "o-3", "items": []}}


def invoke(capsys, function: str, provider: str, event=None, *extra: str, status: int = 0):
    argv = ["invoke", function, ORDERS, "--as", provider, "--json", *extra]
    if event is not None:
        argv += ["--event", json.dumps(event)]
    return run_json(capsys, *argv, status=status)


def http_status(provider: str, result: dict) -> int:
    return result["statusCode"] if provider == "aws" else result["status"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_create_order_answers_200_and_queues_the_order(capsys, provider):
    outcome = invoke(capsys, "create_order", provider, ORDER)
    assert outcome["ok"] and outcome["errors"] == []
    assert http_status(provider, outcome["result"]) == 200
    (sent,) = outcome["outputs"]
    assert (sent["kind"], sent["target"]) == ("send", "orders")
    assert json.loads(sent["body"])["id"] == "o-1"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_failing_order_exits_1(capsys, provider):
    outcome = invoke(capsys, "process_order", provider, EMPTY_ORDER, status=1)
    assert not outcome["ok"]
    assert outcome["outputs"] == []
    assert any("has no items" in e or "batchItemFailures" in e for e in outcome["errors"])


@pytest.mark.parametrize("provider", PROVIDERS)
def test_process_order_stores_and_announces(capsys, provider):
    outcome = invoke(capsys, "process_order", provider, ORDER)
    assert outcome["ok"], outcome["errors"]
    kinds = {(s["kind"], s["target"]) for s in outcome["outputs"]}
    assert kinds == {("put", "receipts/receipts/o-1.json"), ("publish", "order-events")}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_schedule_without_an_event(capsys, provider):
    outcome = invoke(capsys, "nightly_report", provider)
    assert outcome["ok"], outcome["errors"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_route_parameters_come_from_the_path(capsys, provider):
    outcome = invoke(
        capsys, "get_order", provider, {"path": "/orders/o-7", "query": {"verbose": "1"}}
    )
    result = outcome["result"]
    assert http_status(provider, result) == 200
    assert json.loads(result["body"]) == {"id": "o-7", "verbose": True}


def test_http_error_is_an_answer_not_a_failure(capsys):
    outcome = invoke(capsys, "create_order", "aws", {"body": {"items": []}})
    assert outcome["ok"]
    assert outcome["result"]["statusCode"] == 400


def test_aws_batch_fails_only_the_bad_record(capsys):
    batch = [{**ORDER, "id": "good"}, {**EMPTY_ORDER, "id": "bad"}]
    outcome = invoke(capsys, "process_order", "aws", batch, status=1)
    assert outcome["result"] == {"batchItemFailures": [{"itemIdentifier": "bad"}]}
    assert len(outcome["outputs"]) == 2  # the good order's receipt and announcement


def test_topic_filter_skips_what_it_does_not_want(capsys):
    outcome = invoke(capsys, "notify", "none", {"body": "{}", "attributes": {"event": "other"}})
    assert outcome["ok"]
    assert outcome["result"]["skipped_by_filter"] == 1


@pytest.mark.parametrize(
    ("provider", "extra"), [("aws", ()), ("azure", ()), ("gcp", ("--mode", "binary"))]
)
def test_native_payload_from_events_render(capsys, provider, extra, tmp_path):
    event = json.dumps({"queue": "orders", **ORDER})
    native = run_json(capsys, "events", "render", "--as", provider, "queue", event, *extra)
    path = tmp_path / "native.json"
    path.write_text(json.dumps(native))
    outcome = invoke(capsys, "process_order", provider, None, "--native", "--event", str(path))
    assert outcome["ok"], outcome["errors"]
    assert {s["kind"] for s in outcome["outputs"]} == {"put", "publish"}


def test_gcp_modes_and_sources(capsys):
    for mode in ("structured", "push", "legacy"):
        outcome = invoke(capsys, "process_order", "gcp", ORDER, "--mode", mode)
        assert outcome["ok"], (mode, outcome["errors"])


def test_folder_target_and_human_output(capsys):
    code, out, _ = run(
        capsys, "invoke", "create_order", ORDERS_DIR, "--as", "aws", "--event", json.dumps(ORDER)
    )
    assert code == 0
    assert "create_order ← aws apigateway-v2" in out
    assert "outputs (1, kept in memory)" in out
    assert "✓ succeeded" in out
    code, out, err = run(
        capsys, "invoke", "process_order", ORDERS_DIR, "--event", json.dumps(EMPTY_ORDER)
    )
    assert code == 1
    assert "✗ failed" in out
    assert "has no items" in err  # the handler's traceback, logged


def test_event_from_a_file_and_stdin(capsys, tmp_path, monkeypatch):
    import io

    path = tmp_path / "order.json"
    path.write_text(json.dumps(ORDER))
    outcome = invoke(capsys, "create_order", "none", None, "--event", str(path))
    assert outcome["ok"]
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(ORDER)))
    outcome = invoke(capsys, "create_order", "none", None, "--event", "-")
    assert outcome["ok"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["invoke", "nope", ORDERS], "has no function 'nope'"),
        (["invoke", "get_order", ORDERS], "give the request's path"),
        (["invoke", "create_order", ORDERS, "--native", "--event", "{}"], "--native needs --as"),
        (["invoke", "create_order", ORDERS, "--event", "missing.json"], "no such file"),
        (["invoke", "create_order", ORDERS, "--trigger", "2"], "1 trigger(s)"),
        (
            ["invoke", "nightly_report", ORDERS, "--event", '{"scheduled_time": "soon"}'],
            "invalid schedule",
        ),
    ],
)
def test_usage_errors_exit_2(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in err


@pytest.mark.parametrize("provider", ["aws", "azure", "gcp"])
def test_native_http_request_to_a_route_with_parameters(capsys, provider, tmp_path):
    request = json.dumps({"method": "GET", "path": "/orders/o-9", "query": {"verbose": "1"}})
    native = run_json(capsys, "events", "render", "--as", provider, "http", request)
    path = tmp_path / "request.json"
    path.write_text(json.dumps(native))
    outcome = invoke(capsys, "get_order", provider, None, "--native", "--event", str(path))
    assert outcome["ok"], outcome["errors"]
    assert json.loads(outcome["result"]["body"]) == {"id": "o-9", "verbose": True}
