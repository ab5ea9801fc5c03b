"""Queue and topic messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from polyfn.events._base import Body, NeutralEvent

Attributes = dict[str, "str | bytes"]


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode() if isinstance(body, str) else body


class QueueMessage(Body, NeutralEvent):
    """A message taken from a queue or from an ordered stream.

    SQS, Kinesis, Azure Queue Storage, Service Bus, Event Hubs and Pub/Sub subscriptions
    all deliver a ``QueueMessage``. ``group_id`` is what orders messages: an SQS FIFO
    message group, a Kinesis or Event Hubs partition key, a Pub/Sub ordering key.
    """

    __slots__ = ("attributes", "body", "delivery_count", "enqueued_at", "group_id", "id", "queue")
    KIND: ClassVar[str] = "queue"
    fields: ClassVar[tuple[str, ...]] = (
        "id",
        "body",
        "attributes",
        "delivery_count",
        "enqueued_at",
        "queue",
        "group_id",
    )
    defaults: ClassVar[dict[str, Any]] = {
        "attributes": dict,
        "delivery_count": 1,
        "enqueued_at": None,
        "queue": "",
        "group_id": None,
    }

    id: str
    body: bytes
    attributes: Attributes
    """User attributes (SQS message attributes, Service Bus application properties, ...)."""
    delivery_count: int
    """1 on the first delivery, then one more for each redelivery."""
    enqueued_at: datetime | None
    queue: str
    """The queue (or stream) name."""
    group_id: str | None

    def __init__(
        self,
        id: str,
        body: bytes | str = b"",
        *,
        attributes: Attributes | None = None,
        delivery_count: int = 1,
        enqueued_at: datetime | None = None,
        queue: str = "",
        group_id: str | None = None,
        provider: str = "local",
        event_source: str = "local:queue",
        extensions: dict[str, Any] | None = None,
        native: Any = None,
    ) -> None:
        self.id = id
        self.body = _as_bytes(body)
        self.attributes = attributes or {}
        self.delivery_count = delivery_count
        self.enqueued_at = enqueued_at
        self.queue = queue
        self.group_id = group_id
        self._init_common(provider, event_source, extensions, native)


class TopicMessage(Body, NeutralEvent):
    """A message published to a topic (SNS, Service Bus topic, Pub/Sub, Event Grid topic)."""

    __slots__ = ("attributes", "body", "id", "published_at", "subject", "topic")
    KIND: ClassVar[str] = "topic"
    fields: ClassVar[tuple[str, ...]] = (
        "id",
        "topic",
        "subject",
        "body",
        "attributes",
        "published_at",
    )
    defaults: ClassVar[dict[str, Any]] = {
        "subject": None,
        "body": b"",
        "attributes": dict,
        "published_at": None,
    }

    id: str
    topic: str
    """The topic name."""
    subject: str | None
    body: bytes
    attributes: Attributes
    published_at: datetime | None

    def __init__(
        self,
        id: str,
        topic: str,
        body: bytes | str = b"",
        *,
        subject: str | None = None,
        attributes: Attributes | None = None,
        published_at: datetime | None = None,
        provider: str = "local",
        event_source: str = "local:topic",
        extensions: dict[str, Any] | None = None,
        native: Any = None,
    ) -> None:
        self.id = id
        self.topic = topic
        self.subject = subject
        self.body = _as_bytes(body)
        self.attributes = attributes or {}
        self.published_at = published_at
        self._init_common(provider, event_source, extensions, native)
