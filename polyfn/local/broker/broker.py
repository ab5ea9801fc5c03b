"""The embedded broker: queues, topics, storage, schedules, change streams and an event
bus in one SQLite database, and the calls that tie them to the dispatcher (``idle``,
``forward_event``).

Each part lives in its own module (see the package docstring); this class assembles them
and owns opening and closing a state dir.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from polyfn.local.clock import Clock, RealClock

from .changes import Changes
from .core import encode_attributes, new_id
from .errors import InvalidRequest
from .events import EventBus
from .outbox import OutboxEvent, _id
from .schedules import Schedules
from .storage import Storage
from .store import Store
from .topics import Topics


class Broker(Topics, Storage, Changes, EventBus, Schedules):
    """Everything the local runtime's services keep, in ``state_dir`` (a temporary
    folder, removed on :meth:`close`, when None). Thread-safe; one process per state dir.

    >>> with Broker(None, VirtualClock()) as broker: ...
    """

    def __init__(
        self,
        state_dir: str | os.PathLike[str] | None = None,
        clock: Clock | None = None,
        *,
        max_catch_up: int | None = None,
    ) -> None:
        if max_catch_up is not None and max_catch_up < 1:
            raise InvalidRequest("max_catch_up must be at least 1")
        super().__init__(Store(state_dir), clock or RealClock())
        self.max_catch_up = max_catch_up
        try:
            self._recover_files()
        except BaseException:
            self.clock.detach(self._cond)
            self.store.close()
            raise

    @property
    def state_dir(self) -> Path:
        return self.store.root

    def close(self) -> None:
        """Wake every waiter (they return False) and close the database."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
            self.clock.detach(self._cond)
            self.store.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> Broker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- idleness ---------------------------------------------------------------------------
    def _watched(self, queues: Iterable[str] | None) -> list[str]:
        if queues is not None:
            return [queues] if isinstance(queues, str) else list(queues)
        rows = self.db.execute(
            "SELECT name FROM queues WHERE name NOT IN "
            "(SELECT dead_letter FROM queues WHERE dead_letter IS NOT NULL)"
        )
        return [r[0] for r in rows]

    def _idle_check(self, queues: Iterable[str] | None) -> Any:
        def check(now: float) -> tuple[bool, float | None]:
            due = self._tick()
            self._expire_now()
            names = self._watched(queues)
            marks = ",".join("?" * len(names))
            (messages, leased) = self.db.execute(
                "SELECT count(*), min(visible_at) FILTER (WHERE receipt IS NOT NULL "
                f"AND visible_at > ?) FROM messages WHERE queue IN ({marks})",
                (now, *names),
            ).fetchone()
            (events,) = self.db.execute("SELECT count(*) FROM outbox").fetchone()
            if messages == 0 and events == 0:
                return True, None
            # Time alone changes the answer only when a schedule fires or an exhausted
            # lease expires into a dead-letter queue.
            return False, min((t for t in (due, leased) if t is not None), default=None)

        return check

    def idle(self, queues: Iterable[str] | None = None) -> bool:
        """True when the outbox is empty and ``queues`` hold no message at all (visible,
        in flight, delayed or backing off). By default every queue but the dead-letter
        queues: a dispatcher should pass the queues it consumes, since a queue nobody
        reads never drains."""
        with self._cond:
            done, _ = self._idle_check(queues)(self.clock.time())
            return done

    def wait_idle(self, timeout: float | None = None, queues: Iterable[str] | None = None) -> bool:
        """Block until :meth:`idle` (True) or ``timeout`` real seconds (False)."""
        return self._wait(self._idle_check(queues), timeout)

    # -- outbox to queues ---------------------------------------------------------------------
    def forward_event(self, event: int | OutboxEvent, queues: Iterable[str]) -> str | None:
        """Move an outbox event into ``queues`` in one transaction (each declared with the
        defaults if new): the message body is the event's JSON payload, attributes
        ``polyfn-kind`` and ``polyfn-event-id``, group the event's order key (FIFO
        queues). A dispatcher that gives each consuming function its own queue gets
        retries and dead letters for storage, change, schedule and bus events this way.
        Returns the message id, or None if the event was no longer in the outbox."""
        names = list(queues)
        with self._write() as db:
            row = db.execute(
                "DELETE FROM outbox WHERE id = ? RETURNING kind, event_id, order_key, payload",
                (_id(event),),
            ).fetchone()
            if row is None:
                return None
            kind, event_id, order_key, payload = row
            attrs = encode_attributes({"polyfn-kind": kind, "polyfn-event-id": event_id})
            message_id = new_id()
            now = self.clock.time()
            body = payload.encode("utf-8")
            for name in names:
                self._ensure(db, name)
                fifo = db.execute("SELECT fifo FROM queues WHERE name = ?", (name,)).fetchone()[0]
                group = (order_key or kind) if fifo else None
                self._insert(db, name, message_id, body, attrs, group, now, now)
            return message_id
