"""Schedules: registered expressions that fire, each occurrence exactly once.

``register(name, expression, timezone)`` stores the schedule with its registration time;
registering the same name with the same expression and time zone again (a restart) keeps
its history, a different one starts it afresh from now. The first occurrence is the first
instant strictly after the registration (see :mod:`.timing` for the instants).

``due()`` fires every occurrence that fell due since a schedule last fired, up to the
clock's now: all of them, in time order across schedules, ties by name. In one transaction
each occurrence becomes a ``"schedule"`` outbox event and each schedule's ``last_fired``
moves to its latest occurrence, so an occurrence fires once and only once, across
restarts and crashes, and is delivered at least once through the outbox. A virtual clock
moved by a day fires a daily schedule once and an hourly one 24 times, in order, at the
speed of a loop. After downtime with the real clock, the occurrences missed meanwhile
fire on the next ``due()``; ``Broker(max_catch_up=N)`` keeps only the latest N of them
(the others are skipped and logged).

The broker calls ``due()`` itself whenever the outbox is read or waited on
(``next_events``, ``wait_events``, ``idle``), and a ``wait_events`` sleeps until the next
occurrence: a dispatcher only reads the outbox. ``due()`` returns the occurrences it fired,
for callers that watch.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from polyfn.local.clock import to_datetime, to_time

from .errors import InvalidRequest
from .outbox import Outbox
from .timing import Timer

log = logging.getLogger("polyfn.local.broker")


@dataclass(frozen=True, slots=True)
class ScheduleInfo:
    name: str
    expression: str
    timezone: str
    registered_at: datetime
    last_fired: datetime
    """The latest occurrence fired (the registration time before the first)."""
    next_fire: datetime | None


@dataclass(frozen=True, slots=True)
class Occurrence:
    name: str
    expression: str
    scheduled_time: datetime
    id: str
    outbox_id: int


def occurrence_id(name: str, t: float) -> str:
    return f"{name}@{to_datetime(t).isoformat()}"


class Schedules(Outbox):
    max_catch_up: int | None = None
    # name -> (timer, last fired, next occurrence); loaded on first use.
    _timers: dict[str, tuple[Timer, float, float | None]] | None = None

    def _loaded(self) -> dict[str, tuple[Timer, float, float | None]]:
        if self._timers is None:
            timers = {}
            rows = self.db.execute(
                "SELECT name, expression, timezone, anchor, last_fired FROM schedules"
            ).fetchall()
            for name, expression, tz, anchor, last in rows:
                timer = Timer(expression, tz, anchor)
                timers[name] = (timer, last, timer.next_after(last))
            self._timers = timers
        return self._timers

    def register(self, name: str, expression: str, timezone: str = "UTC") -> ScheduleInfo:
        """Add or update a schedule (``ScheduleError`` for a bad expression)."""
        if not name:
            raise InvalidRequest("a schedule needs a name")
        try:
            from zoneinfo import ZoneInfo

            ZoneInfo(timezone)
        except (ValueError, LookupError) as exc:
            raise InvalidRequest(f"schedule {name!r}: unknown time zone {timezone!r}") from exc
        with self._cond:
            timers = self._loaded()
            row = self.db.execute(
                "SELECT expression, timezone FROM schedules WHERE name = ?", (name,)
            ).fetchone()
            if row is None or tuple(row) != (expression, timezone):
                now = self.clock.time()
                timer = Timer(expression, timezone, now)  # parses: raises before writing
                with self._write() as db:
                    db.execute(
                        "INSERT OR REPLACE INTO schedules (name, expression, timezone, anchor, "
                        "last_fired) VALUES (?, ?, ?, ?, ?)",
                        (name, expression, timezone, now, now),
                    )
                timers[name] = (timer, now, timer.next_after(now))
            return self._info(name)

    def unregister(self, name: str) -> bool:
        with self._cond:
            timers = self._loaded()
            with self._write() as db:
                gone = db.execute("DELETE FROM schedules WHERE name = ?", (name,)).rowcount == 1
            timers.pop(name, None)
            return gone

    def _info(self, name: str) -> ScheduleInfo:
        expression, tz, anchor, last = self.db.execute(
            "SELECT expression, timezone, anchor, last_fired FROM schedules WHERE name = ?",
            (name,),
        ).fetchone()
        nxt = self._loaded()[name][2]
        return ScheduleInfo(
            name,
            expression,
            tz,
            to_datetime(anchor),
            to_datetime(last),
            None if nxt is None else to_datetime(nxt),
        )

    def schedules(self) -> list[ScheduleInfo]:
        with self._cond:
            return [self._info(name) for name in sorted(self._loaded())]

    def next_due(self) -> datetime | None:
        """When the next occurrence of any schedule falls due."""
        with self._cond:
            nxt = self._next_time()
        return None if nxt is None else to_datetime(nxt)

    def _next_time(self) -> float | None:
        times = [n for _, _, n in self._loaded().values() if n is not None]
        return min(times, default=None)

    def due(self, now: datetime | float | None = None) -> list[Occurrence]:
        """Fire every occurrence due by ``now`` (the clock's now by default; a later
        time is refused) that has not fired yet; returns them in time order."""
        with self._cond:
            clock_now = self.clock.time()
            t = clock_now if now is None else (to_time(now) if isinstance(now, datetime) else now)
            if t > clock_now:
                raise InvalidRequest("due(): cannot fire occurrences ahead of the clock")
            timers = self._loaded()
            if not any(n is not None and n <= t for _, _, n in timers.values()):
                return []
            fired: list[tuple[float, str]] = []
            updated: dict[str, tuple[Timer, float, float | None]] = {}
            for name, (timer, last, nxt) in timers.items():
                if nxt is None or nxt > t:
                    continue
                times = []
                upcoming = None
                for x in timer.after(last):
                    if x > t:
                        upcoming = x
                        break
                    times.append(x)
                if self.max_catch_up is not None and len(times) > self.max_catch_up:
                    skipped = len(times) - self.max_catch_up
                    log.warning("schedule %r: %d missed occurrences skipped", name, skipped)
                    times = times[skipped:]
                fired.extend((x, name) for x in times)
                updated[name] = (timer, times[-1], upcoming)
            fired.sort()
            out = []
            with self._write() as db:
                for name, (_, last, _) in updated.items():
                    db.execute("UPDATE schedules SET last_fired = ? WHERE name = ?", (last, name))
                for x, name in fired:
                    expression = timers[name][0].expression
                    oid = occurrence_id(name, x)
                    payload = {"name": name, "schedule": expression, "scheduled_time": x, "id": oid}
                    row = self._record(db, "schedule", oid, payload, clock_now)
                    out.append(Occurrence(name, expression, to_datetime(x), oid, row))
            timers.update(updated)
            return out

    def _tick(self) -> float | None:
        with self._cond:
            nxt = self._next_time()
            if nxt is not None and nxt <= self.clock.time():
                self.due()
                nxt = self._next_time()
            return nxt
