"""Amazon S3 event notifications → StorageEvent, and back.

Shape: https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
(tests/events/aws/s3__*).

S3 writes the object key form-encoded (``"my photo.jpg"`` arrives as ``"my+photo.jpg"``);
the neutral ``key`` is decoded. When encoding the decoded key again would not give the
delivered text back (``"Happy%20Face.jpg"``), the delivered text is kept in
``extensions["s3"]["object"]["key"]``. The exact ``eventName`` stays in extensions, as do
every other field, under their native names and nesting (``s3.bucket.arn``,
``s3.object.sequencer``, ``userIdentity``, ...).

Event names → neutral kinds (also used for S3 events through EventBridge):

- ``ObjectCreated:*`` → created
- ``ObjectRemoved:*``, ``LifecycleExpiration:*``, ``ReducedRedundancyLostObject`` → deleted
- ``LifecycleTransition``, ``IntelligentTiering`` (moved to a colder storage class or
  access tier) and ``ObjectRestore:Delete`` (the restored copy expired, the object is
  archive-only again) → archived
- ``ObjectRestore:Completed`` → restored
- ``ObjectTagging:*``, ``ObjectAcl:Put``, ``ObjectRestore:Post`` (a restore was requested:
  only the object's restore status changes) and ``Replication:*`` (its replication
  status) → metadata_updated
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, cast
from urllib.parse import quote_plus, unquote_plus

from polyfn.events.storage import StorageEvent, StorageKind

from .. import defaults
from .._fields import format_iso, malformed, without
from ._views import RecordView, View, as_list, aws_extensions, record_views

if TYPE_CHECKING:
    from .. import native_types

KEY = "s3"
EVENT_SOURCE = "aws:s3"
KIND = "storage"

_BY_NAME: dict[str, StorageKind] = {
    "ObjectRestore:Completed": "restored",
    "ObjectRestore:Post": "metadata_updated",
    "ObjectRestore:Delete": "archived",
    "LifecycleTransition": "archived",
    "IntelligentTiering": "archived",
    "ReducedRedundancyLostObject": "deleted",
}
_BY_FAMILY: dict[str, StorageKind] = {
    "ObjectCreated": "created",
    "ObjectRemoved": "deleted",
    "LifecycleExpiration": "deleted",
    "ObjectTagging": "metadata_updated",
    "ObjectAcl": "metadata_updated",
    "Replication": "metadata_updated",
}
# The event name rendered for a neutral event that has none of its own.
DEFAULT_NAMES: dict[str, str] = {
    "created": "ObjectCreated:Put",
    "deleted": "ObjectRemoved:Delete",
    "archived": "LifecycleTransition",
    "restored": "ObjectRestore:Completed",
    "metadata_updated": "ObjectTagging:Put",
}
_LOCATION = frozenset({"bucket", "object"})
_NAME = frozenset({"name"})


def kind_of(event_name: str) -> StorageKind | None:
    """The neutral kind of an S3 event name (``ObjectCreated:Put`` → created)."""
    kind = _BY_NAME.get(event_name)
    return kind if kind is not None else _BY_FAMILY.get(event_name.partition(":")[0])


def encode_key(key: str) -> str:
    """The key as S3 notifications write it: form-encoded, slashes left as they are."""
    return quote_plus(key, safe="/")


class StorageView(View, StorageEvent):
    """Base of both S3 views (add RecordView or EventView): the fields they read alike,
    the bucket and object under ``_ROOT`` (``s3`` in a notification record, ``detail`` in
    an EventBridge event) and the kind named by ``_KIND_FIELD``."""

    __slots__ = ()
    _ROOT: ClassVar[str]
    _OBJECT_KEYS: ClassVar[tuple[str, str, str]]  # the native names of size, etag, version
    _KIND_FIELD: ClassVar[str]
    _CONSUMED: ClassVar[frozenset[str]]  # top-level fields the typed fields stand for

    def _kind_of(self, name: str) -> StorageKind | None:
        """The kind of an event name (None: not an object event polyfn knows)."""
        raise NotImplementedError

    @property
    def bucket(self) -> str:  # type: ignore[override]
        return self._string(self._ROOT, "bucket", "name")

    @property
    def kind(self) -> StorageKind:  # type: ignore[override]
        name = self._string(self._KIND_FIELD)
        kind = self._kind_of(name)
        if kind is None:
            raise malformed(
                self.event_source,
                self._dotted(self._KIND_FIELD),
                f"not an S3 object event polyfn knows: {name!r}",
            )
        return kind

    @property
    def size(self) -> int | None:  # type: ignore[override]
        return self._optional(int, self._ROOT, "object", self._OBJECT_KEYS[0])

    @property
    def etag(self) -> str | None:  # type: ignore[override]
        return self._optional(str, self._ROOT, "object", self._OBJECT_KEYS[1])

    @property
    def version(self) -> str | None:  # type: ignore[override]
        return self._optional(str, self._ROOT, "object", self._OBJECT_KEYS[2])

    @property
    def extensions(self) -> dict[str, Any]:  # type: ignore[override]
        root = self._ROOT
        ext = without(self.native, self._CONSUMED)
        inner = without(self._at(root), _LOCATION)
        inner["bucket"] = without(self._at(root, "bucket"), _NAME)
        inner["object"] = without(self._at(root, "object"), frozenset({"key", *self._OBJECT_KEYS}))
        ext[root] = inner
        return ext


def place_object(
    ev: StorageEvent, into: dict[str, Any], key: str, names: tuple[str, str, str], obj: Any
) -> None:
    """Render ``ev``'s bucket and object into ``into`` (``s3`` / ``detail``): ``names``
    are the native names of size, etag and version, ``obj`` the object's extensions."""
    out: dict[str, Any] = {"key": key}
    for field, value in zip(names, (ev.size, ev.etag, ev.version), strict=True):
        if value is not None:
            out[field] = value
    out.update(obj or {})
    into["bucket"] = {"name": ev.bucket, **(into.get("bucket") or {})}
    into["object"] = out


