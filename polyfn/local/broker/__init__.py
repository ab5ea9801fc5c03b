"""The local runtime's embedded broker: queues, topics, storage, schedules, change streams
and an event bus, kept in SQLite so that what it accepted survives ``kill -9``.

    from polyfn.local.broker import Broker
    from polyfn.local.clock import VirtualClock

    with Broker("state", VirtualClock()) as broker:
        broker.declare("orders", max_deliveries=3)
        broker.send("orders", b'{"id": 1}')
        (lease,) = broker.receive("orders")
        broker.nack(lease.receipt, error="boom")

Modules, one job each:

- ``store``: the SQLite file (WAL), schema and migrations, the state-dir lock; why
  ``synchronous=NORMAL`` survives a process crash.
- ``core``: the lock, transactions that wake waiters, clock-driven waiting.
- ``queues``: leases, visibility timeout, delivery counts, backoff, dead letters, FIFO.
- ``topics``: subscriptions (queues) with attribute filters, atomic fan-out.
- ``storage``: a folder per bucket, storage events, crash-safe puts and deletes.
- ``timing`` / ``schedules``: when expressions fire; firing each occurrence once.
- ``changes``: local tables whose writes raise change events.
- ``events``: the event bus.
- ``outbox``: produced events, claimed and acknowledged by the dispatcher.
- ``broker``: the assembled :class:`Broker`, ``idle`` and ``forward_event``.
- ``driver``: :class:`LocalDriver`, handler outputs into the broker.

Needs SQLite 3.35 or later (``RETURNING``), which Python 3.11's builds ship, and
``croniter`` (``pip install polyfn[local]``) for cron schedules only.
"""

from __future__ import annotations

from .broker import Broker
from .driver import LocalDriver, LocalOutputError
from .errors import (
    BrokerError,
    InvalidKey,
    InvalidRequest,
    ObjectNotFound,
    QueueNotFound,
    StateDirLocked,
)
from .outbox import OutboxEvent
from .queues import Message, QueueConfig, QueueStats
from .schedules import Occurrence, ScheduleInfo
from .storage import ObjectInfo, StoredObject
from .topics import Subscription

__all__ = [
    "Broker",
    "BrokerError",
    "InvalidKey",
    "InvalidRequest",
    "LocalDriver",
    "LocalOutputError",
    "Message",
    "ObjectInfo",
    "ObjectNotFound",
    "Occurrence",
    "OutboxEvent",
    "QueueConfig",
    "QueueNotFound",
    "QueueStats",
    "ScheduleInfo",
    "StateDirLocked",
    "StoredObject",
    "Subscription",
]
