"""An output driver that keeps what it is given, for tests."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from polyfn.events.cloudevent import CloudEvent


@dataclass(slots=True)
class Sent:
    """One output call, as the driver received it."""

    kind: str
    target: str
    body: bytes
    options: dict[str, Any] = field(default_factory=dict)


class MemoryDriver:
    """Records every output; ``sent`` lists them in order."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self._ids = itertools.count(1)

    def _keep(self, kind: str, target: str, body: bytes, **options: Any) -> str:
        self.sent.append(Sent(kind, target, body, options))
        return f"{kind}-{next(self._ids)}"

    def send(self, queue, body, attributes, group_id, deduplication_id, delay_seconds) -> str:  # type: ignore[no-untyped-def]
        return self._keep(
            "send",
            queue,
            body,
            attributes=attributes,
            group_id=group_id,
            deduplication_id=deduplication_id,
            delay_seconds=delay_seconds,
        )

    def publish(self, topic, body, attributes, subject) -> str:  # type: ignore[no-untyped-def]
        return self._keep("publish", topic, body, attributes=attributes, subject=subject)

    def put(self, bucket, key, data, content_type, metadata) -> str:  # type: ignore[no-untyped-def]
        return self._keep(
            "put", f"{bucket}/{key}", data, content_type=content_type, metadata=metadata
        )

    def emit(self, event: CloudEvent, bus: str | None) -> str:
        from polyfn.outputs import encode_body

        return self._keep("emit", bus or "default", encode_body(event.data), event=event)

    def get(self, bucket: str, key: str) -> bytes:
        """The data of the last ``put`` of ``bucket/key``."""
        from polyfn.errors import OutputTargetNotFound

        target = f"{bucket}/{key}"
        for s in reversed(self.sent):
            if s.kind == "put" and s.target == target:
                return s.body
        raise OutputTargetNotFound("memory storage", target, "no object was put there")
