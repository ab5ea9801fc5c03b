"""The local runtime's notion of time: the real clock, or a virtual one tests move by hand.

Everything time-driven in the local runtime (visibility timeouts, retry backoff, delayed
messages, schedules, outbox claims) reads :meth:`Clock.time` and waits with
:meth:`Clock.wait`; nothing polls.

Times are float seconds since the Unix epoch (UTC): they are stored in the broker's
database and must mean the same thing after a restart, which a monotonic clock does not
give. :meth:`Clock.now` is the same instant as an aware UTC ``datetime``.

The waiting primitive is ``wait(cond, until, timeout)``, called with ``cond`` held, like
``Condition.wait``: it returns when ``cond`` is notified, when the clock reaches ``until``
(clock time), or after ``timeout`` real seconds, whichever comes first. Callers re-check
their own condition afterwards, as with any condition variable.

- :class:`RealClock` waits on the condition for ``until - now`` real seconds.
- :class:`VirtualClock` stands still until :meth:`VirtualClock.advance` or
  :meth:`VirtualClock.set` moves it; then it notifies every condition :meth:`attach`-ed to
  it, so whoever waits for a due time re-checks at once. Moving a day takes microseconds:
  the waiters see the new time, nobody sleeps through it. ``timeout`` stays in *real*
  seconds, so that a test waiting on a virtual clock cannot hang.
"""

from __future__ import annotations

import threading
import time as _time
import weakref
from datetime import UTC, datetime
from typing import Protocol


def to_datetime(t: float) -> datetime:
    """Clock time (epoch seconds) as an aware UTC datetime."""
    return datetime.fromtimestamp(t, UTC)


def to_time(dt: datetime) -> float:
    """An aware datetime (a naive one is taken as UTC) as clock time."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


class Clock(Protocol):
    def time(self) -> float:
        """Now, in seconds since the epoch."""
        ...

    def now(self) -> datetime:
        """Now, as an aware UTC datetime."""
        ...

    def wait(self, cond: threading.Condition, until: float | None, timeout: float | None) -> None:
        """With ``cond`` held: wait for a notification, clock time ``until`` or ``timeout``
        real seconds."""
        ...

    def attach(self, cond: threading.Condition) -> None:
        """Have ``cond`` notified whenever the clock jumps (a no-op for the real clock)."""
        ...

    def detach(self, cond: threading.Condition) -> None: ...

    def sleep_until(self, until: float, timeout: float | None = None) -> bool:
        """Block until clock time ``until``; False if ``timeout`` real seconds ran out."""
        ...


def _min(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


class RealClock:
    """The system clock."""

    virtual = False

    def time(self) -> float:
        return _time.time()

    def now(self) -> datetime:
        return to_datetime(self.time())

    def wait(self, cond: threading.Condition, until: float | None, timeout: float | None) -> None:
        delay = None if until is None else until - self.time()
        delay = _min(delay, timeout)
        if delay is not None and delay <= 0:
            return
        cond.wait(delay)

    def attach(self, cond: threading.Condition) -> None:
        pass

    def detach(self, cond: threading.Condition) -> None:
        pass

    def sleep_until(self, until: float, timeout: float | None = None) -> bool:
        delay = until - self.time()
        if timeout is not None and timeout < delay:
            _time.sleep(max(timeout, 0))
            return False
        if delay > 0:
            _time.sleep(delay)
        return True


class VirtualClock:
    """A clock that moves only when told to; waiters wake as it moves.

    ``start`` defaults to the real time at creation, whole seconds. The clock never goes
    back: stored due times would otherwise stop making sense.
    """

    virtual = True

    def __init__(self, start: datetime | float | None = None) -> None:
        if start is None:
            start = float(int(_time.time()))
        self._now = to_time(start) if isinstance(start, datetime) else float(start)
        self._lock = threading.Lock()
        # Weak: a broker that is dropped without close() must not be kept alive by its clock.
        self._conds: weakref.WeakSet[threading.Condition] = weakref.WeakSet()
        self._own = threading.Condition(threading.Lock())
        self._conds.add(self._own)

    def time(self) -> float:
        with self._lock:
            return self._now

    def now(self) -> datetime:
        return to_datetime(self.time())

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward by ``seconds``; returns the new time."""
        if seconds < 0:
            raise ValueError("a virtual clock only moves forward")
        with self._lock:
            self._now += seconds
            now = self._now
        self._notify()
        return to_datetime(now)

    def set(self, when: datetime | float) -> datetime:
        """Move the clock forward to ``when``."""
        target = to_time(when) if isinstance(when, datetime) else float(when)
        with self._lock:
            if target < self._now:
                raise ValueError(
                    f"a virtual clock only moves forward: {to_datetime(target).isoformat()} "
                    f"is before {to_datetime(self._now).isoformat()}"
                )
            self._now = target
        self._notify()
        return to_datetime(target)

    def _notify(self) -> None:
        # Outside self._lock: a waiter holds its condition while reading the time, so
        # taking the condition here while holding the clock lock could deadlock.
        for cond in list(self._conds):
            with cond:
                cond.notify_all()

    def wait(self, cond: threading.Condition, until: float | None, timeout: float | None) -> None:
        if until is not None and until <= self.time():
            return
        if timeout is not None and timeout <= 0:
            return
        cond.wait(timeout)  # advance() notifies attached conditions

    def attach(self, cond: threading.Condition) -> None:
        self._conds.add(cond)

    def detach(self, cond: threading.Condition) -> None:
        self._conds.discard(cond)

    def sleep_until(self, until: float, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else _time.monotonic() + timeout
        with self._own:
            while self.time() < until:
                remaining = None if deadline is None else deadline - _time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._own.wait(remaining)
        return True
