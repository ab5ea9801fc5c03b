"""What the Azure trigger translations share: typed errors, app settings, times, and the
``Datum`` shapes the Functions host sends the Python worker.

Naming rule for ``extensions``: the native object on Azure is the azure.functions object
the worker's converter built, so extensions use that object's attribute names
(``pop_receipt``, ``expires_at_utc``, ...), and hold only what is not None.

How the host renders trigger metadata (azure-functions-host,
src/WebJobs.Script.Grpc/MessageExtensions/GrpcMessageConversionExtensions.cs, ``ToRpc``):
strings travel as ``string``; byte arrays as ``bytes``; ``string[]``/``byte[][]``/``long[]``
as ``collection_*`` (the Python worker declares TypedDataCollection); everything else
(ints, longs, DateTime, DateTimeOffset, dictionaries, Uri, POCOs) as Newtonsoft JSON
(``json``). Binding data whose value is null is not sent at all, and ``string[]`` entries
that are null or empty are dropped (the worker does not declare
IncludeEmptyEntriesInMessagePayload).
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from polyfn.errors import MalformedEventError

from ..host import HostInvocation

PROVIDER = "azure"
Binding = Mapping[str, Any]


def malformed(source: str, field: str, reason: str = "missing") -> MalformedEventError:
    return MalformedEventError(PROVIDER, source, field, reason)


def expect(obj: Any, cls: type | tuple[type, ...], source: str, binding: Binding | None) -> None:
    """A MalformedEventError naming the trigger parameter when ``obj`` is not a ``cls``."""
    if not isinstance(obj, cls):
        names = cls.__name__ if isinstance(cls, type) else " or ".join(c.__name__ for c in cls)
        raise malformed(
            source,
            (binding or {}).get("name") or "trigger",
            f"expected azure.functions {names}, got {type(obj).__name__}",
        )


_SETTING = re.compile(r"%([^%]+)%")


def setting(binding: Binding | None, *keys: str) -> str:
    """The first of ``keys`` the binding has, with ``%AppSetting%`` references resolved
    the way the host resolves them (from the environment); unresolvable ones stay."""
    if not binding:
        return ""
    for key in keys:
        value = binding.get(key)
        if value:
            value = str(value)
            if "%" not in value:
                return value
            return _SETTING.sub(lambda m: os.environ.get(m.group(1), m.group(0)), value)
    return ""


# -- times -----------------------------------------------------------------------------
def utc(value: datetime | None) -> datetime | None:
    """Naive times from the converters are UTC on Azure (``EnqueuedTimeUtc`` is a .NET
    DateTime of unspecified kind): make them aware."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def check_time(value: Any, source: str, field: str) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return utc(value)
    raise malformed(source, field, f"expected a time, got {type(value).__name__}")


def parse_time(value: Any, source: str, field: str) -> datetime:
    """An ISO 8601 string as .NET writes it (up to 7 fractional digits, Z or an offset)."""
    if isinstance(value, str):
        try:
            return utc(datetime.fromisoformat(value))  # type: ignore[return-value]
        except ValueError:
            pass
    raise malformed(source, field, f"not an ISO 8601 time: {value!r}")


def _fraction(value: datetime) -> str:
    # Newtonsoft writes "FFFFFFF": fractional digits without trailing zeros, none at all
    # for whole seconds.
    digits = f"{value.microsecond:06d}".rstrip("0")
    return "." + digits if digits else ""


def net_offset(value: datetime) -> str:
    """A DateTimeOffset as Newtonsoft writes it, in UTC: ``2024-05-01T10:00:00.5+00:00``
    (the converters parse only ``+00:00`` offsets)."""
    value = utc(value).astimezone(UTC)  # type: ignore[union-attr]
    return value.strftime("%Y-%m-%dT%H:%M:%S") + _fraction(value) + "+00:00"


def net_utc(value: datetime) -> str:
    """A DateTime of kind Utc: ``2024-05-01T10:00:00.5Z``."""
    value = utc(value).astimezone(UTC)  # type: ignore[union-attr]
    return value.strftime("%Y-%m-%dT%H:%M:%S") + _fraction(value) + "Z"


def net_unspecified(value: datetime) -> str:
    """A DateTime of kind Unspecified (``DateTimeOffset.DateTime``), no zone suffix."""
    value = utc(value).astimezone(UTC)  # type: ignore[union-attr]
    return value.strftime("%Y-%m-%dT%H:%M:%S") + _fraction(value)


