"""Object storage events."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

StorageKind = Literal["created", "deleted", "archived", "restored", "metadata_updated"]
STORAGE_KINDS: tuple[str, ...] = ("created", "deleted", "archived", "restored", "metadata_updated")

from polyfn.events._base import NeutralEvent  # noqa: E402


class StorageEvent(NeutralEvent):
    """An object was created, deleted, ... in a bucket (S3, Blob Storage, Cloud Storage)."""

    __slots__ = ("bucket", "etag", "key", "kind", "size", "time", "version")
    KIND: ClassVar[str] = "storage"
    fields: ClassVar[tuple[str, ...]] = (
        "bucket",
        "key",
        "kind",
        "size",
        "etag",
        "version",
        "time",
    )
    defaults: ClassVar[dict[str, Any]] = {
        "size": None,
        "etag": None,
        "version": None,
        "time": None,
    }

    bucket: str
    key: str
    """The object key as stored (URL-decoded: ``"my photo.jpg"``, not ``"my+photo.jpg"``)."""
    kind: StorageKind
    size: int | None
    etag: str | None
    version: str | None
    time: datetime | None

    def __init__(
        self,
        bucket: str,
        key: str,
        kind: StorageKind = "created",
        *,
        size: int | None = None,
        etag: str | None = None,
        version: str | None = None,
        time: datetime | None = None,
        provider: str = "local",
        event_source: str = "local:storage",
        extensions: dict[str, Any] | None = None,
        native: Any = None,
    ) -> None:
        self.bucket = bucket
        self.key = key
        self.kind = kind
        self.size = size
        self.etag = etag
        self.version = version
        self.time = time
        self._init_common(provider, event_source, extensions, native)
