"""What the Google Cloud translations share: typed errors, times, and the one *envelope*
every native form is read into.

A Google event reaches a function in one of four native forms:

- a CloudEvent (what functions-framework hands a CloudEvent function: a ``cloudevents``
  SDK object; or its structured JSON as a dict; or the HTTP request carrying it, in
  binary mode — ``ce-*`` headers, the data as the body — or structured mode —
  ``application/cloudevents+json``);
- a legacy background event: ``(data, context)`` as functions-framework hands a
  background function, or the JSON Cloud Functions (1st gen) POSTs (``{"context": {...},
  "data": ...}`` or the flat ``{"eventId", "timestamp", "eventType", "resource", "data"}``);
- a Pub/Sub push request body: ``{"message": {...}, "subscription": "..."}``.

:func:`envelope` reads any of them into an :class:`Envelope`: the CloudEvent attributes and
the data. Legacy events are converted the way the Functions Frameworks convert them
(functions-framework-conformance, docs/mapping.md): type by the mapping table, ``source`` =
``//service/resource``, Storage and Firestore resources split into ``source`` and
``subject``, Pub/Sub data wrapped in ``{"message": ...}`` with ``messageId`` and
``publishTime`` from the context. So a legacy event and its CloudEvent give the same
neutral event, whichever side did the conversion.

Naming rule for ``extensions``: ``extensions["cloudevent"]`` holds the CloudEvent
attributes (the converted ones for a legacy event) under their CloudEvents names; the
other keys are the data fields the neutral event does not carry, under the JSON names of
Google's schemas (google-cloudevents, proto/google/events/cloud/*/v1/data.proto).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from polyfn.errors import MalformedEventError, UnsupportedEventError

PROVIDER = "gcp"
SPECVERSION = "1.0"
STRUCTURED = "application/cloudevents+json"
JSON = "application/json"

# CloudEvents attributes that are not extensions.
CORE_ATTRIBUTES = (
    "specversion",
    "id",
    "source",
    "type",
    "time",
    "subject",
    "datacontenttype",
    "dataschema",
)

# Legacy event type → CloudEvent type (docs/mapping.md of functions-framework-conformance).
LEGACY_TYPES = {
    "google.pubsub.topic.publish": "google.cloud.pubsub.topic.v1.messagePublished",
    "providers/cloud.pubsub/eventTypes/topic.publish": (
        "google.cloud.pubsub.topic.v1.messagePublished"
    ),
    "google.storage.object.finalize": "google.cloud.storage.object.v1.finalized",
    "google.storage.object.delete": "google.cloud.storage.object.v1.deleted",
    "google.storage.object.archive": "google.cloud.storage.object.v1.archived",
    "google.storage.object.metadataUpdate": "google.cloud.storage.object.v1.metadataUpdated",
    "providers/cloud.storage/eventTypes/object.change": "google.cloud.storage.object.v1.finalized",
    "providers/cloud.firestore/eventTypes/document.write": (
        "google.cloud.firestore.document.v1.written"
    ),
    "providers/cloud.firestore/eventTypes/document.create": (
        "google.cloud.firestore.document.v1.created"
    ),
    "providers/cloud.firestore/eventTypes/document.update": (
        "google.cloud.firestore.document.v1.updated"
    ),
    "providers/cloud.firestore/eventTypes/document.delete": (
        "google.cloud.firestore.document.v1.deleted"
    ),
}
# The inverse, for rendering legacy events: the current names, not the aliases.
CLOUDEVENT_TO_LEGACY = {
    ce: legacy
    for legacy, ce in LEGACY_TYPES.items()
    if legacy
    not in (
        "providers/cloud.pubsub/eventTypes/topic.publish",
        "providers/cloud.storage/eventTypes/object.change",
    )
}
_LEGACY_SERVICES = (
    ("providers/cloud.firestore/", "firestore.googleapis.com"),
    ("providers/cloud.pubsub/", "pubsub.googleapis.com"),
    ("providers/cloud.storage/", "storage.googleapis.com"),
    ("google.pubsub", "pubsub.googleapis.com"),
    ("google.storage", "storage.googleapis.com"),
)
_SPLIT = {
    "storage.googleapis.com": re.compile(r"^(projects/[^/]+/buckets/[^/]+)/(objects/.+?)(#\d+)?$"),
    "firestore.googleapis.com": re.compile(r"^(projects/[^/]+/databases/[^/]+)/(documents/.+)$"),
}
PUBSUB_MESSAGE_TYPE = "type.googleapis.com/google.pubsub.v1.PubsubMessage"


def malformed(source: str, field: str, reason: str = "missing") -> MalformedEventError:
    return MalformedEventError(PROVIDER, source, field, reason)


def unsupported(source: str, field: str, reason: str) -> UnsupportedEventError:
    return UnsupportedEventError(PROVIDER, source, field, reason)


def project() -> str:
    """The project an event that never was on Google Cloud claims to come from."""
    return os.environ.get("GOOGLE_CLOUD_PROJECT") or os.environ.get("GCP_PROJECT") or "polyfn"


# -- times -----------------------------------------------------------------------------
def parse_time(value: Any, source: str, field: str) -> datetime:
    """An RFC 3339 time as Google writes it (``Z``, up to nine fractional digits; Python
    keeps six)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise malformed(source, field, f"not an RFC 3339 time: {value!r}")


