"""``LocalDriver``: handler outputs (``ctx.outputs.send/publish/put/emit``) into the
embedded broker.

- ``send`` to a queue nobody declared declares it with the defaults (an app may write to a
  queue no function of it reads); the id is the broker's message id.
- ``publish`` fans out to the topic's subscriptions (none: dropped, as on the clouds).
- ``put`` stores the object and raises its storage event; returns the object's version.
- ``emit`` records the CloudEvent on ``bus`` (``"default"``).

What the broker refuses (a FIFO send without a group id, an unsafe object key, ...) is
raised as :class:`LocalOutputError`, naming the service and the resource as the cloud
drivers' errors do.
"""

from __future__ import annotations

from polyfn.errors import OutputError
from polyfn.events.cloudevent import CloudEvent

from .broker import Broker
from .errors import BrokerError


class LocalOutputError(OutputError):
    provider = "local"


class LocalDriver:
    """An :class:`polyfn.outputs.OutputDriver` writing into a :class:`Broker`."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    def send(
        self,
        queue: str,
        body: bytes,
        attributes: dict[str, str],
        group_id: str | None,
        deduplication_id: str | None,
        delay_seconds: int,
    ) -> str:
        try:
            self.broker.ensure_queue(queue)
            return self.broker.send(
                queue,
                body,
                attributes,
                group_id=group_id,
                deduplication_id=deduplication_id,
                delay_seconds=delay_seconds,
            )
        except BrokerError as exc:
            raise LocalOutputError("queue", queue, str(exc)) from exc

    def publish(
        self, topic: str, body: bytes, attributes: dict[str, str], subject: str | None
    ) -> str:
        try:
            return self.broker.publish(topic, body, attributes, subject)
        except BrokerError as exc:
            raise LocalOutputError("topic", topic, str(exc)) from exc

    def put(
        self,
        bucket: str,
        key: str,
        data: bytes,
        content_type: str | None,
        metadata: dict[str, str],
    ) -> str | None:
        try:
            return self.broker.put(bucket, key, data, content_type, metadata).version
        except BrokerError as exc:
            raise LocalOutputError("storage", f"{bucket}/{key}", str(exc)) from exc

    def emit(self, event: CloudEvent, bus: str | None) -> str:
        try:
            return self.broker.emit(event, bus)
        except BrokerError as exc:
            raise LocalOutputError("event bus", bus or "default", str(exc)) from exc

    def get(self, bucket: str, key: str) -> bytes:
        """The object's content, from the broker's bucket folder."""
        try:
            return self.broker.get(bucket, key).data
        except BrokerError as exc:  # ObjectNotFound, an unsafe key, ...
            raise LocalOutputError("storage", f"{bucket}/{key}", str(exc)) from exc
