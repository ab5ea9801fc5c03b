"""Azure Queue Storage trigger (``queueTrigger``) → QueueMessage, and back.

Native: ``azure.functions.QueueMessage`` as the library's QueueMessageInConverter builds
it from the message text and the trigger metadata ``Id``, ``DequeueCount``,
``InsertionTime``, ``ExpirationTime``, ``NextVisibleTime`` and ``PopReceipt`` (shapes:
tests/events/azure/queue__*, provenance in tests/events/azure/PROVENANCE.md).

``delivery_count`` is the dequeue count (1 on the first delivery, as on SQS);
``enqueued_at`` the insertion time; ``queue`` the binding's ``queueName`` (an
``%AppSetting%`` reference resolved). Storage queues have no message attributes.
``pop_receipt``, ``expiration_time`` and ``time_next_visible`` stay in extensions.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from polyfn.events.messages import QueueMessage

from ..host import HostInvocation
from . import _common as c

EVENT_SOURCE = "azure:queue"
KIND = "queue"
BINDING = "queueTrigger"

_EXTENSIONS = ("pop_receipt", "expiration_time", "time_next_visible")
# What the host renders for a message that never was in a storage queue: Azure's
# default time-to-live, and the 10-minute visibility timeout of the queue listener.
_TTL = timedelta(days=7)
_VISIBILITY = timedelta(minutes=10)


class StorageQueueMessage(QueueMessage):
    """A view of one ``func.QueueMessage``; ``id`` and ``body`` are bound on creation
    (every dispatch reads the id, nearly every handler the body)."""

    __slots__ = ("_b", "_m")
    provider = "azure"
    event_source = EVENT_SOURCE

    def __init__(self, msg: Any, binding: c.Binding | None) -> None:
        self._m = msg
        self._b = binding
        self.id = msg.id
        self.body = msg.get_body()
        if not isinstance(self.id, str):
            raise c.malformed(EVENT_SOURCE, "Id", "missing" if self.id is None else "not a string")

    @property
    def native(self) -> Any:  # type: ignore[override]
        return self._m

    @property
    def attributes(self) -> dict[str, str | bytes]:  # type: ignore[override]
        return {}

    @property
    def delivery_count(self) -> int:  # type: ignore[override]
        count = self._m.dequeue_count
        if count is None:  # a func.QueueMessage built by hand, without metadata
            return 1
        if isinstance(count, bool) or not isinstance(count, int):
            raise c.malformed(EVENT_SOURCE, "DequeueCount", f"not an integer: {count!r}")
        return count

    @property
    def enqueued_at(self) -> datetime | None:  # type: ignore[override]
        return c.check_time(self._m.insertion_time, EVENT_SOURCE, "InsertionTime")

    @property
    def queue(self) -> str:  # type: ignore[override]
        return c.setting(self._b, "queueName")

    @property
    def group_id(self) -> str | None:  # type: ignore[override]
        return None

    @property
    def extensions(self) -> dict[str, Any]:  # type: ignore[override]
        m = self._m
        values = (m.pop_receipt, m.expiration_time, m.time_next_visible)
        return {k: v for k, v in zip(_EXTENSIONS, values, strict=True) if v is not None}


def from_native(msg: Any, binding: c.Binding | None = None) -> QueueMessage:
    from azure.functions import QueueMessage as FuncQueueMessage

    c.expect(msg, FuncQueueMessage, EVENT_SOURCE, binding)
    return StorageQueueMessage(msg, binding)


# -- neutral → native ------------------------------------------------------------------
def to_host(msg: QueueMessage, binding: c.Binding | None = None) -> HostInvocation:
    """The message text and the queue extension's binding data (``QueueTrigger``, ``Id``,
    ``DequeueCount``, the three DateTimeOffsets, ``PopReceipt``) as the host sends them."""
    ext = c.extensions_of(msg, EVENT_SOURCE)
    enqueued = msg.enqueued_at or c.now()
    expires = ext.get("expiration_time") or enqueued + _TTL
    visible = ext.get("time_next_visible") or enqueued + _VISIBILITY
    receipt = ext.get("pop_receipt") or _pop_receipt()
    data = c.payload(msg.body)
    return HostInvocation(
        data,
        c.metadata(
            {
                "QueueTrigger": data if data.type == "string" else None,
                "DequeueCount": c.as_json(msg.delivery_count),
                "ExpirationTime": c.as_json(c.net_offset(expires)),
                "Id": c.string(msg.id),
                "InsertionTime": c.as_json(c.net_offset(enqueued)),
                "NextVisibleTime": c.as_json(c.net_offset(visible)),
                "PopReceipt": c.string(receipt),
            }
        ),
    )


def to_native(msg: QueueMessage, binding: c.Binding | None = None) -> Any:
    """The ``func.QueueMessage`` the worker would hand the function."""
    return c.decode(BINDING, to_host(msg, binding))


def _pop_receipt() -> str:
    import base64
    import uuid

    return base64.b64encode(uuid.uuid4().bytes).decode("ascii")
