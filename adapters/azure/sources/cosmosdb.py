"""Azure Cosmos DB trigger (``cosmosDBTrigger``, change feed) → ChangeEvent per document,
and back.

Native: ``azure.functions.DocumentList`` as the library's CosmosDBTriggerConverter builds
it from the JSON array of changed documents the host sends. Shapes:
tests/events/azure/cosmosdb__*, provenance in tests/events/azure/PROVENANCE.md.

The trigger reads the latest-version change feed: each document as it is after its
latest change, with no previous image and no deletes, and nothing that tells an insert
from an update. So ``operation`` is always ``"modify"`` ("this item now reads so"), never
a guess from ``_ts``; ``old`` is None; deletes never arrive (use a soft-delete field and
TTL, as Azure recommends). ``id`` is the document id; ``keys`` is ``{"id": ...}`` (the
partition key path is a property of the container that the trigger binding does not
state); ``source`` the binding's ``containerName`` (``collectionName`` on extensions before
4.x); ``new`` the document without the Cosmos DB system properties; ``sequence`` the
``_lsn``; ``time`` the ``_ts`` (seconds since the epoch). The system properties (``_rid``,
``_self``, ``_etag``, ``_attachments``, ``_ts``, ``_lsn``) stay in extensions.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from polyfn.events.change import ChangeEvent, JsonObject, Operation

from ..host import HostInvocation
from . import _common as c

EVENT_SOURCE = "azure:cosmosdb"
KIND = "change"
BINDING = "cosmosDBTrigger"

SYSTEM = frozenset({"_rid", "_self", "_etag", "_attachments", "_ts", "_lsn"})


class CosmosChange(ChangeEvent):
    """A view of one changed document (``func.Document``)."""

    __slots__ = ("_b", "_d", "_i")
    provider = "azure"
    event_source = EVENT_SOURCE
    operation: Operation = "modify"  # type: ignore[assignment]
    old = None

    def __init__(self, doc: Any, binding: c.Binding | None, index: int) -> None:
        self._d = doc
        self._b = binding
        self._i = index
        if not isinstance(doc, Mapping):
            reason = "a null document" if doc is None else f"not a document: {type(doc).__name__}"
            raise c.malformed(EVENT_SOURCE, f"[{index}]", reason)
        doc_id = doc.get("id")
        if not isinstance(doc_id, str):
            raise c.malformed(
                EVENT_SOURCE, f"[{index}].id", "missing" if doc_id is None else "not a string"
            )
        self.id = doc_id

    @property
    def native(self) -> Any:  # type: ignore[override]
        return self._d

    @property
    def source(self) -> str:  # type: ignore[override]
        return c.setting(self._b, "containerName", "collectionName")

    @property
    def keys(self) -> JsonObject:  # type: ignore[override]
        return {"id": self.id}

    @property
    def new(self) -> JsonObject | None:  # type: ignore[override]
        return {k: v for k, v in self._d.items() if k not in SYSTEM}

    @property
    def sequence(self) -> str | None:  # type: ignore[override]
        lsn = self._d.get("_lsn")
        return None if lsn is None else str(lsn)

    @property
    def time(self) -> datetime | None:  # type: ignore[override]
        ts = self._d.get("_ts")
        if ts is None:
            return None
        if isinstance(ts, bool) or not isinstance(ts, int | float):
            raise c.malformed(EVENT_SOURCE, f"[{self._i}]._ts", f"not a timestamp: {ts!r}")
        return datetime.fromtimestamp(ts, UTC)

    @property
    def extensions(self) -> dict[str, Any]:  # type: ignore[override]
        return {k: v for k, v in self._d.items() if k in SYSTEM}


def from_native(docs: Any, binding: c.Binding | None = None) -> list[ChangeEvent]:
    from azure.functions import DocumentList

    # A plain list of documents is accepted too (what a hand-written test passes).
    c.expect(docs, (DocumentList, list), EVENT_SOURCE, binding)
    return [CosmosChange(d, binding, i) for i, d in enumerate(docs)]


# -- neutral → native ------------------------------------------------------------------
def document(event: ChangeEvent) -> dict[str, Any]:
    """The document the change feed delivers for ``event``."""
    if event.new is None:
        raise ValueError(
            "the Cosmos DB latest-version change feed has no deletes: "
            f"change {event.id!r} ({event.operation}) has no new image"
        )
    doc = dict(event.new)
    doc.setdefault("id", event.keys.get("id", event.id))
    doc.update(c.extensions_of(event, EVENT_SOURCE))
    if event.time is not None:
        ts = doc.get("_ts")
        if not isinstance(ts, int | float) or datetime.fromtimestamp(ts, UTC) != event.time:
            doc["_ts"] = int(event.time.timestamp())
    if event.sequence is not None and str(doc.get("_lsn")) != event.sequence:
        doc["_lsn"] = int(event.sequence) if event.sequence.isdigit() else event.sequence
    return doc


def to_host(
    events: list[ChangeEvent] | ChangeEvent, binding: c.Binding | None = None
) -> HostInvocation:
    """The JSON array of documents the host sends."""
    batch = events if isinstance(events, list) else [events]
    return HostInvocation(c.as_json([document(e) for e in batch]), {})


def to_native(events: list[ChangeEvent] | ChangeEvent, binding: c.Binding | None = None) -> Any:
    """The ``func.DocumentList`` the worker would hand the function."""
    return c.decode(BINDING, to_host(events, binding))
