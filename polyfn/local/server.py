"""``polyfn dev``'s HTTP server: the app's HTTP triggers and the control endpoints, on one
port.

Every request outside ``/_polyfn/`` becomes a neutral :class:`HttpRequest` answered by
:meth:`LocalRuntime.http` (through the ``--as`` provider's adapter, when one is set).
The control endpoints let tests in any language drive the runtime:

==========================================  ==================================================
``GET /_polyfn/health``                     200 ``{"status": "ready", ...}`` once the app
                                            runs; 503 ``{"status": "loading"}`` before
``POST /_polyfn/clock``                     ``{"advance_seconds": N}``: move the virtual clock
``GET /_polyfn/idle?timeout=S``             200 ``{"idle": true}`` when nothing is pending;
                                            504 ``{"idle": false}`` after S seconds
``POST /_polyfn/send``                      ``{"queue", "body" | "body_base64", "attributes",
                                            "group_id"}``
``POST /_polyfn/publish``                   ``{"topic", "body" | "body_base64", "attributes",
                                            "subject"}``
``PUT|GET|DELETE /_polyfn/objects/B/KEY``   an object of bucket B (PUT: the raw body, its
                                            content type kept); PUT and DELETE raise storage
                                            events
``GET /_polyfn/queues``                     each queue's visible / in-flight / delayed counts
                                            and its dead letters
``GET /_polyfn/schedules``                  the registered schedules and when they fire next
``POST /_polyfn/workflows/NAME``            run the app's workflow NAME on the JSON body (its
                                            input), answer ``{"executionArn", "id",
                                            "status", "output", "error", "cause"}``
``GET /_polyfn/workflows``                  the app's workflows and the recent executions
``GET /_polyfn/emulators``                  the cloud emulators ``--emulators`` started:
                                            ``{name: {"emulator", "endpoints", "env"}}``
==========================================  ==================================================

Errors answer ``{"error": "..."}`` with a 4xx status. The server binds 127.0.0.1 by default.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from polyfn.events.http import HttpRequest, HttpResponse
from polyfn.local.broker import BrokerError, LocalOutputError, ObjectNotFound, QueueNotFound
from polyfn.local.clock import VirtualClock
from polyfn.local.runtime import LocalRuntime

log = logging.getLogger("polyfn.local.server")

CONTROL = "/_polyfn/"
MAX_IDLE_WAIT = 300.0  # seconds one idle request may hold a connection
# Hop-by-hop and length headers are the server's to write, not the handler's.
_SKIP = frozenset({"content-length", "transfer-encoding", "connection", "set-cookie"})


class ControlError(Exception):
    """A control request the server refuses: answered as ``{"error": ...}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class DevServer(ThreadingHTTPServer):
    """The HTTP server around a runtime. ``runtime`` stays None until the app is loaded
    (health answers 503 meanwhile); :meth:`ready` sets it."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host: str = "127.0.0.1", port: int = 8080) -> None:
        super().__init__((host, port), _Handler)
        self.runtime: LocalRuntime | None = None
        self.emulators: dict[str, Any] = {}
        """What :meth:`polyfn.local.emulators.Emulators.describe` says, for its endpoint."""
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def ready(self, runtime: LocalRuntime) -> None:
        self.runtime = runtime

    def start(self, poll_interval: float = 0.5) -> DevServer:
        """Serve in a background thread. ``poll_interval``: how often it looks for a
        :meth:`stop` (requests wake it at once); what stopping may take."""
        self._thread = threading.Thread(
            target=self.serve_forever, name="polyfn-http", kwargs={"poll_interval": poll_interval}
        )
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(5)


class _Handler(BaseHTTPRequestHandler):
    server: DevServer
    protocol_version = "HTTP/1.1"  # keep-alive: clients reuse one connection
    # Headers and body go out in two writes: with Nagle on, a keep-alive client's delayed
    # ACK holds the body back 40 ms on every response.
    disable_nagle_algorithm = True
    server_version = "polyfn-dev"

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    # -- dispatch ---------------------------------------------------------------------------
    def _handle(self) -> None:
        url = urlsplit(self.path)
        try:
            body = self._read_body()
            if url.path.startswith(CONTROL):
                status, value = _control(self.server, self.command, url.path, url.query, self, body)
                self._send(HttpResponse.from_json(value, status))
            else:
                self._send(self._app(url.path, url.query, body))
        except ControlError as e:
            self._send(HttpResponse.from_json({"error": str(e)}, e.status))
        except Exception as e:  # never a dropped connection: the client sees why
            log.exception("%s %s failed", self.command, self.path)
            self._send(HttpResponse.from_json({"error": f"{type(e).__name__}: {e}"}, 500))

    def _read_body(self) -> bytes:
        length = self.headers.get("content-length")
        if length is None:
            return b""
        try:
            n = int(length)
        except ValueError:
            raise ControlError(400, f"bad content-length {length!r}") from None
        return self.rfile.read(n) if n > 0 else b""

    def _app(self, path: str, query: str, body: bytes) -> HttpResponse:
        rt = self.server.runtime
        if rt is None:
            return HttpResponse.from_json({"error": "the app is loading"}, 503)
        request = HttpRequest(
            self.command,
            unquote(path),
            query=parse_qsl(query, keep_blank_values=True),
            headers=list(self.headers.items()),
            cookies=_cookies(self.headers.get_all("cookie") or []),
            body=body,
            client_ip=self.client_address[0],
        )
        return rt.http(request)

    def _send(self, resp: HttpResponse) -> None:
        self.send_response(resp.status)
        for name, value in resp.headers.multi_items():
            if name.lower() not in _SKIP:
                self.send_header(name, value)
        for cookie in resp.cookies:
            self.send_header("Set-Cookie", cookie)
        self.send_header("Content-Length", str(len(resp.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(resp.body)


def _cookies(values: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for header in values:
        for part in header.split(";"):
            name, eq, value = part.strip().partition("=")
            if eq and name:
                out[name] = value
    return out


# -- control endpoints ------------------------------------------------------------------------
def _control(
    server: DevServer,
    method: str,
    path: str,
    query: str,
    handler: _Handler,
    body: bytes,
) -> tuple[int, Any]:
    name = path[len(CONTROL) :]
    rt = server.runtime
    if name == "health" and method == "GET":
        return _health(rt)
    if name == "emulators" and method == "GET":  # known before the app loads
        return 200, server.emulators
    if rt is None:
        raise ControlError(503, "the app is loading")
    params = dict(parse_qsl(query))
    try:
        if name.startswith("objects/"):
            return _objects(rt, method, name[len("objects/") :], body, handler)
        if name.startswith("workflows/"):
            if method != "POST":
                raise ControlError(405, f"{method} {path}: method not allowed")
            return _start_workflow(rt, unquote(name[len("workflows/") :]), body)
        route = _ROUTES.get((method, name))
        if route is None:
            known = sorted({n for m, n in _ROUTES if n == name})
            if known:
                raise ControlError(405, f"{method} {path}: method not allowed")
            raise ControlError(404, f"{method} {path}: no such control endpoint")
        return route(rt, params, body)
    except QueueNotFound as e:
        raise ControlError(404, f"no queue {e.queue!r}") from None
    except BrokerError as e:
        raise ControlError(400, str(e)) from None
    except LocalOutputError as e:  # the driver's wrapping of a broker refusal
        if isinstance(e.__cause__, BrokerError):
            raise ControlError(400, str(e.__cause__)) from None
        raise


def _health(rt: LocalRuntime | None) -> tuple[int, Any]:
    if rt is None:
        return 503, {"status": "loading"}
    return 200, {
        "status": "ready",
        "app": rt.app.name,
        "provider": rt.provider or "neutral",
        "clock": "virtual" if isinstance(rt.clock, VirtualClock) else "real",
        "now": rt.clock.now().isoformat(),
        "functions": {fn.name: [t.KIND for t in fn.triggers] for fn in rt.app.functions.values()},
    }


def _json_body(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"{}")
    except ValueError as e:
        raise ControlError(400, f"the body is not JSON: {e}") from None
    if not isinstance(value, dict):
        raise ControlError(400, "the body must be a JSON object")
    return value


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ControlError(400, f"{what} must be a number, not {value!r}")
    return float(value)


def _clock(rt: LocalRuntime, params: dict[str, str], body: bytes) -> tuple[int, Any]:
    data = _json_body(body)
    if "advance_seconds" not in data:
        raise ControlError(400, 'give {"advance_seconds": N}')
    seconds = _number(data["advance_seconds"], "advance_seconds")
    if seconds < 0:
        raise ControlError(400, "advance_seconds must not be negative: the clock never goes back")
    if not isinstance(rt.clock, VirtualClock):
        raise ControlError(
            409, "polyfn dev runs on the real clock: start it with --clock virtual to move time"
        )
    now = rt.advance(seconds)
    return 200, {"now": now.isoformat()}


def _idle(rt: LocalRuntime, params: dict[str, str], body: bytes) -> tuple[int, Any]:
    raw = params.get("timeout", "10")
    try:
        timeout = float(raw)
    except ValueError:
        raise ControlError(400, f"timeout must be a number of seconds, not {raw!r}") from None
    if not 0 <= timeout <= MAX_IDLE_WAIT:
        raise ControlError(400, f"timeout must be between 0 and {MAX_IDLE_WAIT:g} seconds")
    idle = rt.wait_idle(timeout)
    return (200 if idle else 504), {"idle": idle}


def _payload(data: dict[str, Any]) -> Any:
    """The message body: ``body`` (text, or any JSON value sent as JSON) or
    ``body_base64``."""
    if "body_base64" in data:
        try:
            return base64.b64decode(data["body_base64"], validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise ControlError(400, "body_base64 is not base64") from None
    if "body" not in data:
        raise ControlError(400, 'give "body" (text or JSON) or "body_base64"')
    return data["body"]


def _attributes(data: dict[str, Any]) -> dict[str, str] | None:
    attrs = data.get("attributes")
    if attrs is None:
        return None
    if not isinstance(attrs, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in attrs.items()
    ):
        raise ControlError(400, "attributes must be an object of strings")
    return attrs


def _text(data: dict[str, Any], name: str, required: bool = False) -> str | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise ControlError(400, f'"{name}" must be a non-empty string')
    return value


def _send_message(rt: LocalRuntime, params: dict[str, str], body: bytes) -> tuple[int, Any]:
    data = _json_body(body)
    queue = _text(data, "queue", required=True)
    assert queue is not None
    message_id = rt.send(
        queue, _payload(data), attributes=_attributes(data), group_id=_text(data, "group_id")
    )
    return 200, {"id": message_id, "queue": queue}


def _publish(rt: LocalRuntime, params: dict[str, str], body: bytes) -> tuple[int, Any]:
    data = _json_body(body)
    topic = _text(data, "topic", required=True)
    assert topic is not None
    message_id = rt.publish(
        topic, _payload(data), attributes=_attributes(data), subject=_text(data, "subject")
    )
    return 200, {"id": message_id, "topic": topic}


def _objects(
    rt: LocalRuntime, method: str, rest: str, body: bytes, handler: _Handler
) -> tuple[int, Any]:
    bucket, _, key = unquote(rest).partition("/")
    if not bucket or not key:
        raise ControlError(400, "the path is /_polyfn/objects/BUCKET/KEY")
    if method == "PUT":
        content_type = handler.headers.get("content-type")
        version = rt.put(bucket, key, body, content_type=content_type)
        return 200, {"bucket": bucket, "key": key, "size": len(body), "version": version}
    if method == "DELETE":
        if not rt.delete(bucket, key):
            raise ControlError(404, f"no object {key!r} in bucket {bucket!r}")
        return 200, {"bucket": bucket, "key": key, "deleted": True}
    if method == "GET":
        try:
            obj = rt.broker.get(bucket, key)
        except ObjectNotFound:
            raise ControlError(404, f"no object {key!r} in bucket {bucket!r}") from None
        info = obj.info
        return 200, {
            "bucket": bucket,
            "key": key,
            "size": info.size,
            "content_type": info.content_type,
            "etag": info.etag,
            "version": info.version,
            "metadata": info.metadata,
            "modified": info.modified.isoformat(),
            "body_base64": base64.b64encode(obj.data).decode("ascii"),
        }
    raise ControlError(405, f"{method} on an object: use PUT, GET or DELETE")


def _queues(rt: LocalRuntime, params: dict[str, str], body: bytes) -> tuple[int, Any]:
    broker = rt.broker
    configs = {c.name: c for c in broker.queues()}
    out: dict[str, Any] = {}
    for name, config in configs.items():
        stats = broker.stats(name)
        dead = config.dead_letter or f"{name}-dlq"
        out[name] = {
            "visible": stats.visible,
            "in_flight": stats.in_flight,
            "delayed": stats.delayed,
            "dead_letter": dead if dead in configs else None,
            "dead_lettered": broker.stats(dead).total if dead in configs else 0,
        }
    return 200, out


def _schedules(rt: LocalRuntime, params: dict[str, str], body: bytes) -> tuple[int, Any]:
    return 200, {
        s.name: {
            "expression": s.expression,
            "timezone": s.timezone,
            "last_fired": s.last_fired.isoformat(),
            "next_fire": s.next_fire.isoformat() if s.next_fire else None,
        }
        for s in rt.broker.schedules()
    }


def _start_workflow(rt: LocalRuntime, name: str, body: bytes) -> tuple[int, Any]:
    if name not in rt.workflows():
        raise ControlError(404, f"no workflow {name!r}")
    try:
        data = json.loads(body) if body.strip() else {}
    except ValueError as e:
        raise ControlError(400, f"the body is not JSON: {e}") from None
    return 200, rt.run_workflow(name, data).to_json()


def _workflows(rt: LocalRuntime, params: dict[str, str], body: bytes) -> tuple[int, Any]:
    return 200, {
        "workflows": sorted(rt.workflows()),
        "executions": [e.to_json() for e in rt.executions()],
    }


_ROUTES = {
    ("GET", "workflows"): _workflows,
    ("POST", "clock"): _clock,
    ("GET", "idle"): _idle,
    ("POST", "send"): _send_message,
    ("POST", "publish"): _publish,
    ("GET", "queues"): _queues,
    ("GET", "schedules"): _schedules,
}
