"""Amazon SQS (standard and FIFO) → QueueMessage, and back.

Shape: https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html (tests/events/aws/sqs__*).
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from itertools import count
from typing import TYPE_CHECKING, Any, cast

from polyfn.dispatch import BY_GROUP, UNORDERED
from polyfn.events.messages import QueueMessage
from polyfn.results import BatchOutcome

from .. import defaults
from .._fields import arn_name, datetime_to_ms, malformed, ms_to_datetime, need, without
from ._views import RecordView, aws_extensions

if TYPE_CHECKING:
    from .. import native_types

KEY = "sqs"
EVENT_SOURCE = "aws:sqs"
KIND = "queue"

_CONSUMED = frozenset({"messageId", "body", "messageAttributes", "eventSource", "attributes"})
_CONSUMED_ATTRS = frozenset({"ApproximateReceiveCount", "SentTimestamp", "MessageGroupId"})


def _value_key(attr: dict[str, Any]) -> str:
    return "binaryValue" if str(attr.get("dataType", "")).startswith("Binary") else "stringValue"


class SqsMessage(RecordView, QueueMessage):
    """A lazy view of one SQS record.

    ``id`` and ``text`` are bound when the view is made: the dispatcher reads every id
    anyway and nearly every handler reads the body, and a slot reads several times faster
    than a property. Binding copies two references; nothing is parsed or decoded. A
    record lacking either field becomes an :class:`_IncompleteSqsMessage`, whose reads
    of the missing field raise the typed error. (Hence its own ``__init__``, not
    RecordView's.)
    """

    __slots__ = ("_i", "_r", "id", "text")
    event_source = EVENT_SOURCE

    def __init__(self, record: dict[str, Any], index: int) -> None:
        self._r = record
        self._i = index
        try:
            self.id = record["messageId"]
            self.text = record["body"]
        except (KeyError, TypeError):
            self.__class__ = _IncompleteSqsMessage

    @property
    def native(self) -> native_types.SQSRecord:  # type: ignore[override]
        return cast("native_types.SQSRecord", self._r)

    @property
    def body(self) -> bytes:  # type: ignore[override]
        return self.text.encode("utf-8")

    @property
    def _attrs(self) -> dict[str, Any]:
        return self._r.get("attributes") or {}

    @property
    def attributes(self) -> dict[str, str | bytes]:  # type: ignore[override]
        out: dict[str, str | bytes] = {}
        for name, value in (self._r.get("messageAttributes") or {}).items():
            where = f".messageAttributes.{name}"
            data_type = self._need("dataType", value, where)
            if data_type.startswith("Binary"):
                raw = self._need("binaryValue", value, where)
                try:
                    out[name] = base64.b64decode(raw, validate=True)
                except ValueError:
                    raise malformed(
                        EVENT_SOURCE, f"Records[{self._i}]{where}.binaryValue", "not base64"
                    ) from None
            else:
                out[name] = self._need("stringValue", value, where)
        return out

    @property
    def delivery_count(self) -> int:  # type: ignore[override]
        raw = self._attrs.get("ApproximateReceiveCount", "1")
        try:
            return int(raw)
        except ValueError:
            raise malformed(
                EVENT_SOURCE,
                f"Records[{self._i}].attributes.ApproximateReceiveCount",
                f"not an integer: {raw!r}",
            ) from None

    @property
    def enqueued_at(self) -> datetime | None:  # type: ignore[override]
        raw = self._attrs.get("SentTimestamp")
        field = f"Records[{self._i}].attributes.SentTimestamp"
        return None if raw is None else ms_to_datetime(raw, EVENT_SOURCE, field)

    @property
    def queue(self) -> str:  # type: ignore[override]
        return arn_name(self._r.get("eventSourceARN") or "")

    @property
    def group_id(self) -> str | None:  # type: ignore[override]
        return self._attrs.get("MessageGroupId")

    @property
    def extensions(self) -> dict[str, Any]:  # type: ignore[override]
        ext = without(self._r, _CONSUMED)
        ext["attributes"] = without(self._attrs, _CONSUMED_ATTRS)
        # Per attribute, everything but its value (dataType, the list fields), so that the
        # record is rebuilt exactly as delivered.
        shapes = {
            name: {k: v for k, v in value.items() if k != _value_key(value)}
            for name, value in (self._r.get("messageAttributes") or {}).items()
        }
        if shapes:
            ext["messageAttributes"] = shapes
        return ext


class _IncompleteSqsMessage(SqsMessage):
    """An SQS record without messageId or body: reading it names the missing field.
    (Properties rather than a ``__getattr__`` hook on SqsMessage, which would slow every
    attribute access of every healthy record.)"""

    __slots__ = ()

    def _field(self, key: str) -> Any:
        if not isinstance(self._r, dict):
            raise malformed(EVENT_SOURCE, f"Records[{self._i}]", "expected an object")
        return self._need(key)

    @property
    def id(self) -> str:  # type: ignore[override]
        return self._field("messageId")

    @property
    def text(self) -> str:  # type: ignore[override]
        return self._field("body")


def from_native(event: dict[str, Any]) -> list[QueueMessage]:
    # On every invocation's path: a direct lookup (`need` only to name the error), and
    # map() over count() rather than a comprehension unpacking enumerate's pairs.
    try:
        records = event["Records"]
    except (KeyError, TypeError):
        records = need(event, "Records", EVENT_SOURCE, "")
    return list(map(SqsMessage, records, count()))


def order(event: dict[str, Any]) -> str:
    records = event.get("Records") or ()
    fifo = bool(records) and str(records[0].get("eventSourceARN", "")).endswith(".fifo")
    return BY_GROUP if fifo else UNORDERED


def batch_response(
    outcome: BatchOutcome, records: list[QueueMessage]
) -> native_types.SQSBatchResponse:
    return {"batchItemFailures": [{"itemIdentifier": i} for i in outcome.failed_ids]}


# -- neutral → native ------------------------------------------------------------------
def _message_attribute(value: str | bytes, shape: dict[str, Any] | None) -> dict[str, Any]:
    if isinstance(value, bytes):
        out = {"binaryValue": base64.b64encode(value).decode()}
        default_type = "Binary"
    else:
        out = {"stringValue": value}
        default_type = "String"
    out.update(shape or {"stringListValues": [], "binaryListValues": [], "dataType": default_type})
    return out


def record(msg: QueueMessage) -> dict[str, Any]:
    # hashlib (OpenSSL) is only needed here, not at cold start.
    import hashlib

    ext = aws_extensions(msg)
    shapes = ext.pop("messageAttributes", {})
    sent = msg.enqueued_at or datetime.now(UTC)
    attrs: dict[str, Any] = {
        "ApproximateReceiveCount": str(msg.delivery_count),
        "SentTimestamp": datetime_to_ms(sent),
    }
    extra_attrs = ext.pop("attributes", None)
    if extra_attrs is None:
        extra_attrs = {
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": datetime_to_ms(sent),
        }
        if msg.group_id is not None:
            extra_attrs["MessageDeduplicationId"] = hashlib.sha256(msg.body).hexdigest()
            extra_attrs["SequenceNumber"] = str(int(sent.timestamp() * 1e6)).ljust(20, "0")
    attrs.update(extra_attrs)
    if msg.group_id is not None:
        attrs["MessageGroupId"] = msg.group_id
    out: dict[str, Any] = {
        "messageId": msg.id,
        "receiptHandle": base64.b64encode(defaults.uuid4().bytes).decode(),
        "body": msg.body.decode("utf-8"),
        "attributes": attrs,
        "messageAttributes": {
            k: _message_attribute(v, shapes.get(k)) for k, v in msg.attributes.items()
        },
        "md5OfBody": hashlib.md5(msg.body).hexdigest(),
        "eventSource": EVENT_SOURCE,
    }
    if not ext:
        queue = msg.queue or "queue"
        if msg.group_id is not None and not queue.endswith(".fifo"):
            queue += ".fifo"
        ext = {
            "eventSourceARN": f"arn:aws:sqs:{defaults.region()}:{defaults.ACCOUNT}:{queue}",
            "awsRegion": defaults.region(),
        }
    out.update(ext)
    return out


def to_native(messages: list[QueueMessage], **_: Any) -> native_types.SQSEvent:
    return cast("native_types.SQSEvent", {"Records": [record(m) for m in messages]})
