"""Amazon Kinesis Data Streams → QueueMessage, and back.

Shape: https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html
(tests/events/aws/kinesis__*). A record's partition key is the message's ``group_id``;
Kinesis has no message attributes nor delivery count (always ``{}`` and 1), so a neutral
message's attributes are not rendered.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from polyfn.dispatch import IN_ORDER
from polyfn.events._base import NeutralEvent
from polyfn.events.messages import QueueMessage
from polyfn.results import BatchOutcome

from .. import defaults
from .._fields import arn_name, malformed, need, without

if TYPE_CHECKING:
    from .. import native_types

KEY = "kinesis"
EVENT_SOURCE = "aws:kinesis"
KIND = "queue"

_CONSUMED = frozenset({"kinesis", "eventSource"})
_CONSUMED_KINESIS = frozenset(
    {"sequenceNumber", "data", "partitionKey", "approximateArrivalTimestamp"}
)


def stream_name(arn: str) -> str:
    """``arn:aws:kinesis:us-east-1:123:stream/orders`` → ``orders``."""
    _, sep, rest = arn.partition(":stream/")
    return rest.split("/", 1)[0] if sep else arn_name(arn)


class KinesisMessage(QueueMessage):
    """A lazy view of one Kinesis record."""

    __slots__ = ("_i", "_r")
    provider = "aws"
    event_source = EVENT_SOURCE

    def __init__(self, record: dict[str, Any], index: int) -> None:
        self._r = record
        self._i = index

    @property
    def _k(self) -> dict[str, Any]:
        k = need(self._r, "kinesis", EVENT_SOURCE, f"Records[{self._i}]")
        if type(k) is not dict:
            raise malformed(
                EVENT_SOURCE,
                f"Records[{self._i}].kinesis",
                f"expected an object, got {type(k).__name__}",
            )
        return k

    @property
    def native(self) -> native_types.KinesisStreamRecord:  # type: ignore[override]
        return cast("native_types.KinesisStreamRecord", self._r)

    @property
    def id(self) -> str:  # type: ignore[override]
        return need(self._k, "sequenceNumber", EVENT_SOURCE, f"Records[{self._i}].kinesis")

    @property
    def body(self) -> bytes:  # type: ignore[override]
        data = need(self._k, "data", EVENT_SOURCE, f"Records[{self._i}].kinesis")
        try:
            return base64.b64decode(data, validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise malformed(
                EVENT_SOURCE, f"Records[{self._i}].kinesis.data", "not base64"
            ) from None

    @property
    def attributes(self) -> dict[str, str | bytes]:  # type: ignore[override]
        return {}

    @property
    def delivery_count(self) -> int:  # type: ignore[override]
        return 1

    @property
    def enqueued_at(self) -> datetime | None:  # type: ignore[override]
        raw = self._k.get("approximateArrivalTimestamp")
        if raw is None:
            return None
        field = f"Records[{self._i}].kinesis.approximateArrivalTimestamp"
        if type(raw) is not float and type(raw) is not int:
            raise malformed(EVENT_SOURCE, field, f"not epoch seconds: {raw!r}")
        try:
            return datetime.fromtimestamp(raw, UTC)
        except (OverflowError, OSError, ValueError):
            raise malformed(EVENT_SOURCE, field, f"not epoch seconds: {raw!r}") from None

    @property
    def queue(self) -> str:  # type: ignore[override]
        return stream_name(self._r.get("eventSourceARN") or "")

    @property
    def group_id(self) -> str | None:  # type: ignore[override]
        return self._k.get("partitionKey")

    @property
    def extensions(self) -> dict[str, Any]:  # type: ignore[override]
        ext = without(self._r, _CONSUMED)
        ext["kinesis"] = without(self._k, _CONSUMED_KINESIS)
        return ext


def from_native(event: dict[str, Any]) -> list[QueueMessage]:
    records = need(event, "Records", EVENT_SOURCE, "")
    if type(records) is not list:
        raise malformed(EVENT_SOURCE, "Records", f"expected a list, got {type(records).__name__}")
    for i, r in enumerate(records):
        if type(r) is not dict:
            raise malformed(
                EVENT_SOURCE, f"Records[{i}]", f"expected an object, got {type(r).__name__}"
            )
    return [KinesisMessage(r, i) for i, r in enumerate(records)]


def order(event: dict[str, Any]) -> str:
    return IN_ORDER


def batch_response(
    outcome: BatchOutcome, records: list[QueueMessage]
) -> native_types.StreamBatchResponse:
    """Lambda's partial-batch answer for streams: the failed record's sequence number.

    Lambda resumes the shard from the lowest reported sequence number, so the first failure
    alone says it all (the records after it were skipped to keep order).
    """
    if not outcome.failures:
        return {"batchItemFailures": []}
    index = min(f.index for f in outcome.failures)
    return {"batchItemFailures": [{"itemIdentifier": records[index].id}]}


# -- neutral → native ------------------------------------------------------------------
def record(msg: QueueMessage) -> dict[str, Any]:
    # Only a record that came from Kinesis has extensions meaningful here.
    same = msg.provider == "aws" and msg.event_source == EVENT_SOURCE
    ext = dict(msg.extensions) if same else {}
    faithful = bool(ext)
    rest = ext.pop("kinesis", None)
    kinesis: dict[str, Any] = {"kinesisSchemaVersion": "1.0"} if rest is None else dict(rest)
    partition_key = msg.group_id if msg.group_id is not None or faithful else msg.id
    if partition_key is not None:
        kinesis["partitionKey"] = partition_key
    kinesis["sequenceNumber"] = msg.id
    kinesis["data"] = base64.b64encode(msg.body).decode("ascii")
    arrived = msg.enqueued_at if msg.enqueued_at is not None or faithful else datetime.now(UTC)
    if arrived is not None:
        kinesis["approximateArrivalTimestamp"] = arrived.timestamp()

    out: dict[str, Any] = {"kinesis": kinesis, "eventSource": EVENT_SOURCE}
    if not faithful:
        region = defaults.region()
        ext = {
            "eventVersion": "1.0",
            "eventID": f"shardId-000000000000:{msg.id}",
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": f"arn:aws:iam::{defaults.ACCOUNT}:role/lambda-role",
            "awsRegion": region,
            "eventSourceARN": f"arn:aws:kinesis:{region}:{defaults.ACCOUNT}:stream/"
            f"{msg.queue or 'stream'}",
        }
    out.update(ext)
    return out


def to_native(
    messages: list[QueueMessage] | QueueMessage, **_: Any
) -> native_types.KinesisStreamEvent:
    if isinstance(messages, NeutralEvent):
        messages = [messages]
    return cast("native_types.KinesisStreamEvent", {"Records": [record(m) for m in messages]})
