"""Queues: leases with a visibility timeout, delivery counts, retries with backoff,
dead-lettering, FIFO groups with de-duplication.

Delivery rules (SQS's, which Azure's and Pub/Sub's match closely enough):

- ``send`` commits the message before it returns; ``delay_seconds`` keeps it invisible
  that long.
- ``receive`` leases up to ``max_messages`` visible messages: each gets a new receipt,
  its delivery count goes up by one (1 on the first delivery) and it stays invisible until
  the lease deadline (``visibility_timeout``, the queue's unless the receive names one).
- ``ack(receipt)`` deletes the message. A lease that expired still accepts its ack until
  the message is delivered again (the receipt changes then), as on SQS.
- ``nack(receipt, delay)`` gives the message back: visible again after ``delay`` seconds,
  or by default after the queue's backoff, ``min(max, base * 2 ** (deliveries - 1))``.
  A lease that expires without an ack or nack is a failed delivery too: the message is
  visible again at the deadline (no backoff, as on SQS).
- With ``max_deliveries``, a message whose ``max_deliveries``-th delivery failed moves to
  the dead-letter queue (``<queue>-dlq`` unless named) instead: it keeps its id, body,
  attributes and group, its delivery count starts again, and ``dead_letter_source`` /
  ``dead_letter_reason`` record where it came from and why (the last error a nack gave).
  A nack moves it at once; an expired lease when the queue is next looked at (a receive,
  a wait, ``stats`` or ``idle``), which is when it would have been delivered again.
- FIFO queues: every message needs a ``group_id``. Within a group, messages are delivered
  in send order and only from the head: a message is not delivered while an earlier one
  of its group is in flight, backing off or delayed (one receive may return several
  consecutive messages of a group, as SQS does: a consumer that fails one must fail the
  rest of that group too, which polyfn's verdicts do). A ``deduplication_id`` seen on the
  same queue in the last 5 minutes makes ``send`` return the first message's id without
  queueing a copy (SQS's window). Standard queues ignore de-duplication ids and deliver in
  about send order.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from polyfn.local.clock import to_datetime

from .core import Core, decode_attributes, encode_attributes, new_id
from .errors import InvalidRequest, QueueNotFound

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from polyfn.events.messages import QueueMessage, TopicMessage

DEDUP_WINDOW = 300.0  # seconds, as SQS FIFO
DEFAULT_VISIBILITY_TIMEOUT = 30.0
DEFAULT_BACKOFF = (1.0, 60.0)


@dataclass(frozen=True, slots=True)
class QueueConfig:
    name: str
    visibility_timeout: float = DEFAULT_VISIBILITY_TIMEOUT
    max_deliveries: int | None = None
    dead_letter: str | None = None
    fifo: bool = False
    backoff: tuple[float, float] = DEFAULT_BACKOFF

    def backoff_delay(self, deliveries: int) -> float:
        base, cap = self.backoff
        return min(cap, base * 2 ** max(deliveries - 1, 0))


@dataclass(frozen=True, slots=True)
class Message:
    """A queued message: leased (``receipt`` set) when ``receive`` returns it."""

    id: str
    queue: str
    body: bytes
    attributes: dict[str, str | bytes]
    delivery_count: int
    enqueued_at: datetime
    group_id: str | None
    receipt: str | None
    visible_at: datetime
    """The lease deadline for a leased message; when it may next be delivered otherwise."""
    topic: str | None = None
    subject: str | None = None
    last_error: str | None = None
    dead_letter_source: str | None = None
    dead_letter_reason: str | None = None
    sequence: int = 0
    """The broker's position of the message: increasing in send order across queues (a
    stream record's sequence number)."""

    def _extensions(self) -> dict[str, Any]:
        ext: dict[str, Any] = {"receipt": self.receipt}
        for name in ("last_error", "dead_letter_source", "dead_letter_reason"):
            value = getattr(self, name)
            if value is not None:
                ext[name] = value
        return ext

    def queue_message(self) -> QueueMessage:
        """The neutral event a queue trigger's handler gets."""
        from polyfn.events.messages import QueueMessage

        return QueueMessage(
            self.id,
            self.body,
            attributes=dict(self.attributes),
            delivery_count=self.delivery_count,
            enqueued_at=self.enqueued_at,
            queue=self.queue,
            group_id=self.group_id,
            provider="local",
            event_source="local:queue",
            extensions=self._extensions(),
            native=self,
        )

    def topic_message(self) -> TopicMessage:
        """The neutral event a topic trigger's handler gets (for a subscription's copy)."""
        from polyfn.events.messages import TopicMessage

        ext = self._extensions()
        ext["subscription"] = self.queue
        ext["delivery_count"] = self.delivery_count
        return TopicMessage(
            self.id,
            self.topic or "",
            self.body,
            subject=self.subject,
            attributes=dict(self.attributes),
            published_at=self.enqueued_at,
            provider="local",
            event_source="local:topic",
            extensions=ext,
            native=self,
        )


