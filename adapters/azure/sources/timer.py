"""Azure Timer trigger (``timerTrigger``) → ScheduleEvent, and back.

Native: ``azure.functions.TimerRequest`` as the library's TimerRequestConverter builds it
from the JSON the host sends (the extension's TimerInfo serialised:
``{"Schedule": {"AdjustForDST": true}, "ScheduleStatus": {"Last": ..., "Next": ...,
"LastUpdated": ...}, "IsPastDue": false}``). Shapes: tests/events/azure/timer__*,
provenance in tests/events/azure/PROVENANCE.md.

``schedule`` is the binding's ``schedule`` expression (six-field NCRONTAB or a TimeSpan,
an ``%AppSetting%`` reference resolved) until the function app's wrapper sets it to the
schedule the polyfn function declared, which is what handlers see on every provider.

``scheduled_time``: the timer listener builds the TimerInfo with the schedule status as
it was before the invocation (azure-webjobs-sdk-extensions, TimerListener.InvokeJobFunction),
so ``ScheduleStatus.Next`` is the occurrence firing now, or the missed one when
``IsPastDue``. An unscheduled invocation (``runOnStartup``, a manual run through the admin
API) also carries the status, whose ``Next`` then lies in the future: then, and when there
is no status at all (``useMonitor: false``), ``scheduled_time`` is the time of the
invocation. ``past_due``, ``schedule_status`` and ``schedule`` (the TimerInfo's own
Schedule object) stay in extensions. Azure timers have no event id: ``id`` is None.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from polyfn.errors import MalformedEventError
from polyfn.events.schedule import ScheduleEvent

from ..host import HostInvocation
from . import _common as c

EVENT_SOURCE = "azure:timer"
KIND = "schedule"
BINDING = "timerTrigger"

# A timer may fire a little before its occurrence (clock skew, "likely under 1 second"
# says the listener); a Next further ahead than this is not the occurrence firing now.
EARLY = timedelta(seconds=5)
# ScheduleMonitor.DefaultDateTime: the "Last" of a timer that never ran.
NEVER = "0001-01-01T00:00:00"


class TimerScheduleEvent(ScheduleEvent):
    """A view of one ``func.TimerRequest``."""

    __slots__ = ("_b", "_declared", "_t", "_when")
    provider = "azure"
    event_source = EVENT_SOURCE
    id = None

    def __init__(self, timer: Any, binding: c.Binding | None) -> None:
        self._t = timer
        self._b = binding
        self._when: datetime | None = None
        status = timer.schedule_status
        if status is not None and not isinstance(status, dict):
            raise c.malformed(EVENT_SOURCE, "ScheduleStatus", "expected an object")

    @property
    def native(self) -> Any:  # type: ignore[override]
        return self._t

    @property
    def schedule(self) -> str:  # type: ignore[override]
        """The function's declared expression once the adapter set it (portable across
        providers); before that, the binding's NCRONTAB expression."""
        try:
            return self._declared
        except AttributeError:
            return c.setting(self._b, "schedule")

    @schedule.setter
    def schedule(self, expression: str) -> None:
        self._declared = expression

    @property
    def scheduled_time(self) -> datetime:  # type: ignore[override]
        if self._when is None:  # read once: the invocation time must not move
            status = self._t.schedule_status or {}
            invoked = c.now()
            if "Next" not in status:
                self._when = invoked
            else:
                due = c.parse_time(status["Next"], EVENT_SOURCE, "ScheduleStatus.Next")
                self._when = invoked if due > invoked + EARLY else due
        return self._when

    @property
    def extensions(self) -> dict[str, Any]:  # type: ignore[override]
        t = self._t
        out: dict[str, Any] = {"past_due": t.past_due}
        if t.schedule_status:
            out["schedule_status"] = t.schedule_status
        if t.schedule:
            out["schedule"] = t.schedule
        return out


def from_native(timer: Any, binding: c.Binding | None = None) -> ScheduleEvent:
    from azure.functions import TimerRequest

    c.expect(timer, TimerRequest, EVENT_SOURCE, binding)
    return TimerScheduleEvent(timer, binding)


# -- neutral → native ------------------------------------------------------------------
def to_host(event: ScheduleEvent, binding: c.Binding | None = None) -> HostInvocation:
    """The TimerInfo JSON the host sends, its ``ScheduleStatus.Next`` the scheduled time
    (a status that already says so is kept as it was)."""
    ext = c.extensions_of(event, EVENT_SOURCE)
    status = ext.get("schedule_status")
    next_text = c.net_offset(event.scheduled_time)
    if not status:
        # A timer's first run, as the listener initialises its status.
        status = {"Last": NEVER, "Next": next_text, "LastUpdated": next_text}
    else:
        try:
            same = c.parse_time(status.get("Next"), EVENT_SOURCE, "Next") == event.scheduled_time
        except MalformedEventError:
            same = False
        if not same:
            status = {**status, "Next": next_text}
    info = {
        "Schedule": ext.get("schedule") or {"AdjustForDST": True},
        "ScheduleStatus": status,
        "IsPastDue": bool(ext.get("past_due", False)),
    }
    return HostInvocation(c.as_json(info), {})


def to_native(event: ScheduleEvent, binding: c.Binding | None = None) -> Any:
    """The ``func.TimerRequest`` the worker would hand the function."""
    return c.decode(BINDING, to_host(event, binding))