def format_time(value: datetime) -> str:
    """``2021-02-05T04:06:14.109Z``: milliseconds when the time has no more, microseconds
    when it has, none for whole seconds (the shapes of Google's samples)."""
    value = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    micros = value.microsecond
    if micros == 0:
        return text + "Z"
    if micros % 1000 == 0:
        return f"{text}.{micros // 1000:03d}Z"
    return f"{text}.{micros:06d}Z"


def now() -> datetime:
    return datetime.now(UTC)


def b64decode(value: Any, source: str, field: str) -> bytes:
    if not isinstance(value, str):
        raise malformed(source, field, f"expected base64 text, got {type(value).__name__}")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise malformed(source, field, "not base64") from None


def b64encode(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def short_name(path: str) -> str:
    """``projects/p/topics/orders`` → ``orders``."""
    return path.rsplit("/", 1)[-1]


def need(mapping: Any, key: str, source: str, where: str) -> Any:
    """``mapping[key]``, or a MalformedEventError naming ``where.key``."""
    if not isinstance(mapping, Mapping):
        raise malformed(source, where or key, f"expected an object, got {type(mapping).__name__}")
    try:
        return mapping[key]
    except KeyError:
        raise malformed(source, f"{where}.{key}" if where else key) from None


def need_str(mapping: Any, key: str, source: str, where: str) -> str:
    value = need(mapping, key, source, where)
    if not isinstance(value, str):
        field = f"{where}.{key}" if where else key
        raise malformed(source, field, f"expected a string, got {type(value).__name__}")
    return value


# -- the envelope ------------------------------------------------------------------------
class Envelope:
    """One event as CloudEvent attributes (strings, under their CloudEvents names) and
    data (JSON values, or bytes for binary data). ``form`` says what it was read from:
    ``"cloudevent"``, ``"legacy"`` or ``"push"``; ``native`` is that."""

    __slots__ = ("attrs", "data", "form", "native")

    def __init__(self, attrs: dict[str, Any], data: Any, form: str, native: Any) -> None:
        self.attrs = attrs
        self.data = data
        self.form = form
        self.native = native

    @property
    def type(self) -> str:
        return self.attrs.get("type") or ""

    def __repr__(self) -> str:
        return f"Envelope({self.form}, {self.attrs!r})"


def envelope(native: Any, source: str) -> Envelope:
    """Read any native form (module docstring) into an Envelope; ``source`` names the
    event source in errors."""
    if isinstance(native, Envelope):
        return native
    if isinstance(native, tuple) and len(native) == 2:
        data, context = native
        return _legacy(_context_dict(context, source), data, native, source)
    if hasattr(native, "get_attributes"):  # a cloudevents SDK event (any version)
        raw = native.get_attributes()
        # The SDK's mappingproxy: copy() copies the dict underneath, dict() would go key
        # by key (five times slower).
        attrs = raw.copy() if type(raw) is MappingProxyType else dict(raw)
        if type(attrs) is not dict:
            attrs = dict(attrs)
        for k, v in attrs.items():
            if isinstance(v, datetime):  # the pydantic SDK types give datetimes
                attrs[k] = format_time(v)
        data = native.get_data() if hasattr(native, "get_data") else native.data
        return Envelope(attrs, data, "cloudevent", native)
    if isinstance(native, Mapping):
        return _from_json(native, native, source)
    if hasattr(native, "environ") and hasattr(native, "get_data"):  # a Flask/werkzeug request
        return from_request(native, source)
    raise unsupported(
        source,
        "event",
        f"{type(native).__name__} is no CloudEvent, legacy event or Pub/Sub push body",
    )


def _from_json(body: Mapping[str, Any], native: Any, source: str) -> Envelope:
    if "specversion" in body:  # structured mode
        attrs = {k: v for k, v in body.items() if k not in ("data", "data_base64")}
        if "data_base64" in body:
            data: Any = b64decode(body["data_base64"], source, "data_base64")
        else:
            data = body.get("data")
        return Envelope(attrs, data, "cloudevent", native)
    if "context" in body or "eventType" in body:
        context = body.get("context") or {
            k: body.get(k) for k in ("eventId", "timestamp", "eventType", "resource")
        }
        return _legacy(_context_dict(context, source), body.get("data"), native, source)
    if "message" in body and "subscription" in body:
        return Envelope({}, dict(body), "push", native)
    raise unsupported(
        source,
        "event",
        "a JSON object with neither specversion (CloudEvent), context/eventType "
        "(legacy event) nor message and subscription (Pub/Sub push)",
    )


def _context_dict(context: Any, source: str) -> dict[str, Any]:
    if isinstance(context, Mapping):
        return dict(context)
    # google.cloud.functions.Context (what functions-framework hands background functions)
    try:
        return {
            "eventId": context.event_id,
            "timestamp": context.timestamp,
            "eventType": context.event_type,
            "resource": context.resource,
        }
    except AttributeError:
        raise malformed(
            source, "context", f"expected a Context or an object, got {type(context).__name__}"
        ) from None


def _legacy(context: dict[str, Any], data: Any, native: Any, source: str) -> Envelope:
    """A legacy event as its CloudEvent (docs/mapping.md)."""
    legacy_type = context.get("eventType")
    if not isinstance(legacy_type, str) or not legacy_type:
        raise malformed(source, "context.eventType")
    ce_type = LEGACY_TYPES.get(legacy_type)
    if ce_type is None:
        raise unsupported(source, "context.eventType", f"{legacy_type!r} has no CloudEvent type")
    resource = context.get("resource")
    service = ""
    if isinstance(resource, Mapping):
        service = resource.get("service") or ""
        name = resource.get("name")
    else:
        name = resource
    if not isinstance(name, str) or not name:
        raise malformed(source, "context.resource", "no resource name")
    if not service:
        service = next((s for p, s in _LEGACY_SERVICES if legacy_type.startswith(p)), "")
    subject = None
    split = _SPLIT.get(service)
    if split is not None:
        m = split.match(name)
        if m is None:
            raise malformed(source, "context.resource", f"unexpected resource {name!r}")
        name, subject = m.group(1), m.group(2)
    event_id = context.get("eventId")
    timestamp = context.get("timestamp")
    if not isinstance(event_id, str) or not event_id:
        raise malformed(source, "context.eventId")
    attrs: dict[str, Any] = {
        "specversion": SPECVERSION,
        "id": event_id,
        "source": f"//{service}/{name}",
        "type": ce_type,
        "datacontenttype": JSON,
    }
    if timestamp:
        attrs["time"] = timestamp
    if subject is not None:
        attrs["subject"] = subject
    if service == "pubsub.googleapis.com":
        message = dict(data) if isinstance(data, Mapping) else {}
        if not isinstance(data, Mapping):
            raise malformed(source, "data", "expected the Pub/Sub message object")
        message.setdefault("messageId", event_id)
        if timestamp:
            message.setdefault("publishTime", timestamp)
        data = {"message": message}
    return Envelope(attrs, data, "legacy", native)


# -- HTTP deliveries ---------------------------------------------------------------------
def from_request(request: Any, source: str) -> Envelope:
    """The event a Flask request delivers: a CloudEvent in binary or structured mode, a
    legacy event or a Pub/Sub push body."""
    headers = request.headers
    body = request.get_data()
    if headers.get("ce-specversion") is not None:
        attrs = {
            k[3:].lower(): v
            for k, v in headers.items()
            if k.lower().startswith("ce-") and len(k) > 3
        }
        content_type = headers.get("content-type")
        if content_type:
            attrs["datacontenttype"] = content_type
        return Envelope(attrs, decode_data(body, content_type), "cloudevent", request)
    try:
        parsed = json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        raise malformed(source, "body", "not JSON, and no ce-specversion header") from None
    if not isinstance(parsed, Mapping):
        raise malformed(source, "body", "expected a JSON object")
    return _from_json(parsed, request, source)


def decode_data(body: bytes, content_type: str | None) -> Any:
    """A binary-mode body: JSON when it is JSON (what the cloudevents SDK does too), the
    bytes otherwise (Firestore's application/protobuf)."""
    if not body:
        return None
    if content_type and "json" not in content_type:
        if content_type.startswith("text/"):
            return body.decode("utf-8", "replace")
        return body
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return body


# -- rendering ---------------------------------------------------------------------------
def encode_data(data: Any) -> bytes:
    if data is None:
        return b""
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode("utf-8")
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def render(attrs: dict[str, Any], data: Any, mode: str, legacy: Any = None) -> Any:
    """An event as ``mode`` asks (see the package's ``to_native``): ``"binary"`` and
    ``"structured"`` give (headers, body) of a CloudEvents HTTP request, ``"cloudevent"`` a
    ``cloudevents`` SDK event, ``"legacy"`` (headers, body) of the legacy JSON POST,
    ``"background"`` ``(data, context)`` as a background function gets them. ``legacy`` is
    a zero-argument callable giving ``(data, context dict)`` of the legacy form."""
    if mode == "binary":
        headers = {f"ce-{k}": str(v) for k, v in attrs.items() if k != "datacontenttype"}
        if data is not None:
            headers["content-type"] = attrs.get("datacontenttype") or JSON
        return headers, encode_data(data)
    if mode == "structured":
        body = dict(attrs)
        if isinstance(data, bytes):
            body["data_base64"] = b64encode(data)
        elif data is not None:
            body["data"] = data
        return {"content-type": STRUCTURED}, encode_data(body)
    if mode == "cloudevent":
        from cloudevents.http import CloudEvent as SdkCloudEvent

        return SdkCloudEvent(dict(attrs), data)
    if mode in ("legacy", "background"):
        if legacy is None:
            raise unsupported(
                str(attrs.get("type")), "type", "Google delivers no legacy event of this type"
            )
        legacy_data, context = legacy()
        if mode == "legacy":
            return {"content-type": JSON}, encode_data({"context": context, "data": legacy_data})
        from google.cloud.functions.context import Context as GcfContext

        return legacy_data, GcfContext(
            eventId=context["eventId"],
            timestamp=context["timestamp"],
            eventType=context["eventType"],
            resource=context["resource"],
        )
    raise ValueError(f"mode: {mode!r} is not binary, structured, cloudevent, legacy or background")


def extensions_of(event: Any, source: str) -> dict[str, Any]:
    """The event's extensions when it came from this Google source (they apply here)."""
    if getattr(event, "provider", None) == PROVIDER and event.event_source == source:
        return dict(event.extensions)
    return {}


def cloudevent_attrs(ext: Mapping[str, Any]) -> dict[str, Any]:
    return dict(ext.get("cloudevent") or {})
