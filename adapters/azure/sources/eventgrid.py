"""Azure Event Grid trigger (``eventGridTrigger``) → CloudEvent or StorageEvent, and back.

The host sends one event per invocation as JSON, in whichever schema the Event Grid
subscription delivers. The library's EventGridEventInConverter decodes a body with
``specversion`` as ``azure.functions.CloudEvent`` (CloudEvents 1.0 schema) and any other
as ``azure.functions.EventGridEvent`` (Event Grid schema: ``id``, ``topic``, ``subject``,
``eventType``, ``eventTime``, ``data``, ``dataVersion``; the converter drops
``metadataVersion``). Shapes: tests/events/azure/eventgrid__*, provenance in
tests/events/azure/PROVENANCE.md.

:func:`from_native` gives a CloudEvent for both. From the Event Grid schema, as Event
Grid itself maps it to CloudEvents: ``source`` = topic, ``type`` = event type, ``time`` =
event time, ``subject`` and ``data`` as they are, ``specversion`` "1.0", and the data
version kept as the extension attribute ``dataversion``. From the CloudEvents schema every
attribute maps to itself and the extension attributes are the extensions (``data_base64``
is decoded into ``data`` as bytes).

:func:`storage_event` reads a Blob Storage event (``Microsoft.Storage.Blob*``) in either
schema as a StorageEvent: container and blob name from the subject
(``/blobServices/default/containers/{container}/blobs/{name}``), ``size`` =
``data.contentLength``, ``etag`` = ``data.eTag`` (quotes removed), ``time`` = the event
time. BlobCreated and BlobRenamed (a new name) → created; BlobDeleted → deleted;
BlobTierChanged → archived; AsyncOperationInitiated (a rehydration started) →
metadata_updated. Directory events and the policy-completed events are not object events
and raise UnsupportedEventError. Blob events carry no version id: ``version`` is None.
Its extensions keep the rest under the schema's own names (``id``, ``topic`` /
``source``, ``eventType`` / ``type``, ``dataVersion``, ``data``, ...).
"""

from __future__ import annotations

import base64
import re
from datetime import datetime
from typing import Any

from polyfn.errors import UnsupportedEventError
from polyfn.events.cloudevent import CloudEvent
from polyfn.events.storage import StorageEvent, StorageKind

from ..host import HostInvocation
from . import _common as c
from .blob import unquote_etag

EVENT_SOURCE = "azure:eventgrid"
KIND = "cloudevent"  # "storage" through storage_event()
BINDING = "eventGridTrigger"

KINDS: dict[str, StorageKind] = {
    "Microsoft.Storage.BlobCreated": "created",
    "Microsoft.Storage.BlobRenamed": "created",
    "Microsoft.Storage.BlobDeleted": "deleted",
    "Microsoft.Storage.BlobTierChanged": "archived",
    "Microsoft.Storage.AsyncOperationInitiated": "metadata_updated",
}
DEFAULT_TYPES: dict[str, str] = {
    "created": "Microsoft.Storage.BlobCreated",
    "deleted": "Microsoft.Storage.BlobDeleted",
    "archived": "Microsoft.Storage.BlobTierChanged",
    # Azure has no "rehydration completed" event: the tier change is what Event Grid sends.
    "restored": "Microsoft.Storage.BlobTierChanged",
    "metadata_updated": "Microsoft.Storage.AsyncOperationInitiated",
}
_SUBJECT = re.compile(r"^/blobServices/default/containers/(?P<c>[^/]+)/blobs/(?P<k>.+)$")
# The Azure resource a storage event that never was on Azure claims to come from.
TOPIC = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/polyfn"
    "/providers/Microsoft.Storage/storageAccounts/polyfn"
)
_CE_NAME = re.compile(r"^[a-z0-9]{1,20}$")
_CE_KNOWN = (
    "specversion",
    "id",
    "source",
    "type",
    "time",
    "subject",
    "datacontenttype",
    "dataschema",
)


