"""A :class:`~polyfn.patterns.store.StateStore` on Azure Table storage (azure-data-tables).

One entity per key: ``PartitionKey`` a short hash of the key (spreads keys over partitions),
``RowKey`` the key escaped (see :mod:`polyfn.patterns._keys`: Table keys forbid ``/ \\ # ?``
and control characters), properties ``value`` (the JSON text), ``version`` and
``expires_at`` (epoch seconds, absent for no expiry). Writes are conditional on the entity's
ETag, so concurrent writers never overwrite each other:

- creating: ``create_entity`` (fails with ResourceExistsError when the entity exists);
- replacing a live entry at a version, or an expired one: ``update_entity(mode=REPLACE)``
  with ``If-Match: <etag>`` (fails with 412, ResourceModifiedError, when it changed);
- deleting: ``delete_entity`` with ``If-Match: <etag>``.

Table storage has no time-to-live: expired entities read as absent and are replaced in
place on the next write. Sources:
https://learn.microsoft.com/en-us/rest/api/storageservices/understanding-the-table-service-data-model
(key characters and sizes, table names),
https://learn.microsoft.com/en-us/rest/api/storageservices/update-entity2 (If-Match, 412).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import threading
from typing import Any

from polyfn.patterns._keys import escape_key
from polyfn.patterns.store import Entry, _live, _SystemClock

_TABLE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]{2,62}$")
_MAX_KEY_CHARS = 512  # 1 KiB of UTF-16; escaped keys are ASCII
CONNECTION_ENV = "AzureWebJobsStorage"


class AzureTableStore:
    """A StateStore in the Azure table ``table`` (created on first use if missing).

    ``client``: an ``azure.data.tables.TableClient`` for the table; else one is built from
    ``connection_string`` (default: env ``AzureWebJobsStorage``, the Functions host's
    storage account). ``clock``: ``.time()`` for expiries (default: the system clock)."""

    def __init__(
        self,
        table: str,
        *,
        connection_string: str | None = None,
        client: Any = None,
        clock: Any = None,
    ) -> None:
        if not _TABLE_NAME.match(table):
            raise ValueError(
                f"AzureTableStore: table name {table!r} is not valid for Azure Table storage "
                "(3-63 letters and digits, starting with a letter)"
            )
        self.table = table
        self.clock = clock if clock is not None else _SystemClock()
        self._connection_string = connection_string
        self._client = client
        self._ready = False
        self._lock = threading.Lock()

    def time(self) -> float:
        return self.clock.time()

    @property
    def client(self) -> Any:
        """The TableClient, built and the table created on first use."""
        if not self._ready:
            with self._lock:
                if not self._ready:
                    self._client = self._make_client()
                    self._ready = True
        return self._client

    def _make_client(self) -> Any:
        from azure.core.exceptions import ResourceExistsError
        from azure.data.tables import TableClient

        client = self._client
        if client is None:
            conn = self._connection_string or os.environ.get(CONNECTION_ENV)
            if not conn:
                raise RuntimeError(
                    f"AzureTableStore({self.table!r}): no connection string: pass "
                    f"connection_string= or client=, or set env {CONNECTION_ENV}"
                )
            client = TableClient.from_connection_string(conn, table_name=self.table)
        with contextlib.suppress(ResourceExistsError):  # the usual case once deployed
            client.create_table()
        return client

    @staticmethod
    def _keys(key: str) -> tuple[str, str]:
        row = escape_key(key)
        if len(row) > _MAX_KEY_CHARS:
            raise ValueError(
                f"AzureTableStore: key {key[:40]!r}... is too long: {len(row)} characters "
                f"escaped, Table storage allows {_MAX_KEY_CHARS}"
            )
        return hashlib.sha256(key.encode()).hexdigest()[:4], row

    def _entity(self, key: str, value: Any, version: int, expires_at: float | None) -> dict:
        pk, rk = self._keys(key)
        entity: dict[str, Any] = {
            "PartitionKey": pk,
            "RowKey": rk,
            "value": json.dumps(value),
            "version": version,
        }
        if expires_at is not None:  # REPLACE drops properties left out: no stale expiry
            entity["expires_at"] = float(expires_at)
        return entity

    def _read(self, key: str) -> tuple[Entry | None, str | None]:
        """(live entry or None, the stored entity's etag or None when there is none)."""
        from azure.core.exceptions import ResourceNotFoundError

        pk, rk = self._keys(key)
        try:
            e = self.client.get_entity(partition_key=pk, row_key=rk)
        except ResourceNotFoundError:
            return None, None
        etag = e.metadata["etag"]
        expires_at = e.get("expires_at")
        expires_at = None if expires_at is None else float(expires_at)
        if not _live(expires_at, self.time()):
            return None, etag
        return Entry(json.loads(e["value"]), int(e["version"]), expires_at), etag

    def get(self, key: str) -> Entry | None:
        return self._read(key)[0]

    def put_if_absent(self, key: str, value: Any, *, expires_at: float | None = None) -> bool:
        return self.compare_and_set(key, value, version=None, expires_at=expires_at)

    def compare_and_set(
        self, key: str, value: Any, *, version: int | None, expires_at: float | None = None
    ) -> bool:
        from azure.core import MatchConditions
        from azure.core.exceptions import (
            ResourceExistsError,
            ResourceModifiedError,
            ResourceNotFoundError,
        )
        from azure.data.tables import UpdateMode

        entity = self._entity(key, value, (version or 0) + 1, expires_at)
        entry, etag = self._read(key)
        if (None if entry is None else entry.version) != version:
            return False
        if etag is None:  # nothing stored: create, which fails if someone just did
            try:
                self.client.create_entity(entity)
                return True
            except ResourceExistsError:
                return False
        try:  # replace what we read (a live entry at `version`, or an expired one)
            self.client.update_entity(
                entity,
                mode=UpdateMode.REPLACE,
                etag=etag,
                match_condition=MatchConditions.IfNotModified,
            )
            return True
        except (ResourceModifiedError, ResourceNotFoundError):
            return False  # changed or deleted since we read it: someone else won

    def delete(self, key: str, *, version: int | None = None) -> bool:
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceModifiedError

        entry, etag = self._read(key)
        if entry is None or (version is not None and entry.version != version):
            return False
        pk, rk = self._keys(key)
        try:
            # The SDK ignores 404 here: a delete racing another delete reports True too.
            self.client.delete_entity(
                partition_key=pk,
                row_key=rk,
                etag=etag,
                match_condition=MatchConditions.IfNotModified,
            )
            return True
        except ResourceModifiedError:
            return False
