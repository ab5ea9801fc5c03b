"""A small Lambda Runtime API for end-to-end tests, served on loopback in a thread.

It is the half of Lambda that a runtime talks to
(https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html): the runtime interface
client long-polls ``GET /2018-06-01/runtime/invocation/next`` for an event and answers on
``POST .../invocation/{id}/response`` or ``.../{id}/error``; a runtime that cannot start
reports on ``POST .../runtime/init/error``. The test side calls :meth:`RuntimeApi.invoke`,
which queues an event and waits (on a condition, not by polling) for the runtime's answer.
"""

from __future__ import annotations

import collections
import json
import re
import secrets
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

API_VERSION = "2018-06-01"
MAX_RESPONSE_BYTES = 6 * 1024 * 1024  # Lambda's synchronous response limit
ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"
XRAY_ERROR_CAUSE_HEADER = "Lambda-Runtime-Function-XRay-Error-Cause"

_INVOCATION_PATH = re.compile(
    rf"^/{API_VERSION}/runtime/invocation/(?P<id>[^/]+)/(?P<kind>response|error)$"
)


class RuntimeInitError(RuntimeError):
    """The runtime reported an error on ``/runtime/init/error``."""


class RuntimeExitedError(RuntimeError):
    """The runtime process went away (see :meth:`RuntimeApi.abort`)."""


def xray_trace_header(sampled: bool = True) -> str:
    """A fresh X-Ray trace header as Lambda passes it in ``Lambda-Runtime-Trace-Id``."""
    root = f"1-{int(time.time()):08x}-{secrets.token_hex(12)}"
    return f"Root={root};Parent={secrets.token_hex(8)};Sampled={int(sampled)}"


@dataclass(frozen=True)
class InvocationResult:
    """What the runtime answered for one invocation."""

    request_id: str
    raw: bytes
    """The body the runtime posted (the response payload, or the error document)."""
    is_error: bool
    error_type_header: str | None = None
    xray_error_cause: str | None = None

    @property
    def payload(self) -> Any:
        """The response (or error document) as JSON; None for an empty body."""
        return json.loads(self.raw) if self.raw else None

    @property
    def response(self) -> Any:
        if self.is_error:
            raise AssertionError(f"the invocation failed: {self.error_type}: {self.error_message}")
        return self.payload

    @property
    def error(self) -> dict[str, Any]:
        if not self.is_error:
            raise AssertionError(f"the invocation succeeded with {self.raw[:500]!r}")
        doc = self.payload
        return doc if isinstance(doc, dict) else {}

    @property
    def error_type(self) -> str | None:
        """``errorType`` of the error document, else the error-type header."""
        return self.error.get("errorType") or self.error_type_header

    @property
    def error_message(self) -> str:
        return str(self.error.get("errorMessage", ""))


@dataclass
class Invocation:
    """One queued invocation and, once the runtime answered, its result."""

    request_id: str
    body: bytes
    headers: dict[str, str]
    result: InvocationResult | None = None
    delivered: bool = False
    answered: bool = False


@dataclass
class _State:
    cond: threading.Condition = field(default_factory=threading.Condition)
    pending: collections.deque[Invocation] = field(default_factory=collections.deque)
    by_id: dict[str, Invocation] = field(default_factory=dict)
    init_error: dict[str, Any] | None = None
    aborted: str | None = None
    closed: bool = False


