"""The Functions host's ``TypedData`` (FunctionRpc.proto) in protobuf's JSON mapping,
to and from the ``Datum`` values the Python worker hands azure-functions' converters.

``TypedData`` is one of ``string``, ``json`` (JSON text), ``bytes`` (base64), ``int`` (a
decimal string, as protobuf writes an int64), ``double``, ``http`` (an ``RpcHttp``:
method, url, headers, params and query as maps of strings, body a TypedData),
``collectionString`` / ``collectionBytes`` / ``collectionSint64`` / ``collectionDouble``
(``{"string": [...]}`` ...). The worker reads ``stream`` as bytes.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from polyfn.local.invoke import InvokeError


def host_json(inv: Any, binding: dict[str, Any]) -> dict[str, Any]:
    return {
        "binding": binding,
        "data": typed_data(inv.data),
        "triggerMetadata": {k: typed_data(v) for k, v in inv.trigger_metadata.items()},
    }


def typed_data(datum: Any) -> dict[str, Any]:
    """A worker ``Datum`` as the ``TypedData`` it came from, in protobuf JSON."""
    kind, value = datum.type, datum.value
    if kind in ("string", "json"):
        return {kind: value}
    if kind == "bytes":
        return {"bytes": _b64(value)}
    if kind == "int":
        return {"int": str(value)}
    if kind == "double":
        return {"double": value}
    if kind == "http":
        return {"http": _rpc_http(value)}
    if kind.startswith("collection_"):
        field = kind.removeprefix("collection_")
        items = list(getattr(value, field))
        if field == "bytes":
            items = [_b64(i) for i in items]
        elif field == "sint64":
            items = [str(i) for i in items]
        return {_camel(kind): {field: items}}
    raise InvokeError(f"cannot show a host value of type {kind!r} as JSON")


def _rpc_http(value: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"method": value["method"].value, "url": value["url"].value}
    for name in ("headers", "params", "query"):
        out[name] = {k: d.value for k, d in (value.get(name) or {}).items()}
    body = value.get("body")
    out["body"] = typed_data(body) if body is not None else {"bytes": ""}
    return out


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.capitalize() for p in rest)


# -- host JSON → what the worker decodes ---------------------------------------------------
def host_invocation(obj: Any) -> Any:
    """The HostInvocation of host JSON (as ``render`` prints it); ``binding`` is ignored:
    the function's own binding decodes it."""
    from polyfn.adapters.azure.host import HostInvocation

    if not isinstance(obj, dict) or "data" not in obj:
        raise InvokeError('an Azure native event is {"data": TypedData, "triggerMetadata": {...}}')
    meta = obj.get("triggerMetadata") or {}
    if not isinstance(meta, dict):
        raise InvokeError("triggerMetadata: expected an object of TypedData")
    return HostInvocation(
        datum(obj["data"], "data"),
        {k: datum(v, f"triggerMetadata.{k}") for k, v in meta.items()},
    )


def datum(obj: Any, where: str) -> Any:
    """A TypedData in protobuf JSON as the worker's Datum."""
    from azure.functions.meta import Datum

    if not isinstance(obj, dict) or len(obj) != 1:
        raise InvokeError(
            f"{where}: a TypedData is an object with one field, e.g. {{'string': 'x'}}"
        )
    ((kind, value),) = obj.items()
    try:
        if kind in ("string", "json"):
            return Datum(str(value), kind)
        if kind in ("bytes", "stream"):
            return Datum(base64.b64decode(value, validate=True), "bytes")
        if kind == "int":
            return Datum(int(value), "int")
        if kind == "double":
            return Datum(float(value), "double")
        if kind == "http":
            return Datum(_http_value(value, where), "http")
        if kind.startswith("collection"):
            return _collection(kind, value)
    except (binascii.Error, TypeError, ValueError, AttributeError) as e:
        raise InvokeError(f"{where}.{kind}: {e}") from None
    raise InvokeError(f"{where}: unknown TypedData field {kind!r}")


def _http_value(value: dict[str, Any], where: str) -> dict[str, Any]:
    from azure.functions.meta import Datum

    def strings(name: str) -> dict[str, Any]:
        return {k: Datum(str(v), "string") for k, v in (value.get(name) or {}).items()}

    body = value.get("body")
    return {
        "method": Datum(str(value.get("method", "GET")), "string"),
        "url": Datum(str(value.get("url", "http://localhost/")), "string"),
        "headers": strings("headers"),
        "body": datum(body, f"{where}.http.body") if body else Datum(b"", "bytes"),
        "params": strings("params"),
        "query": strings("query"),
    }


def _collection(kind: str, value: dict[str, Any]) -> Any:
    from azure.functions.meta import Datum

    from polyfn.adapters.azure.sources._common import Collection

    field = kind.removeprefix("collection").lower()  # collectionSint64 → sint64
    items = list(value.get(field) or [])
    if field == "bytes":
        items = [base64.b64decode(i, validate=True) for i in items]
    elif field == "sint64":
        items = [int(i) for i in items]
    elif field == "double":
        items = [float(i) for i in items]
    return Datum(Collection(**{field: items}), f"collection_{field}")
