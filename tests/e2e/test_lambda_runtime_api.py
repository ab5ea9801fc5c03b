"""The test Runtime API itself: the protocol a runtime sees, played by hand over HTTP, and
the ways a runtime can fail to answer (init error, dying, hanging)."""

from __future__ import annotations

import http.client
import json
import threading
from typing import Any

import pytest

from polyfn import HttpRequest
from polyfn.adapters.aws import to_native

from .conftest import PROBE_APP, LambdaRuntime, base_env
from .lambda_runtime_api import RuntimeApi, RuntimeExitedError, RuntimeInitError

pytestmark = pytest.mark.e2e

TRACE = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


def call(
    api: RuntimeApi, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(api.address, timeout=10)
    try:
        data = None if body is None else json.dumps(body).encode()
        conn.request(method, f"/2018-06-01/runtime/{path}", data, headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def invoke_in_thread(api: RuntimeApi, event: Any, **kw: Any) -> tuple[threading.Thread, dict]:
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["result"] = api.invoke(event, timeout=10, **kw)
        except Exception as e:
            out["error"] = e

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def test_next_hands_out_the_event_with_the_invocation_headers() -> None:
    with RuntimeApi("fn", region="eu-west-1", account="111122223333") as api:
        thread, out = invoke_in_thread(
            api,
            {"k": "v"},
            request_id="req-1",
            deadline_ms=1_700_000_000_000,
            trace_header=TRACE,
            client_context={"custom": {"a": "b"}},
        )
        status, headers, body = call(api, "GET", "invocation/next")
        assert status == 200
        assert json.loads(body) == {"k": "v"}
        assert headers["Lambda-Runtime-Aws-Request-Id"] == "req-1"
        assert headers["Lambda-Runtime-Deadline-Ms"] == "1700000000000"
        assert headers["Lambda-Runtime-Invoked-Function-Arn"] == (
            "arn:aws:lambda:eu-west-1:111122223333:function:fn"
        )
        assert headers["Lambda-Runtime-Trace-Id"] == TRACE
        assert json.loads(headers["Lambda-Runtime-Client-Context"]) == {"custom": {"a": "b"}}
        assert "Lambda-Runtime-Cognito-Identity" not in headers

        status, _, _ = call(api, "POST", "invocation/req-1/response", {"ok": True})
        assert status == 202
        thread.join(10)
        assert out["result"].response == {"ok": True}
        # An invocation is answered once.
        status, _, body = call(api, "POST", "invocation/req-1/response", {"ok": False})
        assert status == 400
        assert json.loads(body)["errorType"] == "InvalidStateTransition"


def test_error_records_the_body_and_the_error_type_header() -> None:
    with RuntimeApi("fn") as api:
        thread, out = invoke_in_thread(api, {}, request_id="req-2")
        call(api, "GET", "invocation/next")
        error = {"errorMessage": "it broke", "errorType": "ValueError", "stackTrace": []}
        status, _, _ = call(
            api,
            "POST",
            "invocation/req-2/error",
            error,
            {"Lambda-Runtime-Function-Error-Type": "Unhandled"},
        )
        assert status == 202
        thread.join(10)
        result = out["result"]
        assert result.is_error
        assert (result.error_type, result.error_message) == ("ValueError", "it broke")
        assert result.error_type_header == "Unhandled"


def test_unknown_request_ids_and_paths_are_refused() -> None:
    with RuntimeApi("fn") as api:
        status, _, body = call(api, "POST", "invocation/nope/response", {})
        assert status == 400
        assert json.loads(body)["errorType"] == "InvalidRequestID"
        assert call(api, "GET", "invocation/later")[0] == 404
        assert call(api, "POST", "restore/next", {})[0] == 404


def test_an_unanswered_invocation_times_out() -> None:
    with RuntimeApi("fn") as api, pytest.raises(TimeoutError, match="was never fetched"):
        api.invoke({}, timeout=0.2)


def test_a_runtime_that_cannot_load_its_handler_reports_an_init_error(
    moto_endpoint: str, tmp_path
) -> None:
    runtime = LambdaRuntime(
        "samples.orders.app:app",
        "create_order",
        base_env(moto_endpoint),
        tmp_path / "runtime.log",
        handler="polyfn.adapters.aws.no_such_handler",
    )
    try:
        with pytest.raises(RuntimeInitError, match=r"Runtime\.HandlerNotFound"):
            runtime.invoke({}, timeout=10)
        assert runtime.api.init_error["errorType"] == "Runtime.HandlerNotFound"
    finally:
        runtime.stop()
    assert not runtime.alive


def test_a_hung_runtime_fails_the_invocation_and_is_replaced(lambda_function) -> None:
    runtime = lambda_function("hang", app=PROBE_APP)
    event = to_native(HttpRequest("GET", "/hang"), source="apigateway-v2")
    with pytest.raises(TimeoutError, match=r"got no answer within 0\.5s"):
        runtime.invoke(event, timeout=0.5)
    assert not runtime.alive  # stopped, so that it cannot answer a later invocation
    assert lambda_function("hang", app=PROBE_APP) is not runtime


def test_a_runtime_that_dies_fails_the_invocation_at_once(lambda_function) -> None:
    runtime = lambda_function("crash", app=PROBE_APP)
    event = to_native(HttpRequest("GET", "/crash"), source="apigateway-v2")
    with pytest.raises(RuntimeExitedError, match="exited with code 3"):
        runtime.invoke(event, timeout=15)
    assert runtime.process.returncode == 3