class RuntimeApi:
    """The Runtime API of one function (one execution environment at a time)."""

    def __init__(
        self,
        function_name: str = "polyfn-e2e",
        *,
        region: str = "us-east-1",
        account: str = "123456789012",
        timeout_seconds: float = 30.0,
    ) -> None:
        self.function_name = function_name
        self.function_arn = f"arn:aws:lambda:{region}:{account}:function:{function_name}"
        self.timeout_seconds = timeout_seconds
        """The function timeout: the default deadline of each invocation."""
        self._state = _State()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.state = self._state
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def address(self) -> str:
        """``host:port``, the value of ``AWS_LAMBDA_RUNTIME_API``."""
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def start(self) -> RuntimeApi:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"runtime-api-{self.function_name}",
            daemon=True,
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving; a runtime still waiting for ``next`` gets a 500 and gives up."""
        with self._state.cond:
            self._state.closed = True
            self._state.cond.notify_all()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def abort(self, reason: str) -> None:
        """Fail every waiting and future :meth:`invoke` (the runtime process died)."""
        with self._state.cond:
            self._state.aborted = reason
            self._state.cond.notify_all()

    def __enter__(self) -> RuntimeApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def init_error(self) -> dict[str, Any] | None:
        return self._state.init_error

    # -- the test side ---------------------------------------------------------------------
    def invoke(
        self,
        event: Any,
        timeout: float = 10.0,
        *,
        request_id: str | None = None,
        deadline_ms: int | None = None,
        trace_header: str | None = None,
        client_context: dict[str, Any] | None = None,
        cognito_identity: dict[str, Any] | None = None,
    ) -> InvocationResult:
        """Queue ``event`` (JSON-encoded unless bytes) and wait for the runtime's answer.

        Raises TimeoutError when the runtime does not answer within ``timeout`` seconds,
        RuntimeInitError when it failed to start and RuntimeExitedError when it died.
        """
        request_id = request_id or str(uuid.uuid4())
        if deadline_ms is None:
            deadline_ms = int((time.time() + self.timeout_seconds) * 1000)
        headers = {
            "Lambda-Runtime-Aws-Request-Id": request_id,
            "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": self.function_arn,
            "Lambda-Runtime-Trace-Id": trace_header or xray_trace_header(),
        }
        if client_context is not None:
            headers["Lambda-Runtime-Client-Context"] = json.dumps(client_context)
        if cognito_identity is not None:
            headers["Lambda-Runtime-Cognito-Identity"] = json.dumps(cognito_identity)
        body = event if isinstance(event, bytes) else json.dumps(event).encode("utf-8")
        inv = Invocation(request_id, body, headers)
        state = self._state
        with state.cond:
            self._raise_if_failed()
            state.by_id[request_id] = inv
            state.pending.append(inv)
            state.cond.notify_all()
            finished = state.cond.wait_for(
                lambda: (
                    inv.result is not None
                    or state.init_error is not None
                    or state.aborted is not None
                    or state.closed
                ),
                timeout,
            )
            if inv.result is not None:
                return inv.result
            self._raise_if_failed()
            if not finished:
                if not inv.delivered:
                    state.pending.remove(inv)  # a later runtime must not pick it up
                where = "was never fetched" if not inv.delivered else "got no answer"
                raise TimeoutError(
                    f"invocation {request_id} of {self.function_name} {where} within {timeout}s"
                )
            raise RuntimeError(f"the runtime API of {self.function_name} was closed")

    def _raise_if_failed(self) -> None:
        state = self._state
        if state.init_error is not None:
            raise RuntimeInitError(
                f"{self.function_name} failed to initialise: "
                f"{state.init_error.get('errorType')}: {state.init_error.get('errorMessage')}"
            )
        if state.aborted is not None:
            raise RuntimeExitedError(f"{self.function_name}: {state.aborted}")


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a runtime blocked on ``next`` must not hold up shutdown
    state: _State

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A runtime stopped mid-request (test teardown) is not worth a traceback.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 so the client can keep its connection open between invocations, as on
    # Lambda; every answer then carries a Content-Length.
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the tests report what matters

    # -- plumbing --------------------------------------------------------------------------
    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, error_type: str, message: str) -> None:
        self._send(status, {"errorMessage": message, "errorType": error_type})

    # -- endpoints -------------------------------------------------------------------------
    def do_GET(self) -> None:
        if self.path != f"/{API_VERSION}/runtime/invocation/next":
            self._error(404, "NotFound", f"no such endpoint: GET {self.path}")
            return
        state = self.server.state
        with state.cond:
            state.cond.wait_for(lambda: state.pending or state.closed)
            if state.closed:
                inv = None
            else:
                inv = state.pending.popleft()
                inv.delivered = True
        if inv is None:
            self._error(500, "ServiceClosed", "the runtime API is shutting down")
            self.close_connection = True
            return
        self._send(HTTPStatus.OK, inv.body, inv.headers)

    def do_POST(self) -> None:
        body = self._body()
        state = self.server.state
        if self.path == f"/{API_VERSION}/runtime/init/error":
            # Recorded before answering: the runtime exits right after its report, and
            # the test must learn why rather than only that it died.
            with state.cond:
                state.init_error = _json_or_raw(body, self.headers.get(ERROR_TYPE_HEADER))
                state.cond.notify_all()
            self._send(HTTPStatus.ACCEPTED, {"status": "OK"})
            return
        match = _INVOCATION_PATH.match(self.path)
        if match is None:
            self._error(404, "NotFound", f"no such endpoint: POST {self.path}")
            return
        request_id, kind = match["id"], match["kind"]
        with state.cond:
            inv = state.by_id.get(request_id)
            if inv is None or not inv.delivered:
                problem = ("InvalidRequestID", f"unknown request id {request_id!r}")
            elif inv.answered:
                problem = ("InvalidStateTransition", f"{request_id!r} was already answered")
            elif kind == "response" and len(body) > MAX_RESPONSE_BYTES:
                problem = ("RequestEntityTooLarge", f"response exceeds {MAX_RESPONSE_BYTES} bytes")
            else:
                problem = None
                inv.answered = True
        if problem is not None:
            status = 413 if problem[0] == "RequestEntityTooLarge" else 400
            self._error(status, *problem)
            return
        # Answer before publishing the result: the test may stop the runtime right after.
        self._send(HTTPStatus.ACCEPTED, {"status": "OK"})
        result = InvocationResult(
            request_id,
            body,
            is_error=kind == "error",
            error_type_header=self.headers.get(ERROR_TYPE_HEADER),
            xray_error_cause=self.headers.get(XRAY_ERROR_CAUSE_HEADER),
        )
        with state.cond:
            inv.result = result
            state.cond.notify_all()


def _json_or_raw(body: bytes, error_type: str | None) -> dict[str, Any]:
    try:
        doc = json.loads(body)
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        doc = {"errorMessage": body.decode("utf-8", "replace")}
    if error_type and not doc.get("errorType"):
        doc["errorType"] = error_type
    return doc