def _string(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise c.malformed(EVENT_SOURCE, field, "missing" if value is None else "not a string")
    return value


class EventGridSchemaEvent(CloudEvent):
    """A view of a ``func.EventGridEvent`` (Event Grid schema) as a CloudEvent."""

    __slots__ = ("_e",)
    provider = "azure"
    event_source = EVENT_SOURCE
    specversion = "1.0"
    datacontenttype = None
    dataschema = None

    def __init__(self, event: Any) -> None:
        self._e = event
        self.id = _string(event.id, "id")

    @property
    def native(self) -> Any:  # type: ignore[override]
        return self._e

    @property
    def source(self) -> str:  # type: ignore[override]
        return _string(self._e.topic, "topic")

    @property
    def type(self) -> str:  # type: ignore[override]
        return _string(self._e.event_type, "eventType")

    @property
    def subject(self) -> str | None:  # type: ignore[override]
        return self._e.subject

    @property
    def time(self) -> datetime | None:  # type: ignore[override]
        return c.check_time(self._e.event_time, EVENT_SOURCE, "eventTime")

    @property
    def data(self) -> Any:  # type: ignore[override]
        return self._e.get_json()

    @property
    def extensions(self) -> dict[str, Any]:  # type: ignore[override]
        version = self._e.data_version
        return {} if version is None else {"dataversion": version}


class CloudEventsSchemaEvent(CloudEvent):
    """A view of a ``func.CloudEvent`` (CloudEvents 1.0 schema)."""

    __slots__ = ("_e",)
    provider = "azure"
    event_source = EVENT_SOURCE

    def __init__(self, event: Any) -> None:
        self._e = event
        self.id = _string(event.id, "id")

    @property
    def native(self) -> Any:  # type: ignore[override]
        return self._e

    @property
    def source(self) -> str:  # type: ignore[override]
        return _string(self._e.source, "source")

    @property
    def type(self) -> str:  # type: ignore[override]
        return _string(self._e.type, "type")

    @property
    def specversion(self) -> str:  # type: ignore[override]
        return _string(self._e.specversion, "specversion")

    @property
    def subject(self) -> str | None:  # type: ignore[override]
        return self._e.subject

    @property
    def time(self) -> datetime | None:  # type: ignore[override]
        return c.check_time(self._e.time, EVENT_SOURCE, "time")

    @property
    def datacontenttype(self) -> str | None:  # type: ignore[override]
        return self._e.datacontenttype

    @property
    def dataschema(self) -> str | None:  # type: ignore[override]
        return self._e.dataschema

    @property
    def data(self) -> Any:  # type: ignore[override]
        data = self._e.get_json()
        encoded = self._e.extension_attrs.get("data_base64")
        if data is None and encoded is not None:
            try:
                return base64.b64decode(encoded, validate=True)
            except (TypeError, ValueError):
                raise c.malformed(EVENT_SOURCE, "data_base64", "not base64") from None
        return data

    @property
    def extensions(self) -> dict[str, Any]:  # type: ignore[override]
        attrs = self._e.extension_attrs
        if self._e.get_json() is None and "data_base64" in attrs:
            attrs.pop("data_base64")
        return attrs


def from_native(event: Any, binding: c.Binding | None = None) -> CloudEvent:
    import azure.functions as func

    c.expect(event, (func.EventGridEvent, func.CloudEvent), EVENT_SOURCE, binding)
    if isinstance(event, func.CloudEvent):
        return CloudEventsSchemaEvent(event)
    return EventGridSchemaEvent(event)


# -- storage events --------------------------------------------------------------------
class EventGridStorageEvent(StorageEvent):
    """A view of a Blob Storage event delivered by Event Grid, in either schema."""

    __slots__ = ("_cloud", "_e", "_type")
    provider = "azure"
    event_source = EVENT_SOURCE
    version = None

    def __init__(self, event: Any, cloud: bool) -> None:
        self._e = event
        self._cloud = cloud
        self._type = _string(
            event.type if cloud else event.event_type, "type" if cloud else "eventType"
        )
        subject = _string(event.subject, "subject")
        m = _SUBJECT.match(subject)
        if m is None:
            raise c.malformed(EVENT_SOURCE, "subject", f"not a blob subject: {subject!r}")
        self.bucket = m.group("c")
        self.key = m.group("k")
        if self._type not in KINDS:
            raise UnsupportedEventError(
                c.PROVIDER,
                EVENT_SOURCE,
                "type" if cloud else "eventType",
                f"{self._type!r} is not a blob storage event",
            )

    @property
    def native(self) -> Any:  # type: ignore[override]
        return self._e

    @property
    def _data(self) -> dict[str, Any]:
        data = self._e.get_json()
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise c.malformed(EVENT_SOURCE, "data", "expected an object")
        return data

    @property
    def kind(self) -> StorageKind:  # type: ignore[override]
        return KINDS[self._type]

    @property
    def size(self) -> int | None:  # type: ignore[override]
        size = self._data.get("contentLength")
        if size is None or (isinstance(size, int) and not isinstance(size, bool)):
            return size
        raise c.malformed(EVENT_SOURCE, "data.contentLength", f"not an integer: {size!r}")

    @property
    def etag(self) -> str | None:  # type: ignore[override]
        return unquote_etag(self._data.get("eTag"))

    @property
    def time(self) -> datetime | None:  # type: ignore[override]
        e = self._e
        return c.check_time(e.time if self._cloud else e.event_time, EVENT_SOURCE, "time")

    @property
    def extensions(self) -> dict[str, Any]:  # type: ignore[override]
        e = self._e
        if self._cloud:
            out: dict[str, Any] = {"id": e.id, "source": e.source, "type": self._type}
            out["specversion"] = e.specversion
            for name in ("datacontenttype", "dataschema"):
                if getattr(e, name) is not None:
                    out[name] = getattr(e, name)
            out.update(e.extension_attrs)
        else:
            out = {"id": e.id, "topic": e.topic, "eventType": self._type}
            if e.data_version is not None:
                out["dataVersion"] = e.data_version
        out["data"] = self._data
        return out


def storage_event(event: Any, binding: c.Binding | None = None) -> StorageEvent:
    """A Blob Storage event delivered through Event Grid, as a StorageEvent."""
    import azure.functions as func

    c.expect(event, (func.EventGridEvent, func.CloudEvent), EVENT_SOURCE, binding)
    return EventGridStorageEvent(event, isinstance(event, func.CloudEvent))


# -- neutral → native ------------------------------------------------------------------
def _time(value: datetime | None) -> str | None:
    return None if value is None else c.net_utc(value)


def _attributes(event: CloudEvent) -> dict[str, Any]:
    """A CloudEvent's extensions are CloudEvents extension attributes, so another
    provider's carry over, those that are valid attributes (lower-case alphanumeric names,
    string, integer or boolean values)."""
    if c.same_source(event, EVENT_SOURCE):
        return dict(event.extensions)
    return {
        k: v
        for k, v in event.extensions.items()
        if _CE_NAME.match(k) and isinstance(v, str | int | bool) and k not in _CE_KNOWN
    }


def _cloud_schema(event: CloudEvent | StorageEvent, ext: dict[str, Any]) -> bool:
    import azure.functions as func

    native = event.native if c.same_source(event, EVENT_SOURCE) else None
    if isinstance(native, func.CloudEvent):
        return True
    if isinstance(native, func.EventGridEvent):
        return False
    if isinstance(event, StorageEvent):
        return "specversion" in ext
    return "dataversion" not in ext


def _cloud_body(event: CloudEvent, ext: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "specversion": event.specversion,
        "id": event.id,
        "source": event.source,
        "type": event.type,
        "time": _time(event.time),
        "subject": event.subject,
        "datacontenttype": event.datacontenttype,
        "dataschema": event.dataschema,
    }
    body = {k: v for k, v in body.items() if v is not None}
    if isinstance(event.data, bytes):
        body["data_base64"] = base64.b64encode(event.data).decode("ascii")
    elif event.data is not None:
        body["data"] = event.data
    for name, value in ext.items():
        if name not in _CE_KNOWN and name not in ("data", "data_base64"):
            body[name] = value
    return body


def _grid_body(event: CloudEvent, ext: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": event.id,
        "topic": event.source,
        "subject": event.subject if event.subject is not None else "",
        "data": event.data,
        "eventType": event.type,
        "eventTime": _time(event.time or c.now()),
        "metadataVersion": "1",
        "dataVersion": ext.get("dataversion", ""),
    }


def _storage_body(event: StorageEvent, ext: dict[str, Any], cloud: bool) -> dict[str, Any]:
    data = dict(ext.get("data") or {})
    if not data:
        data = {
            "api": "DeleteBlob" if event.kind == "deleted" else "PutBlob",
            "blobType": "BlockBlob",
        }
        data["url"] = f"https://polyfn.blob.core.windows.net/{event.bucket}/{event.key}"
    if event.size is not None and data.get("contentLength") != event.size:
        data["contentLength"] = event.size
    if event.etag is not None and unquote_etag(data.get("eTag")) != event.etag:
        data["eTag"] = f'"{event.etag}"'
    given = ext.get("type" if cloud else "eventType")
    etype = given if KINDS.get(given) == event.kind else DEFAULT_TYPES[event.kind]
    subject = f"/blobServices/default/containers/{event.bucket}/blobs/{event.key}"
    event_id = ext.get("id") or _uuid()
    when = _time(event.time or c.now())
    if cloud:
        body = {k: v for k, v in ext.items() if k not in ("data", "id", "source", "type", "time")}
        body.update(
            specversion=ext.get("specversion", "1.0"),
            id=event_id,
            source=ext.get("source", TOPIC),
            type=etype,
            subject=subject,
            time=when,
            data=data,
        )
        return body
    return {
        "topic": ext.get("topic", TOPIC),
        "subject": subject,
        "eventType": etype,
        "eventTime": when,
        "id": event_id,
        "data": data,
        "dataVersion": ext.get("dataVersion", ""),
        "metadataVersion": "1",
    }


def _uuid() -> str:
    import uuid

    return str(uuid.uuid4())


def to_host(event: CloudEvent | StorageEvent, binding: c.Binding | None = None) -> HostInvocation:
    """The event as the host sends it: its JSON in the schema it was delivered in (a
    CloudEvent with a ``dataversion`` extension, or a storage event first read from the
    Event Grid schema, renders in the Event Grid schema; others as CloudEvents)."""
    if isinstance(event, StorageEvent):
        ext = c.extensions_of(event, EVENT_SOURCE)
    else:
        ext = _attributes(event)
    cloud = _cloud_schema(event, ext)
    if isinstance(event, StorageEvent):
        body = _storage_body(event, ext, cloud)
    elif cloud:
        body = _cloud_body(event, ext)
    else:
        body = _grid_body(event, ext)
    return HostInvocation(c.as_json(body), {})


def to_native(event: CloudEvent | StorageEvent, binding: c.Binding | None = None) -> Any:
    """The ``func.EventGridEvent`` or ``func.CloudEvent`` the worker would hand the function."""
    return c.decode(BINDING, to_host(event, binding))
