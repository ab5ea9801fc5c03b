"""The outbox: events the broker produced (storage, change, schedule, event-bus), kept in
order until the dispatcher has delivered them.

Each producer writes its outbox row in the same transaction as the state change it reports
(the object row, the table item, a schedule's last firing), so a change is never without
its event, nor an event without its change, whatever the moment of a crash.

Delivery is at least once, by claims: ``next_events`` hands out available events and
claims them for ``lease`` seconds (``attempts`` counts the claims); ``ack_event`` deletes
one; ``release_event`` makes one available again (after ``delay``); a claim that runs out
makes the event available again by itself. Events sharing an ``order_key`` (a change
stream's source) are handed out in order: none while an earlier one of its key is claimed
or released with a delay, as a stream shard's records wait for the failed one; one call
may hand out several consecutive ones (a batch of the stream's records, in order).

``kind`` is ``"storage"``, ``"change"``, ``"schedule"`` or ``"event"``;
:attr:`OutboxEvent.event` rebuilds the neutral event (``StorageEvent``, ``ChangeEvent``,
``ScheduleEvent``, ``CloudEvent``) from the stored JSON ``payload``.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from polyfn.local.clock import to_datetime

from .core import Core, dumps, new_id
from .errors import InvalidRequest

KINDS = ("storage", "change", "schedule", "event")
DEFAULT_CLAIM = 30.0


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    id: int
    """The outbox position: increasing in the order the events were produced."""
    kind: str
    event_id: str
    payload: dict[str, Any]
    created_at: datetime
    attempts: int
    """How many times it was claimed, this claim included."""
    claim: str
    order_key: str | None = None

    @property
    def event(self) -> Any:
        """The neutral event this record stands for."""
        return build_event(self.kind, self.payload)


def _time(value: float | None) -> datetime | None:
    return None if value is None else to_datetime(value)


def build_event(kind: str, p: dict[str, Any]) -> Any:
    """The neutral event of an outbox payload."""
    if kind == "storage":
        from polyfn.events.storage import StorageEvent

        return StorageEvent(
            p["bucket"],
            p["key"],
            p["kind"],
            size=p["size"],
            etag=p["etag"],
            version=p["version"],
            time=_time(p["time"]),
            provider="local",
            event_source="local:storage",
            extensions={"content_type": p["content_type"], "metadata": p["metadata"]},
            native=p,
        )
    if kind == "change":
        from polyfn.events.change import ChangeEvent

        return ChangeEvent(
            p["id"],
            p["source"],
            p["operation"],
            keys=p["keys"],
            old=p["old"],
            new=p["new"],
            sequence=p["sequence"],
            time=_time(p["time"]),
            provider="local",
            event_source="local:change",
            native=p,
        )
    if kind == "schedule":
        from polyfn.events.schedule import ScheduleEvent

        return ScheduleEvent(
            p["schedule"],
            to_datetime(p["scheduled_time"]),
            id=p["id"],
            provider="local",
            event_source="local:schedule",
            extensions={"name": p["name"]},
            native=p,
        )
    if kind == "event":
        from polyfn.events.cloudevent import CloudEvent

        a = p["attributes"]
        data = base64.b64decode(p["data_base64"]) if "data_base64" in p else p.get("data")
        return CloudEvent(
            a["id"],
            a["source"],
            a["type"],
            data,
            specversion=a["specversion"],
            subject=a.get("subject"),
            time=_time(a.get("time")),
            datacontenttype=a.get("datacontenttype"),
            dataschema=a.get("dataschema"),
            provider="local",
            event_source="local:event",
            extensions={**p["extensions"], "bus": p["bus"]},
            native=p,
        )
    raise ValueError(f"unknown outbox kind {kind!r}")


class Outbox(Core):
    def _record(
        self,
        db: sqlite3.Connection,
        kind: str,
        event_id: str,
        payload: dict[str, Any],
        now: float,
        order_key: str | None = None,
    ) -> int:
        """Add an event inside the caller's transaction."""
        cur = db.execute(
            "INSERT INTO outbox (kind, event_id, order_key, payload, created_at, available_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (kind, event_id, order_key, dumps(payload), now, now),
        )
        return int(cur.lastrowid or 0)

    def _tick(self) -> float | None:
        """Time-driven production (schedules override it): produce what is due, and
        return the next clock time at which something will be."""
        return None

    def _claimable(
        self, db: sqlite3.Connection, kinds: tuple[str, ...] | None, now: float, limit: int
    ) -> list[tuple[Any, ...]]:
        chosen: list[tuple[Any, ...]] = []
        blocked: set[str] = set()
        where = "" if kinds is None else f"WHERE kind IN ({','.join('?' * len(kinds))})"
        rows = db.execute(
            "SELECT id, kind, event_id, order_key, payload, created_at, available_at, attempts "
            f"FROM outbox {where} ORDER BY id",
            kinds or (),
        )
        for row in rows:
            key, available_at = row[3], row[6]
            if key is not None and key in blocked:
                continue
            if available_at <= now:
                chosen.append(row)
                if len(chosen) == limit:
                    break
            elif key is not None:
                blocked.add(key)
        return chosen

    def next_events(
        self,
        kinds: Iterable[str] | None = None,
        limit: int = 100,
        lease: float = DEFAULT_CLAIM,
    ) -> list[OutboxEvent]:
        """Claim up to ``limit`` available events of ``kinds`` (all kinds: None), in order."""
        wanted = _kinds(kinds)
        if limit < 1 or lease <= 0:
            raise InvalidRequest("limit and lease must be positive")
        with self._cond:
            self._tick()
            with self._write() as db:
                now = self.clock.time()
                out = []
                for id, kind, event_id, key, payload, created, _, attempts in self._claimable(
                    db, wanted, now, limit
                ):
                    claim = new_id()
                    db.execute(
                        "UPDATE outbox SET claim = ?, available_at = ?, attempts = ? WHERE id = ?",
                        (claim, now + lease, attempts + 1, id),
                    )
                    out.append(
                        OutboxEvent(
                            id,
                            kind,
                            event_id,
                            json.loads(payload),
                            to_datetime(created),
                            attempts + 1,
                            claim,
                            key,
                        )
                    )
            return out

    def ack_event(self, id: int | OutboxEvent) -> bool:
        """Delete a delivered event; False if it is gone already."""
        with self._write() as db:
            cur = db.execute("DELETE FROM outbox WHERE id = ?", (_id(id),))
            return cur.rowcount == 1

    def release_event(self, id: int | OutboxEvent, delay: float = 0) -> bool:
        """Make a claimed event available again after ``delay`` seconds."""
        if delay < 0:
            raise InvalidRequest("delay must not be negative")
        with self._write() as db:
            cur = db.execute(
                "UPDATE outbox SET claim = NULL, available_at = ? WHERE id = ?",
                (self.clock.time() + delay, _id(id)),
            )
            return cur.rowcount == 1

    def pending_events(self, kinds: Iterable[str] | None = None) -> int:
        """How many events are in the outbox (claimed or not)."""
        wanted = _kinds(kinds)
        with self._cond:
            self._tick()
            where = "" if wanted is None else f"WHERE kind IN ({','.join('?' * len(wanted))})"
            (n,) = self.db.execute(f"SELECT count(*) FROM outbox {where}", wanted or ()).fetchone()
        return int(n)

    def wait_events(self, kinds: Iterable[str] | None = None, timeout: float | None = None) -> bool:
        """Block until an event of ``kinds`` can be claimed (True) or ``timeout`` real
        seconds passed (False). Due schedules fire while waiting."""
        wanted = _kinds(kinds)

        def check(now: float) -> tuple[bool, float | None]:
            due = self._tick()
            if self._claimable(self.db, wanted, self.clock.time(), 1):
                return True, None
            where = "" if wanted is None else f"AND kind IN ({','.join('?' * len(wanted))})"
            (nxt,) = self.db.execute(
                f"SELECT min(available_at) FROM outbox WHERE available_at > ? {where}",
                (now, *(wanted or ())),
            ).fetchone()
            return False, _earliest(due, nxt)

        return self._wait(check, timeout)


def _earliest(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    return a if b is None else min(a, b)


def _id(value: int | OutboxEvent) -> int:
    return value.id if isinstance(value, OutboxEvent) else int(value)


def _kinds(kinds: Iterable[str] | None) -> tuple[str, ...] | None:
    if kinds is None:
        return None
    wanted = (kinds,) if isinstance(kinds, str) else tuple(kinds)
    for kind in wanted:
        if kind not in KINDS:
            raise InvalidRequest(f"unknown event kind {kind!r}: one of {KINDS}")
    return wanted
