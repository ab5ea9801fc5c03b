"""Amazon DynamoDB Streams → ChangeEvent, and back.

Shape: https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html and the DynamoDB Streams
``Record`` type (tests/events/aws/dynamodb__*). Item images are decoded from DynamoDB JSON
to plain values by ..dynamodb_json; ``extensions["attributeTypes"]`` keeps what that loses
(sets, number texts such as ``"1.50"``) so that the native record renders back exactly.
"""

from __future__ import annotations

import time as _time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from polyfn.events._base import json_bytes
from polyfn.events.change import ChangeEvent
from polyfn.results import BatchOutcome

from .. import defaults
from .._fields import arn_name, malformed, without
from ..dynamodb_json import AttributeValueError, decode_item, encode_item, item_spec
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

KEY = "dynamodb"
EVENT_SOURCE = "aws:dynamodb"
KIND = "change"

_OPERATIONS = {"INSERT": "insert", "MODIFY": "modify", "REMOVE": "remove"}
_EVENT_NAMES = {v: k for k, v in _OPERATIONS.items()}
_CONSUMED = frozenset({"eventID", "eventName", "eventSource", "dynamodb"})
_IMAGES = ("Keys", "NewImage", "OldImage")
_CONSUMED_DB = frozenset({*_IMAGES, "SequenceNumber", "ApproximateCreationDateTime"})
_TYPES = "attributeTypes"  # extensions key of the sidecar (see dynamodb_json.item_spec)


def table_name(arn: str) -> str:
    """``arn:aws:dynamodb:us-east-1:123:table/Orders/stream/2024-...`` → ``Orders``."""
    _, sep, rest = arn.partition(":table/")
    return rest.split("/", 1)[0] if sep else arn_name(arn)


class DynamoDBChange(RecordView, ChangeEvent):
    """A lazy view of one DynamoDB Streams record; images are decoded once, on first read."""

    __slots__ = ("_i", "_keys", "_new", "_old", "_r")
    event_source = EVENT_SOURCE

    @property
    def _db(self) -> dict[str, Any]:
        return self._object("dynamodb")

    def _image(self, name: str) -> dict[str, Any] | None:
        raw = self._db.get(name)
        if raw is None:
            return None
        try:
            return decode_item(raw)
        except AttributeValueError as e:
            raise malformed(
                EVENT_SOURCE, f"{self._where}.dynamodb.{name}{e.where()}", e.reason
            ) from None

    @property
    def native(self) -> native_types.DynamoDBStreamRecord:  # type: ignore[override]
        return cast("native_types.DynamoDBStreamRecord", self._r)

    @property
    def id(self) -> str:  # type: ignore[override]
        return self._need("eventID")

    @property
    def source(self) -> str:  # type: ignore[override]
        return table_name(self._r.get("eventSourceARN") or "")

    @property
    def operation(self) -> str:  # type: ignore[override]
        name = self._need("eventName")
        try:
            return _OPERATIONS[name]
        except (KeyError, TypeError):
            raise malformed(
                EVENT_SOURCE,
                f"{self._where}.eventName",
                f"expected INSERT, MODIFY or REMOVE, got {name!r}",
            ) from None

    @property
    def keys(self) -> dict[str, Any]:  # type: ignore[override]
        try:
            return self._keys
        except AttributeError:
            pass
        self._need("Keys", self._db, ".dynamodb")
        self._keys = keys = self._image("Keys") or {}
        return keys

    @property
    def new(self) -> dict[str, Any] | None:  # type: ignore[override]
        try:
            return self._new
        except AttributeError:
            pass
        self._new = new = self._image("NewImage")
        return new

    @property
    def old(self) -> dict[str, Any] | None:  # type: ignore[override]
        try:
            return self._old
        except AttributeError:
            pass
        self._old = old = self._image("OldImage")
        return old

    @property
    def sequence(self) -> str | None:  # type: ignore[override]
        return self._db.get("SequenceNumber")

    @property
    def time(self) -> datetime | None:  # type: ignore[override]
        return self._epoch_seconds("dynamodb", "ApproximateCreationDateTime")

    @property
    def extensions(self) -> dict[str, Any]:  # type: ignore[override]
        db = self._db
        ext = without(self._r, _CONSUMED)
        ext["dynamodb"] = without(db, _CONSUMED_DB)
        types = {}
        for name in _IMAGES:
            raw = db.get(name)
            if raw is None:
                continue
            try:
                spec = item_spec(raw)
            except AttributeValueError as e:
                raise malformed(
                    EVENT_SOURCE, f"{self._where}.dynamodb.{name}{e.where()}", e.reason
                ) from None
            if spec:
                types[name] = spec
        if types:
            ext[_TYPES] = types
        return ext


