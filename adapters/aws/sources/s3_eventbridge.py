"""Amazon S3 events delivered through EventBridge → StorageEvent, and back.

Shape: https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html
(tests/events/aws/s3_eventbridge__*). Unlike S3 notifications, the object key is not
URL-encoded here.

Detail types map to the same kinds as the S3 notification names (see s3.py):
Object Created → created; Object Deleted → deleted; Object Restore Completed → restored;
Object Restore Expired, Object Storage Class Changed, Object Access Tier Changed →
archived; Object Restore Initiated, Object Tags Added/Deleted, Object ACL Updated →
metadata_updated. The exact ``detail-type`` and every other field stay in extensions
under their native names (``account``, ``region``, ``resources``, ``detail.reason``,
``detail.object.sequencer``, ...).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from polyfn.events._base import NeutralEvent
from polyfn.events.storage import StorageEvent, StorageKind

from .. import defaults
from .._fields import format_iso, malformed, need, parse_iso, without

if TYPE_CHECKING:
    from .. import native_types

KEY = "s3-eventbridge"
EVENT_SOURCE = "aws:s3-eventbridge"
KIND = "storage"

KINDS: dict[str, StorageKind] = {
    "Object Created": "created",
    "Object Deleted": "deleted",
    "Object Restore Initiated": "metadata_updated",
    "Object Restore Completed": "restored",
    "Object Restore Expired": "archived",
    "Object Tags Added": "metadata_updated",
    "Object Tags Deleted": "metadata_updated",
    "Object ACL Updated": "metadata_updated",
    "Object Storage Class Changed": "archived",
    "Object Access Tier Changed": "archived",
}
DEFAULT_TYPES: dict[str, str] = {
    "created": "Object Created",
    "deleted": "Object Deleted",
    "archived": "Object Storage Class Changed",
    "restored": "Object Restore Completed",
    "metadata_updated": "Object Tags Added",
}
_REASONS = {"created": "PutObject", "deleted": "DeleteObject"}
_CONSUMED = frozenset({"source", "time", "detail"})
_CONSUMED_OBJECT = frozenset({"key", "size", "etag", "version-id"})


class S3BusEvent(StorageEvent):
    """A lazy view of an S3 event from EventBridge."""

    __slots__ = ("_e",)
    provider = "aws"
    event_source = EVENT_SOURCE

    def __init__(self, event: dict[str, Any]) -> None:
        self._e = event

    @property
    def native(self) -> native_types.S3EventBridgeEvent:  # type: ignore[override]
        return cast("native_types.S3EventBridgeEvent", self._e)

    def _at(self, *path: str) -> Any:
        value: Any = self._e
        where = ""
        for key in path:
            value = need(value, key, EVENT_SOURCE, where)
            where = f"{where}.{key}" if where else key
        return value

    def _string(self, *path: str) -> str:
        value = self._at(*path)
        if not isinstance(value, str):
            raise malformed(
                EVENT_SOURCE, ".".join(path), f"expected a string, got {type(value).__name__}"
            )
        return value

    def _optional(self, key: str, types: type) -> Any:
        value = self._at("detail", "object").get(key)
        if value is not None and (not isinstance(value, types) or isinstance(value, bool)):
            raise malformed(
                EVENT_SOURCE, f"detail.object.{key}", f"unexpected {type(value).__name__}"
            )
        return value

    @property
    def bucket(self) -> str:  # type: ignore[override]
        return self._string("detail", "bucket", "name")

    @property
    def key(self) -> str:  # type: ignore[override]
        return self._string("detail", "object", "key")

    @property
    def kind(self) -> StorageKind:  # type: ignore[override]
        detail_type = self._string("detail-type")
        kind = KINDS.get(detail_type)
        if kind is None:
            raise malformed(
                EVENT_SOURCE, "detail-type", f"not an S3 object event polyfn knows: {detail_type!r}"
            )
        return kind

    @property
    def size(self) -> int | None:  # type: ignore[override]
        return self._optional("size", int)

    @property
    def etag(self) -> str | None:  # type: ignore[override]
        return self._optional("etag", str)

    @property
    def version(self) -> str | None:  # type: ignore[override]
        return self._optional("version-id", str)

    @property
    def time(self) -> datetime:  # type: ignore[override]
        return parse_iso(self._string("time"), EVENT_SOURCE, "time")

    @property
    def extensions(self) -> dict[str, Any]:  # type: ignore[override]
        ext = without(self._e, _CONSUMED)
        detail = without(self._at("detail"), frozenset({"bucket", "object"}))
        detail["bucket"] = without(self._at("detail", "bucket"), frozenset({"name"}))
        detail["object"] = without(self._at("detail", "object"), _CONSUMED_OBJECT)
        ext["detail"] = detail
        return ext


def from_native(event: dict[str, Any]) -> StorageEvent:
    if not isinstance(event, dict):
        raise malformed(EVENT_SOURCE, "(event)", f"expected an object, got {type(event).__name__}")
    return S3BusEvent(event)


# -- neutral → native ------------------------------------------------------------------
def _local_event(ev: StorageEvent) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "version": "0",
        "bucket": {},
        "object": {"sequencer": defaults.uuid4().hex[:18].upper()},
        "request-id": defaults.uuid4().hex[:16].upper(),
        "requester": defaults.ACCOUNT,
        "source-ip-address": "127.0.0.1",
    }
    if ev.kind in _REASONS:
        detail["reason"] = _REASONS[ev.kind]
    if ev.kind == "deleted":
        detail["deletion-type"] = "Permanently Deleted"
    return {
        "version": "0",
        "id": str(defaults.uuid4()),
        "account": defaults.ACCOUNT,
        "region": defaults.region(),
        "resources": [f"arn:aws:s3:::{ev.bucket}"],
        "detail": detail,
    }


def to_native(ev: StorageEvent | list[StorageEvent], **_: Any) -> native_types.S3EventBridgeEvent:
    if not isinstance(ev, NeutralEvent):
        (ev,) = ev  # one EventBridge event carries one object event
    # Another provider's extensions mean nothing here: render AWS defaults instead.
    ext = dict(ev.extensions) if ev.provider == "aws" else {}
    if not ext:
        ext = _local_event(ev)
    detail = dict(ext.pop("detail", None) or {})
    obj: dict[str, Any] = {"key": ev.key}
    for field, value in (("size", ev.size), ("etag", ev.etag), ("version-id", ev.version)):
        if value is not None:
            obj[field] = value
    obj.update(detail.get("object") or {})
    detail["bucket"] = {"name": ev.bucket, **(detail.get("bucket") or {})}
    detail["object"] = obj
    detail_type = ext.get("detail-type")
    if KINDS.get(detail_type) != ev.kind:  # type: ignore[arg-type]
        ext["detail-type"] = DEFAULT_TYPES[ev.kind]
    out = {
        "source": "aws.s3",
        "time": format_iso(ev.time or datetime.now(UTC)),
        **ext,
        "detail": detail,
    }
    return cast("native_types.S3EventBridgeEvent", out)
