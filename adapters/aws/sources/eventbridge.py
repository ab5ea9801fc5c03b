"""Amazon EventBridge events (custom and AWS service events) → CloudEvent, and back.

Shape: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events-structure.html
(tests/events/aws/eventbridge__*; the "Scheduled Event" ones go to schedule.py and S3's
object events to s3_eventbridge.py).

``id``, ``source``, ``detail-type`` (→ type), ``time`` and ``detail`` (→ data, as JSON)
are CloudEvents attributes; ``account``, ``region``, ``resources``, ``version`` and any
other top-level field (``replay-name``, ...) are kept in extensions under their native
names. EventBridge has no subject.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from polyfn.events.cloudevent import CloudEvent

from .. import defaults
from .._fields import format_iso, without
from ._views import EventView, aws_extensions, event_view, only

if TYPE_CHECKING:
    from .. import native_types

KEY = "eventbridge"
EVENT_SOURCE = "aws:eventbridge"
KIND = "cloudevent"

_CONSUMED = frozenset({"id", "source", "detail-type", "time", "detail"})


class EventBridgeEvent(EventView, CloudEvent):
    """A lazy view of an EventBridge event."""

    __slots__ = ("_e",)
    event_source = EVENT_SOURCE
    specversion = "1.0"  # type: ignore[assignment]
    subject = None  # type: ignore[assignment]
    dataschema = None  # type: ignore[assignment]
    datacontenttype = "application/json"  # type: ignore[assignment]

    @property
    def native(self) -> native_types.EventBridgeEvent:  # type: ignore[override]
        return cast("native_types.EventBridgeEvent", self._e)

    @property
    def id(self) -> str:  # type: ignore[override]
        return self._string("id")

    @property
    def source(self) -> str:  # type: ignore[override]
        return self._string("source")

    @property
    def type(self) -> str:  # type: ignore[override]
        return self._string("detail-type")

    @property
    def time(self) -> datetime:  # type: ignore[override]
        return self._iso_time("time")

    @property
    def data(self) -> Any:  # type: ignore[override]
        return self._at("detail")

    @property
    def extensions(self) -> dict[str, Any]:  # type: ignore[override]
        return without(self._e, _CONSUMED)


def from_native(event: dict[str, Any]) -> CloudEvent:
    return event_view(EventBridgeEvent, event, EVENT_SOURCE)


# -- neutral → native ------------------------------------------------------------------
def _detail(event: CloudEvent) -> Any:
    """EventBridge's detail is a JSON object: parse JSON data that came as text or bytes."""
    data = event.data
    if data is None:
        return {}
    if isinstance(data, bytes | str):
        try:
            return json.loads(data)
        except ValueError:
            text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
            return {"data": text}
    return data


def to_native(event: CloudEvent | list[CloudEvent], **_: Any) -> native_types.EventBridgeEvent:
    event = only(event)  # one EventBridge event per invocation
    # Another provider's extensions (CloudEvents extension attributes included) are not
    # EventBridge fields: render AWS defaults instead.
    ext = aws_extensions(event)
    if not ext:
        ext = {
            "version": "0",
            "account": defaults.ACCOUNT,
            "region": defaults.region(),
            "resources": [],
        }
    out = {
        "id": event.id or str(defaults.uuid4()),
        "source": event.source,
        "detail-type": event.type,
        "time": format_iso(event.time or datetime.now(UTC)),
        **ext,
        "detail": _detail(event),
    }
    return cast("native_types.EventBridgeEvent", out)
