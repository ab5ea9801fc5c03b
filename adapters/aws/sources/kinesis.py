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

from polyfn.events.messages import QueueMessage
from polyfn.results import BatchOutcome

from .. import defaults
from .._fields import arn_name, malformed, without
from ._views import (
    RecordView,
    as_list,
    aws_extensions,
    record_views,
    stream_batch_response,
    stream_order,
)

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


class KinesisMessage(RecordView, QueueMessage):
    """A lazy view of one Kinesis record."""

    __slots__ = ("_i", "_r")
    event_source = EVENT_SOURCE

    @property
    def _k(self) -> dict[str, Any]:
        return self._object("kinesis")

    @property
    def native(self) -> native_types.KinesisStreamRecord:  # type: ignore[override]
        return cast("native_types.KinesisStreamRecord", self._r)

    @property
    def id(self) -> str:  # type: ignore[override]
        return self._need("sequenceNumber", self._k, ".kinesis")

    @property
    def body(self) -> bytes:  # type: ignore[override]
        data = self._need("data", self._k, ".kinesis")
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
        return self._epoch_seconds("kinesis", "approximateArrivalTimestamp")

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
    return record_views(KinesisMessage, event, EVENT_SOURCE, objects=True)


order = stream_order  # a failure holds back every later record


def batch_response(
    outcome: BatchOutcome, records: list[QueueMessage]
) -> native_types.StreamBatchResponse:
    """The first failed record's sequence number (see _views.stream_batch_response)."""
    return stream_batch_response(outcome, records, lambda msg, _: msg.id)


# -- neutral → native ------------------------------------------------------------------
def record(msg: QueueMessage) -> dict[str, Any]:
    # Only a record that came from Kinesis has extensions meaningful here.
    ext = aws_extensions(msg, EVENT_SOURCE)
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
    records = [record(m) for m in as_list(messages)]
    return cast("native_types.KinesisStreamEvent", {"Records": records})
