"""Scheduled invocations."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from polyfn.events._base import NeutralEvent


class ScheduleEvent(NeutralEvent):
    """A schedule fired (EventBridge schedule, Azure Timer, Cloud Scheduler)."""

    __slots__ = ("id", "schedule", "scheduled_time")
    KIND: ClassVar[str] = "schedule"
    fields: ClassVar[tuple[str, ...]] = ("id", "schedule", "scheduled_time")
    defaults: ClassVar[dict[str, Any]] = {"id": None}

    schedule: str
    """The schedule as the function declared it (``rate(1 hour)``, ``cron(...)``), the same
    on every provider; an event not yet routed to a function holds the provider's own
    name for the job (EventBridge rule, Azure NCRONTAB expression)."""
    scheduled_time: datetime
    id: str | None

    def __init__(
        self,
        schedule: str,
        scheduled_time: datetime,
        *,
        id: str | None = None,
        provider: str = "local",
        event_source: str = "local:schedule",
        extensions: dict[str, Any] | None = None,
        native: Any = None,
    ) -> None:
        self.schedule = schedule
        self.scheduled_time = scheduled_time
        self.id = id
        self._init_common(provider, event_source, extensions, native)
