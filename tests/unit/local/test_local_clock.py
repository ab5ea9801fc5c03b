"""The local runtime's clocks: virtual time moves only when told, and wakes its waiters."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from polyfn.local.clock import RealClock, VirtualClock, to_datetime, to_time

START = datetime(2024, 1, 1, tzinfo=UTC)


def test_virtual_clock_moves_only_forward():
    clock = VirtualClock(START)
    assert clock.now() == START
    assert clock.time() == START.timestamp()
    assert clock.advance(90) == START + timedelta(seconds=90)
    assert clock.set(START + timedelta(days=1)) == START + timedelta(days=1)
    with pytest.raises(ValueError):
        clock.set(START)
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_virtual_clock_defaults_to_now_in_whole_seconds():
    clock = VirtualClock()
    assert clock.time() == int(clock.time())
    assert abs(clock.time() - time.time()) < 2


def test_conversions_are_utc():
    assert to_datetime(0) == datetime(1970, 1, 1, tzinfo=UTC)
    assert to_time(datetime(1970, 1, 1)) == 0  # naive is UTC


def _waiter(clock: VirtualClock, until: float, woke: threading.Event) -> threading.Thread:
    cond = threading.Condition()
    clock.attach(cond)

    def run() -> None:
        with cond:
            while clock.time() < until:
                clock.wait(cond, until, 5.0)
        woke.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_advance_wakes_attached_waiters_at_once():
    clock = VirtualClock(START)
    woke = threading.Event()
    thread = _waiter(clock, clock.time() + 3600, woke)
    assert not woke.wait(0.05)  # virtual time stands still
    clock.advance(1800)
    assert not woke.wait(0.05)
    started = time.monotonic()
    clock.advance(1800)
    assert woke.wait(2)
    assert time.monotonic() - started < 1  # an hour of virtual time, in no real time
    thread.join(2)


def test_virtual_wait_times_out_in_real_seconds():
    clock = VirtualClock(START)
    cond = threading.Condition()
    clock.attach(cond)
    started = time.monotonic()
    with cond:
        clock.wait(cond, clock.time() + 10, 0.05)
    assert 0.04 <= time.monotonic() - started < 1
    with cond:  # a due time already reached returns at once
        clock.wait(cond, clock.time(), None)


def test_virtual_sleep_until():
    clock = VirtualClock(START)
    result: list[bool] = []
    thread = threading.Thread(
        target=lambda: result.append(clock.sleep_until(clock.time() + 60)), daemon=True
    )
    thread.start()
    time.sleep(0.02)
    assert not result
    clock.advance(60)
    thread.join(2)
    assert result == [True]
    assert clock.sleep_until(clock.time() + 1, timeout=0.01) is False


def test_real_clock_waits_until_a_due_time():
    clock = RealClock()
    cond = threading.Condition()
    started = time.monotonic()
    with cond:
        clock.wait(cond, clock.time() + 0.05, None)
    assert 0.04 <= time.monotonic() - started < 1
    assert abs(clock.now().timestamp() - time.time()) < 1
    assert clock.sleep_until(clock.time() + 0.01)
    assert clock.sleep_until(clock.time() + 10, timeout=0.01) is False
