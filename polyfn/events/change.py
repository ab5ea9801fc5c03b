"""Change-stream events (DynamoDB Streams, Cosmos DB change feed, Firestore)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from polyfn.events._base import NeutralEvent

Operation = Literal["insert", "modify", "remove"]
JsonObject = dict[str, Any]


class ChangeEvent(NeutralEvent):
    """One change to one item of a table or collection; values are plain JSON values."""

    __slots__ = ("id", "keys", "new", "old", "operation", "sequence", "source", "time")
    KIND: ClassVar[str] = "change"
    fields: ClassVar[tuple[str, ...]] = (
        "id",
        "source",
        "operation",
        "keys",
        "old",
        "new",
        "sequence",
        "time",
    )
    defaults: ClassVar[dict[str, Any]] = {
        "keys": dict,
        "old": None,
        "new": None,
        "sequence": None,
        "time": None,
    }

    id: str
    source: str
    """The table or collection the change happened in."""
    operation: Operation
    keys: JsonObject
    old: JsonObject | None
    new: JsonObject | None
    sequence: str | None
    time: datetime | None

    def __init__(
        self,
        id: str,
        source: str,
        operation: Operation,
        *,
        keys: JsonObject | None = None,
        old: JsonObject | None = None,
        new: JsonObject | None = None,
        sequence: str | None = None,
        time: datetime | None = None,
        provider: str = "local",
        event_source: str = "local:change",
        extensions: dict[str, Any] | None = None,
        native: Any = None,
    ) -> None:
        self.id = id
        self.source = source
        self.operation = operation
        self.keys = keys or {}
        self.old = old
        self.new = new
        self.sequence = sequence
        self.time = time
        self._init_common(provider, event_source, extensions, native)
