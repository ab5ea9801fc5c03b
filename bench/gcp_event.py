"""Per-request cost of polyfn's Google Cloud adapter over functions-framework alone.

(Not ``gcp.py`` or ``google.py``: with this folder on ``sys.path`` a ``google`` module
would shadow the ``google`` namespace package.)

Every function is served by functions-framework's own Flask app,
``functions_framework.create_app(target, source)`` with bench/gcp_functions.py as the
user's ``main.py``; each request goes through the whole app (the framework's execution-id
middleware, Flask's routing and request context, the framework's view, the CloudEvents SDK
parsing the event, the function, the response). Two ways in:

- the WSGI app called directly with a prepared environ (a copy of one built beforehand
  and a fresh body stream): the least noise around what is compared;
- Flask's test client (``client.post``/``client.get``), which builds the environ and the
  response object each time: closer to a test, and slower.

Pub/Sub: a binary-mode CloudEvent (``ce-*`` headers, the MessagePublishedData sample of
google-cloudevents as the body) to a plain ``@functions_framework.cloud_event`` function
reading the message id and base64-decoding the data, and to the polyfn target of an
``@app.queue`` function reading ``msg.id`` and ``msg.body``. HTTP: ``GET /items/42`` to a
plain ``@functions_framework.http`` function returning a dict, and to the polyfn target of
``@app.get("/items/{id}")`` returning the same dict. Timed as in per_event.py (``timeit``
``autorange``, ``repeat`` round-robin rounds, median per request in microseconds), each
variant's result checked first.

The goal (from the issue): polyfn adds at most 10% per request over functions-framework
alone.

    python bench/gcp_event.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import logging
import os
import sys
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

try:  # run as a script, or imported by run.py (which puts this folder on sys.path)
    from per_event import Row, per_call_us, table
except ImportError:  # imported as bench.gcp_event
    from .per_event import Row, per_call_us, table

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SOURCE = HERE / "gcp_functions.py"  # the user's main.py
EVENTS = ROOT / "tests" / "events" / "gcp"
SAMPLE = EVENTS / "pubsub__google-cloudevents__binary-MessagePublishedData-simple.json"
GOAL = 0.10  # at most 10% more per request than functions-framework alone
ITEM = {"name": "widget", "price": 4.5}

# The attributes Eventarc sets on a Pub/Sub event (as in tests/contract/gcp/gcp_samples.py)
# around the sample's data, and the headers its push request carries.
PUBSUB_HEADERS = {
    "ce-specversion": "1.0",
    "ce-id": "8134215637394811",
    "ce-source": "//pubsub.googleapis.com/projects/test-project/topics/my-topic",
    "ce-type": "google.cloud.pubsub.topic.v1.messagePublished",
    "ce-time": "2021-02-05T04:06:14.109Z",
    "content-type": "application/json",
    "user-agent": "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)",
    "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
}
HTTP_PATH, HTTP_QUERY = "/items/42", "verbose=1"
HTTP_HEADERS = {  # a browser-like GET, as Google's front end forwards it
    "accept": "application/json",
    "accept-encoding": "gzip, deflate, br",
    "user-agent": "curl/8.5.0",
    "x-forwarded-for": "203.0.113.7",
    "x-forwarded-proto": "https",
    "x-cloud-trace-context": "105445aa7843bc8bf206b12000100000/1;o=1",
    "function-execution-id": "b1c2d3e4f5a6",
}


# -- serving -----------------------------------------------------------------------------
class Served:
    """One target served by functions-framework: its Flask app and the module instance
    the framework loaded (where the functions record what they read)."""

    def __init__(self, target: str) -> None:
        import functions_framework

        self.app = functions_framework.create_app(target, str(SOURCE))
        self.module = sys.modules[SOURCE.stem]  # the framework's fresh load of SOURCE
        self.client = self.app.test_client()


def environ(method: str, path: str, headers: dict[str, str], body: bytes, query: str = "") -> Any:
    """The WSGI environ of one request, built once (werkzeug, as the test client does)."""
    from werkzeug.test import EnvironBuilder

    builder = EnvironBuilder(
        path=path,
        base_url="https://bench-fn-abc123-uc.a.run.app",
        method=method,
        query_string=query,
        headers=headers,
        data=body,
        environ_base={"REMOTE_ADDR": "169.254.1.1"},
    )
    try:
        env = builder.get_environ()
    finally:
        builder.close()
    env.pop("wsgi.input")
    return env


def wsgi_caller(app: Any, env: dict[str, Any], body: bytes) -> Callable[[], tuple[str, bytes]]:
    """A request through the WSGI app: a copy of ``env`` and a fresh body stream, the
    response body read and closed as a server does."""
    status: list[str] = []

    def start_response(s: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        status.append(s)
        status.append(next((v for k, v in headers if k.lower() == "content-type"), ""))

    def call() -> tuple[str, bytes]:
        status.clear()
        e = dict(env)
        e["wsgi.input"] = io.BytesIO(body)
        result: Iterable[bytes] = app(e, start_response)
        try:
            data = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return f"{status[0]} {status[1]}", data

    return call


# -- Pub/Sub -----------------------------------------------------------------------------
def pubsub_rows(repeat: int) -> tuple[list[Row], list[Row]]:
    body = SAMPLE.read_bytes()
    message = json.loads(body)["message"]
    expected = (message["messageId"], base64.b64decode(message["data"]))
    plain, ours = Served("plain_pubsub"), Served("read")
    env = environ("POST", "/", PUBSUB_HEADERS, body)

    wsgi = {
        "(i)   functions-framework alone: @cloud_event def main(event)": (
            plain,
            wsgi_caller(plain.app, env, body),
        ),
        "(ii)  polyfn target of @app.queue": (ours, wsgi_caller(ours.app, env, body)),
    }
    client = {
        "(i)   functions-framework alone: @cloud_event def main(event)": (
            plain,
            lambda: plain.client.post("/", headers=PUBSUB_HEADERS, data=body),
        ),
        "(ii)  polyfn target of @app.queue": (
            ours,
            lambda: ours.client.post("/", headers=PUBSUB_HEADERS, data=body),
        ),
    }
    for label, (served, fn) in wsgi.items():
        served.module.SEEN.clear()
        status, data = fn()
        assert status.startswith("200 ") and data == b"OK", (label, status, data)
        assert (served.module.SEEN["id"], served.module.SEEN["body"]) == expected, label
    for label, (served, fn) in client.items():
        served.module.SEEN.clear()
        resp = fn()
        assert resp.status_code == 200 and resp.data == b"OK", (label, resp.status, resp.data)
        assert (served.module.SEEN["id"], served.module.SEEN["body"]) == expected, label
    return _rows({k: f for k, (_, f) in wsgi.items()}, repeat), _rows(
        {k: f for k, (_, f) in client.items()}, repeat
    )


# -- HTTP --------------------------------------------------------------------------------
def http_rows(repeat: int) -> tuple[list[Row], list[Row]]:
    expected = {"id": "42", **ITEM}
    plain, ours = Served("plain_http"), Served("get_item")
    env = environ("GET", HTTP_PATH, HTTP_HEADERS, b"", HTTP_QUERY)
    url = f"{HTTP_PATH}?{HTTP_QUERY}"

    wsgi = {
        "(iii) functions-framework alone: @http def main(request) -> dict": wsgi_caller(
            plain.app, env, b""
        ),
        '(iv)  polyfn target of @app.get("/items/{id}") -> dict': wsgi_caller(ours.app, env, b""),
    }
    client = {
        "(iii) functions-framework alone: @http def main(request) -> dict": (
            lambda: plain.client.get(url, headers=HTTP_HEADERS)
        ),
        '(iv)  polyfn target of @app.get("/items/{id}") -> dict': (
            lambda: ours.client.get(url, headers=HTTP_HEADERS)
        ),
    }
    for label, fn in wsgi.items():
        status, data = fn()
        assert status.startswith("200 ") and status.endswith("application/json"), (label, status)
        assert json.loads(data) == expected, (label, data)
    for label, fn in client.items():
        resp = fn()
        assert resp.status_code == 200 and resp.mimetype == "application/json", label
        assert resp.get_json() == expected, (label, resp.data)
    return _rows(wsgi, repeat), _rows(client, repeat)


def _rows(fns: dict[str, Callable[[], Any]], repeat: int) -> list[Row]:
    notes = {"(i)": "the peer", "(iii)": "the peer"}
    return [
        Row(label, us, notes.get(label.split()[0], ""))
        for label, us in per_call_us(fns, repeat).items()
    ]


# -- report ------------------------------------------------------------------------------
def _find(rows: list[Row], prefix: str) -> float:
    return next(r.us for r in rows if r.label.startswith(prefix) and r.us is not None)


def goal_lines(rows: list[Row], how: str) -> list[str]:
    lines = []
    for what, ours, peer in (
        ("Pub/Sub CloudEvent", "(ii) ", "(i) "),
        ("HTTP GET", "(iv) ", "(iii)"),
    ):
        mine, theirs = _find(rows, ours), _find(rows, peer)
        over = mine / theirs - 1
        verdict = "PASS" if over <= GOAL else "MISS"
        lines.append(
            f"goal ({how}): {what}, {ours.strip()}/{peer.strip()} - 1 <= {GOAL:.0%}: "
            f"{mine:.1f} us vs {theirs:.1f} us, {over:+.1%} (+{mine - theirs:.1f} us)  "
            f"{verdict}"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="timeit rounds per row")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    logging.disable(logging.CRITICAL)
    # No Google client may look for credentials or a project (none is built per request).
    os.environ.setdefault("GOOGLE_CLOUD_PROJECT", "bench-project")

    pubsub_wsgi, pubsub_client = pubsub_rows(args.repeat)
    http_wsgi, http_client = http_rows(args.repeat)
    wsgi, client = pubsub_wsgi + http_wsgi, pubsub_client + http_client
    out = [
        f"Google Cloud Functions, per request through functions-framework's Flask app "
        f"(median of {args.repeat} timeit rounds, microseconds per request)",
        "",
    ]
    out += table("WSGI app called directly (prepared environ)", wsgi, "us/req")
    out.append("")
    out += table("Flask test client (client.post / client.get)", client, "us/req")
    out.append("")
    out += goal_lines(wsgi, "WSGI")
    out += goal_lines(client, "test client")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
