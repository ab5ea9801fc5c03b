"""Azure Blob Storage trigger (``blobTrigger``) → StorageEvent, and back.

Native: ``azure.functions.InputStream`` as the library's BlobConverter builds it from the
blob's content and the blob extension's binding data: ``BlobTrigger`` (the blob path,
``container/name``), ``Uri``, ``Properties`` (the blob's system properties) and
``Metadata`` (its user metadata), plus one entry per ``{parameter}`` of the binding's
``path`` pattern. Shapes: tests/events/azure/blob__*, provenance in
tests/events/azure/PROVENANCE.md.

The trigger fires for new and updated blobs, so ``kind`` is always ``"created"``.
``bucket`` is the container, ``key`` the blob name inside it, ``size`` the content
length, ``etag`` the ``ETag`` property (quotes removed), ``version`` the ``VersionId``
property (versioned accounts), ``time`` the ``LastModified`` property. ``uri``,
``metadata`` and ``blob_properties`` stay in extensions. The content itself is the native
stream's (``event.native.read()``); a StorageEvent carries no body.
"""

from __future__ import annotations

import io
import re
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

from polyfn.errors import MalformedEventError
from polyfn.events.storage import StorageEvent, StorageKind

from ..host import HostInvocation
from . import _common as c

EVENT_SOURCE = "azure:blob"
KIND = "storage"
BINDING = "blobTrigger"

ACCOUNT = "polyfn"  # the storage account of blob URIs rendered for non-Azure events
_PARAM = re.compile(r"\{([^{}]+)\}")


def unquote_etag(value: Any) -> str | None:
    """``"0x8D4BCC2E4835CD0"`` with or without its HTTP quotes → without."""
    if not isinstance(value, str) or not value:
        return None
    return value[1:-1] if len(value) > 1 and value[0] == value[-1] == '"' else value


class BlobStorageEvent(StorageEvent):
    """A view of one ``func.InputStream`` from a blob trigger."""

    __slots__ = ("_b", "_s")
    provider = "azure"
    event_source = EVENT_SOURCE

    def __init__(self, stream: Any, binding: c.Binding | None) -> None:
        self._s = stream
        self._b = binding
        name = stream.name
        if not isinstance(name, str):
            raise c.malformed(
                EVENT_SOURCE, "BlobTrigger", "missing" if name is None else "not a string"
            )
        container, sep, key = name.partition("/")
        if not sep or not container or not key:
            raise c.malformed(EVENT_SOURCE, "BlobTrigger", f"not a container/blob path: {name!r}")
        self.bucket = container
        self.key = key

    @property
    def _props(self) -> dict[str, Any]:
        props = self._s.blob_properties
        if props is None:
            return {}
        if not isinstance(props, dict):
            raise c.malformed(EVENT_SOURCE, "Properties", "expected an object")
        return props

    @property
    def native(self) -> Any:  # type: ignore[override]
        return self._s

    @property
    def kind(self) -> StorageKind:  # type: ignore[override]
        return "created"

    @property
    def size(self) -> int | None:  # type: ignore[override]
        return self._s.length

    @property
    def etag(self) -> str | None:  # type: ignore[override]
        return unquote_etag(self._props.get("ETag"))

    @property
    def version(self) -> str | None:  # type: ignore[override]
        version = self._props.get("VersionId")
        return version if isinstance(version, str) and version else None

    @property
    def time(self) -> datetime | None:  # type: ignore[override]
        value = self._props.get("LastModified")
        return (
            None if value is None else c.parse_time(value, EVENT_SOURCE, "Properties.LastModified")
        )

    @property
    def extensions(self) -> dict[str, Any]:  # type: ignore[override]
        s = self._s
        values = {"uri": s.uri, "metadata": s.metadata, "blob_properties": s.blob_properties}
        return {k: v for k, v in values.items() if v is not None}


def from_native(stream: Any, binding: c.Binding | None = None) -> StorageEvent:
    from azure.functions import InputStream

    c.expect(stream, InputStream, EVENT_SOURCE, binding)
    return BlobStorageEvent(stream, binding)


# -- neutral → native ------------------------------------------------------------------
def path_parameters(pattern: str, path: str) -> dict[str, str]:
    """The binding data a ``path`` pattern (``samples/{name}.{ext}``) gives for a blob
    path; empty when the path does not match."""
    parts, pos = [], 0
    for m in _PARAM.finditer(pattern):
        parts.append(re.escape(pattern[pos : m.start()]))
        parts.append(f"(?P<{m.group(1)}>.+?)" if m.group(1).isidentifier() else ".+?")
        pos = m.end()
    parts.append(re.escape(pattern[pos:]))
    try:
        found = re.fullmatch("".join(parts), path)
    except re.error:  # a parameter named twice
        return {}
    return found.groupdict() if found else {}


def _content(event: StorageEvent) -> bytes:
    # InputStream keeps the blob in a BytesIO; read its value without moving the position
    # a handler may have read to.
    stream = getattr(getattr(event, "native", None), "_io", None)
    return stream.getvalue() if isinstance(stream, io.BytesIO) else b""


def properties(event: StorageEvent, ext: dict[str, Any]) -> dict[str, Any]:
    """The blob's Properties with the neutral fields written back (unchanged ones keep
    their native text)."""
    props = dict(ext.get("blob_properties") or {})
    if event.size is not None and _length(props) != event.size:
        props["ContentLength"] = event.size
    if event.etag is not None and unquote_etag(props.get("ETag")) != event.etag:
        props["ETag"] = event.etag
    if event.version is not None and props.get("VersionId") != event.version:
        props["VersionId"] = event.version
    if event.time is not None and _time(props.get("LastModified")) != event.time:
        props["LastModified"] = c.net_offset(event.time)
    return props


def _length(props: dict[str, Any]) -> int | None:
    value = props.get("ContentLength") or props.get("Length")
    try:
        return int(value) if value else None
    except (TypeError, ValueError):
        return None


def _time(value: Any) -> datetime | None:
    try:
        return c.parse_time(value, EVENT_SOURCE, "LastModified")
    except MalformedEventError:
        return None


def _uri(event: StorageEvent, ext: dict[str, Any], path: str) -> str:
    """The blob's URI: the native one while the event still names that blob."""
    uri = ext.get("uri")
    if isinstance(uri, str):
        if getattr(event.native, "name", None) == path:
            return uri
        parts = urlsplit(uri)
        base = f"{parts.scheme}://{parts.netloc}"
    else:
        base = f"https://{ACCOUNT}.blob.core.windows.net"
    return f"{base}/{quote(path)}"


def to_host(event: StorageEvent, binding: c.Binding | None = None) -> HostInvocation:
    """The blob content and the blob extension's binding data as the host sends them."""
    ext = c.extensions_of(event, EVENT_SOURCE)
    path = f"{event.bucket}/{event.key}"
    uri = _uri(event, ext, path)
    values: dict[str, Any] = {
        "BlobTrigger": c.string(path),
        "Uri": c.as_json(uri),
        "Properties": c.as_json(properties(event, ext)),
        "Metadata": c.as_json(ext.get("metadata") or {}),
    }
    pattern = c.setting(binding, "path")
    for name, value in path_parameters(pattern, path).items():
        values.setdefault(name, c.string(value))
    return HostInvocation(c.datum(_content(event), "bytes"), values)


def to_native(event: StorageEvent, binding: c.Binding | None = None) -> Any:
    """The ``func.InputStream`` the worker would hand the function."""
    return c.decode(BINDING, to_host(event, binding))
