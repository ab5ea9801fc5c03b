"""Google Cloud: the HTTP request functions-framework receives, as JSON.

Events arrive as HTTP POSTs (Eventarc, Pub/Sub push, the legacy event JSON); an HTTP
function gets the caller's request. Both print as::

    {"method": "POST", "path": "/", "query_string": "", "headers": {...}, "body": ...}

``body`` is the parsed value when the content type is JSON (``application/json``,
``application/cloudevents+json``), else the text; a body that is not UTF-8 is given as
``body_base64`` instead. ``mode`` is how the event is carried (``to_native``'s modes):
``binary`` (CloudEvent attributes in ``ce-*`` headers, what Eventarc sends), ``structured``
(the whole CloudEvent in the body), ``legacy`` (1st gen's ``{"context", "data"}``) or
``push`` (a Pub/Sub push subscription's body; queue and topic messages).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any
from urllib.parse import urlsplit

from polyfn.errors import PolyfnError
from polyfn.events import NeutralEvent
from polyfn.events._base import json_bytes
from polyfn.local.invoke import InvokeError

MODES = ("binary", "structured", "legacy", "push")
# How a schedule reaches its function (--source): the job publishes to Pub/Sub (default),
# POSTs to an HTTP function, or arrives as the Eventarc job.v1.executed event.
SCHEDULE_SOURCES = ("pubsub", "http", "eventarc")


def render(
    kind: str,
    events: NeutralEvent | list[NeutralEvent],
    mode: str = "structured",
    source: str | None = None,
) -> Any:
    """What Google delivers for the event(s): one request each (a list gives a list)."""
    if isinstance(events, list):
        return [render(kind, e, mode, source) for e in events]
    if mode not in MODES:
        raise InvokeError(f"--mode {mode!r}: one of {', '.join(MODES)}")
    options: dict[str, Any] = {}
    if kind == "schedule":
        if source is not None and source not in SCHEDULE_SOURCES:
            raise InvokeError(
                f"--source {source!r}: schedules arrive by {', '.join(SCHEDULE_SOURCES)}"
            )
        options["via"] = source
    elif source is not None:
        raise InvokeError(f"--source: Google Cloud has one source of {kind} events; leave it out")
    return request_json(native_request(events, mode, **options))


def native_request(event: NeutralEvent, mode: str, **options: Any) -> Any:
    """``to_native``'s answer: a Flask request for HTTP, (headers, body) for events."""
    from polyfn.adapters.gcp import to_native

    try:
        return to_native(event, mode, **options)
    except (PolyfnError, ValueError) as e:
        raise InvokeError(
            f"Google Cloud {mode} delivery of this {kind_name(event)} event: {e}"
        ) from None


def kind_name(event: NeutralEvent) -> str:
    return "event" if event.KIND == "cloudevent" else event.KIND


def request_json(native: Any) -> dict[str, Any]:
    """A Flask request, or (headers, body) POSTed to the function's URL, as JSON."""
    if isinstance(native, tuple):
        headers, body = native
        out: dict[str, Any] = {"method": "POST", "path": "/", "query_string": ""}
        out["headers"] = dict(headers)
    else:
        out = {
            "method": native.method,
            "path": native.path,
            "query_string": native.query_string.decode("latin-1"),
            "headers": _headers(native.headers),
        }
        body = native.get_data()
    out.update(_body_json(body, out["headers"]))
    return out


def _headers(headers: Any) -> dict[str, str]:
    # werkzeug adds Host and Content-Length to every request it builds: not the caller's.
    out: dict[str, str] = {}
    for name, value in headers.items():
        if name.lower() in ("host", "content-length"):
            continue
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


def _is_json(headers: dict[str, str]) -> bool:
    ctype = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    media = ctype.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _body_json(body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return {"body_base64": base64.b64encode(body).decode("ascii")}
    if text and _is_json(headers):
        try:
            return {"body": json.loads(text)}
        except json.JSONDecodeError:
            pass
    return {"body": text}


# -- JSON → a request ------------------------------------------------------------------
def parse_request(obj: Any) -> tuple[str, str, dict[str, str], bytes]:
    """(method, path with query, headers, body) of the JSON ``request_json`` prints."""
    if not isinstance(obj, dict) or "headers" not in obj:
        raise InvokeError(
            'a Google Cloud native event is {"method", "path", "query_string", "headers", '
            '"body" or "body_base64"}, as `polyfn events render --as gcp` prints it'
        )
    headers = {str(k): str(v) for k, v in (obj.get("headers") or {}).items()}
    if "body_base64" in obj:
        try:
            body = base64.b64decode(obj["body_base64"], validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise InvokeError("body_base64: not base64") from None
    else:
        value = obj.get("body", "")
        body = json_bytes(value) if _is_json(headers) else str(value).encode("utf-8")
    path = str(obj.get("path") or "/")
    query = str(obj.get("query_string") or "")
    if "?" not in path and query:
        path = f"{path}?{query}"
    if not urlsplit(path).path.startswith("/"):
        raise InvokeError(f"path: {path!r} must start with /")
    return str(obj.get("method") or "POST").upper(), path, headers, body
