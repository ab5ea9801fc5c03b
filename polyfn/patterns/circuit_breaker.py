"""A circuit breaker whose state lives in a :class:`~polyfn.patterns.store.StateStore`,
so every instance (and every process) using the same name and store sees one state.

- closed: calls go through; ``failure_threshold`` consecutive failures open it;
- open: calls raise :class:`CircuitOpen` without calling; after ``cool_down`` seconds
  the next call is let through as a trial (half-open);
- half-open: one trial call at a time; success closes the breaker, failure opens it
  again for another cool-down.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from polyfn.patterns.store import StateStore

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half-open"


class CircuitOpen(Exception):
    """The breaker is open (or a trial call is already running): the call was not made."""

    def __init__(self, name: str, retry_at: float | None = None) -> None:
        super().__init__(f"circuit {name!r} is open")
        self.name = name
        self.retry_at = retry_at


class CircuitBreaker:
    def __init__(
        self,
        name: str,
        store: StateStore,
        *,
        failure_threshold: int = 5,
        cool_down: float = 30,
        clock: Any = None,
    ) -> None:
        self.name = name
        self.store = store
        self.failure_threshold = failure_threshold
        self.cool_down = cool_down
        self.clock = clock
        self._key = f"circuit:{name}"

    def _now(self) -> float:
        return self.clock.time() if self.clock is not None else self.store.time()

    def _read(self) -> tuple[dict[str, Any], int | None]:
        e = self.store.get(self._key)
        if e is None:
            return {"state": CLOSED, "failures": 0, "opened_at": None}, None
        return dict(e.value), e.version

    @property
    def state(self) -> str:
        """closed, open or half-open (open past its cool-down reads as half-open)."""
        s, _ = self._read()
        if s["state"] == OPEN and self._now() >= s["opened_at"] + self.cool_down:
            return HALF_OPEN
        return s["state"]

    def _update(self, change: Callable[[dict[str, Any]], dict[str, Any] | None]) -> dict[str, Any]:
        """Apply ``change`` to the state with compare-and-set, retrying on a race;
        ``change`` returns the new state or None (nothing to write)."""
        while True:
            s, version = self._read()
            new = change(dict(s))
            if new is None:
                return s
            if self.store.compare_and_set(self._key, new, version=version):
                return new

    def _before(self) -> None:
        now = self._now()
        refused: list[float | None] = []

        def change(s: dict[str, Any]) -> dict[str, Any] | None:
            refused.clear()
            if s["state"] == CLOSED:
                return None
            if s["state"] == OPEN and now >= s["opened_at"] + self.cool_down:
                return {**s, "state": HALF_OPEN, "trial_at": now}  # this call is the trial
            if s["state"] == HALF_OPEN and now >= s.get("trial_at", now) + self.cool_down:
                return {**s, "trial_at": now}  # the last trial never reported: try again
            refused.append(s["opened_at"] + self.cool_down if s["state"] == OPEN else None)
            return None

        self._update(change)
        if refused:
            raise CircuitOpen(self.name, refused[0])

    def _success(self) -> None:
        def change(s: dict[str, Any]) -> dict[str, Any] | None:
            if s["state"] == CLOSED and s["failures"] == 0:
                return None
            return {"state": CLOSED, "failures": 0, "opened_at": None}

        self._update(change)

    def _failure(self) -> None:
        now = self._now()

        def change(s: dict[str, Any]) -> dict[str, Any] | None:
            if s["state"] == HALF_OPEN:
                return {**s, "state": OPEN, "opened_at": now}
            if s["state"] == OPEN:
                return None
            failures = s["failures"] + 1
            if failures >= self.failure_threshold:
                return {"state": OPEN, "failures": failures, "opened_at": now}
            return {**s, "failures": failures}

        self._update(change)

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)`` through the breaker; CircuitOpen when it is open."""
        self._before()
        try:
            result = fn(*args, **kwargs)
        except Exception:
            self._failure()
            raise
        self._success()
        return result

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """The decorator form: every call of ``fn`` goes through the breaker."""

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return self.call(fn, *args, **kwargs)

        return wrapper

    def reset(self) -> None:
        """Close the breaker."""
        self.store.delete(self._key)
