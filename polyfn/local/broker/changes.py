"""Change streams: local tables whose writes raise change events.

A table (``source``) holds JSON items under their key attributes. ``table_put`` stores an
item (its keys included: ``{**keys, **item}``, an item contradicting its keys is refused)
and records an ``insert`` (no item had those keys) or a ``modify``; ``table_delete``
removes one and records a ``remove`` (nothing, and no event, when there was no item). The
event (a ``ChangeEvent``) carries ``keys``, ``old`` and ``new`` images as plain JSON, and
``sequence``: a decimal string, 1, 2, 3... per source, as DynamoDB Streams' sequence
numbers grow per shard (compare them as integers). The item and its event are written in
one transaction, and events of one source leave the outbox in sequence order, the later
ones held back while an earlier one is claimed (their ``order_key`` is ``change:<source>``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from polyfn.local.clock import to_datetime

from .core import dumps, new_id
from .errors import InvalidRequest
from .outbox import Outbox

if TYPE_CHECKING:
    from polyfn.events.change import ChangeEvent

JsonObject = dict[str, Any]


def _json(what: str, value: Any) -> str:
    if not isinstance(value, dict):
        raise InvalidRequest(f"{what} must be a dict, not {type(value).__name__}")
    try:
        return dumps(value)
    except (TypeError, ValueError) as exc:
        raise InvalidRequest(f"{what} must be JSON: {exc}") from None


class Changes(Outbox):
    def table_put(self, source: str, keys: JsonObject, item: JsonObject) -> ChangeEvent:
        """Insert or replace the item with these keys; returns its change event."""
        if not source:
            raise InvalidRequest("a table needs a name")
        if not keys:
            raise InvalidRequest("an item needs at least one key attribute")
        for name, value in keys.items():
            if name in item and item[name] != value:
                raise InvalidRequest(f"item attribute {name!r} contradicts its key")
        new = {**item, **keys}
        key_text = _json("keys", keys)
        new_text = _json("item", new)
        with self._write() as db:
            row = db.execute(
                "SELECT item FROM items WHERE source = ? AND keys = ?", (source, key_text)
            ).fetchone()
            db.execute(
                "INSERT OR REPLACE INTO items (source, keys, item) VALUES (?, ?, ?)",
                (source, key_text, new_text),
            )
            old = None if row is None else json.loads(row[0])
            operation = "insert" if old is None else "modify"
            return self._change(db, source, operation, keys, old, json.loads(new_text))

    def table_delete(self, source: str, keys: JsonObject) -> ChangeEvent | None:
        """Remove the item with these keys; its change event, or None if there was none."""
        key_text = _json("keys", keys)
        with self._write() as db:
            row = db.execute(
                "DELETE FROM items WHERE source = ? AND keys = ? RETURNING item",
                (source, key_text),
            ).fetchone()
            if row is None:
                return None
            return self._change(db, source, "remove", keys, json.loads(row[0]), None)

    def table_get(self, source: str, keys: JsonObject) -> JsonObject | None:
        with self._cond:
            row = self.db.execute(
                "SELECT item FROM items WHERE source = ? AND keys = ?",
                (source, _json("keys", keys)),
            ).fetchone()
        return None if row is None else json.loads(row[0])

    def table_items(self, source: str) -> list[JsonObject]:
        """Every item of the table, by key."""
        with self._cond:
            rows = self.db.execute(
                "SELECT item FROM items WHERE source = ? ORDER BY keys", (source,)
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def _change(
        self,
        db: Any,
        source: str,
        operation: str,
        keys: JsonObject,
        old: JsonObject | None,
        new: JsonObject | None,
    ) -> ChangeEvent:
        from polyfn.events.change import ChangeEvent

        now = self.clock.time()
        sequence = str(self._counter(db, f"change:{source}"))
        payload = {
            "id": new_id(),
            "source": source,
            "operation": operation,
            "keys": json.loads(dumps(keys)),
            "old": old,
            "new": new,
            "sequence": sequence,
            "time": now,
        }
        self._record(db, "change", payload["id"], payload, now, order_key=f"change:{source}")
        return ChangeEvent(
            payload["id"],
            source,
            operation,  # type: ignore[arg-type]
            keys=payload["keys"],
            old=old,
            new=new,
            sequence=sequence,
            time=to_datetime(now),
            provider="local",
            event_source="local:change",
            native=payload,
        )
