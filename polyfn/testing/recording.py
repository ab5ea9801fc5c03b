"""A driver that records what goes through it, so a test can see every message sent or
published even after a function consumed and acknowledged it (the broker forgets those)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from polyfn.events.cloudevent import CloudEvent
from polyfn.events.messages import QueueMessage, TopicMessage
from polyfn.local.broker import LocalDriver


class Recorder:
    """Messages sent and published, in order; appended from delivery threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sent: list[QueueMessage] = []
        self.published: list[TopicMessage] = []
        self.emitted: list[CloudEvent] = []

    def add(self, items: list, item: object) -> None:
        with self.lock:
            items.append(item)

    def read(self, items: list) -> list:
        with self.lock:
            return list(items)


class RecordingDriver:
    """Passes every output on to ``inner`` (the broker's driver) and records it."""

    def __init__(self, inner: LocalDriver, recorder: Recorder, now: Callable[[], datetime]) -> None:
        self.inner = inner
        self.recorder = recorder
        self.now = now

    def send(
        self,
        queue: str,
        body: bytes,
        attributes: dict[str, str],
        group_id: str | None,
        deduplication_id: str | None,
        delay_seconds: int,
    ) -> str:
        message_id = self.inner.send(
            queue, body, attributes, group_id, deduplication_id, delay_seconds
        )
        message = QueueMessage(
            message_id,
            body,
            attributes=dict(attributes),
            enqueued_at=self.now(),
            queue=queue,
            group_id=group_id,
        )
        self.recorder.add(self.recorder.sent, message)
        return message_id

    def publish(
        self, topic: str, body: bytes, attributes: dict[str, str], subject: str | None
    ) -> str:
        message_id = self.inner.publish(topic, body, attributes, subject)
        message = TopicMessage(
            message_id,
            topic,
            body,
            subject=subject,
            attributes=dict(attributes),
            published_at=self.now(),
        )
        self.recorder.add(self.recorder.published, message)
        return message_id

    def put(
        self,
        bucket: str,
        key: str,
        data: bytes,
        content_type: str | None,
        metadata: dict[str, str],
    ) -> str | None:
        # Objects stay in the broker: tests read them there (``objects``).
        return self.inner.put(bucket, key, data, content_type, metadata)

    def emit(self, event: CloudEvent, bus: str | None) -> str:
        event_id = self.inner.emit(event, bus)
        self.recorder.add(self.recorder.emitted, event)
        return event_id

    def get(self, bucket: str, key: str) -> bytes:
        return self.inner.get(bucket, key)
