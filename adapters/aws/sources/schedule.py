"""EventBridge "Scheduled Event" (rules with a schedule, and EventBridge Scheduler's
``aws.scheduler`` events) → ScheduleEvent, and back.

Shape: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html
(tests/events/aws/eventbridge__*scheduled*, eventbridge__lambda-java-libs__cloudwatch_event).

``schedule`` is the rule's (or schedule's) name: the last path segment of
``resources[0]`` (``arn:aws:events:us-east-1:123456789012:rule/NAME`` → NAME;
``arn:aws:scheduler:...:schedule/GROUP/NAME`` → NAME). Every field but ``id``, ``time``
and the constant ``detail-type`` stays in extensions under its native name, ``source``
and ``resources`` included (the ARN says more than the name).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from polyfn.events.schedule import ScheduleEvent

from .. import defaults
from .._fields import format_iso, malformed, without
from ._views import EventView, aws_extensions, event_view, only

if TYPE_CHECKING:
    from .. import native_types

KEY = "schedule"
EVENT_SOURCE = "aws:schedule"
KIND = "schedule"

DETAIL_TYPE = "Scheduled Event"
_CONSUMED = frozenset({"id", "time", "detail-type"})


def _name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


class ScheduledEvent(EventView, ScheduleEvent):
    """A lazy view of an EventBridge Scheduled Event."""

    __slots__ = ("_declared", "_e")
    event_source = EVENT_SOURCE

    @property
    def native(self) -> native_types.ScheduledEvent:  # type: ignore[override]
        return cast("native_types.ScheduledEvent", self._e)

    @property
    def schedule(self) -> str:  # type: ignore[override]
        """The function's declared expression once the adapter set it (portable across
        providers); before that, the rule's name."""
        try:
            return self._declared
        except AttributeError:
            return self.rule

    @schedule.setter
    def schedule(self, expression: str) -> None:
        self._declared = expression

    @property
    def rule(self) -> str:
        """The name of the EventBridge rule (or Scheduler schedule) that fired."""
        resources = self._at("resources")
        if not isinstance(resources, list) or not resources:
            raise malformed(EVENT_SOURCE, "resources[0]", "expected the rule's ARN")
        arn = resources[0]
        if not isinstance(arn, str) or "/" not in arn:
            raise malformed(EVENT_SOURCE, "resources[0]", f"not a rule or schedule ARN: {arn!r}")
        return _name(arn)

    @property
    def scheduled_time(self) -> datetime:  # type: ignore[override]
        return self._iso_time("time")

    @property
    def id(self) -> str:  # type: ignore[override]
        return self._string("id")

    @property
    def extensions(self) -> dict[str, Any]:  # type: ignore[override]
        return without(self._e, _CONSUMED)


def from_native(event: dict[str, Any]) -> ScheduleEvent:
    return event_view(ScheduledEvent, event, EVENT_SOURCE)


# -- neutral → native ------------------------------------------------------------------
def to_native(event: ScheduleEvent | list[ScheduleEvent], **_: Any) -> native_types.ScheduledEvent:
    event = only(event)  # one Scheduled Event per invocation
    ext = aws_extensions(event)
    if not ext:
        # A schedule known only by its expression keeps it as the "rule name", so that it
        # still routes to its function when translated back.
        region = defaults.region()
        ext = {
            "version": "0",
            "source": "aws.events",
            "account": defaults.ACCOUNT,
            "region": region,
            "resources": [f"arn:aws:events:{region}:{defaults.ACCOUNT}:rule/{event.schedule}"],
            "detail": {},
        }
    resources = ext.get("resources")
    if resources and isinstance(resources[0], str) and _name(resources[0]) != event.schedule:
        prefix = resources[0].rsplit("/", 1)[0]
        ext["resources"] = [f"{prefix}/{event.schedule}", *resources[1:]]
    out = {
        "id": event.id or str(defaults.uuid4()),
        "detail-type": DETAIL_TYPE,
        "time": format_iso(event.scheduled_time),
        **ext,
    }
    return cast("native_types.ScheduledEvent", out)
