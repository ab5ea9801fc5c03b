"""``from_functions_framework``: a Google functions-framework function as a polyfn handler.

- ``signature="http"``: ``function(request: flask.Request)``. A neutral HttpRequest becomes
  the Flask request functions-framework would pass (werkzeug's EnvironBuilder, through the
  adapter's ``environ``), pushed as Flask's request context so ``flask.request`` works too;
  the return value goes through Flask's own ``make_response`` (str, bytes, dict/list as
  JSON, ``(body, status, headers)`` tuples, Response objects) and back to a neutral
  HttpResponse; a werkzeug ``HTTPException`` (``abort(404)``) answers its own response, as
  Flask does. Any other event is POSTed as Google would deliver it (``mode``: ``binary``
  CloudEvent by default, ``structured``, ``legacy``, ``push``); then an answer other than
  102, 200, 201, 202, 204 — what Pub/Sub push acks
  (https://cloud.google.com/pubsub/docs/push#receive_push) — is a failure (``Retry``).
- ``signature="cloudevent"``: ``function(cloud_event)`` gets the ``cloudevents`` SDK event
  (``polyfn.adapters.gcp.to_native(event, "cloudevent")``); its return value is ignored
  and an exception nacks, as functions-framework does
  (https://cloud.google.com/functions/docs/writing/write-event-driven-functions).
- ``signature="event"``: a legacy background function ``function(data, context)``.

Without ``signature``, functions-framework's own registry (``@functions_framework.http`` /
``@functions_framework.cloud_event``) tells it; else ``http``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from polyfn.context import Context
from polyfn.results import BatchResult, Retry

log = logging.getLogger("polyfn")

SIGNATURES = ("http", "cloudevent", "event")
_PUSH_ACKS = frozenset({102, 200, 201, 202, 204})
_flask_app: Any = None


def _app() -> Any:
    """The Flask app the requests are pushed in (functions-framework makes one per
    target; its settings do not change how a response is made)."""
    global _flask_app
    if _flask_app is None:
        import flask

        _flask_app = flask.Flask("polyfn-migrate")
    return _flask_app


def signature_of(function: Callable[..., Any], signature: str | None) -> str:
    if signature is None:
        try:
            from functions_framework import _function_registry
        except ImportError:  # pragma: no cover - the gcp extra installs it
            registered = None
        else:
            registered = _function_registry.REGISTRY_MAP.get(getattr(function, "__name__", ""))
        signature = registered or "http"
    if signature not in SIGNATURES:
        raise ValueError(
            f"from_functions_framework: signature {signature!r}: one of {', '.join(SIGNATURES)}"
        )
    return signature


def from_functions_framework(
    function: Callable[..., Any], *, signature: str | None = None, mode: str = "binary"
) -> Callable[[Any, Context], Any]:
    """The polyfn handler running functions-framework ``function``::

    app.get("/hello")(from_functions_framework(main.hello))
    app.queue("orders")(from_functions_framework(main.on_order, signature="cloudevent"))
    """
    kind = signature_of(function, signature)
    name = getattr(function, "__name__", "function")

    def gcp_bridge(event: Any, ctx: Context) -> Any:
        if isinstance(event, list):  # Google delivers one event per call: call per event
            return BatchResult(_each(function, kind, mode, event))
        return _invoke(function, kind, mode, event)

    gcp_bridge.__name__ = gcp_bridge.__qualname__ = name
    gcp_bridge.__doc__ = function.__doc__
    gcp_bridge.__wrapped__ = function  # type: ignore[attr-defined]
    return gcp_bridge


def _each(function: Callable[..., Any], kind: str, mode: str, events: list[Any]) -> list[str]:
    failed = []
    for event in events:
        try:
            _invoke(function, kind, mode, event)
        except Exception as e:
            log.error("functions-framework function failed on %s: %s", event.id, e, exc_info=e)
            failed.append(event.id)
    return failed


def _invoke(function: Callable[..., Any], kind: str, mode: str, event: Any) -> Any:
    from polyfn.adapters.gcp import to_native

    if kind == "cloudevent":
        if event.KIND == "http":
            raise TypeError("from_functions_framework: a CloudEvent function gets no HTTP request")
        function(to_native(event, "cloudevent"))
        return None
    if kind == "event":
        data, context = to_native(event, "background")
        function(data, context)
        return None
    return _http(function, event, mode)


def _http(function: Callable[..., Any], event: Any, mode: str) -> Any:
    import flask
    from werkzeug.exceptions import HTTPException

    from polyfn.adapters.gcp import response_from_native, to_native
    from polyfn.adapters.gcp.sources.http import environ

    app = _app()
    if event.KIND == "http":
        env = environ(event)
    else:
        headers, body = to_native(event, mode)
        env = _post_environ(headers, body)
    with app.request_context(env):
        try:
            response = app.make_response(function(flask.request._get_current_object()))
        except HTTPException as e:  # abort(...): Flask answers the exception's response
            response = e.get_response()
    answer = response_from_native(response)
    if event.KIND != "http" and answer.status not in _PUSH_ACKS:
        raise Retry(f"the function answered HTTP {answer.status}: the event is redelivered")
    return answer if event.KIND == "http" else None


def _post_environ(headers: Any, body: bytes) -> dict[str, Any]:
    from werkzeug.test import EnvironBuilder

    builder = EnvironBuilder(path="/", method="POST", headers=dict(headers), data=body)
    try:
        return builder.get_environ()
    finally:
        builder.close()
