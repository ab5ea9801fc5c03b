"""Azure Event Hubs trigger (``eventHubTrigger``) → QueueMessage per event, and back.

Native: ``azure.functions.EventHubEvent`` (a list of them with ``cardinality: many``) as
the library's EventHubTriggerConverter builds it from the body and the Event Hubs
extension's binding data: ``PartitionContext``, ``PartitionKey``, ``Offset``,
``SequenceNumber``, ``EnqueuedTimeUtc``, ``Properties``, ``SystemProperties`` (with
``cardinality: many`` the per-event ones as ``...Array``; the converter then reads
sequence number, offset, partition key and enqueued time from ``SystemPropertiesArray``).
Shapes: tests/events/azure/eventhub__*, provenance in tests/events/azure/PROVENANCE.md.

``id`` is the sequence number as text (unique within the partition a batch comes from);
``group_id`` the partition key; ``enqueued_at`` the enqueued time (the 5.x extension sends
``EnqueuedTime.DateTime``, of unspecified kind, which the converter parses as a naive
time: it is UTC); ``queue`` the binding's ``eventHubName``; ``attributes`` the event's
application properties (typed on Event Hubs: non-string values become their JSON text,
the typed originals stay in ``extensions["properties"]``). ``delivery_count`` is always
1: Event Hubs keeps no delivery count. Extensions: ``offset`` (text for a single event,
an integer in a batch, as the converter gives them), ``system_properties`` (the event's
system properties as the host sent them), ``partition_context`` and, for IoT Hub events,
``iothub_metadata``.

The per-event properties live in the trigger metadata that the converter keeps on each
event (``native.metadata``); a batch shares one metadata object, read once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from polyfn.errors import MalformedEventError
from polyfn.events.messages import QueueMessage

from ..host import HostInvocation
from . import _common as c

EVENT_SOURCE = "azure:eventhub"
KIND = "queue"
BINDING = "eventHubTrigger"

# Keys the extension adds to each event's system properties for bindings, besides the
# AMQP annotations (x-opt-*).
_SYSTEM_KEYS = ("SequenceNumber", "Offset", "PartitionKey", "EnqueuedTimeUtc")


class EventHubMessage(QueueMessage):
    """A view of one ``func.EventHubEvent``."""

    __slots__ = ("_b", "_e", "_i", "_meta")
    provider = "azure"
    event_source = EVENT_SOURCE

    def __init__(
        self, event: Any, binding: c.Binding | None, meta: dict[str, Any], index: int | None
    ) -> None:
        self._e = event
        self._b = binding
        self._meta = meta
        self._i = index  # the position in a cardinality-many batch, else None
        seq = event.sequence_number
        if isinstance(seq, bool) or not isinstance(seq, int):
            where = "SequenceNumber" if index is None else f"SystemPropertiesArray[{index}]"
            raise c.malformed(
                EVENT_SOURCE, where, "missing" if seq is None else f"not an integer: {seq!r}"
            )
        self.id = str(seq)
        self.body = event.get_body()

    def _per_event(self, name: str) -> Any:
        """``name`` (``Properties``) of this event: the single value, or this event's entry
        of ``nameArray`` in a batch."""
        if self._i is None:
            return self._meta.get(name)
        values = self._meta.get(name + "Array")
        if values is None:
            return None
        if not isinstance(values, list) or len(values) <= self._i:
            raise c.malformed(EVENT_SOURCE, f"{name}Array[{self._i}]", "missing")
        return values[self._i]

    @property
    def native(self) -> Any:  # type: ignore[override]
        return self._e

    @property
    def attributes(self) -> dict[str, str | bytes]:  # type: ignore[override]
        return c.attributes(self._per_event("Properties"), EVENT_SOURCE, self._where())[0]

    def _where(self) -> str:
        return "Properties" if self._i is None else f"PropertiesArray[{self._i}]"

    @property
    def delivery_count(self) -> int:  # type: ignore[override]
        return 1

    @property
    def enqueued_at(self) -> datetime | None:  # type: ignore[override]
        return c.check_time(self._e.enqueued_time, EVENT_SOURCE, "EnqueuedTimeUtc")

    @property
    def queue(self) -> str:  # type: ignore[override]
        return c.setting(self._b, "eventHubName", "path")

    @property
    def group_id(self) -> str | None:  # type: ignore[override]
        return self._e.partition_key

    @property
    def extensions(self) -> dict[str, Any]:  # type: ignore[override]
        e = self._e
        out: dict[str, Any] = {}
        if e.offset is not None:
            out["offset"] = e.offset
        typed = c.attributes(self._per_event("Properties"), EVENT_SOURCE, self._where())[1]
        if typed:
            out["properties"] = typed
        system = self._per_event("SystemProperties")
        if system is not None:
            out["system_properties"] = system
        context = self._meta.get("PartitionContext")
        if context is not None:
            out["partition_context"] = context
        if e.iothub_metadata:
            out["iothub_metadata"] = dict(e.iothub_metadata)
        return out


def from_native(obj: Any, binding: c.Binding | None = None) -> QueueMessage | list[QueueMessage]:
    from azure.functions import EventHubEvent

    if isinstance(obj, list):
        for event in obj:
            c.expect(event, EventHubEvent, EVENT_SOURCE, binding)
        # One metadata dict for the whole batch: each event would convert it anew.
        meta = (obj[0].metadata or {}) if obj else {}
        return [EventHubMessage(e, binding, meta, i) for i, e in enumerate(obj)]
    c.expect(obj, EventHubEvent, EVENT_SOURCE, binding)
    return EventHubMessage(obj, binding, obj.metadata or {}, None)


# -- neutral → native ------------------------------------------------------------------
def _same_time(text: Any, value: datetime) -> bool:
    try:
        return c.parse_time(text, EVENT_SOURCE, "EnqueuedTimeUtc") == value
    except MalformedEventError:
        return False


def _fields(event: QueueMessage) -> dict[str, Any]:
    ext = c.extensions_of(event, EVENT_SOURCE)
    try:
        seq = int(event.id)
    except ValueError:
        raise ValueError(
            f"an Event Hubs event's id is its sequence number; {event.id!r} is not one"
        ) from None
    enqueued = event.enqueued_at or c.now()
    offset = ext.get("offset", seq * 512)  # any increasing position will do
    system = dict(ext.get("system_properties") or {})
    if not system:
        system = {
            "x-opt-sequence-number": seq,
            "x-opt-offset": str(offset),
            "x-opt-enqueued-time": c.net_utc(enqueued),  # an AMQP timestamp: UTC
        }
        if event.group_id is not None:
            system["x-opt-partition-key"] = event.group_id
    # The extension's own keys follow the typed fields; unchanged ones keep their text.
    if system.get("SequenceNumber") != seq:
        system["SequenceNumber"] = seq
    if str(system.get("Offset")) != str(offset):
        system["Offset"] = _number(offset)
    if "PartitionKey" not in system or system["PartitionKey"] != event.group_id:
        system["PartitionKey"] = event.group_id
    if not _same_time(system.get("EnqueuedTimeUtc"), enqueued):
        system["EnqueuedTimeUtc"] = c.net_unspecified(enqueued)
    for name, value in (ext.get("iothub_metadata") or {}).items():
        system.setdefault("iothub-" + name, value)
    return {
        "body": event.body,
        "seq": seq,
        "offset": offset,
        "partition_key": event.group_id,
        "enqueued": enqueued,
        "properties": c.restore(event.attributes, ext.get("properties")),
        "system": system,
        "context": ext.get("partition_context") or _context(event),
    }


def _number(offset: Any) -> Any:
    """The extension's ``Offset`` is a long: digits travel as a JSON number."""
    text = str(offset)
    return int(text) if text.lstrip("-").isdigit() else text


