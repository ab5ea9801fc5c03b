"""Cloud Scheduler → ScheduleEvent, and back: through Pub/Sub, through HTTP, or as the
Eventarc ``google.cloud.scheduler.job.v1.executed`` event.

- Pub/Sub target (the classic way to run a function on a schedule): the job publishes to a
  topic and the function gets a ``messagePublished`` CloudEvent (or the legacy
  ``google.pubsub.topic.publish`` event). ``scheduled_time`` = ``publishTime`` (the job
  publishes when it fires; Pub/Sub tells nothing closer), ``id`` = ``messageId``, and the
  job's payload (data, attributes) stays in extensions under ``message``.
- HTTP target: a POST with ``X-CloudScheduler: true``, ``X-CloudScheduler-JobName`` and,
  for unix-cron jobs, ``X-CloudScheduler-ScheduleTime`` (RFC 3339) = ``scheduled_time``;
  a request without it (a manual "force run") is scheduled now. ``id`` is None.
- ``google.cloud.scheduler.job.v1.executed`` (SchedulerJobData ``{"customData": base64}``):
  ``scheduled_time`` = the CloudEvent ``time``, ``id`` = its ``id``.

``schedule`` is the job's name (the topic, the job name header, the job in the ``source``)
until the adapter routes the event to a function: then it is the expression the function
declared, as on every provider. Shapes: tests/events/gcp/scheduler__*.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from polyfn.events.schedule import ScheduleEvent

from . import _common as c
from . import pubsub

EVENT_SOURCE = "gcp:scheduler"
KIND = "schedule"
EXECUTED = "google.cloud.scheduler.job.v1.executed"
SERVICE = "cloudscheduler.googleapis.com"
JOB_HEADER = "X-CloudScheduler-JobName"
TIME_HEADER = "X-CloudScheduler-ScheduleTime"
_TOPIC_ID = re.compile(r"^[A-Za-z][A-Za-z0-9._~+%-]{2,254}$")


class PubsubSchedule(ScheduleEvent):
    """A scheduler job's Pub/Sub message as a ScheduleEvent."""

    __slots__ = ("_e", "_m", "schedule")
    provider = "gcp"
    event_source = EVENT_SOURCE

    def __init__(self, env: c.Envelope, fallback: str = "") -> None:
        self._e = env
        message = env.data.get("message") if isinstance(env.data, Mapping) else None
        if not isinstance(message, Mapping):
            raise c.malformed(EVENT_SOURCE, "message", "expected the Pub/Sub message object")
        self._m = message
        self.schedule = pubsub.topic_of(env.attrs.get("source")) or fallback

    @property
    def native(self) -> Any:  # type: ignore[override]
        return self._e.native

    @property
    def id(self) -> str | None:  # type: ignore[override]
        return self._m.get("messageId")

    @property
    def scheduled_time(self) -> datetime:  # type: ignore[override]
        raw = self._m.get("publishTime") or self._e.attrs.get("time")
        return c.parse_time(raw, EVENT_SOURCE, "message.publishTime")

    @property
    def extensions(self) -> dict[str, Any]:  # type: ignore[override]
        out: dict[str, Any] = {}
        if self._e.attrs:
            out["cloudevent"] = dict(self._e.attrs)
        out.update((k, v) for k, v in self._e.data.items() if k != "message")
        out["message"] = {k: v for k, v in self._m.items() if k not in ("messageId", "publishTime")}
        return out


class ExecutedSchedule(ScheduleEvent):
    """A ``google.cloud.scheduler.job.v1.executed`` CloudEvent as a ScheduleEvent."""

    __slots__ = ("_e", "schedule")
    provider = "gcp"
    event_source = EVENT_SOURCE

    def __init__(self, env: c.Envelope, fallback: str = "") -> None:
        self._e = env
        self.schedule = c.short_name(env.attrs.get("source") or "") or fallback

    @property
    def native(self) -> Any:  # type: ignore[override]
        return self._e.native

    @property
    def id(self) -> str | None:  # type: ignore[override]
        return self._e.attrs.get("id")

    @property
    def scheduled_time(self) -> datetime:  # type: ignore[override]
        return c.parse_time(self._e.attrs.get("time"), EVENT_SOURCE, "time")

    @property
    def extensions(self) -> dict[str, Any]:  # type: ignore[override]
        out: dict[str, Any] = {"cloudevent": dict(self._e.attrs)}
        if isinstance(self._e.data, Mapping):
            out.update(self._e.data)
        return out


