"""Firestore document events (``google.cloud.firestore.document.v1.*``) → ChangeEvent, and
back.

Native: a CloudEvent whose data is DocumentEventData — protobuf (``application/protobuf``,
what Eventarc sends; decoded with google-events' ``google.events.cloud.firestore_v1``
types) or its JSON form (what the Functions Frameworks make of a legacy event) — or the
legacy ``providers/cloud.firestore/eventTypes/document.*`` event (JSON). Shapes:
tests/events/gcp/firestore__*, provenance in tests/events/gcp/PROVENANCE.md.

``created`` → insert, ``updated`` → modify, ``deleted`` → remove; ``written`` (and the
legacy ``document.write``) by what the data holds: no old document → insert, no new one →
remove. ``source`` is the collection path and ``keys`` is ``{"id": document id}`` (the
document path ``documents/users/u1/orders/o1`` gives source ``users/u1/orders``, id ``o1``),
from the ``subject`` (else the ``document`` extension attribute, else the documents'
names). ``old`` and ``new`` are the documents' fields as plain values: see
:func:`decode_value`. ``id`` and ``time`` are the CloudEvent's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from polyfn.events.change import ChangeEvent

from . import _common as c

EVENT_SOURCE = "gcp:firestore"
KIND = "change"
SERVICE = "firestore.googleapis.com"
PREFIX = "google.cloud.firestore.document.v1."
PROTOBUF = "application/protobuf"
OPERATIONS = {
    PREFIX + "created": "insert",
    PREFIX + "updated": "modify",
    PREFIX + "deleted": "remove",
    PREFIX + "written": None,  # from the data
}
TYPES = {"insert": PREFIX + "created", "modify": PREFIX + "updated", "remove": PREFIX + "deleted"}
# Value types whose plain form is another type's: their spec is kept to encode them back.
_TYPED = ("timestampValue", "referenceValue", "geoPointValue")


# -- Firestore values ⇄ plain values --------------------------------------------------------
def decode_value(value: Any, where: str) -> tuple[Any, Any]:
    """One Firestore Value (JSON form) → (plain value, spec). Plain values: nullValue → None,
    booleanValue → bool, integerValue → int, doubleValue → float, stringValue → str,
    bytesValue → bytes, timestampValue → its RFC 3339 text, referenceValue → the document
    name, geoPointValue → ``{"latitude", "longitude"}``, arrayValue → list, mapValue → dict.
    The spec is None, or what :func:`encode_value` needs to give back the same Value
    (the type name of a timestamp, reference or geo point, or the specs of members)."""
    if not isinstance(value, Mapping) or len(value) != 1:
        raise c.malformed(EVENT_SOURCE, where, "expected a Value: an object with one type key")
    ((tag, raw),) = value.items()
    if tag == "stringValue" and isinstance(raw, str):
        return raw, None
    if tag == "integerValue" and isinstance(raw, str | int) and not isinstance(raw, bool):
        try:
            return int(raw), None
        except ValueError:
            pass
    elif tag == "doubleValue" and isinstance(raw, int | float | str) and not isinstance(raw, bool):
        try:
            return float(raw), None  # "NaN", "Infinity" in JSON
        except ValueError:
            pass
    elif tag == "booleanValue" and isinstance(raw, bool):
        return raw, None
    elif tag == "nullValue":
        return None, None
    elif tag == "bytesValue":
        return c.b64decode(raw, EVENT_SOURCE, f"{where}.bytesValue"), None
    elif tag in ("timestampValue", "referenceValue") and isinstance(raw, str):
        if tag == "timestampValue":
            c.parse_time(raw, EVENT_SOURCE, f"{where}.timestampValue")
        return raw, tag
    elif tag == "geoPointValue" and isinstance(raw, Mapping):
        return {"latitude": raw.get("latitude", 0.0), "longitude": raw.get("longitude", 0.0)}, tag
    elif tag == "arrayValue" and isinstance(raw, Mapping):
        items, specs = [], {}
        for i, item in enumerate(raw.get("values") or []):
            plain, spec = decode_value(item, f"{where}.arrayValue.values[{i}]")
            items.append(plain)
            if spec is not None:
                specs[str(i)] = spec
        return items, {"arrayValue": specs} if specs else None
    elif tag == "mapValue" and isinstance(raw, Mapping):
        fields, specs = decode_fields(raw.get("fields"), f"{where}.mapValue.fields")
        return fields, {"mapValue": specs} if specs else None
    else:
        raise c.malformed(EVENT_SOURCE, where, f"unknown Value type {tag!r}")
    raise c.malformed(EVENT_SOURCE, f"{where}.{tag}", f"not a valid {tag}: {raw!r}")


def decode_fields(fields: Any, where: str) -> tuple[dict[str, Any], dict[str, Any]]:
    if fields is None:
        return {}, {}
    if not isinstance(fields, Mapping):
        raise c.malformed(EVENT_SOURCE, where, "expected an object of Values")
    out, specs = {}, {}
    for name, value in fields.items():
        plain, spec = decode_value(value, f"{where}.{name}")
        out[name] = plain
        if spec is not None:
            specs[name] = spec
    return out, specs


def encode_value(plain: Any, spec: Any = None) -> dict[str, Any]:
    """A plain value → a Firestore Value (JSON form); the inverse of :func:`decode_value`
    given its spec. A datetime becomes a timestampValue."""
    if isinstance(spec, str) and spec in _TYPED:
        if spec == "geoPointValue" and isinstance(plain, Mapping):
            return {spec: dict(plain)}
        if spec != "geoPointValue" and isinstance(plain, str):
            return {spec: plain}
    if plain is None:
        return {"nullValue": None}
    if isinstance(plain, bool):
        return {"booleanValue": plain}
    if isinstance(plain, int):
        return {"integerValue": str(plain)}
    if isinstance(plain, float):
        return {"doubleValue": plain}
    if isinstance(plain, str):
        return {"stringValue": plain}
    if isinstance(plain, bytes):
        return {"bytesValue": c.b64encode(plain)}
    if isinstance(plain, datetime):
        return {"timestampValue": c.format_time(plain)}
    if isinstance(plain, list | tuple):
        specs = spec.get("arrayValue", {}) if isinstance(spec, Mapping) else {}
        return {
            "arrayValue": {
                "values": [encode_value(v, specs.get(str(i))) for i, v in enumerate(plain)]
            }
        }
    if isinstance(plain, Mapping):
        specs = spec.get("mapValue", {}) if isinstance(spec, Mapping) else {}
        return {"mapValue": {"fields": encode_fields(plain, specs)}}
    raise c.unsupported(EVENT_SOURCE, "value", f"{type(plain).__name__} is no Firestore value")


def encode_fields(fields: Mapping[str, Any], specs: Mapping[str, Any] | None) -> dict[str, Any]:
    specs = specs or {}
    return {name: encode_value(v, specs.get(name)) for name, v in fields.items()}


# -- native → neutral --------------------------------------------------------------------
def decode_protobuf(data: bytes) -> dict[str, Any]:
    """DocumentEventData protobuf bytes → its JSON form (google-events, loaded here only)."""
    from google.events.cloud.firestore_v1.types import DocumentEventData
    from google.protobuf import json_format

    try:
        message = DocumentEventData.pb().FromString(data)
    except Exception as e:  # protobuf's DecodeError, and what a truncated buffer raises
        raise c.malformed(EVENT_SOURCE, "data", f"not a DocumentEventData protobuf: {e}") from None
    return json_format.MessageToDict(message)


def encode_protobuf(data: Mapping[str, Any]) -> bytes:
    import json

    from google.events.cloud.firestore_v1.types import DocumentEventData
    from google.protobuf import json_format

    message = json_format.Parse(json.dumps(data), DocumentEventData.pb()())
    return message.SerializeToString()


class FirestoreChange(ChangeEvent):
    """A view of one Firestore document event; the data is decoded on first read."""

    __slots__ = ("_d", "_e", "_specs")
    provider = "gcp"
    event_source = EVENT_SOURCE

    def __init__(self, env: c.Envelope) -> None:
        self._e = env
        self._d: dict[str, Any] | None = None
        self._specs: dict[str, Any] = {}
        self.id = c.need_str(env.attrs, "id", EVENT_SOURCE, "")

    @property
    def native(self) -> Any:  # type: ignore[override]
        return self._e.native

    @property
    def _data(self) -> dict[str, Any]:
        if self._d is None:
            raw = self._e.data
            if isinstance(raw, bytes | bytearray):
                raw = decode_protobuf(bytes(raw))
            elif raw is None:
                raw = {}
            if not isinstance(raw, Mapping):
                raise c.malformed(EVENT_SOURCE, "data", "expected DocumentEventData")
            self._d = dict(raw)
        return self._d

    def _document(self, key: str) -> Mapping[str, Any] | None:
        doc = self._data.get(key)
        if doc is None or doc == {}:
            return None
        if not isinstance(doc, Mapping):
            raise c.malformed(EVENT_SOURCE, f"data.{key}", "expected a Document")
        return doc if doc.get("name") else None

    def _fields(self, key: str) -> dict[str, Any] | None:
        doc = self._document(key)
        if doc is None:
            return None
        fields, specs = decode_fields(doc.get("fields"), f"data.{key}.fields")
        if specs:
            self._specs[key] = specs
        return fields

    def _path(self) -> str:
        subject = self._e.attrs.get("subject")
        if isinstance(subject, str) and subject.startswith("documents/"):
            return subject[len("documents/") :]
        document = self._e.attrs.get("document")
        if isinstance(document, str) and document:
            return document
        for key in ("value", "oldValue"):
            doc = self._document(key)
            if doc is not None and "/documents/" in doc["name"]:
                return doc["name"].split("/documents/", 1)[1]
        raise c.malformed(EVENT_SOURCE, "subject", "no document path")

    @property
    def source(self) -> str:  # type: ignore[override]
        return self._path().rpartition("/")[0]

    @property
    def keys(self) -> dict[str, Any]:  # type: ignore[override]
        return {"id": self._path().rpartition("/")[2]}

    @property
    def operation(self) -> str:  # type: ignore[override]
        op = OPERATIONS.get(self._e.type)
        if op is not None:
            return op
        if self._document("oldValue") is None:
            return "insert"
        return "remove" if self._document("value") is None else "modify"

    @property
    def new(self) -> dict[str, Any] | None:  # type: ignore[override]
        return self._fields("value")

    @property
    def old(self) -> dict[str, Any] | None:  # type: ignore[override]
        return self._fields("oldValue")

    @property
    def sequence(self) -> str | None:  # type: ignore[override]
        return None

    @property
    def time(self) -> datetime | None:  # type: ignore[override]
        when = self._e.attrs.get("time")
        return None if when is None else c.parse_time(when, EVENT_SOURCE, "time")

    @property
    def extensions(self) -> dict[str, Any]:  # type: ignore[override]
        out: dict[str, Any] = {"cloudevent": dict(self._e.attrs)}
        for key in ("value", "oldValue"):
            doc = self._document(key)
            if doc is not None:
                out[key] = {k: v for k, v in doc.items() if k != "fields"}
                self._fields(key)  # records the specs of typed values
        for key, value in self._data.items():
            if key not in ("value", "oldValue"):
                out[key] = value  # updateMask
        if self._specs:
            out["types"] = dict(self._specs)
        return out


def check(env: c.Envelope) -> None:
    if env.type not in OPERATIONS:
        raise c.unsupported(EVENT_SOURCE, "type", f"{env.type!r} is not a Firestore document event")


def from_native(native: Any) -> ChangeEvent:
    env = c.envelope(native, EVENT_SOURCE)
    check(env)
    return FirestoreChange(env)


# -- neutral → native ------------------------------------------------------------------
def _database(attrs: Mapping[str, Any]) -> str:
    source = attrs.get("source") or ""
    prefix = f"//{SERVICE}/"
    if isinstance(source, str) and source.startswith(prefix):
        return source[len(prefix) :]
    return f"projects/{c.project()}/databases/(default)"


def to_cloudevent(
    event: ChangeEvent, *, protobuf: bool | None = None
) -> tuple[dict[str, Any], Any]:
    """(attributes, data): protobuf bytes unless ``protobuf=False`` or the event came as
    JSON (``None`` keeps the event's own encoding; Eventarc sends protobuf)."""
    ext = c.extensions_of(event, EVENT_SOURCE)
    attrs = c.cloudevent_attrs(ext)
    database = _database(attrs)
    path = f"{event.source}/{event.keys.get('id', event.id)}"
    name = f"{database}/documents/{path}"
    when = c.format_time(event.time or c.now())
    specs = ext.get("types") or {}
    data: dict[str, Any] = {}
    for key, fields in (("oldValue", event.old), ("value", event.new)):
        if fields is None:
            continue
        meta = dict(ext.get(key) or {"name": name, "createTime": when, "updateTime": when})
        doc = {"name": meta.pop("name", name)}
        doc["fields"] = encode_fields(fields, specs.get(key))
        doc.update(meta)
        data[key] = doc
    for key, value in ext.items():
        if key not in ("cloudevent", "value", "oldValue", "types"):
            data[key] = value
    if protobuf is None:
        protobuf = attrs.get("datacontenttype", PROTOBUF) == PROTOBUF
    if not attrs:
        import uuid

        attrs = {"specversion": c.SPECVERSION, "id": event.id or uuid.uuid4().hex}
        attrs["source"] = f"//{SERVICE}/{database}"
        attrs["type"] = TYPES[event.operation]
        attrs["subject"] = f"documents/{path}"
        attrs["time"] = when
        attrs["database"] = database.rsplit("/", 1)[-1]
        attrs["namespace"] = "(default)"
        attrs["document"] = path
    attrs["datacontenttype"] = PROTOBUF if protobuf else c.JSON
    return attrs, encode_protobuf(data) if protobuf else data


def to_legacy(event: ChangeEvent) -> tuple[Any, dict[str, Any]]:
    attrs, data = to_cloudevent(event, protobuf=False)
    database = _database(attrs)
    subject = attrs.get("subject") or f"documents/{attrs.get('document', '')}"
    legacy_type = c.CLOUDEVENT_TO_LEGACY.get(attrs["type"])
    if legacy_type is None:
        raise c.unsupported(EVENT_SOURCE, "type", f"{attrs['type']!r} has no legacy event")
    context = {
        "eventId": attrs["id"],
        "timestamp": attrs.get("time"),
        "eventType": legacy_type,
        "resource": f"{database}/{subject}",
    }
    return data, context


def to_native(event: ChangeEvent, mode: str = "binary", *, protobuf: bool | None = None) -> Any:
    """``event`` as Google delivers it (modes: see _common.render)."""
    attrs, data = to_cloudevent(event, protobuf=protobuf)
    return c.render(attrs, data, mode, lambda: to_legacy(event))
