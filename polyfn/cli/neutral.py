"""Neutral events from JSON: what ``events render`` and ``invoke`` read.

The JSON holds the neutral event's fields (README, "Neutral events"), validated by the
event's own pydantic model (``QueueMessage.validate`` ...). A JSON array is a batch.
Conveniences, applied before validation:

- ``body`` may be text (sent as UTF-8), any other JSON value (sent as compact JSON; an
  HTTP request then gets ``content-type: application/json`` unless it has one), or left
  out for ``body_base64``: the bytes in base64;
- ``id`` defaults to a random UUID, a schedule's ``scheduled_time`` to now (UTC) and a
  storage event's ``kind`` to ``created``;
- with a trigger (``invoke``), what the trigger fixes: the queue, topic, bucket, change
  source or schedule it listens to, an HTTP route's method and path.
"""

from __future__ import annotations

import base64
import binascii
import json
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from polyfn.cli.errors import CliError
from polyfn.events import (
    ChangeEvent,
    CloudEvent,
    HttpRequest,
    NeutralEvent,
    QueueMessage,
    ScheduleEvent,
    StorageEvent,
    TopicMessage,
)
from polyfn.events._base import json_bytes
from polyfn.triggers import (
    ChangeTrigger,
    EventTrigger,
    HttpTrigger,
    QueueTrigger,
    ScheduleTrigger,
    StorageTrigger,
    StreamTrigger,
    TopicTrigger,
    Trigger,
)

# The command line's kinds; "event" is the CloudEvent of event buses.
KINDS: dict[str, type[NeutralEvent]] = {
    "http": HttpRequest,
    "queue": QueueMessage,
    "topic": TopicMessage,
    "storage": StorageEvent,
    "schedule": ScheduleEvent,
    "change": ChangeEvent,
    "event": CloudEvent,
}
_BODIES = ("http", "queue", "topic")
_IDS = ("queue", "topic", "change", "event")


def kind_of(trigger: Trigger) -> str:
    """The command-line kind of the events a trigger delivers."""
    return "queue" if trigger.KIND == "stream" else trigger.KIND


def read_json(text: str, what: str = "event") -> Any:
    """JSON text, ``@FILE`` or ``-`` (stdin)."""
    source = what
    if text == "-":
        text, source = sys.stdin.read(), f"{what} (stdin)"
    elif text.startswith("@"):
        path = Path(text[1:])
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise CliError(f"{what}: cannot read {str(path)!r}: {e.strerror}") from None
        source = f"{what} ({path})"
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise CliError(
            f"{source}: not JSON: {e.msg} at line {e.lineno}, column {e.colno}"
        ) from None


def events_from(
    kind: str, data: Any, trigger: Trigger | None = None
) -> NeutralEvent | list[NeutralEvent]:
    """The validated neutral event (a list for a JSON array) of command-line ``kind``."""
    cls = KINDS.get(kind)
    if cls is None:
        raise CliError(f"unknown event kind {kind!r}: one of {', '.join(KINDS)}")
    if isinstance(data, list):
        if not data:
            raise CliError(f"{kind} event: an empty batch")
        return [_one(kind, cls, item, trigger, f"[{i}]") for i, item in enumerate(data)]
    return _one(kind, cls, data, trigger, "")


def _one(
    kind: str, cls: type[NeutralEvent], data: Any, trigger: Trigger | None, where: str
) -> NeutralEvent:
    if not isinstance(data, dict):
        raise CliError(
            f"{kind} event{where}: expected a JSON object of its fields, got {type(data).__name__}"
        )
    fields = dict(data)
    if trigger is not None:
        for name, value in trigger_defaults(trigger).items():
            fields.setdefault(name, value)
    if kind in _BODIES:
        _body(kind, fields, where)
        fields.setdefault("body", b"")
    if kind in _IDS:
        fields.setdefault("id", str(uuid.uuid4()))
    if kind == "schedule":
        fields.setdefault("scheduled_time", datetime.now(UTC).replace(microsecond=0))
    if kind == "storage":
        fields.setdefault("kind", "created")
    return _validate(kind, cls, fields, where)


def _validate(kind: str, cls: type[NeutralEvent], fields: dict[str, Any], where: str) -> Any:
    """The event's own pydantic model checks the fields. (Not ``cls.validate``: it
    builds the event with ``dict(model)``, which a model with a field named ``keys``,
    ChangeEvent's, breaks.)"""
    import pydantic

    try:
        model = cls.model().model_validate(fields)
    except pydantic.ValidationError as e:
        raise CliError(_describe(kind, where, e)) from None
    return cls(**{name: getattr(model, name) for name in type(model).model_fields})


def _body(kind: str, fields: dict[str, Any], where: str) -> None:
    if "body_base64" in fields:
        if "body" in fields:
            raise CliError(f"{kind} event{where}: give body or body_base64, not both")
        try:
            fields["body"] = base64.b64decode(fields.pop("body_base64"), validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise CliError(f"{kind} event{where}: body_base64: not base64") from None
        return
    body = fields.get("body")
    if body is None or isinstance(body, str):
        return
    fields["body"] = json_bytes(body)
    if kind == "http":
        headers = fields.get("headers") or {}
        named = headers.keys() if isinstance(headers, dict) else (h[0] for h in headers)
        if "content-type" not in {str(n).lower() for n in named}:
            if isinstance(headers, dict):
                fields["headers"] = {**headers, "content-type": "application/json"}
            else:
                fields["headers"] = [*headers, ["content-type", "application/json"]]


def _describe(kind: str, where: str, error: Any) -> str:
    lines = [f"invalid {kind} event{where}:"]
    for e in error.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "(event)"
        lines.append(f"  {loc}: {e['msg']}")
    lines.append(f"  fields of a {kind} event: {', '.join(KINDS[kind].fields)}")
    return "\n".join(lines)


def trigger_defaults(trigger: Trigger) -> dict[str, Any]:
    """What a trigger fixes about the events it delivers."""
    if isinstance(trigger, HttpTrigger):
        methods = [m for m in trigger.methods if m != "ANY"]
        out: dict[str, Any] = {"method": methods[0] if methods else "GET"}
        if "{" not in trigger.route:  # a route with parameters needs the caller's path
            out["path"] = trigger.route
        return out
    if isinstance(trigger, QueueTrigger | StreamTrigger):
        return {"queue": trigger.name}
    if isinstance(trigger, TopicTrigger):
        return {"topic": trigger.name}
    if isinstance(trigger, StorageTrigger):
        key = f"{trigger.prefix or ''}example{trigger.suffix or ''}"
        return {"bucket": trigger.bucket, "kind": trigger.events[0], "key": key}
    if isinstance(trigger, ScheduleTrigger):
        return {"schedule": trigger.expression}
    if isinstance(trigger, ChangeTrigger):
        return {"source": trigger.source, "operation": "insert"}
    if isinstance(trigger, EventTrigger):
        return {
            "source": trigger.source or "polyfn.cli",
            "type": trigger.type or "polyfn.cli.event",
        }
    return {}
