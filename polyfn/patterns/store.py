"""Shared state for the patterns: a small key-value store with versions and expiry.

A :class:`StateStore` holds JSON values under string keys. Every write may carry an
expiry (clock time, epoch seconds); an expired entry reads as absent. Writes are
conditional so that several processes (or instances of a function) can coordinate:

- :meth:`StateStore.put_if_absent` creates a key only when it is absent (or expired);
- :meth:`StateStore.compare_and_set` replaces a value only when its version is the one
  the caller read (``None``: only when absent).

Implementations: :class:`MemoryStore` (one process, thread-safe),
:class:`SqliteStore` (a file, WAL; shared by the processes of the local runtime) and
:class:`DynamoDBStore` (conditional writes; boto3 imported lazily); in their own modules,
:class:`~polyfn.patterns.azure_table.AzureTableStore` and
:class:`~polyfn.patterns.firestore.FirestoreStore`. :class:`~polyfn.patterns.backends.StoreHandle`
(``App.store(name)``) picks one of them from the environment.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time as _time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol


class _SystemClock:
    def time(self) -> float:
        return _time.time()


@dataclass(frozen=True)
class Entry:
    """A stored value and its version (1 on creation, +1 on every replace)."""

    value: Any
    version: int
    expires_at: float | None = None


class StateStore(Protocol):
    def get(self, key: str) -> Entry | None:
        """The live entry under ``key``, or None (absent or expired)."""
        ...

    def put_if_absent(self, key: str, value: Any, *, expires_at: float | None = None) -> bool:
        """Create ``key``; False if a live entry exists."""
        ...

    def compare_and_set(
        self, key: str, value: Any, *, version: int | None, expires_at: float | None = None
    ) -> bool:
        """Replace ``key`` if its live version is ``version`` (None: if absent)."""
        ...

    def delete(self, key: str, *, version: int | None = None) -> bool:
        """Delete ``key`` (only at ``version`` if given); False if nothing was deleted."""
        ...

    def time(self) -> float:
        """The store's clock (epoch seconds): what expiries are compared with."""
        ...


def _live(expires_at: float | None, now: float) -> bool:
    return expires_at is None or expires_at > now


class MemoryStore:
    """A dict behind a lock; expiry read from ``clock`` (``.time()``; default the system's)."""

    def __init__(self, clock: Any = None) -> None:
        self.clock = clock if clock is not None else _SystemClock()
        self._lock = threading.Lock()
        self._data: dict[str, Entry] = {}

    def time(self) -> float:
        return self.clock.time()

    def _get(self, key: str) -> Entry | None:
        e = self._data.get(key)
        if e is not None and not _live(e.expires_at, self.time()):
            del self._data[key]
            return None
        return e

    def get(self, key: str) -> Entry | None:
        with self._lock:
            return self._get(key)

    def put_if_absent(self, key: str, value: Any, *, expires_at: float | None = None) -> bool:
        return self.compare_and_set(key, value, version=None, expires_at=expires_at)

    def compare_and_set(
        self, key: str, value: Any, *, version: int | None, expires_at: float | None = None
    ) -> bool:
        value = json.loads(json.dumps(value))  # a copy, and JSON-only like the other stores
        with self._lock:
            e = self._get(key)
            current = None if e is None else e.version
            if current != version:
                return False
            self._data[key] = Entry(value, (current or 0) + 1, expires_at)
            return True

    def delete(self, key: str, *, version: int | None = None) -> bool:
        with self._lock:
            e = self._get(key)
            if e is None or (version is not None and e.version != version):
                return False
            del self._data[key]
            return True