@dataclass(frozen=True, slots=True)
class QueueStats:
    visible: int
    """Deliverable now (FIFO: including messages behind a busy group head)."""
    in_flight: int
    delayed: int
    """Waiting for a delay or a retry backoff."""

    @property
    def total(self) -> int:
        return self.visible + self.in_flight + self.delayed


_COLUMNS = (
    "seq, id, queue, body, attributes, group_id, enqueued_at, visible_at, deliveries, receipt, "
    "topic, subject, last_error, dead_letter_source, dead_letter_reason"
)


def _message(row: sqlite3.Row | tuple[Any, ...]) -> Message:
    (seq, id, queue, body, attrs, group, enq, vis, deliveries, receipt, *rest) = row
    topic, subject, last_error, dl_source, dl_reason = rest
    return Message(
        id,
        queue,
        bytes(body),
        decode_attributes(attrs),
        deliveries,
        to_datetime(enq),
        group,
        receipt,
        to_datetime(vis),
        topic,
        subject,
        last_error,
        dl_source,
        dl_reason,
        seq,
    )


def _config(row: tuple[Any, ...]) -> QueueConfig:
    name, vt, maxd, dl, fifo, base, cap = row
    return QueueConfig(name, vt, maxd, dl, bool(fifo), (base, cap))


