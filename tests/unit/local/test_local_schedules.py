"""Broker schedules: occurrences fire in order, once each, across clock jumps and restarts."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from polyfn.events.schedule import ScheduleEvent
from polyfn.local.broker import Broker, InvalidRequest
from polyfn.local.broker.timing import Timer
from polyfn.local.clock import VirtualClock
from polyfn.schedules import ScheduleError

START = datetime(2024, 1, 1, tzinfo=UTC)  # Monday 00:00


def _times(occurrences) -> list[str]:  # type: ignore[no-untyped-def]
    return [o.scheduled_time.strftime("%d %H:%M") for o in occurrences]


def test_a_daily_schedule_fires_once_when_the_clock_moves_a_day(
    broker: Broker, clock: VirtualClock
):
    broker.register("nightly", "cron(0 2 * * ? *)")
    started = time.monotonic()
    clock.advance(86400)
    fired = broker.due()
    assert time.monotonic() - started < 0.5
    assert [(o.name, o.scheduled_time) for o in fired] == [("nightly", START + timedelta(hours=2))]
    assert broker.due() == []  # once only


def test_hourly_fires_24_times_in_order_interleaved_with_others(
    broker: Broker, clock: VirtualClock
):
    broker.register("hourly", "rate(1 hour)")
    broker.register("daily", "@daily")
    broker.register("quarter", "15 */6 * * *")
    clock.advance(86400)
    fired = broker.due()
    assert len(fired) == 24 + 1 + 4
    assert [o.scheduled_time for o in fired] == sorted(o.scheduled_time for o in fired)
    assert _times(o for o in fired if o.name == "hourly") == [
        f"01 {h:02}:00" for h in range(1, 24)
    ] + ["02 00:00"]
    assert _times(o for o in fired if o.name == "quarter") == [
        "01 00:15",
        "01 06:15",
        "01 12:15",
        "01 18:15",
    ]
    # Same instant: by name.
    assert [o.name for o in fired[-2:]] == ["daily", "hourly"]


def test_occurrences_become_schedule_events_in_the_outbox(broker: Broker, clock: VirtualClock):
    broker.register("tick", "rate(5 minutes)")
    clock.advance(600)
    records = broker.next_events(["schedule"])  # fires what is due itself
    events = [r.event for r in records]
    assert all(isinstance(e, ScheduleEvent) for e in events)
    assert [e.scheduled_time for e in events] == [
        START + timedelta(minutes=5),
        START + timedelta(minutes=10),
    ]
    assert events[0].schedule == "rate(5 minutes)"
    assert events[0].id == "tick@2024-01-01T00:05:00+00:00"
    assert events[0].extensions == {"name": "tick"}


def test_last_fired_survives_a_restart(open_broker, clock: VirtualClock):
    broker = open_broker()
    broker.register("hourly", "@hourly")
    clock.advance(3 * 3600)
    assert len(broker.due()) == 3
    broker.close()

    again = open_broker()
    again.register("hourly", "@hourly")  # the app registers its schedules on every start
    assert again.due() == []
    assert len(again.next_events()) == 3  # fired before the restart, not yet delivered
    clock.advance(3600)
    assert _times(again.due()) == ["01 04:00"]


def test_occurrences_missed_while_down_fire_on_restart(open_broker, clock: VirtualClock):
    broker = open_broker()
    broker.register("hourly", "@hourly")
    broker.close()
    clock.advance(5 * 3600)
    assert len(open_broker().due()) == 5


def test_max_catch_up_keeps_only_the_latest(open_broker, clock: VirtualClock):
    broker = open_broker(max_catch_up=2)
    broker.register("hourly", "@hourly")
    clock.advance(5 * 3600)
    assert _times(broker.due()) == ["01 04:00", "01 05:00"]


def test_a_changed_expression_starts_afresh(broker: Broker, clock: VirtualClock):
    broker.register("s", "@hourly")
    clock.advance(1800)
    info = broker.register("s", "rate(15 minutes)")
    assert info.registered_at == clock.now()
    assert info.next_fire == START + timedelta(minutes=45)
    clock.advance(1800)
    assert _times(broker.due()) == ["01 00:45", "01 01:00"]


def test_schedules_listing_and_unregister(broker: Broker, clock: VirtualClock):
    broker.register("b", "@daily")
    broker.register("a", "rate(1 hour)")
    assert [s.name for s in broker.schedules()] == ["a", "b"]
    assert broker.next_due() == START + timedelta(hours=1)
    assert broker.unregister("a")
    assert not broker.unregister("a")
    assert broker.next_due() == START + timedelta(days=1)


def test_bad_expressions_and_zones_are_refused(broker: Broker, clock: VirtualClock):
    with pytest.raises(ScheduleError):
        broker.register("s", "every day")
    with pytest.raises(InvalidRequest):
        broker.register("s", "@daily", timezone="Mars/Olympus")
    with pytest.raises(InvalidRequest):
        broker.due(clock.now() + timedelta(seconds=1))
    assert broker.schedules() == []


def test_wait_events_sleeps_until_the_next_occurrence(broker: Broker, clock: VirtualClock):
    broker.register("daily", "@daily")
    result: list[bool] = []
    thread = threading.Thread(
        target=lambda: result.append(broker.wait_events(timeout=5)), daemon=True
    )
    thread.start()
    time.sleep(0.05)
    clock.advance(3600)
    time.sleep(0.05)
    assert result == []
    clock.advance(23 * 3600)
    thread.join(2)
    assert result == [True]
    assert [r.kind for r in broker.next_events()] == ["schedule"]


# -- timing ---------------------------------------------------------------------------------
def _after(expression: str, t: datetime, n: int = 3, **kw: object) -> list[str]:
    timer = Timer(expression, **kw)  # type: ignore[arg-type]
    out = []
    for x in timer.after(t.timestamp()):
        out.append(datetime.fromtimestamp(x, UTC).strftime("%Y-%m-%d %H:%M %a"))
        if len(out) == n:
            break
    return out


def test_rates_align_to_the_utc_clock():
    t = datetime(2024, 1, 1, 10, 7, tzinfo=UTC)
    assert _after("rate(15 minutes)", t) == [
        "2024-01-01 10:15 Mon",
        "2024-01-01 10:30 Mon",
        "2024-01-01 10:45 Mon",
    ]
    assert _after("rate(90 minutes)", t, 2) == ["2024-01-01 10:30 Mon", "2024-01-01 12:00 Mon"]
    assert _after("rate(1 day)", t, 1) == ["2024-01-02 00:00 Tue"]
    assert _after("rate(7 days)", t, 2) == ["2024-01-07 00:00 Sun", "2024-01-14 00:00 Sun"]


def test_uneven_rates_count_from_registration():
    anchor = datetime(2024, 1, 1, 10, 7, tzinfo=UTC).timestamp()
    timer = Timer("rate(7 minutes)", anchor=anchor)
    it = timer.after(anchor)
    assert next(it) - anchor == 420
    assert next(it) - anchor == 840


def test_cron_dialects_and_extensions():
    t = datetime(2024, 1, 1, tzinfo=UTC)
    # AWS day-of-week 2 = Monday; the 5-field 1 = Monday.
    assert _after("cron(30 8 ? * 2 *)", t, 2) == ["2024-01-01 08:30 Mon", "2024-01-08 08:30 Mon"]
    assert _after("30 8 * * 1", t, 1) == ["2024-01-01 08:30 Mon"]
    assert _after("cron(0 0 L * ? *)", t, 2) == ["2024-01-31 00:00 Wed", "2024-02-29 00:00 Thu"]
    # Last weekday of the month: March 2024 ends on a Sunday.
    assert _after("cron(0 0 LW 3 ? *)", t, 1) == ["2024-03-29 00:00 Fri"]
    # The weekday nearest the 15th / the 1st, never leaving the month.
    june = datetime(2024, 6, 1, tzinfo=UTC)
    assert _after("cron(0 0 15W * ? *)", june, 4) == [
        "2024-06-14 00:00 Fri",  # the 15th is a Saturday
        "2024-07-15 00:00 Mon",
        "2024-08-15 00:00 Thu",
        "2024-09-16 00:00 Mon",  # a Sunday
    ]
    assert _after("cron(0 0 1W * ? *)", june, 1) == ["2024-06-03 00:00 Mon"]
    # Last Friday (AWS 6L), second Monday (MON#2).
    assert _after("cron(0 0 ? * 6L *)", t, 1) == ["2024-01-26 00:00 Fri"]
    assert _after("cron(0 0 ? * MON#2 *)", t, 1) == ["2024-01-08 00:00 Mon"]
    # A year field: only those years, and an end.
    assert _after("cron(0 0 1 1 ? 2026-2027)", t, 5) == [
        "2026-01-01 00:00 Thu",
        "2027-01-01 00:00 Fri",
    ]


def test_cron_in_a_time_zone():
    t = datetime(2024, 1, 1, tzinfo=UTC)
    assert _after("0 9 * * *", t, 1, timezone="America/New_York") == ["2024-01-01 14:00 Mon"]
