"""What every part of the broker shares: the store, the clock, one lock, and waiting.

One condition (around a re-entrant lock) guards the broker. Every call runs under it;
every write transaction notifies it when it commits, and the clock notifies it when a
virtual clock jumps. A waiter (``wait_visible``, ``wait_events``, ``wait_idle``) checks its
condition, learns the next clock time at which the answer could change by itself (a lease
deadline, the end of a backoff, a schedule), and sleeps on the condition until then: it
wakes on a commit, on that time, or on a clock jump, and never polls.
"""

from __future__ import annotations

import base64
import contextlib
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from polyfn.local.clock import Clock

from .store import Store

# A check returns whether the wait is over, and the next clock time worth re-checking at.
Check = Callable[[float], tuple[bool, float | None]]


class Core:
    """The shared state; the mixins of :class:`~.broker.Broker` build on it."""

    store: Store
    clock: Clock

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._cond = threading.Condition(threading.RLock())
        self._closed = False
        clock.attach(self._cond)

    @property
    def db(self) -> sqlite3.Connection:
        return self.store.db

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction under the lock; committed before the block's caller
        returns, and waiters are woken after it."""
        with self._cond:
            with self.store.transaction() as db:
                yield db
            self._cond.notify_all()

    def _wait(self, check: Check, timeout: float | None) -> bool:
        """Block until ``check`` says done (True), or ``timeout`` real seconds (False)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self._closed:
                done, due = check(self.clock.time())
                if done:
                    return True
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self.clock.wait(self._cond, due, remaining)
            return False

    def _counter(self, db: sqlite3.Connection, name: str) -> int:
        """The next value of a persistent counter (1, 2, ...), inside the caller's
        transaction."""
        row = db.execute(
            "INSERT INTO counters (name, value) VALUES (?, 1) "
            "ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value",
            (name,),
        ).fetchone()
        return int(row[0])


# -- encodings --------------------------------------------------------------------------------
_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode


def dumps(value: Any) -> str:
    return _dumps(value)


def encode_attributes(attributes: Mapping[str, str | bytes] | None) -> str:
    """Attributes as JSON; bytes values (Service Bus and SQS allow them) as {"b64": ...}."""
    out: dict[str, Any] = {}
    for name, value in (attributes or {}).items():
        if not isinstance(name, str):
            raise TypeError(f"attribute names are strings, not {type(name).__name__}")
        if isinstance(value, bytes | bytearray):
            out[name] = {"b64": base64.b64encode(bytes(value)).decode("ascii")}
        elif isinstance(value, str):
            out[name] = value
        else:
            raise TypeError(f"attribute {name!r}: a str or bytes, not {type(value).__name__}")
    return dumps(out)


def decode_attributes(text: str) -> dict[str, str | bytes]:
    return {
        name: base64.b64decode(value["b64"]) if isinstance(value, dict) else value
        for name, value in json.loads(text).items()
    }


def new_id() -> str:
    return str(uuid.uuid4())
