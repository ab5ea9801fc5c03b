"""The Google Cloud Functions adapter (Cloud Run functions, Cloud Functions 1st and 2nd gen).

- ``targets(app, options)``: functions-framework targets, one per polyfn function, each
  registered with its signature type; ``main.py`` is ``globals().update(targets(app))``;
- ``plan(app, options)``: the targets with what the deployment must wire to each
  (trigger, event types, filters, scheduler job);
- ``GcpOptions``: CloudEvent or background signatures, scheduler through Pub/Sub or HTTP;
- ``from_native(...)`` / ``to_native(event, mode)``: Google's native forms ⇄ neutral
  events, for tests, bridges and the local runtime.

Importing this module imports neither functions-framework nor a Google client library:
``targets`` loads the framework (the runtime has it loaded already), outputs load
google-cloud-pubsub and google-cloud-storage on first use, a Firestore event loads
google-events.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from .options import GcpOptions
from .targets import GcpFunction, plan, subscription_filter, targets, unix_cron

__all__ = [
    "GcpFunction",
    "GcpOptions",
    "from_native",
    "plan",
    "response_from_native",
    "response_to_native",
    "subscription_filter",
    "targets",
    "to_native",
    "unix_cron",
]

_BY_KIND = {
    "http": "http",
    "queue": "pubsub",
    "topic": "pubsub",
    "storage": "storage",
    "change": "firestore",
    "schedule": "scheduler",
    "cloudevent": "eventarc",
}


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"{__name__}.sources.{name}")


def from_native(native: Any, kind: str | None = None, *, name: str = "") -> Any:
    """The neutral event of a native Google event: a ``cloudevents`` CloudEvent, its
    structured JSON (a dict), a legacy ``(data, context)`` pair or legacy JSON, a Pub/Sub
    push body, or a Flask request (an HTTP call, a CloudEvent in binary or structured mode,
    a Cloud Scheduler POST).

    The event type decides the neutral type; ``kind`` settles what it cannot:
    a Pub/Sub message is a QueueMessage unless ``kind`` is ``"topic"`` or ``"schedule"``,
    and a Flask request is an HTTP request unless it carries an event (or ``kind`` says it
    does). ``name`` is the queue, topic or job when the event does not tell it."""
    common = _module("_common")
    if hasattr(native, "environ") and hasattr(native, "get_data"):  # a Flask request
        scheduler = _module("scheduler")
        headers = native.headers
        is_event = headers.get("ce-specversion") is not None or native.mimetype == common.STRUCTURED
        if kind == "schedule" or (kind is None and scheduler.is_scheduler_request(native)):
            return scheduler.from_native(native, name=name)
        if kind in (None, "http") and not is_event:
            return _module("http").from_native(native)
        native = common.from_request(native, "gcp:http")
    env = common.envelope(native, "gcp")
    if kind in ("topic", "schedule", "queue") or env.form == "push":
        if kind == "schedule":
            return _module("scheduler").from_native(env, name=name)
        return _module("pubsub").from_native(env, kind or "queue", name=name)
    pubsub, storage, firestore = _module("pubsub"), _module("storage"), _module("firestore")
    if env.type == pubsub.TYPE:
        return pubsub.from_native(env, name=name)
    if env.type in storage.KINDS:
        return storage.from_native(env)
    if env.type in firestore.OPERATIONS:
        return firestore.from_native(env)
    if env.type == _module("scheduler").EXECUTED:
        return _module("scheduler").from_native(env, name=name)
    return _module("eventarc").from_native(env)


def to_native(event: Any, mode: str = "binary", **options: Any) -> Any:
    """What Google delivers for a neutral event (a list gives a list).

    ``mode``: ``"binary"`` / ``"structured"`` — (headers, body) of the CloudEvents HTTP
    request; ``"cloudevent"`` — the ``cloudevents`` SDK event a CloudEvent function gets;
    ``"legacy"`` — (headers, body) of the legacy JSON POST; ``"background"`` — the ``(data,
    context)`` a background function gets; ``"push"`` — (headers, body) of a Pub/Sub push
    request (queue and topic messages). An HttpRequest gives the Flask request. Options go
    to the source module: ``subscription=`` (Pub/Sub), ``protobuf=`` (Firestore), ``via=``
    (schedules: ``"pubsub"``, ``"http"``, ``"eventarc"``)."""
    if isinstance(event, list):
        return [to_native(e, mode, **options) for e in event]
    module = _BY_KIND.get(getattr(event, "KIND", ""))
    if module is None:
        raise TypeError(f"to_native: {type(event).__name__} is not a neutral event")
    if module == "http":
        return _module("http").to_native(event)
    return _module(module).to_native(event, mode, **options)


def response_to_native(response: Any) -> Any:
    """A neutral HttpResponse as the Flask response an HTTP function returns."""
    return _module("http").response(response)


def response_from_native(response: Any) -> Any:
    """The neutral HttpResponse of a Flask response."""
    return _module("http").response_from_native(response)
