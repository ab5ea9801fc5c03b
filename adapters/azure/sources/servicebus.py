"""Azure Service Bus trigger (``serviceBusTrigger``) → QueueMessage or TopicMessage, and back.

Native: ``azure.functions.ServiceBusMessage`` (a list of them with ``cardinality: many``)
as the library's ServiceBusMessageInConverter builds it from the body and the Service Bus
extension's binding data (v5: ``MessageId``, ``DeliveryCount``, ``EnqueuedTimeUtc``,
``SessionId``, ``ApplicationProperties`` / ``UserProperties``, ``LockToken``, ...; with
``cardinality: many`` the same names with an ``Array`` suffix). Shapes:
tests/events/azure/servicebus__*, provenance in tests/events/azure/PROVENANCE.md.

A binding with ``queueName`` yields QueueMessage: ``id`` = message id,
``delivery_count``, ``enqueued_at`` = enqueued time, ``group_id`` = session id,
``queue`` = the queue name. A binding with ``topicName`` (and ``subscriptionName``) yields
TopicMessage: ``topic`` = the topic name, ``subject`` = the message subject (``label``
on older extensions), ``published_at`` = enqueued time; there the delivery count and the
session id stay in extensions.

``attributes`` are the application properties. They are typed on Service Bus; a
non-string value becomes its JSON text (``true``, ``3``) and the typed original stays in
``extensions["application_properties"]``. Every other message property the converter
fills stays in extensions under its azure.functions name (``sequence_number``,
``lock_token``, ``correlation_id``, ``content_type``, ``reply_to``, ``to``,
``expires_at_utc``, ``dead_letter_source``, ``partition_key``, ...); the raw trigger
metadata stays reachable at ``native.metadata``.

Known host behaviour, inherited here: with ``cardinality: many`` the host drops null and
empty entries from string arrays (``ContentTypeArray``, ``CorrelationIdArray``, ...),
because the Python worker does not declare IncludeEmptyEntriesInMessagePayload; a string
property that only some messages of a batch carry can therefore land on the wrong
message. The v5 extension also fills ``TransactionPartitionKeyArray`` with the partition
keys. ``to_host`` renders both exactly so.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from polyfn.events.messages import QueueMessage, TopicMessage

from ..host import HostInvocation
from . import _common as c

EVENT_SOURCE = "azure:servicebus"
KIND = "queue"  # "topic" for a binding with topicName
BINDING = "serviceBusTrigger"

# (azure.functions attribute, trigger metadata name, how the host renders it). The
# first block is what the v5 extension sends; the second only older extensions sent,
# rendered when an event carries them.
_V5 = (
    ("content_type", "ContentType", "str"),
    ("correlation_id", "CorrelationId", "str"),
    ("dead_letter_source", "DeadLetterSource", "str"),
    ("expires_at_utc", "ExpiresAtUtc", "time"),
    ("label", "Label", "str"),
    ("lock_token", "LockToken", "str"),
    ("partition_key", "PartitionKey", "str"),
    ("reply_to", "ReplyTo", "str"),
    ("reply_to_session_id", "ReplyToSessionId", "str"),
    ("sequence_number", "SequenceNumber", "int"),
    ("subject", "Subject", "str"),
    ("to", "To", "str"),
    ("transaction_partition_key", "TransactionPartitionKey", "str"),
)
_OLDER = (
    ("dead_letter_error_description", "DeadLetterErrorDescription", "str"),
    ("dead_letter_reason", "DeadLetterReason", "str"),
    ("enqueued_sequence_number", "EnqueuedSequenceNumber", "int"),
    ("locked_until", "LockedUntil", "time"),
    ("scheduled_enqueue_time_utc", "ScheduledEnqueueTimeUtc", "time"),
    ("state", "State", "int"),
    ("time_to_live", "TimeToLive", "ttl"),
)
_OPTIONAL = _V5 + _OLDER
_OPTIONAL_ATTRS = tuple(attr for attr, _, _ in _OPTIONAL)
_NEVER_EXPIRES = datetime.max.replace(tzinfo=UTC)  # DateTimeOffset.MaxValue, to µs


def _props(m: Any) -> Any:
    props = m.application_properties
    return m.user_properties if props is None else props


class _Native:
    """Reads shared by the queue and the topic view (``_m``: the ServiceBusMessage)."""

    __slots__ = ()
    _m: Any
    _consumed: frozenset[str] = frozenset()

    @property
    def native(self) -> Any:
        return self._m

    @property
    def attributes(self) -> dict[str, str | bytes]:
        return c.attributes(_props(self._m), EVENT_SOURCE, "ApplicationProperties")[0]

    def _enqueued(self) -> datetime | None:
        return c.check_time(self._m.enqueued_time_utc, EVENT_SOURCE, "EnqueuedTimeUtc")

    def _delivery_count(self) -> int:
        count = self._m.delivery_count
        if count is None:  # a func.ServiceBusMessage built by hand
            return 1
        if isinstance(count, bool) or not isinstance(count, int):
            raise c.malformed(EVENT_SOURCE, "DeliveryCount", f"not an integer: {count!r}")
        return count

    @property
    def extensions(self) -> dict[str, Any]:
        m = self._m
        out = {}
        for attr in _OPTIONAL_ATTRS:
            value = getattr(m, attr)
            if value is not None and attr not in self._consumed:
                out[attr] = value
        typed = c.attributes(_props(m), EVENT_SOURCE, "ApplicationProperties")[1]
        if typed:
            out["application_properties"] = typed
        return out


def _bind(view: Any, msg: Any, binding: c.Binding | None, index: int | None) -> None:
    view._m = msg
    view._b = binding
    view.id = msg.message_id
    view.body = msg.get_body()
    if not isinstance(view.id, str):
        field = "MessageId" if index is None else f"MessageIdArray[{index}]"
        raise c.malformed(EVENT_SOURCE, field, "missing" if view.id is None else "not a string")


class ServiceBusQueueMessage(_Native, QueueMessage):
    """A view of one ``func.ServiceBusMessage`` from a queue."""

    __slots__ = ("_b", "_m")
    provider = "azure"
    event_source = EVENT_SOURCE

    def __init__(self, msg: Any, binding: c.Binding | None, index: int | None = None) -> None:
        _bind(self, msg, binding, index)

    @property
    def delivery_count(self) -> int:  # type: ignore[override]
        return self._delivery_count()

    @property
    def enqueued_at(self) -> datetime | None:  # type: ignore[override]
        return self._enqueued()

    @property
    def queue(self) -> str:  # type: ignore[override]
        return c.setting(self._b, "queueName")

    @property
    def group_id(self) -> str | None:  # type: ignore[override]
        return self._m.session_id


class ServiceBusTopicMessage(_Native, TopicMessage):
    """A view of one ``func.ServiceBusMessage`` from a topic subscription."""

    __slots__ = ("_b", "_m")
    provider = "azure"
    event_source = EVENT_SOURCE
    _consumed = frozenset({"subject"})

    def __init__(self, msg: Any, binding: c.Binding | None, index: int | None = None) -> None:
        _bind(self, msg, binding, index)

    @property
    def topic(self) -> str:  # type: ignore[override]
        return c.setting(self._b, "topicName")

    @property
    def subject(self) -> str | None:  # type: ignore[override]
        m = self._m
        return m.label if m.subject is None else m.subject

    @property
    def published_at(self) -> datetime | None:  # type: ignore[override]
        return self._enqueued()

    @property
    def extensions(self) -> dict[str, Any]:  # type: ignore[override]
        out = super().extensions
        m = self._m
        if m.delivery_count is not None:
            out["delivery_count"] = self._delivery_count()
        if m.session_id is not None:
            out["session_id"] = m.session_id
        return out


def from_native(
    obj: Any, binding: c.Binding | None = None
) -> QueueMessage | TopicMessage | list[QueueMessage] | list[TopicMessage]:
    from azure.functions import ServiceBusMessage

    view = ServiceBusTopicMessage if binding and binding.get("topicName") else None
    view = view or ServiceBusQueueMessage
    if isinstance(obj, list):
        for msg in obj:
            c.expect(msg, ServiceBusMessage, EVENT_SOURCE, binding)
        return [view(m, binding, i) for i, m in enumerate(obj)]  # type: ignore[misc]
    c.expect(obj, ServiceBusMessage, EVENT_SOURCE, binding)
    return view(obj, binding)


# -- neutral → native ------------------------------------------------------------------
def _fields(event: QueueMessage | TopicMessage) -> dict[str, Any]:
    """Every ServiceBusMessage property of ``event``, by azure.functions name."""
    ext = c.extensions_of(event, EVENT_SOURCE)
    out = {attr: ext.get(attr) for attr in _OPTIONAL_ATTRS}
    out["message_id"] = event.id
    out["body"] = event.body
    out["application_properties"] = c.restore(event.attributes, ext.get("application_properties"))
    if isinstance(event, TopicMessage):
        out["delivery_count"] = ext.get("delivery_count", 1)
        out["session_id"] = ext.get("session_id")
        out["subject"] = event.subject
        out["enqueued_time_utc"] = event.published_at
    else:
        out["delivery_count"] = event.delivery_count
        out["session_id"] = event.group_id
        out["enqueued_time_utc"] = event.enqueued_at
    if out["enqueued_time_utc"] is None:
        out["enqueued_time_utc"] = c.now()
    if "label" not in ext:  # the v5 extension sends the subject under both names
        out["label"] = out["subject"]
    # What the host always has for a received message.
    if out["sequence_number"] is None:
        out["sequence_number"] = 1
    if out["lock_token"] is None:
        import uuid

        out["lock_token"] = str(uuid.uuid4())
    if out["expires_at_utc"] is None:
        out["expires_at_utc"] = _NEVER_EXPIRES
    return out


def _ttl(value: timedelta) -> str | None:
    # The converter parses only HH:MM:SS; longer or fractional spans cannot travel.
    seconds = value.total_seconds()
    if value.microseconds or not 0 <= seconds < 86400:
        return None
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def _render(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "str":
        return c.string(value)
    if kind == "int":
        return c.as_json(value)
    if kind == "time":
        return c.as_json(c.net_unspecified(value))
    text = _ttl(value)
    return None if text is None else c.string(text)


def _single(f: dict[str, Any]) -> HostInvocation:
    enqueued, expires = f["enqueued_time_utc"], f["expires_at_utc"]
    values: dict[str, Any] = {
        "MessageId": c.string(f["message_id"]),
        "DeliveryCount": c.as_json(f["delivery_count"]),
        "EnqueuedTimeUtc": c.as_json(c.net_unspecified(enqueued)),
        "EnqueuedTime": c.as_json(c.net_offset(enqueued)),
        "ExpiresAt": c.as_json(c.net_offset(expires)),
        "SessionId": None if f["session_id"] is None else c.string(f["session_id"]),
        "ApplicationProperties": c.as_json(f["application_properties"]),
        "UserProperties": c.as_json(f["application_properties"]),
    }
    for attr, name, kind in _OPTIONAL:
        values[name] = _render(kind, f[attr])
    return HostInvocation(c.payload(f["body"]), c.metadata(values))


def _times(values: list[Any]) -> Any:
    return c.as_json([None if v is None else c.net_unspecified(v) for v in values])


def _batch(fs: list[dict[str, Any]]) -> HostInvocation:
    def col(attr: str) -> list[Any]:
        return [f[attr] for f in fs]

    props = col("application_properties")
    values: dict[str, Any] = {
        "DeliveryCountArray": c.as_json(col("delivery_count")),
        "DeadLetterSourceArray": c.strings(col("dead_letter_source")),
        "LockTokenArray": c.strings(col("lock_token")),
        "ExpiresAtUtcArray": _times(col("expires_at_utc")),
        "ExpiresAtArray": c.as_json([c.net_offset(v) for v in col("expires_at_utc")]),
        "EnqueuedTimeUtcArray": _times(col("enqueued_time_utc")),
        "EnqueuedTimeArray": c.as_json([c.net_offset(v) for v in col("enqueued_time_utc")]),
        "MessageIdArray": c.strings(col("message_id")),
        "ContentTypeArray": c.strings(col("content_type")),
        "ReplyToArray": c.strings(col("reply_to")),
        "SequenceNumberArray": c.longs(col("sequence_number")),
        "ToArray": c.strings(col("to")),
        "SubjectArray": c.strings(col("subject")),
        "LabelArray": c.strings(col("label")),
        "CorrelationIdArray": c.strings(col("correlation_id")),
        "ApplicationPropertiesArray": c.as_json(props),
        "UserPropertiesArray": c.as_json(props),
        "SessionIdArray": c.strings(col("session_id")),
        "ReplyToSessionIdArray": c.strings(col("reply_to_session_id")),
        "PartitionKeyArray": c.strings(col("partition_key")),
        # sic: the v5 extension's GetBindingData adds the partition keys here.
        "TransactionPartitionKeyArray": c.strings(col("partition_key")),
    }
    for attr, name, kind in _OLDER:
        column = col(attr)
        if all(v is None for v in column):
            continue
        if kind == "time":
            values[name + "Array"] = _times(column)
        elif kind == "int":
            values[name + "Array"] = c.longs(0 if v is None else v for v in column)
        else:
            texts = column if kind == "str" else [None if v is None else _ttl(v) for v in column]
            values[name + "Array"] = c.strings(texts)
    return HostInvocation(c.bodies(col("body")), values)


def to_host(
    event: QueueMessage | TopicMessage | list[Any], binding: c.Binding | None = None
) -> HostInvocation:
    """One message as the host sends it with ``cardinality: one``; a list as with
    ``cardinality: many``."""
    if isinstance(event, list):
        return _batch([_fields(e) for e in event])
    return _single(_fields(event))


def to_native(
    event: QueueMessage | TopicMessage | list[Any], binding: c.Binding | None = None
) -> Any:
    """The ``func.ServiceBusMessage`` (or list) the worker would hand the function."""
    return c.decode(BINDING, to_host(event, binding))
