"""Dead-letter routing in the handler: a poison event is parked, not retried forever.

``@dead_letter("orders-dlq", max_attempts=5)`` lets the handler fail and be redelivered
until the event has failed ``max_attempts`` times in total, across deliveries; that last
time the event goes to the queue ``orders-dlq`` (through ``ctx.outputs.send``) and the
handler returns normally, so the provider acks it and moves on. Put it under the
trigger decorator (it wraps the per-record handler: on a batch trigger each record
counts alone)::

    @app.stream("clicks")
    @dead_letter("clicks-poison", max_attempts=3, store=DynamoDBStore("state"))
    def handle(record, ctx): ...

How attempts are counted
    From the delivery count the provider reports when it keeps one: SQS
    ``ApproximateReceiveCount``, Azure Queue Storage ``DequeueCount``, Service Bus
    ``DeliveryCount``, Pub/Sub ``deliveryAttempt`` (sent only when the subscription has a
    dead-letter policy), the local broker's count. The neutral ``delivery_count`` is
    always an int (1 when the source keeps no count: Kinesis, Event Hubs, DynamoDB
    Streams, Pub/Sub without a dead-letter policy; topic, change, storage and bus events
    have no such field), so the sources are told apart by ``event_source``; for the others
    each failure is counted in ``store`` under the function and the event's key
    (``"{event_source}:{id}"``; ``key=`` to change), shared by every instance when the
    store is (SQLite for the local runtime, DynamoDB, ...). The default store is a
    process-local MemoryStore: enough for one instance, not for a fleet.

When to prefer the provider's own dead-letter queue
    For queue triggers, the provider's redrive is the first choice: ``max_deliveries`` on
    ``@app.queue`` becomes SQS's redrive policy, Azure's max dequeue / delivery count and
    Pub/Sub's dead-letter policy in the deploy descriptors; it costs no code and catches
    crashes and timeouts too, which this decorator cannot (it only sees exceptions).
    Use ``dead_letter`` where the provider has no dead-letter queue for the source: ordered
    streams (Kinesis, Event Hubs, DynamoDB Streams, Cosmos DB / Firestore change feeds),
    where a poison record otherwise blocks its shard or partition until it expires; or
    when the parked event must carry why it failed (the attributes below).

The dead-letter message: the event's body unchanged (events without a body: CloudEvent
data, or the event's JSON fields), its attributes (binary values base64-encoded), and:

===========================  ================================================================
``polyfn-source``            where it came from: ``event_source`` and, when known, ``:`` and
                             the queue / topic / stream / bucket / table (``aws:sqs:orders``)
``polyfn-event-id``          the event's id
``polyfn-function``          the function that gave up on it
``polyfn-attempts``          how many times it failed
``polyfn-error-type``        the last exception's class name
``polyfn-error-message``     its message, cut to 512 characters (Pub/Sub attribute values
                             are at most 1024 bytes: https://cloud.google.com/pubsub/quotas)
===========================  ================================================================

Limits: an SQS message carries at most 10 attributes
(https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-message-metadata.html),
so an event with more than 4 of its own cannot be parked on SQS with all of these; Azure
Queue Storage messages have no attributes at all (the Azure driver drops them with a
warning): park on a Service Bus queue to keep them.
"""

from __future__ import annotations

import base64
import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any

from polyfn.events._base import json_bytes
from polyfn.patterns.store import MemoryStore, StateStore

log = logging.getLogger("polyfn.patterns")

SOURCE = "polyfn-source"
EVENT_ID = "polyfn-event-id"
FUNCTION = "polyfn-function"
ATTEMPTS = "polyfn-attempts"
ERROR_TYPE = "polyfn-error-type"
ERROR_MESSAGE = "polyfn-error-message"
ERROR_MESSAGE_MAX = 512

# Event sources whose delivery_count is the provider's own count of deliveries.
COUNTING_SOURCES = frozenset({"aws:sqs", "azure:queue", "azure:servicebus", "local:queue"})
EXPIRES_AFTER = 7 * 86400.0  # a failure count outlives the longest stream retention we meet


def default_key(event: Any) -> str:
    return f"{event.event_source}:{event.id}"


def provider_attempts(event: Any) -> int | None:
    """This delivery's number as the provider counts it (1 = first), or None when the
    provider keeps no count for this event's source."""
    source = getattr(event, "event_source", "")
    count = getattr(event, "delivery_count", None)
    if count is not None and source in COUNTING_SOURCES:
        return int(count)
    ext = getattr(event, "extensions", None) or {}
    if source == "gcp:pubsub":
        # deliveryAttempt is sent only under a dead-letter policy (absent or 0 otherwise):
        # https://cloud.google.com/pubsub/docs/handling-failures#track-delivery-attempts
        raw = ext.get("deliveryAttempt")
        return int(raw) if raw not in (None, 0, "0") else None
    if source == "azure:servicebus" and ext.get("delivery_count") is not None:
        return int(ext["delivery_count"])  # a Service Bus topic subscription's message
    if count is not None and int(count) > 1:
        return int(count)  # a source we do not know, but it did count
    return None