def _context(event: QueueMessage) -> dict[str, Any]:
    """A PartitionContext like the v5 extension's, for an event that never was on Azure."""
    return {
        "FullyQualifiedNamespace": "polyfn.servicebus.windows.net",
        "EventHubName": event.queue or "events",
        "ConsumerGroup": "$Default",
        "PartitionId": "0",
    }


def to_host(
    event: QueueMessage | list[QueueMessage], binding: c.Binding | None = None
) -> HostInvocation:
    """One event as the host sends it with ``cardinality: one``; a list as with
    ``cardinality: many``."""
    if isinstance(event, list):
        fs = [_fields(e) for e in event]
        return HostInvocation(
            c.bodies([f["body"] for f in fs]),
            {
                "PartitionContext": c.as_json(fs[0]["context"] if fs else {}),
                "PartitionKeyArray": c.strings(f["partition_key"] for f in fs),
                "OffsetArray": c.strings(str(f["offset"]) for f in fs),
                "SequenceNumberArray": c.longs(f["seq"] for f in fs),
                "EnqueuedTimeUtcArray": c.as_json([c.net_unspecified(f["enqueued"]) for f in fs]),
                "PropertiesArray": c.as_json([f["properties"] for f in fs]),
                "SystemPropertiesArray": c.as_json([f["system"] for f in fs]),
            },
        )
    f = _fields(event)
    return HostInvocation(
        c.payload(f["body"]),
        c.metadata(
            {
                "PartitionContext": c.as_json(f["context"]),
                "PartitionKey": None
                if f["partition_key"] is None
                else c.string(f["partition_key"]),
                "Offset": c.as_json(_number(f["offset"])),
                "SequenceNumber": c.as_json(f["seq"]),
                "EnqueuedTimeUtc": c.as_json(c.net_unspecified(f["enqueued"])),
                "Properties": c.as_json(f["properties"]),
                "SystemProperties": c.as_json(f["system"]),
            }
        ),
    )


def to_native(event: QueueMessage | list[QueueMessage], binding: c.Binding | None = None) -> Any:
    """The ``func.EventHubEvent`` (or list) the worker would hand the function."""
    return c.decode(BINDING, to_host(event, binding))
