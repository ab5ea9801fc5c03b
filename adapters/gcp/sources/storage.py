"""Cloud Storage (``google.cloud.storage.object.v1.*``) → StorageEvent, and back.

Native: a CloudEvent whose data is StorageObjectData (the object's JSON resource), or the
legacy ``google.storage.object.*`` event with the same data. Shapes:
tests/events/gcp/storage__*, provenance in tests/events/gcp/PROVENANCE.md.

``finalized`` → created (a new object or a new generation of one), ``deleted``,
``archived`` (a live version became noncurrent), ``metadataUpdated`` → metadata_updated;
Cloud Storage has no "restored" event. ``bucket`` and ``key`` = the data's ``bucket`` and
``name`` (names are not URL-encoded), ``size`` (an int64: a string in the JSON),
``etag``, ``version`` = ``generation`` (as text), ``time`` = the CloudEvent ``time`` (when
the event happened; the legacy ``timestamp``), else the object's ``updated``. The rest of
the object resource stays in extensions under its own names.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from polyfn.events.storage import StorageEvent, StorageKind

from . import _common as c

EVENT_SOURCE = "gcp:storage"
KIND = "storage"
SERVICE = "storage.googleapis.com"
PREFIX = "google.cloud.storage.object.v1."
KINDS: dict[str, StorageKind] = {
    PREFIX + "finalized": "created",
    PREFIX + "deleted": "deleted",
    PREFIX + "archived": "archived",
    PREFIX + "metadataUpdated": "metadata_updated",
}
TYPES = {kind: ce_type for ce_type, kind in KINDS.items()}
_CONSUMED = frozenset({"bucket", "name", "size", "etag", "generation"})


class GcsStorageEvent(StorageEvent):
    """A view of one Cloud Storage event."""

    __slots__ = ("_d", "_e")
    provider = "gcp"
    event_source = EVENT_SOURCE

    def __init__(self, env: c.Envelope) -> None:
        self._e = env
        if not isinstance(env.data, Mapping):
            raise c.malformed(EVENT_SOURCE, "data", "expected the object resource")
        self._d = env.data

    @property
    def native(self) -> Any:  # type: ignore[override]
        return self._e.native

    @property
    def bucket(self) -> str:  # type: ignore[override]
        bucket = self._d.get("bucket")
        if bucket is None:  # the source names it too: //storage.googleapis.com/projects/_/buckets/B
            bucket = c.short_name(self._e.attrs.get("source") or "") or None
        if not isinstance(bucket, str) or not bucket:
            raise c.malformed(EVENT_SOURCE, "data.bucket")
        return bucket

    @property
    def key(self) -> str:  # type: ignore[override]
        return c.need_str(self._d, "name", EVENT_SOURCE, "data")

    @property
    def kind(self) -> StorageKind:  # type: ignore[override]
        return KINDS[self._e.type]

    @property
    def size(self) -> int | None:  # type: ignore[override]
        return _int64(self._d.get("size"), "data.size")

    @property
    def etag(self) -> str | None:  # type: ignore[override]
        return self._d.get("etag")

    @property
    def version(self) -> str | None:  # type: ignore[override]
        generation = self._d.get("generation")
        return None if generation is None else str(_int64(generation, "data.generation"))

    @property
    def time(self) -> datetime | None:  # type: ignore[override]
        when = self._e.attrs.get("time")
        if when is not None:
            return c.parse_time(when, EVENT_SOURCE, "time")
        updated = self._d.get("updated")
        return None if updated is None else c.parse_time(updated, EVENT_SOURCE, "data.updated")

    @property
    def extensions(self) -> dict[str, Any]:  # type: ignore[override]
        out: dict[str, Any] = {"cloudevent": dict(self._e.attrs)}
        out.update((k, v) for k, v in self._d.items() if k not in _CONSUMED)
        return out


def _int64(value: Any, field: str) -> int | None:
    # proto3 JSON writes int64 as a string; some samples write a number.
    if value is None:
        return None
    if isinstance(value, bool):
        raise c.malformed(EVENT_SOURCE, field, f"not an integer: {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise c.malformed(EVENT_SOURCE, field, f"not an integer: {value!r}") from None


def check(env: c.Envelope) -> None:
    if env.type not in KINDS:
        raise c.unsupported(
            EVENT_SOURCE, "type", f"{env.type!r} is not a Cloud Storage object event"
        )


def from_native(native: Any) -> StorageEvent:
    env = c.envelope(native, EVENT_SOURCE)
    check(env)
    return GcsStorageEvent(env)


# -- neutral → native ------------------------------------------------------------------
def to_cloudevent(event: StorageEvent) -> tuple[dict[str, Any], dict[str, Any]]:
    ext = c.extensions_of(event, EVENT_SOURCE)
    attrs = c.cloudevent_attrs(ext)
    when = c.format_time(event.time or c.now())
    data: dict[str, Any] = {k: v for k, v in ext.items() if k != "cloudevent"}
    if not ext:  # what Cloud Storage always has in an object resource
        data["kind"] = "storage#object"
        data["id"] = f"{event.bucket}/{event.key}" + (f"/{event.version}" if event.version else "")
        data["metageneration"] = "1"
        data["timeCreated"] = when
        data["updated"] = when
    data["bucket"] = event.bucket
    data["name"] = event.key
    if event.size is not None:
        data["size"] = str(event.size)
    if event.etag is not None:
        data["etag"] = event.etag
    if event.version is not None:
        data["generation"] = event.version
    if event.kind not in TYPES:
        raise c.unsupported(EVENT_SOURCE, "kind", f"Cloud Storage has no {event.kind!r} event")
    if not attrs:
        import uuid

        attrs = {"specversion": c.SPECVERSION, "id": uuid.uuid4().hex}
    attrs.update(
        {
            "source": f"//{SERVICE}/projects/_/buckets/{event.bucket}",
            "type": TYPES[event.kind],
            "subject": f"objects/{event.key}",
            "time": when,
            "datacontenttype": c.JSON,
        }
    )
    if "bucket" in attrs or not ext:
        attrs["bucket"] = event.bucket  # the extension attribute Eventarc sets
    return attrs, data


def to_legacy(event: StorageEvent) -> tuple[Any, dict[str, Any]]:
    attrs, data = to_cloudevent(event)
    context = {
        "eventId": attrs["id"],
        "timestamp": attrs["time"],
        "eventType": c.CLOUDEVENT_TO_LEGACY[attrs["type"]],
        "resource": {
            "service": SERVICE,
            "name": f"projects/_/buckets/{event.bucket}/objects/{event.key}",
            "type": data.get("kind", "storage#object"),
        },
    }
    return data, context


def to_native(event: StorageEvent, mode: str = "binary") -> Any:
    """``event`` as Google delivers it (modes: see _common.render)."""
    attrs, data = to_cloudevent(event)
    return c.render(attrs, data, mode, lambda: to_legacy(event))
