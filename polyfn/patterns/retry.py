"""In-process retries with exponential backoff, bounded by the invocation's deadline.

``@retry(RetryPolicy(...))`` calls the handler again when it raises one of
``policy.retry_on``, sleeping ``initial_delay``, then ``initial_delay * multiplier``, ...
(capped at ``max_delay``; with ``jitter`` a random part of each, "full jitter":
https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/). Put it under
the trigger decorator::

    @app.queue("orders")
    @retry(RetryPolicy(max_attempts=3, retry_on=(ConnectionError,)))
    def handle(msg, ctx): ...

- A transient error worth a second try within this invocation: retried here, cheaply.
- When the attempts run out the last error is re-raised: the provider's redelivery (SQS
  visibility timeout, Azure dequeue count, Pub/Sub redelivery) takes over, then its
  dead-letter queue.
- :class:`polyfn.results.Retry` means "redeliver later": it is never retried here.
- A sleep that would not end ``deadline_margin`` seconds before the invocation's deadline
  (``ctx.remaining_time()``) is not started: the error is re-raised at once, so the
  provider sees a failure rather than a timeout (a timed-out Lambda is retried as a whole
  batch, and its logs say less).

Sleeping goes through ``clock``: ``None`` sleeps for real; a
:class:`~polyfn.local.clock.VirtualClock` is advanced instead (tests run backoffs in
microseconds); any other object with ``sleep(seconds)`` (or the local clocks'
``sleep_until``) is used as is. The time spent is read from the same clock, so the
deadline holds on a virtual clock too.
"""

from __future__ import annotations

import functools
import inspect
import random
import time as _time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from polyfn.results import Retry

DEADLINE_MARGIN = 0.5  # seconds kept free before the deadline: time to report the failure


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently to retry. ``max_attempts`` counts the first call."""

    max_attempts: int = 3
    initial_delay: float = 1.0
    max_delay: float = 60.0
    multiplier: float = 2.0
    jitter: bool = True
    retry_on: tuple[type[BaseException], ...] = (Exception,)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"RetryPolicy: max_attempts must be >= 1, not {self.max_attempts}")
        if self.initial_delay < 0 or self.max_delay < 0:
            raise ValueError("RetryPolicy: delays must be >= 0")
        if self.multiplier < 1:
            raise ValueError(f"RetryPolicy: multiplier must be >= 1, not {self.multiplier}")

    def delay(self, retry: int, rng: Callable[[], float] = random.random) -> float:
        """Seconds to wait before retry number ``retry`` (1 = the second attempt)."""
        base = min(self.max_delay, self.initial_delay * self.multiplier ** (retry - 1))
        return base * rng() if self.jitter else base

    def retries(self, error: BaseException) -> bool:
        """Whether ``error`` is worth another attempt in process."""
        return isinstance(error, self.retry_on) and not isinstance(error, Retry)


class _Sleeper:
    """``time()`` and ``sleep(seconds)`` over whatever clock was given."""

    def __init__(self, clock: Any) -> None:
        self.clock = clock

    def time(self) -> float:
        return _time.monotonic() if self.clock is None else self.clock.time()

    def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        c = self.clock
        if c is None:
            _time.sleep(seconds)
        elif getattr(c, "virtual", False) and hasattr(c, "advance"):
            c.advance(seconds)  # a virtual clock: moving it is the sleep
        elif hasattr(c, "sleep"):
            c.sleep(seconds)
        else:
            c.sleep_until(c.time() + seconds)


def _remaining(ctx: Any) -> float | None:
    remaining = getattr(ctx, "remaining_time", None)
    return remaining() if callable(remaining) else None


class _Attempts:
    """The retry loop's bookkeeping, shared by the sync and async wrappers."""

    def __init__(self, policy: RetryPolicy, sleeper: _Sleeper, ctx: Any, margin: float) -> None:
        self.policy = policy
        self.sleeper = sleeper
        self.margin = margin
        self.started = sleeper.time()
        # The budget is read once and spent on our clock: a virtual clock's sleeps count.
        self.budget = _remaining(ctx)
        self.attempt = 0

    def next_delay(self, error: BaseException) -> float | None:
        """The sleep before the next attempt, or None: give up (re-raise ``error``)."""
        if self.attempt >= self.policy.max_attempts or not self.policy.retries(error):
            return None
        delay = self.policy.delay(self.attempt)
        if self.budget is not None:
            left = self.budget - (self.sleeper.time() - self.started)
            if delay + self.margin > left:
                return None  # it would outlive the invocation: let the provider redeliver
        return delay


def retry(
    policy: RetryPolicy | None = None,
    *,
    clock: Any = None,
    deadline_margin: float = DEADLINE_MARGIN,
    on_retry: Callable[[int, BaseException, float], None] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Retry a handler taking ``(event)`` or ``(event, ctx)`` (sync or async) in process
    (see the module). ``on_retry(attempt, error, delay)`` is called before each sleep."""
    the_policy = policy or RetryPolicy()
    sleeper = _Sleeper(clock)

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        from polyfn.app import _takes_context

        takes_ctx = _takes_context(fn)

        def args(event: Any, ctx: Any) -> tuple[Any, ...]:
            return (event, ctx) if takes_ctx else (event,)

        if inspect.iscoroutinefunction(fn):
            import asyncio

            async def async_wrapper(event: Any, ctx: Any = None) -> Any:
                state = _Attempts(the_policy, sleeper, ctx, deadline_margin)
                while True:
                    state.attempt += 1
                    try:
                        return await fn(*args(event, ctx))
                    except BaseException as e:
                        delay = state.next_delay(e)
                        if delay is None:
                            raise
                        if on_retry is not None:
                            on_retry(state.attempt, e, delay)
                        if clock is None:
                            await asyncio.sleep(delay)
                        else:
                            sleeper.sleep(delay)

            return functools.wraps(fn)(async_wrapper)

        def wrapper(event: Any, ctx: Any = None) -> Any:
            state = _Attempts(the_policy, sleeper, ctx, deadline_margin)
            while True:
                state.attempt += 1
                try:
                    return fn(*args(event, ctx))
                except BaseException as e:
                    delay = state.next_delay(e)
                    if delay is None:
                        raise
                    if on_retry is not None:
                        on_retry(state.attempt, e, delay)
                    sleeper.sleep(delay)

        return functools.wraps(fn)(wrapper)

    return decorate
