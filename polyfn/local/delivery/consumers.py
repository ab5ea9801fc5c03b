"""Which broker queue feeds each trigger of an app, and what one delivery hands it.

=============  ==========================================================================
trigger        broker queue
=============  ==========================================================================
``queue``      the queue itself (FIFO, max deliveries and visibility timeout as declared)
``stream``     the stream's name, a FIFO queue: one group per partition key keeps order;
               a record's id is its sequence number, the broker's position
``topic``      ``polyfn.<function>.topic``: the function's subscription, with its filter
``storage``    ``polyfn.<function>.storage``: the storage events the trigger accepts
``change``     ``polyfn.<function>.change``: FIFO, one group per table, in write order
``schedule``   ``polyfn.<function>.schedule``: the occurrences of its registered schedule
``event``      ``polyfn.<function>.event``: the bus events it accepts
=============  ==========================================================================

(A function's second trigger of one kind gets ``.2``, and so on.) Every queue but a queue
trigger's (which has its own ``max_deliveries``) is declared with ``event_max_deliveries``
(the clouds retry asynchronous deliveries a few times, then dead-letter them), so a
failing stream record, topic message, storage, change, schedule or bus event is retried
with backoff and lands in ``<queue>-dlq`` like a queue message.
Schedules are registered as ``<app>-<function>`` (``-2``...), the name deployed rules get.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from polyfn.app import App, Function
from polyfn.dispatch import BY_GROUP, IN_ORDER, UNORDERED
from polyfn.local.broker import Broker, Message, OutboxEvent
from polyfn.local.broker.outbox import build_event
from polyfn.local.broker.queues import DEFAULT_VISIBILITY_TIMEOUT
from polyfn.routing import match_route
from polyfn.triggers import (
    ChangeTrigger,
    EventTrigger,
    QueueTrigger,
    ScheduleTrigger,
    StorageTrigger,
    StreamTrigger,
    TopicTrigger,
    Trigger,
)

PREFIX = "polyfn."
# The neutral event kind (``event.KIND``) each trigger kind consumes.
EVENT_KINDS = {
    "queue": "queue",
    "stream": "queue",
    "topic": "topic",
    "storage": "storage",
    "change": "change",
    "schedule": "schedule",
    "event": "cloudevent",
}


@dataclass(frozen=True, slots=True)
class Consumer:
    """One event trigger of a function and the broker queue that feeds it."""

    function: Function
    trigger: Trigger
    index: int
    """The trigger's position in the function's triggers: the adapters name the Azure
    function or Google target of trigger ``i > 0`` ``<function>_<i + 1>``."""
    queue: str
    batch_size: int
    """How many messages one receive takes (the trigger's batch size)."""
    order: str
    """How a failure holds back the rest of a batch (``polyfn.dispatch`` order modes)."""
    schedule: str | None = None
    """The registered schedule's name (schedule triggers)."""

    @property
    def kind(self) -> str:
        return self.trigger.KIND

    @property
    def key(self) -> tuple[str, str]:
        """What identifies the consumer across reloads of the app."""
        return (self.function.name, self.queue)

    def __repr__(self) -> str:
        return f"Consumer({self.function.name!r}, {self.kind}, queue={self.queue!r})"


def plan(app: App) -> list[Consumer]:
    """The consumers of ``app``'s event triggers (HTTP triggers have none)."""
    out: list[Consumer] = []
    for fn in app.functions.values():
        seen: dict[str, int] = {}
        for index, t in enumerate(fn.triggers):
            kind = t.KIND
            if kind == "http":
                continue
            seen[kind] = n = seen.get(kind, 0) + 1
            own = f"{PREFIX}{fn.name}.{kind}" + (f".{n}" if n > 1 else "")
            if isinstance(t, QueueTrigger):
                order = BY_GROUP if t.fifo else UNORDERED
                out.append(Consumer(fn, t, index, t.name, t.batch_size, order))
            elif isinstance(t, StreamTrigger):
                out.append(Consumer(fn, t, index, t.name, t.batch_size, IN_ORDER))
            elif isinstance(t, TopicTrigger):
                # One message per invocation on SNS, Service Bus and Pub/Sub; a batch
                # handler gets what one receive takes.
                out.append(Consumer(fn, t, index, own, 10 if fn.batch else 1, UNORDERED))
            elif isinstance(t, ChangeTrigger):
                out.append(Consumer(fn, t, index, own, t.batch_size, IN_ORDER))
            elif isinstance(t, ScheduleTrigger):
                name = f"{app.name}-{fn.name}" + (f"-{n}" if n > 1 else "")
                out.append(Consumer(fn, t, index, own, 1, UNORDERED, name))
            else:  # storage and bus events: one per invocation everywhere
                out.append(Consumer(fn, t, index, own, 1, UNORDERED))
    return out


def declare(
    broker: Broker,
    consumers: list[Consumer],
    event_max_deliveries: int | None,
    max_deliveries: Callable[[Consumer], int | None] | None = None,
) -> None:
    """Declare every consumer's queue, subscribe topic consumers and register schedules;
    drop the runtime's subscriptions and schedules the app no longer has.
    ``max_deliveries(consumer)``: a queue trigger's max deliveries as the provider runs
    them (Pub/Sub's dead-letter policy has bounds), instead of the declared one."""
    subscribed: set[tuple[str, str]] = set()
    schedules: set[str] = set()
    for c in consumers:
        t = c.trigger
        if isinstance(t, QueueTrigger):
            broker.declare(
                t.name,
                visibility_timeout=t.visibility_timeout or DEFAULT_VISIBILITY_TIMEOUT,
                max_deliveries=t.max_deliveries if max_deliveries is None else max_deliveries(c),
                fifo=t.fifo,
            )
            continue
        fifo = isinstance(t, StreamTrigger | ChangeTrigger)
        broker.declare(c.queue, max_deliveries=event_max_deliveries, fifo=fifo)
        if isinstance(t, TopicTrigger):
            broker.subscribe(t.name, c.queue, t.filter)
            subscribed.add((t.name, c.queue))
        elif isinstance(t, ScheduleTrigger) and c.schedule is not None:
            broker.register(c.schedule, t.expression, t.timezone)
            schedules.add(c.schedule)
    for sub in broker.subscriptions():
        if sub.name.startswith(PREFIX) and (sub.topic, sub.name) not in subscribed:
            broker.unsubscribe(sub.topic, sub.name)
    # The runtime owns its state dir: a schedule the app no longer declares stops firing.
    for info in broker.schedules():
        if info.name not in schedules:
            broker.unregister(info.name)


def _change_source_matches(declared: str, table: str) -> bool:
    if "{" not in declared:
        return declared == table
    # A collection path with wildcards (Firestore's users/{uid}/orders).
    return match_route("/" + declared, "/" + table) is not None


def wants(c: Consumer, event: OutboxEvent) -> bool:
    """Whether consumer ``c`` takes the outbox event."""
    t, p = c.trigger, event.payload
    if event.kind == "storage":
        return isinstance(t, StorageTrigger) and t.accepts(p["bucket"], p["key"], p["kind"])
    if event.kind == "change":
        return isinstance(t, ChangeTrigger) and _change_source_matches(t.source, p["source"])
    if event.kind == "schedule":
        return isinstance(t, ScheduleTrigger) and c.schedule == p["name"]
    if event.kind == "event":
        attributes = p["attributes"]
        return (
            isinstance(t, EventTrigger)
            and t.bus == p["bus"]
            and t.accepts(attributes["source"], attributes["type"])
        )
    return False


def route(consumers: list[Consumer], event: OutboxEvent) -> list[str]:
    """The queues an outbox event goes to (none: nobody listens, it is dropped)."""
    return list(dict.fromkeys(c.queue for c in consumers if wants(c, event)))


def neutral_event(c: Consumer, lease: Message) -> Any:
    """The neutral event of a leased message, as the consumer's trigger sees it."""
    kind = c.kind
    if kind == "queue":
        return lease.queue_message()
    if kind == "stream":
        # A stream record's id is its sequence number (Kinesis, Event Hubs): the broker's
        # position, increasing in send order and the same on every redelivery.
        record = lease.queue_message()
        record.id = str(lease.sequence)
        record.extensions["message_id"] = lease.id
        return record
    if kind == "topic":
        return lease.topic_message()
    event_kind = lease.attributes.get("polyfn-kind")
    if not isinstance(event_kind, str):
        raise ValueError(f"message {lease.id} in {lease.queue!r} is not an outbox event")
    return build_event(event_kind, json.loads(lease.body))
