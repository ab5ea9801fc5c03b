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

from polyfn.events.storage import StorageEvent, StorageKind

from .. import defaults
from .._fields import format_iso
from ._views import EventView, aws_extensions, event_view, only
from .s3 import StorageView, place_object

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


class S3BusEvent(EventView, StorageView):
    """A lazy view of an S3 event from EventBridge."""

    __slots__ = ("_e",)
    event_source = EVENT_SOURCE
    _ROOT = "detail"
    _OBJECT_KEYS = ("size", "etag", "version-id")
    _KIND_FIELD = "detail-type"
    _CONSUMED = frozenset({"source", "time", "detail"})

    def _kind_of(self, name: str) -> StorageKind | None:
        return KINDS.get(name)

    @property
    def native(self) -> native_types.S3EventBridgeEvent:  # type: ignore[override]
        return cast("native_types.S3EventBridgeEvent", self._e)

    @property
    def key(self) -> str:  # type: ignore[override]
        return self._string("detail", "object", "key")

    @property
    def time(self) -> datetime:  # type: ignore[override]
        return self._iso_time("time")


def from_native(event: dict[str, Any]) -> StorageEvent:
    return event_view(S3BusEvent, event, EVENT_SOURCE)


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
    ev = only(ev)  # one EventBridge event carries one object event
    ext = aws_extensions(ev) or _local_event(ev)
    detail = dict(ext.pop("detail", None) or {})
    place_object(ev, detail, ev.key, S3BusEvent._OBJECT_KEYS, detail.get("object"))
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