def from_native(event: dict[str, Any]) -> list[ChangeEvent]:
    return record_views(DynamoDBChange, event, EVENT_SOURCE, objects=True)


def _sequence_of(change: ChangeEvent, index: int) -> str:
    sequence = change.sequence
    if not sequence:
        raise malformed(
            EVENT_SOURCE,
            f"Records[{index}].dynamodb.SequenceNumber",
            "needed to report the failed record",
        )
    return sequence


order = stream_order  # a failure holds back every later record


def batch_response(
    outcome: BatchOutcome, records: list[ChangeEvent]
) -> native_types.StreamBatchResponse:
    """The first failed record's SequenceNumber (see _views.stream_batch_response)."""
    return stream_batch_response(outcome, records, _sequence_of)


# -- neutral → native ------------------------------------------------------------------
def _epoch(value: datetime) -> int | float:
    # Streams give whole seconds; a finer local time is kept rather than truncated.
    seconds = value.timestamp()
    return int(seconds) if seconds.is_integer() else seconds


def _sequence(index: int) -> str:
    # Stream sequence numbers are decimal strings that grow within a shard.
    return f"{_time.time_ns() // 1000:016d}{index:05d}"


def record(change: ChangeEvent, index: int = 0) -> dict[str, Any]:
    # Only a record that came from DynamoDB Streams has extensions meaningful here.
    ext = aws_extensions(change, EVENT_SOURCE)
    faithful = bool(ext)
    types = ext.pop(_TYPES, None) or {}
    try:
        event_name = _EVENT_NAMES[change.operation]
    except KeyError:
        raise ValueError(
            f"ChangeEvent.operation must be insert, modify or remove, not {change.operation!r}"
        ) from None

    db: dict[str, Any] = {}
    when = change.time if change.time is not None or faithful else datetime.now(UTC)
    if when is not None:
        db["ApproximateCreationDateTime"] = _epoch(when)
    db["Keys"] = encode_item(change.keys, types.get("Keys"))
    if change.new is not None:
        db["NewImage"] = encode_item(change.new, types.get("NewImage"))
    if change.old is not None:
        db["OldImage"] = encode_item(change.old, types.get("OldImage"))
    sequence = change.sequence if change.sequence is not None or faithful else _sequence(index)
    if sequence is not None:
        db["SequenceNumber"] = sequence
    db_rest = ext.pop("dynamodb", None)
    if db_rest is None:
        images = [db[k] for k in _IMAGES if k in db]
        db_rest = {
            # An estimate: DynamoDB counts names and values, roughly this JSON's size.
            "SizeBytes": len(json_bytes(images)),
            "StreamViewType": "NEW_AND_OLD_IMAGES"
            if change.new is not None or change.old is not None
            else "KEYS_ONLY",
        }
    db.update(db_rest)

    out: dict[str, Any] = {"eventID": change.id, "eventName": event_name}
    if not faithful:
        region = defaults.region()
        ext = {
            "eventVersion": "1.1",
            "awsRegion": region,
            "eventSourceARN": f"arn:aws:dynamodb:{region}:{defaults.ACCOUNT}:table/"
            f"{change.source}/stream/2024-01-01T00:00:00.000",
        }
    out["eventSource"] = EVENT_SOURCE
    out["dynamodb"] = db
    out.update(ext)
    return out


def to_native(
    changes: list[ChangeEvent] | ChangeEvent, **_: Any
) -> native_types.DynamoDBStreamEvent:
    records = [record(c, i) for i, c in enumerate(as_list(changes))]
    return cast("native_types.DynamoDBStreamEvent", {"Records": records})