class HttpSchedule(ScheduleEvent):
    """A Cloud Scheduler HTTP target's request as a ScheduleEvent."""

    __slots__ = ("_r", "schedule")
    provider = "gcp"
    event_source = EVENT_SOURCE

    def __init__(self, request: Any, fallback: str = "") -> None:
        self._r = request
        self.schedule = request.headers.get(JOB_HEADER) or fallback

    @property
    def native(self) -> Any:  # type: ignore[override]
        return self._r

    @property
    def id(self) -> str | None:  # type: ignore[override]
        return None

    @property
    def scheduled_time(self) -> datetime:  # type: ignore[override]
        raw = self._r.headers.get(TIME_HEADER)
        return c.now() if raw is None else c.parse_time(raw, EVENT_SOURCE, TIME_HEADER)

    @property
    def extensions(self) -> dict[str, Any]:  # type: ignore[override]
        headers = {
            k: v for k, v in self._r.headers.items() if k.lower().startswith("x-cloudscheduler")
        }
        out: dict[str, Any] = {"headers": headers}
        body = self._r.get_data()
        if body:
            out["body"] = body
        return out


def is_scheduler_request(request: Any) -> bool:
    headers = getattr(request, "headers", None)
    return headers is not None and (
        headers.get("X-CloudScheduler") is not None or headers.get(JOB_HEADER) is not None
    )


def from_native(native: Any, *, name: str = "") -> ScheduleEvent:
    """The ScheduleEvent of a scheduler job's firing in any native form; ``name`` is the
    job when the event does not tell it."""
    if is_scheduler_request(native) and native.headers.get("ce-specversion") is None:
        return HttpSchedule(native, name)
    env = c.envelope(native, EVENT_SOURCE)
    if env.type == EXECUTED:
        return ExecutedSchedule(env, name)
    if env.form == "push" or env.type == pubsub.TYPE:
        return PubsubSchedule(env, name)
    raise c.unsupported(
        EVENT_SOURCE, "type", f"{env.type!r} is no Cloud Scheduler delivery (Pub/Sub or executed)"
    )


# -- neutral → native ------------------------------------------------------------------
def _topic(event: ScheduleEvent) -> str:
    return event.schedule if _TOPIC_ID.match(event.schedule or "") else "polyfn-schedule"


def _as_message(event: ScheduleEvent) -> Any:
    """The Pub/Sub message the job published, as a neutral TopicMessage to render."""
    from polyfn.events.messages import TopicMessage

    ext = c.extensions_of(event, EVENT_SOURCE)
    message = ext.get("message") or {}
    body = c.b64decode(message["data"], EVENT_SOURCE, "message.data") if "data" in message else b""
    msg = TopicMessage(
        event.id or _new_id(),
        _topic(event),
        body,
        attributes=dict(message.get("attributes") or {}),
        published_at=event.scheduled_time,
    )
    if ext:  # keep what the original delivery had: render it as the same Pub/Sub event
        msg.provider, msg.event_source = c.PROVIDER, pubsub.EVENT_SOURCE
        rest = {k: v for k, v in message.items() if k not in ("data", "attributes")}
        msg.extensions = {k: v for k, v in ext.items() if k != "message"}
        if rest:
            msg.extensions["message"] = rest
    return msg


def _new_id() -> str:
    import uuid

    return uuid.uuid4().hex


def to_http(event: ScheduleEvent) -> tuple[dict[str, str], bytes]:
    """(headers, body) of the POST a Cloud Scheduler HTTP target sends."""
    ext = c.extensions_of(event, EVENT_SOURCE)
    headers = dict(ext.get("headers") or {})
    headers.setdefault("X-CloudScheduler", "true")
    headers["X-CloudScheduler-JobName"] = event.schedule
    headers["X-CloudScheduler-ScheduleTime"] = c.format_time(event.scheduled_time)
    headers.setdefault("User-Agent", "Google-Cloud-Scheduler")
    headers.setdefault("content-type", "application/octet-stream")
    return headers, ext.get("body", b"")


def to_native(event: ScheduleEvent, mode: str = "binary", *, via: str | None = None) -> Any:
    """``event`` as Google delivers it. ``via`` is ``"pubsub"`` (default: the job publishes
    to a topic named after the job; ``mode`` as in pubsub.to_native), ``"http"`` ((headers,
    body) of the scheduler's POST) or ``"eventarc"`` (the ``job.v1.executed`` CloudEvent)."""
    ext = c.extensions_of(event, EVENT_SOURCE)
    if via is None:
        cloudevent = ext.get("cloudevent") or {}
        via = (
            "http"
            if "headers" in ext
            else "eventarc"
            if cloudevent.get("type") == EXECUTED
            else "pubsub"
        )
    if via == "http":
        return to_http(event)
    if via == "eventarc":
        attrs = c.cloudevent_attrs(ext) or {
            "specversion": c.SPECVERSION,
            "id": event.id or _new_id(),
            "source": f"//{SERVICE}/projects/{c.project()}/locations/us-central1/jobs/"
            f"{_topic(event)}",
            "type": EXECUTED,
            "datacontenttype": c.JSON,
        }
        attrs["time"] = c.format_time(event.scheduled_time)
        data = {k: v for k, v in ext.items() if k != "cloudevent"}
        return c.render(attrs, data, mode, None)
    return pubsub.to_native(_as_message(event), mode)
