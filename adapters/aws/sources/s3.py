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
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote_plus, unquote_plus

from polyfn.events._base import NeutralEvent
from polyfn.events.storage import StorageEvent, StorageKind

from .. import defaults
from .._fields import format_iso, malformed, need, parse_iso, without

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
_CONSUMED = frozenset({"eventSource", "eventTime", "s3"})
_CONSUMED_OBJECT = frozenset({"key", "size", "eTag", "versionId"})


def kind_of(event_name: str) -> StorageKind | None:
    """The neutral kind of an S3 event name (``ObjectCreated:Put`` → created)."""
    kind = _BY_NAME.get(event_name)
    return kind if kind is not None else _BY_FAMILY.get(event_name.partition(":")[0])


def encode_key(key: str) -> str:
    """The key as S3 notifications write it: form-encoded, slashes left as they are."""
    return quote_plus(key, safe="/")


class S3Event(StorageEvent):
    """A lazy view of one S3 notification record."""

    __slots__ = ("_i", "_r")
    provider = "aws"
    event_source = EVENT_SOURCE

    def __init__(self, record: dict[str, Any], index: int) -> None:
        self._r = record
        self._i = index

    @property
    def native(self) -> native_types.S3EventRecord:  # type: ignore[override]
        return cast("native_types.S3EventRecord", self._r)

    def _at(self, *path: str) -> Any:
        """The value at ``path`` under this record, or a MalformedEventError naming it."""
        value: Any = self._r
        where = f"Records[{self._i}]"
        for key in path:
            value = need(value, key, EVENT_SOURCE, where)
            where = f"{where}.{key}"
        return value

    def _string(self, *path: str) -> str:
        value = self._at(*path)
        if not isinstance(value, str):
            raise malformed(
                EVENT_SOURCE,
                f"Records[{self._i}].{'.'.join(path)}",
                f"expected a string, got {type(value).__name__}",
            )
        return value

    def _optional(self, key: str, types: type | tuple[type, ...]) -> Any:
        value = self._at("s3", "object").get(key)
        if value is not None and (not isinstance(value, types) or isinstance(value, bool)):
            raise malformed(
                EVENT_SOURCE,
                f"Records[{self._i}].s3.object.{key}",
                f"unexpected {type(value).__name__}",
            )
        return value

    @property
    def bucket(self) -> str:  # type: ignore[override]
        return self._string("s3", "bucket", "name")

    @property
    def key(self) -> str:  # type: ignore[override]
        return unquote_plus(self._string("s3", "object", "key"))

    @property
    def kind(self) -> StorageKind:  # type: ignore[override]
        name = self._string("eventName")
        kind = kind_of(name)
        if kind is None:
            raise malformed(
                EVENT_SOURCE,
                f"Records[{self._i}].eventName",
                f"not an S3 object event polyfn knows: {name!r}",
            )
        return kind

    @property
    def size(self) -> int | None:  # type: ignore[override]
        return self._optional("size", int)

    @property
    def etag(self) -> str | None:  # type: ignore[override]
        return self._optional("eTag", str)

    @property
    def version(self) -> str | None:  # type: ignore[override]
        return self._optional("versionId", str)

    @property
    def time(self) -> datetime:  # type: ignore[override]
        return parse_iso(self._string("eventTime"), EVENT_SOURCE, f"Records[{self._i}].eventTime")

    @property
    def extensions(self) -> dict[str, Any]:  # type: ignore[override]
        ext = without(self._r, _CONSUMED)
        s3 = self._at("s3")
        out = without(s3, frozenset({"bucket", "object"}))
        out["bucket"] = without(self._at("s3", "bucket"), frozenset({"name"}))
        obj = without(self._at("s3", "object"), _CONSUMED_OBJECT)
        raw = self._string("s3", "object", "key")
        if encode_key(unquote_plus(raw)) != raw:
            obj["key"] = raw
        out["object"] = obj
        ext["s3"] = out
        return ext


def from_native(event: dict[str, Any]) -> list[StorageEvent]:
    records = need(event, "Records", EVENT_SOURCE, "")
    if not isinstance(records, list):
        raise malformed(EVENT_SOURCE, "Records", f"expected a list, got {type(records).__name__}")
    return [S3Event(r, i) for i, r in enumerate(records)]


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
    # Another provider's extensions mean nothing here: render AWS defaults instead.
    ext = dict(ev.extensions) if ev.provider == "aws" else {}
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
    obj: dict[str, Any] = {"key": key}
    for field, value in (("size", ev.size), ("eTag", ev.etag), ("versionId", ev.version)):
        if value is not None:
            obj[field] = value
    obj.update(obj_ext)
    s3_ext["bucket"] = {"name": ev.bucket, **(s3_ext.get("bucket") or {})}
    s3_ext["object"] = obj
    return {
        "eventSource": EVENT_SOURCE,
        "eventTime": format_iso(when, millis=True),
        **ext,
        "s3": s3_ext,
    }


def to_native(events: StorageEvent | list[StorageEvent], **_: Any) -> native_types.S3Event:
    items = [events] if isinstance(events, NeutralEvent) else events
    return cast("native_types.S3Event", {"Records": [record(e) for e in items]})