class SqliteStore:
    """One SQLite file (WAL): a row per key with the value as JSON, its version and
    ``expires_at``. Safe across threads and processes sharing the file. ``table``: the SQL
    table, so that several stores can share one file (app-declared stores do)."""

    def __init__(self, path: str | Path, clock: Any = None, *, table: str = "polyfn_state") -> None:
        self.path = str(path)
        self.clock = clock if clock is not None else _SystemClock()
        self.table = table
        self._t = '"' + table.replace('"', '""') + '"'  # a quoted SQL identifier
        self._local = threading.local()
        with self._conn() as db:
            db.execute(
                f"CREATE TABLE IF NOT EXISTS {self._t} (key TEXT PRIMARY KEY, "
                "value TEXT NOT NULL, version INTEGER NOT NULL, expires_at REAL)"
            )

    def time(self) -> float:
        return self.clock.time()

    def _conn(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA busy_timeout=30000")
            self._local.db = db
        return db

    def _row(self, db: sqlite3.Connection, key: str) -> Entry | None:
        row = db.execute(
            f"SELECT value, version, expires_at FROM {self._t} WHERE key = ?", (key,)
        ).fetchone()
        if row is None or not _live(row[2], self.time()):
            return None
        return Entry(json.loads(row[0]), row[1], row[2])

    def get(self, key: str) -> Entry | None:
        return self._row(self._conn(), key)

    def put_if_absent(self, key: str, value: Any, *, expires_at: float | None = None) -> bool:
        return self.compare_and_set(key, value, version=None, expires_at=expires_at)

    def compare_and_set(
        self, key: str, value: Any, *, version: int | None, expires_at: float | None = None
    ) -> bool:
        text = json.dumps(value)
        db = self._conn()
        db.execute("BEGIN IMMEDIATE")
        try:
            e = self._row(db, key)
            current = None if e is None else e.version
            if current != version:
                db.execute("ROLLBACK")
                return False
            db.execute(
                f"INSERT OR REPLACE INTO {self._t} (key, value, version, expires_at) "
                "VALUES (?, ?, ?, ?)",
                (key, text, (current or 0) + 1, expires_at),
            )
            db.execute("COMMIT")
            return True
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def delete(self, key: str, *, version: int | None = None) -> bool:
        db = self._conn()
        db.execute("BEGIN IMMEDIATE")
        try:
            e = self._row(db, key)
            if e is None or (version is not None and e.version != version):
                db.execute("ROLLBACK")
                return False
            db.execute(f"DELETE FROM {self._t} WHERE key = ?", (key,))
            db.execute("COMMIT")
            return True
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise


class DynamoDBStore:
    """A DynamoDB table (partition key ``pk``, a string) with conditional writes: an item
    per key with ``value`` (JSON), ``version`` and ``expires_at`` (epoch seconds; point the
    table's TTL at it to have DynamoDB purge expired items). ``client``: a boto3 DynamoDB
    client (default: ``boto3.client("dynamodb")``, imported only then)."""

    def __init__(self, table: str, client: Any = None, clock: Any = None) -> None:
        if client is None:
            import boto3

            client = boto3.client("dynamodb")
        self.table = table
        self.client = client
        self.clock = clock if clock is not None else _SystemClock()

    def time(self) -> float:
        return self.clock.time()

    _LIVE = "(attribute_not_exists(expires_at) OR expires_at > :now)"

    def _conditional(self, op: Callable[..., Any], **kwargs: Any) -> bool:
        try:
            op(TableName=self.table, **kwargs)
            return True
        except self.client.exceptions.ConditionalCheckFailedException:
            return False

    def get(self, key: str) -> Entry | None:
        item = self.client.get_item(
            TableName=self.table, Key={"pk": {"S": key}}, ConsistentRead=True
        ).get("Item")
        if item is None:
            return None
        expires_at = float(item["expires_at"]["N"]) if "expires_at" in item else None
        if not _live(expires_at, self.time()):
            return None
        return Entry(json.loads(item["value"]["S"]), int(item["version"]["N"]), expires_at)

    def put_if_absent(self, key: str, value: Any, *, expires_at: float | None = None) -> bool:
        return self.compare_and_set(key, value, version=None, expires_at=expires_at)

    def compare_and_set(
        self, key: str, value: Any, *, version: int | None, expires_at: float | None = None
    ) -> bool:
        item: dict[str, Any] = {
            "pk": {"S": key},
            "value": {"S": json.dumps(value)},
            "version": {"N": str((version or 0) + 1)},
        }
        if expires_at is not None:
            item["expires_at"] = {"N": repr(float(expires_at))}
        values: dict[str, Any] = {":now": {"N": repr(float(self.time()))}}
        if version is None:
            condition = "attribute_not_exists(pk) OR NOT " + self._LIVE
        else:
            condition = "version = :v AND " + self._LIVE
            values[":v"] = {"N": str(version)}
        return self._conditional(
            self.client.put_item,
            Item=item,
            ConditionExpression=condition,
            ExpressionAttributeValues=values,
        )

    def delete(self, key: str, *, version: int | None = None) -> bool:
        values: dict[str, Any] = {":now": {"N": repr(float(self.time()))}}
        condition = "attribute_exists(pk) AND " + self._LIVE
        if version is not None:
            condition += " AND version = :v"
            values[":v"] = {"N": str(version)}
        return self._conditional(
            self.client.delete_item,
            Key={"pk": {"S": key}},
            ConditionExpression=condition,
            ExpressionAttributeValues=values,
        )
