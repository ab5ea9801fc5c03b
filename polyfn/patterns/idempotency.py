"""Idempotent handlers: a duplicate delivery of an event has one effect.

``@idempotent(store)`` keys each event (default ``f"{event.event_source}:{event.id}"``)
and records it in a :class:`~polyfn.patterns.store.StateStore`:

- the first delivery records IN_PROGRESS, runs the handler and stores its
  (JSON-serialisable) result as COMPLETED;
- a later duplicate returns the stored result without running the handler;
- a duplicate arriving while the first still runs raises :class:`IdempotencyInProgress`
  (so the provider redelivers it later);
- a failing handler deletes the record, so the retry runs the handler again;
- records expire ``expires_after`` seconds after they are written.

Put it under the trigger decorator (closest to the function)::

    @app.queue("orders")
    @idempotent(store)
    def handle(msg): ...
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from polyfn.context import CURRENT
from polyfn.patterns.store import MemoryStore, StateStore

_PREFIX = "idempotency:"
IN_PROGRESS = "IN_PROGRESS"
COMPLETED = "COMPLETED"


class IdempotencyInProgress(Exception):
    """The same event is being handled right now; retry later."""

    def __init__(self, key: str) -> None:
        super().__init__(f"event {key!r} is already being handled")
        self.key = key


def default_key(event: Any) -> str:
    return f"{event.event_source}:{event.id}"


def _mark(record_key: str) -> tuple[Any, str | None]:
    """Put the event's key on the running context: outputs sent meanwhile carry it
    (``polyfn-idempotency-key``), so that their consumers can drop duplicates."""
    ctx = CURRENT.get()
    if ctx is None:
        return None, None
    previous = ctx.idempotency_key
    ctx.idempotency_key = record_key.removeprefix(_PREFIX)
    return ctx, previous


def _unmark(ctx: Any, previous: str | None) -> None:
    if ctx is not None:
        ctx.idempotency_key = previous


def _takes_context(fn: Callable[..., Any]) -> bool:
    from polyfn.app import _takes_context as takes

    return takes(fn)


def idempotent(
    store: StateStore | None = None,
    *,
    key: Callable[[Any], str] | None = None,
    expires_after: float = 3600,
    clock: Any = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Make a handler taking ``(event)`` or ``(event, ctx)`` idempotent (see the module).

    ``store``: where records live (default: a process-local MemoryStore); ``key``: the
    event's key (a callable of the event); ``clock``: what expiries are computed with
    (``.time()``; default the store's clock)."""
    the_store: StateStore = store if store is not None else MemoryStore(clock)
    key_of = key or default_key

    def now() -> float:
        return clock.time() if clock is not None else the_store.time()

    def begin(event: Any) -> tuple[str, Any, bool]:
        """(key, stored result, done): done means return the stored result."""
        k = f"{_PREFIX}{key_of(event)}"
        expires = now() + expires_after
        if the_store.put_if_absent(k, {"status": IN_PROGRESS}, expires_at=expires):
            return k, None, False
        entry = the_store.get(k)
        if entry is None:  # expired or deleted in between: claim it again
            if the_store.put_if_absent(k, {"status": IN_PROGRESS}, expires_at=expires):
                return k, None, False
            entry = the_store.get(k)
        if entry is not None and entry.value.get("status") == COMPLETED:
            return k, entry.value.get("result"), True
        raise IdempotencyInProgress(k)

    def finish(k: str, result: Any) -> None:
        entry = the_store.get(k)
        version = None if entry is None else entry.version
        the_store.compare_and_set(
            k,
            {"status": COMPLETED, "result": result},
            version=version,
            expires_at=now() + expires_after,
        )

    def fail(k: str) -> None:
        the_store.delete(k)

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        def run(call: Callable[[], Any], event: Any) -> Any:
            k, stored, done = begin(event)
            if done:
                return stored
            ctx, previous = _mark(k)
            try:
                result = call()
            except BaseException:
                fail(k)
                raise
            finally:
                _unmark(ctx, previous)
            finish(k, result)
            return result

        async def run_async(call: Callable[[], Any], event: Any) -> Any:
            k, stored, done = begin(event)
            if done:
                return stored
            ctx, previous = _mark(k)
            try:
                result = await call()
            except BaseException:
                fail(k)
                raise
            finally:
                _unmark(ctx, previous)
            finish(k, result)
            return result

        is_async = inspect.iscoroutinefunction(fn)
        if _takes_context(fn):
            if is_async:

                async def wrapper(event, ctx):  # type: ignore[no-untyped-def]
                    return await run_async(lambda: fn(event, ctx), event)
            else:

                def wrapper(event, ctx):  # type: ignore[no-untyped-def]
                    return run(lambda: fn(event, ctx), event)
        elif is_async:

            async def wrapper(event):  # type: ignore[no-untyped-def]
                return await run_async(lambda: fn(event), event)
        else:

            def wrapper(event):  # type: ignore[no-untyped-def]
                return run(lambda: fn(event), event)

        return functools.wraps(fn)(wrapper)

    return decorate