class S3Event(RecordView, StorageView):
    """A lazy view of one S3 notification record."""

    __slots__ = ("_i", "_r")
    event_source = EVENT_SOURCE
    _ROOT = "s3"
    _OBJECT_KEYS = ("size", "eTag", "versionId")
    _KIND_FIELD = "eventName"
    _CONSUMED = frozenset({"eventSource", "eventTime", "s3"})

    def _kind_of(self, name: str) -> StorageKind | None:
        return kind_of(name)

    @property
    def native(self) -> native_types.S3EventRecord:  # type: ignore[override]
        return cast("native_types.S3EventRecord", self._r)

    @property
    def key(self) -> str:  # type: ignore[override]
        return unquote_plus(self._string("s3", "object", "key"))

    @property
    def time(self) -> datetime:  # type: ignore[override]
        return self._iso_time("eventTime")

    @property
    def extensions(self) -> dict[str, Any]:  # type: ignore[override]
        ext = super().extensions
        raw = self._string("s3", "object", "key")
        if encode_key(unquote_plus(raw)) != raw:
            ext["s3"]["object"]["key"] = raw
        return ext


def from_native(event: dict[str, Any]) -> list[StorageEvent]:
    return record_views(S3Event, event, EVENT_SOURCE)


# -- neutral → native ------------------------------------------------------------------
def _sequencer(when: datetime) -> str:
    # S3 sequencers are opaque upper-case hex that grows with time for one key.
    return f"{int(when.timestamp() * 1e9):018X}"


def _local_record(ev: StorageEvent, when: datetime) -> dict[str, Any]:
    request_id = defaults.uuid4().hex[:16].upper()
    return {
        "eventVersion": "2.1",
        "awsRegion": defaults.region(),
        "userIdentity": {"principalId": f"AWS:AIDA{defaults.ACCOUNT}EXAMPLE"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": request_id, "x-amz-id-2": defaults.uuid4().hex},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "polyfn",
            "bucket": {
                "ownerIdentity": {"principalId": "A3EXAMPLEOWNER"},
                "arn": f"arn:aws:s3:::{ev.bucket}",
            },
            "object": {"sequencer": _sequencer(when)},
        },
    }


def record(ev: StorageEvent) -> dict[str, Any]:
    ext = aws_extensions(ev)
    when = ev.time or datetime.now(UTC)
    if not ext:
        ext = _local_record(ev, when)
    s3_ext = dict(ext.pop("s3", None) or {})
    obj_ext = dict(s3_ext.pop("object", None) or {})
    raw = obj_ext.pop("key", None)
    key = raw if isinstance(raw, str) and unquote_plus(raw) == ev.key else encode_key(ev.key)
    name = ext.get("eventName")
    if not isinstance(name, str) or kind_of(name) != ev.kind:
        ext["eventName"] = DEFAULT_NAMES[ev.kind]
    place_object(ev, s3_ext, key, S3Event._OBJECT_KEYS, obj_ext)
    return {
        "eventSource": EVENT_SOURCE,
        "eventTime": format_iso(when, millis=True),
        **ext,
        "s3": s3_ext,
    }


def to_native(events: StorageEvent | list[StorageEvent], **_: Any) -> native_types.S3Event:
    return cast("native_types.S3Event", {"Records": [record(e) for e in as_list(events)]})