def _source_name(event: Any) -> str | None:
    for field in ("queue", "topic", "bucket"):
        value = getattr(event, field, None)
        if value:
            return str(value)
    value = getattr(event, "source", None)  # change events: the table; CloudEvents: source
    return str(value) if value else None


def _parked(event: Any) -> tuple[bytes, dict[str, str]]:
    """The body and attributes a parked event keeps."""
    body = getattr(event, "body", None)
    if body is None:
        from polyfn.outputs import encode_body

        if getattr(event, "KIND", "") == "cloudevent":
            body = encode_body(event.data) if event.data is not None else b""
        else:
            body = json_bytes(_jsonable(event.values()))
    attributes: dict[str, str] = {}
    for k, v in (getattr(event, "attributes", None) or {}).items():
        attributes[k] = base64.b64encode(v).decode("ascii") if isinstance(v, bytes) else str(v)
    return body, attributes


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def dead_letter_attributes(
    event: Any, function: str, attempts: int, error: BaseException
) -> dict[str, str]:
    """The ``polyfn-*`` attributes a parked event gets (see the module)."""
    name = _source_name(event)
    source = event.event_source + (f":{name}" if name else "")
    return {
        SOURCE: source,
        EVENT_ID: str(event.id),
        FUNCTION: function,
        ATTEMPTS: str(attempts),
        ERROR_TYPE: type(error).__name__,
        ERROR_MESSAGE: str(error)[:ERROR_MESSAGE_MAX],
    }


def dead_letter(
    queue: str,
    *,
    max_attempts: int,
    store: StateStore | None = None,
    key: Callable[[Any], str] | None = None,
    expires_after: float = EXPIRES_AFTER,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Park an event in ``queue`` once it has failed ``max_attempts`` times in total
    (see the module). ``store``: where failures are counted for sources without a
    delivery count; ``key``: the event's key there; ``expires_after``: how long a count
    is kept after its last failure."""
    if max_attempts < 1:
        raise ValueError(f"dead_letter: max_attempts must be >= 1, not {max_attempts}")
    the_store: StateStore = store if store is not None else MemoryStore()
    key_of = key or default_key

    def record_failure(k: str) -> int:
        """Count one more failure under ``k`` (compare-and-set: instances race); the total."""
        while True:
            entry = the_store.get(k)
            count = (entry.value if entry is not None else 0) + 1
            version = None if entry is None else entry.version
            expires = the_store.time() + expires_after
            if the_store.compare_and_set(k, count, version=version, expires_at=expires):
                return count

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        from polyfn.app import _takes_context

        takes_ctx = _takes_context(fn)
        default_name = getattr(fn, "__name__", "handler")

        def args(event: Any, ctx: Any) -> tuple[Any, ...]:
            return (event, ctx) if takes_ctx else (event,)

        def failed(event: Any, ctx: Any, error: Exception) -> bool:
            """Count the failure; True when the event was parked (the handler returns)."""
            if isinstance(event, list):
                raise TypeError(
                    "dead_letter wraps a per-record handler; a batch=True handler gets a "
                    "list: drop batch=True, or park records yourself"
                ) from error
            if ctx is None:
                raise TypeError("dead_letter: the handler was called without a context")
            function = getattr(ctx, "function_name", None) or default_name
            attempts = provider_attempts(event)
            k = f"dead-letter:{function}:{key_of(event)}"
            if attempts is None:
                attempts = record_failure(k)
            if attempts < max_attempts:
                return False
            body, attributes = _parked(event)
            attributes.update(dead_letter_attributes(event, function, attempts, error))
            ctx.outputs.send(queue, body, attributes=attributes)
            the_store.delete(k)
            log.warning(
                "function %r parked %s event %s in %r after %d failed attempts: %s: %s",
                function,
                event.event_source,
                event.id,
                queue,
                attempts,
                type(error).__name__,
                error,
            )
            return True

        if inspect.iscoroutinefunction(fn):

            async def async_wrapper(event: Any, ctx: Any = None) -> Any:
                try:
                    return await fn(*args(event, ctx))
                except Exception as e:
                    if failed(event, ctx, e):
                        return None
                    raise

            return functools.wraps(fn)(async_wrapper)

        def wrapper(event: Any, ctx: Any = None) -> Any:
            try:
                return fn(*args(event, ctx))
            except Exception as e:
                if failed(event, ctx, e):
                    return None
                raise

        return functools.wraps(fn)(wrapper)

    return decorate