# -- host datums -----------------------------------------------------------------------
class Collection:
    """Stands in for the protobuf CollectionString / CollectionBytes / CollectionSInt64
    messages the worker hands the converters (they read ``.string``, ``.bytes``,
    ``.sint64``)."""

    __slots__ = ("bytes", "double", "sint64", "string")

    def __init__(self, **values: list[Any]) -> None:
        for name in self.__slots__:
            setattr(self, name, values.get(name, []))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Collection) and all(
            getattr(self, n) == getattr(other, n) for n in self.__slots__
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = {n: getattr(self, n) for n in self.__slots__ if getattr(self, n)}
        return f"Collection({shown!r})"


def datum(value: Any, type_: str | None) -> Any:
    from azure.functions.meta import Datum

    return Datum(value, type_)


def string(value: str) -> Any:
    return datum(value, "string")


def as_json(value: Any) -> Any:
    """A value the host serialises with Newtonsoft (``Formatting.None``)."""
    return datum(json.dumps(value, separators=(",", ":"), ensure_ascii=False), "json")


def payload(body: bytes) -> Any:
    """A message body: ``string`` when it is UTF-8 text (the host's default for a
    trigger without ``dataType: binary``), ``bytes`` otherwise."""
    try:
        return string(body.decode("utf-8"))
    except UnicodeDecodeError:
        return datum(body, "bytes")


def bodies(values: list[bytes]) -> Any:
    """A batch of bodies: ``collection_string`` when every body is non-empty UTF-8, else
    ``collection_bytes`` (the host drops empty strings from a string array, which would
    leave the converter short of bodies)."""
    try:
        texts = [v.decode("utf-8") for v in values]
    except UnicodeDecodeError:
        texts = []
    if texts and all(texts):
        return datum(Collection(string=texts), "collection_string")
    return datum(Collection(bytes=list(values)), "collection_bytes")


def strings(values: Iterable[str | None]) -> Any:
    """A ``string[]`` as the host sends it: null and empty entries dropped."""
    return datum(Collection(string=[v for v in values if v]), "collection_string")


def longs(values: Iterable[int]) -> Any:
    return datum(Collection(sint64=list(values)), "collection_sint64")


def metadata(values: dict[str, Any]) -> dict[str, Any]:
    """Trigger metadata without the null entries the host leaves out."""
    return {k: v for k, v in values.items() if v is not None}


def decode(binding_type: str, inv: HostInvocation) -> Any:
    """What the worker does with a HostInvocation: the library's converter for the
    trigger type decodes the datum with the trigger metadata."""
    from azure.functions import meta

    converter = meta.get_binding_registry().get(binding_type)
    return converter.decode(inv.data, trigger_metadata=inv.trigger_metadata)


# -- attributes ------------------------------------------------------------------------
def stringify(value: Any) -> str:
    """A non-string application property as an attribute value: its JSON text
    (``true``, ``3``, ``1.5``), the way it travelled from the host."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def attributes(props: Any, source: str, field: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Application properties → (neutral string attributes, the non-string originals)."""
    if props is None:
        return {}, {}
    if not isinstance(props, Mapping):
        raise malformed(source, field, f"expected an object, got {type(props).__name__}")
    attrs: dict[str, Any] = {}
    typed: dict[str, Any] = {}
    for name, value in props.items():
        if isinstance(value, str):
            attrs[name] = value
        else:
            attrs[name] = stringify(value)
            typed[name] = value
    return attrs, typed


def restore(attrs: Mapping[str, Any], typed: Mapping[str, Any] | None) -> dict[str, Any]:
    """The inverse of :func:`attributes`: typed originals come back where the attribute
    still holds their rendering. Bytes attributes (another provider's) become base64 text,
    which is how Newtonsoft writes a byte[] property."""
    out: dict[str, Any] = {}
    for name, value in attrs.items():
        if typed and name in typed and stringify(typed[name]) == value:
            out[name] = typed[name]
        elif isinstance(value, bytes):
            out[name] = base64.b64encode(value).decode("ascii")
        else:
            out[name] = value
    return out


def same_source(event: Any, source: str) -> bool:
    """Whether ``event`` came from this Azure source, so its extensions apply here."""
    return getattr(event, "provider", None) == PROVIDER and event.event_source == source


def extensions_of(event: Any, source: str) -> dict[str, Any]:
    return dict(event.extensions) if same_source(event, source) else {}


def now() -> datetime:
    return datetime.now(UTC)