class Queues(Core):
    # -- declaration ----------------------------------------------------------------------
    def declare(
        self,
        queue: str,
        *,
        visibility_timeout: float = DEFAULT_VISIBILITY_TIMEOUT,
        max_deliveries: int | None = None,
        dead_letter: str | None = None,
        fifo: bool = False,
        backoff: tuple[float, float] = DEFAULT_BACKOFF,
    ) -> QueueConfig:
        """Create the queue, or change its settings (messages stay). With
        ``max_deliveries``, the dead-letter queue (``<queue>-dlq`` by default) is declared
        too, FIFO if this queue is."""
        if not queue:
            raise InvalidRequest("a queue needs a name")
        if visibility_timeout <= 0:
            raise InvalidRequest("visibility_timeout must be positive")
        if max_deliveries is not None and max_deliveries < 1:
            raise InvalidRequest("max_deliveries must be at least 1")
        if backoff[0] < 0 or backoff[1] < backoff[0]:
            raise InvalidRequest("backoff is (base, max) with 0 <= base <= max")
        if max_deliveries is not None and dead_letter is None:
            dead_letter = f"{queue}-dlq"
        if dead_letter == queue:
            raise InvalidRequest("a queue cannot be its own dead-letter queue")
        config = QueueConfig(
            queue, float(visibility_timeout), max_deliveries, dead_letter, fifo, backoff
        )
        with self._write() as db:
            db.execute(
                "INSERT INTO queues (name, visibility_timeout, max_deliveries, dead_letter, "
                "fifo, backoff_base, backoff_max, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET "
                "visibility_timeout = excluded.visibility_timeout, "
                "max_deliveries = excluded.max_deliveries, dead_letter = excluded.dead_letter, "
                "fifo = excluded.fifo, backoff_base = excluded.backoff_base, "
                "backoff_max = excluded.backoff_max",
                (
                    queue,
                    config.visibility_timeout,
                    max_deliveries,
                    dead_letter,
                    int(fifo),
                    float(backoff[0]),
                    float(backoff[1]),
                    self.clock.time(),
                ),
            )
            if dead_letter is not None:
                self._ensure(db, dead_letter, fifo=fifo)
        return config

    def ensure_queue(self, queue: str) -> QueueConfig:
        """The queue's settings, declaring it with the defaults if it does not exist."""
        with self._cond:
            found = self._config(queue)
            if found is not None:
                return found
            with self._write() as db:
                self._ensure(db, queue)
            return self.queue_config(queue)

    def _ensure(self, db: sqlite3.Connection, queue: str, fifo: bool = False) -> None:
        db.execute(
            "INSERT OR IGNORE INTO queues (name, visibility_timeout, max_deliveries, "
            "dead_letter, fifo, backoff_base, backoff_max, created_at) "
            "VALUES (?, ?, NULL, NULL, ?, ?, ?, ?)",
            (queue, DEFAULT_VISIBILITY_TIMEOUT, int(fifo), *DEFAULT_BACKOFF, self.clock.time()),
        )

    def _config(self, queue: str) -> QueueConfig | None:
        row = self.db.execute(
            "SELECT name, visibility_timeout, max_deliveries, dead_letter, fifo, "
            "backoff_base, backoff_max FROM queues WHERE name = ?",
            (queue,),
        ).fetchone()
        return None if row is None else _config(row)

    def queue_config(self, queue: str) -> QueueConfig:
        with self._cond:
            config = self._config(queue)
        if config is None:
            raise QueueNotFound(queue)
        return config

    def queues(self) -> list[QueueConfig]:
        with self._cond:
            rows = self.db.execute(
                "SELECT name, visibility_timeout, max_deliveries, dead_letter, fifo, "
                "backoff_base, backoff_max FROM queues ORDER BY name"
            ).fetchall()
        return [_config(r) for r in rows]

    # -- sending --------------------------------------------------------------------------
    def send(
        self,
        queue: str,
        body: bytes,
        attributes: Mapping[str, str | bytes] | None = None,
        *,
        group_id: str | None = None,
        deduplication_id: str | None = None,
        delay_seconds: float = 0,
    ) -> str:
        """Queue a message; returns its id once it is committed."""
        if not isinstance(body, bytes | bytearray | memoryview):
            raise TypeError(f"a message body is bytes, not {type(body).__name__}")
        if delay_seconds < 0:
            raise InvalidRequest("delay_seconds must not be negative")
        attrs = encode_attributes(attributes)
        with self._cond:
            config = self._config(queue)
            if config is None:
                raise QueueNotFound(queue)
            if config.fifo and not group_id:
                raise InvalidRequest(f"FIFO queue {queue!r}: a message needs a group_id")
            with self._write() as db:
                now = self.clock.time()
                if config.fifo and deduplication_id:
                    db.execute("DELETE FROM dedup WHERE expires_at <= ?", (now,))
                    seen = db.execute(
                        "SELECT message_id FROM dedup WHERE queue = ? AND dedup_id = ?",
                        (queue, deduplication_id),
                    ).fetchone()
                    if seen is not None:
                        return str(seen[0])
                message_id = new_id()
                self._insert(
                    db, queue, message_id, bytes(body), attrs, group_id, now, now + delay_seconds
                )
                if config.fifo and deduplication_id:
                    db.execute(
                        "INSERT INTO dedup (queue, dedup_id, message_id, expires_at) "
                        "VALUES (?, ?, ?, ?)",
                        (queue, deduplication_id, message_id, now + DEDUP_WINDOW),
                    )
            return message_id

    def _insert(
        self,
        db: sqlite3.Connection,
        queue: str,
        message_id: str,
        body: bytes,
        attributes: str,
        group_id: str | None,
        now: float,
        visible_at: float,
        topic: str | None = None,
        subject: str | None = None,
    ) -> None:
        db.execute(
            "INSERT INTO messages (id, queue, body, attributes, group_id, enqueued_at, "
            "visible_at, topic, subject) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (message_id, queue, body, attributes, group_id, now, visible_at, topic, subject),
        )

    # -- receiving ------------------------------------------------------------------------
    def receive(
        self, queue: str, max_messages: int = 10, visibility_timeout: float | None = None
    ) -> list[Message]:
        """Lease up to ``max_messages`` deliverable messages (none: an empty list)."""
        if max_messages < 1:
            raise InvalidRequest("max_messages must be at least 1")
        with self._cond:
            config = self._config(queue)
            if config is None:
                raise QueueNotFound(queue)
            timeout = (
                config.visibility_timeout if visibility_timeout is None else visibility_timeout
            )
            if timeout <= 0:
                raise InvalidRequest("visibility_timeout must be positive")
            with self._write() as db:
                now = self.clock.time()
                self._expire(db, now, queue)
                seqs = self._deliverable(db, config, now, max_messages)
                leases = []
                for seq in seqs:
                    row = db.execute(
                        "UPDATE messages SET receipt = ?, deliveries = deliveries + 1, "
                        f"visible_at = ? WHERE seq = ? RETURNING {_COLUMNS}",
                        (new_id(), now + timeout, seq),
                    ).fetchone()
                    leases.append(_message(row))
            return leases

    def _deliverable(
        self, db: sqlite3.Connection, config: QueueConfig, now: float, limit: int
    ) -> list[int]:
        """The seqs ``receive`` would lease now, in delivery order."""
        if not config.fifo:
            rows = db.execute(
                "SELECT seq FROM messages WHERE queue = ? AND visible_at <= ? "
                "ORDER BY visible_at, seq LIMIT ?",
                (config.name, now, limit),
            )
            return [r[0] for r in rows]
        # FIFO: walk the queue in send order; a group is served from its head while its
        # messages are visible, and blocked from its first invisible one on.
        chosen: list[int] = []
        blocked: set[str | None] = set()
        rows = db.execute(
            "SELECT seq, group_id, visible_at FROM messages WHERE queue = ? ORDER BY seq",
            (config.name,),
        )
        for seq, group, visible_at in rows:
            if group in blocked:
                continue
            if visible_at <= now:
                chosen.append(seq)
                if len(chosen) == limit:
                    break
            else:
                blocked.add(group)
        return chosen

    # -- settling -------------------------------------------------------------------------
    def ack(self, receipt: str) -> bool:
        """Delete a leased message; False if the receipt is no longer current (acked
        already, nacked, or the message was delivered again)."""
        with self._write() as db:
            return db.execute("DELETE FROM messages WHERE receipt = ?", (receipt,)).rowcount == 1

    def nack(self, receipt: str, delay: float | None = None, error: str | None = None) -> bool:
        """Give a leased message back: redelivered after ``delay`` seconds or the queue's
        backoff, or dead-lettered if that was its last delivery. ``error`` is kept as the
        message's ``last_error`` (and in the dead-letter reason)."""
        if delay is not None and delay < 0:
            raise InvalidRequest("delay must not be negative")
        with self._cond:
            row = self.db.execute(
                "SELECT seq, queue, deliveries FROM messages WHERE receipt = ?", (receipt,)
            ).fetchone()
            if row is None:
                return False
            seq, queue, deliveries = row
            config = self._config(queue) or QueueConfig(queue)
            with self._write() as db:
                now = self.clock.time()
                if config.max_deliveries is not None and deliveries >= config.max_deliveries:
                    reason = f"failed {deliveries} of {config.max_deliveries} deliveries: " + (
                        error or "nacked"
                    )
                    self._dead_letter(db, seq, config, reason, error, now)
                else:
                    wait = config.backoff_delay(deliveries) if delay is None else delay
                    db.execute(
                        "UPDATE messages SET receipt = NULL, visible_at = ?, last_error = ? "
                        "WHERE seq = ?",
                        (now + wait, error, seq),
                    )
            return True

    def extend(self, receipt: str, visibility_timeout: float) -> bool:
        """Move a lease's deadline to ``visibility_timeout`` seconds from now (SQS's
        ChangeMessageVisibility); 0 makes the message visible at once without counting
        a failure beyond the delivery it had. False if the receipt is not current."""
        if visibility_timeout < 0:
            raise InvalidRequest("visibility_timeout must not be negative")
        with self._write() as db:
            now = self.clock.time()
            cur = db.execute(
                "UPDATE messages SET visible_at = ? WHERE receipt = ?",
                (now + visibility_timeout, receipt),
            )
            return cur.rowcount == 1

    def _expire(self, db: sqlite3.Connection, now: float, queue: str | None = None) -> int:
        """Dead-letter the messages whose last allowed lease expired unsettled."""
        where = "" if queue is None else "AND m.queue = ?"
        params: tuple[Any, ...] = (now,) if queue is None else (now, queue)
        rows = db.execute(
            "SELECT m.seq, m.deliveries, q.name, q.visibility_timeout, q.max_deliveries, "
            "q.dead_letter, q.fifo, q.backoff_base, q.backoff_max "
            "FROM messages m JOIN queues q ON q.name = m.queue "
            "WHERE m.receipt IS NOT NULL AND m.visible_at <= ? "
            f"AND q.max_deliveries IS NOT NULL AND m.deliveries >= q.max_deliveries {where}",
            params,
        ).fetchall()
        for seq, deliveries, *config_row in rows:
            config = _config(tuple(config_row))
            reason = (
                f"failed {deliveries} of {config.max_deliveries} deliveries: "
                "visibility timeout expired"
            )
            self._dead_letter(db, seq, config, reason, None, now)
        return len(rows)

    def _expire_now(self, queue: str | None = None) -> None:
        """``_expire`` in its own transaction, only when there is something to move."""
        now = self.clock.time()
        where = "" if queue is None else "AND m.queue = ?"
        params: tuple[Any, ...] = (now,) if queue is None else (now, queue)
        due = self.db.execute(
            "SELECT 1 FROM messages m JOIN queues q ON q.name = m.queue "
            "WHERE m.receipt IS NOT NULL AND m.visible_at <= ? "
            f"AND q.max_deliveries IS NOT NULL AND m.deliveries >= q.max_deliveries {where} "
            "LIMIT 1",
            params,
        ).fetchone()
        if due is not None:
            with self._write() as db:
                self._expire(db, self.clock.time(), queue)

    def _dead_letter(
        self,
        db: sqlite3.Connection,
        seq: int,
        config: QueueConfig,
        reason: str,
        error: str | None,
        now: float,
    ) -> None:
        target = config.dead_letter or f"{config.name}-dlq"
        self._ensure(db, target, fifo=config.fifo)
        db.execute(
            "UPDATE messages SET queue = ?, receipt = NULL, visible_at = ?, deliveries = 0, "
            "last_error = coalesce(?, last_error), dead_letter_source = ?, "
            "dead_letter_reason = ? WHERE seq = ?",
            (target, now, error, config.name, reason, seq),
        )

    # -- looking ----------------------------------------------------------------------------
    def wait_visible(self, queues: str | Iterable[str], timeout: float | None = None) -> bool:
        """Block until one of ``queues`` has a deliverable message (True) or ``timeout``
        real seconds passed (False). Wakes on sends, nacks, lease deadlines, backoffs
        ending and clock jumps."""
        names = [queues] if isinstance(queues, str) else list(queues)

        def check(now: float) -> tuple[bool, float | None]:
            due: float | None = None
            for name in names:
                config = self._config(name)
                if config is None:
                    continue
                self._expire_now(name)
                if self._deliverable(self.db, config, now, 1):
                    return True, None
                (nxt,) = self.db.execute(
                    "SELECT min(visible_at) FROM messages WHERE queue = ? AND visible_at > ?",
                    (name, now),
                ).fetchone()
                if nxt is not None and (due is None or nxt < due):
                    due = nxt
            return False, due

        return self._wait(check, timeout)

    def stats(self, queue: str) -> QueueStats:
        with self._cond:
            if self._config(queue) is None:
                raise QueueNotFound(queue)
            self._expire_now(queue)
            now = self.clock.time()
            visible, in_flight, delayed = self.db.execute(
                "SELECT count(*) FILTER (WHERE visible_at <= :now), "
                "count(*) FILTER (WHERE visible_at > :now AND receipt IS NOT NULL), "
                "count(*) FILTER (WHERE visible_at > :now AND receipt IS NULL) "
                "FROM messages WHERE queue = :queue",
                {"now": now, "queue": queue},
            ).fetchone()
        return QueueStats(visible, in_flight, delayed)

    def peek(self, queue: str, limit: int = 100) -> list[Message]:
        """The queue's messages in send order, without leasing them (a dead-letter queue's
        content, for instance)."""
        with self._cond:
            if self._config(queue) is None:
                raise QueueNotFound(queue)
            self._expire_now(queue)
            rows = self.db.execute(
                f"SELECT {_COLUMNS} FROM messages WHERE queue = ? ORDER BY seq LIMIT ?",
                (queue, limit),
            ).fetchall()
        return [_message(r) for r in rows]
