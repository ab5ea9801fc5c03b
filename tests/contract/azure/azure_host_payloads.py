"""Loads the Functions host payloads in tests/events/azure into the ``Datum`` values the
Python worker hands the binding converters (file format and provenance:
tests/events/azure/PROVENANCE.md)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from azure.functions import meta

from polyfn.adapters.azure.host import HostInvocation
from polyfn.adapters.azure.sources._common import Collection

EVENTS = Path(__file__).resolve().parents[2] / "events" / "azure"


def files(prefix: str) -> list[Path]:
    found = sorted(EVENTS.glob(f"{prefix}__*.json"))
    assert found, f"no host payloads for {prefix!r}"
    return found


def load(name: str | Path) -> dict[str, Any]:
    path = Path(name)
    if not path.is_absolute():
        path = EVENTS / path
    return json.loads(path.read_text(encoding="utf-8"))


def datum(spec: dict[str, Any] | None) -> Any:
    if spec is None:
        return None
    kind = spec["type"]
    if kind == "http":
        value = {
            k: (
                {n: datum(d) for n, d in v.items()}
                if k in ("headers", "params", "query")
                else datum(v)
            )
            for k, v in spec["value"].items()
        }
        return meta.Datum(value, "http")
    if kind == "json" and "json" in spec:
        return meta.Datum(
            json.dumps(spec["json"], separators=(",", ":"), ensure_ascii=False), "json"
        )
    if kind == "bytes":
        raw = spec["text"].encode() if "text" in spec else base64.b64decode(spec["base64"])
        return meta.Datum(raw, "bytes")
    if kind == "collection_string":
        return meta.Datum(Collection(string=list(spec["value"])), kind)
    if kind == "collection_sint64":
        return meta.Datum(Collection(sint64=list(spec["value"])), kind)
    if kind == "collection_bytes":
        values = (
            [v.encode() for v in spec["text"]]
            if "text" in spec
            else [base64.b64decode(v) for v in spec["base64"]]
        )
        return meta.Datum(Collection(bytes=values), kind)
    return meta.Datum(spec["value"], kind)


def invocation(name: str | Path) -> tuple[HostInvocation, dict[str, Any]]:
    """The payload as a HostInvocation, and the trigger's binding settings."""
    raw = load(name)
    inv = HostInvocation(datum(raw["data"]), {k: datum(v) for k, v in raw["metadata"].items()})
    return inv, raw["binding"]


def decode(inv: HostInvocation, binding: dict[str, Any]) -> Any:
    """What the worker does: the library's converter for the trigger type decodes it."""
    converter = meta.get_binding_registry().get(binding["type"])
    return converter.decode(inv.data, trigger_metadata=inv.trigger_metadata)


def native(name: str | Path) -> tuple[Any, dict[str, Any]]:
    inv, binding = invocation(name)
    return decode(inv, binding), binding
