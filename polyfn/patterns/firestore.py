"""A :class:`~polyfn.patterns.store.StateStore` on Cloud Firestore (google-cloud-firestore).

One document per key in ``collection``: its ID is ``"k:" + the escaped key`` (see
:mod:`polyfn.patterns._keys`; the prefix keeps IDs clear of the reserved ``.``, ``..`` and
``__name__`` forms), its fields ``value`` (the JSON text: Firestore cannot hold every JSON
value, e.g. nested arrays), ``version``, ``expires_at`` (epoch seconds or null) and
``purge_at`` (the same instant as a Firestore Timestamp, or null: point a TTL policy at it
to have Firestore delete expired documents; TTL policies need a Timestamp field).

Writes carry preconditions, so concurrent writers never overwrite each other:

- creating: ``DocumentReference.create`` (precondition ``exists: false``; AlreadyExists
  when the document exists);
- replacing a live entry at a version, or an expired one, and deleting: ``update`` /
  ``delete`` with ``LastUpdateOption`` (precondition ``update_time``: the document must
  still be the one we read; FailedPrecondition otherwise).

Sources: https://cloud.google.com/firestore/docs/reference/rpc/google.firestore.v1#precondition,
https://firebase.google.com/docs/firestore/quotas#collections_documents_and_fields (IDs),
https://cloud.google.com/firestore/docs/ttl (TTL policies on Timestamp fields).
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any

from polyfn.patterns._keys import escape_key
from polyfn.patterns.store import Entry, _live, _SystemClock

_MAX_ID_BYTES = 1500
_ID_PREFIX = "k:"


class FirestoreStore:
    """A StateStore in the Firestore collection ``collection``.

    ``client``: a ``google.cloud.firestore.Client``; else one is built on first use from
    ``project`` and ``database`` (defaults: the environment's project, ``(default)``).
    ``clock``: ``.time()`` for expiries (default: the system clock)."""

    def __init__(
        self,
        collection: str,
        *,
        client: Any = None,
        project: str | None = None,
        database: str | None = None,
        clock: Any = None,
    ) -> None:
        if not collection or "/" in collection or collection in (".", ".."):
            raise ValueError(f"FirestoreStore: {collection!r} is not a collection ID")
        self.collection = collection
        self.clock = clock if clock is not None else _SystemClock()
        self._client = client
        self._project = project
        self._database = database
        self._lock = threading.Lock()

    def time(self) -> float:
        return self.clock.time()

    @property
    def client(self) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    from google.cloud import firestore

                    self._client = firestore.Client(project=self._project, database=self._database)
        return self._client

    def _doc(self, key: str) -> Any:
        doc_id = _ID_PREFIX + escape_key(key)
        if len(doc_id) > _MAX_ID_BYTES:
            raise ValueError(
                f"FirestoreStore: key {key[:40]!r}... is too long: its document ID has "
                f"{len(doc_id)} bytes, Firestore allows {_MAX_ID_BYTES}"
            )
        return self.client.collection(self.collection).document(doc_id)

    def _read(self, doc: Any) -> tuple[Entry | None, Any]:
        """(live entry or None, the stored document's update_time or None if none)."""
        snap = doc.get()
        if not snap.exists:
            return None, None
        data = snap.to_dict() or {}
        expires_at = data.get("expires_at")
        expires_at = None if expires_at is None else float(expires_at)
        if not _live(expires_at, self.time()):
            return None, snap.update_time
        return Entry(json.loads(data["value"]), int(data["version"]), expires_at), snap.update_time

    def get(self, key: str) -> Entry | None:
        return self._read(self._doc(key))[0]

    def put_if_absent(self, key: str, value: Any, *, expires_at: float | None = None) -> bool:
        return self.compare_and_set(key, value, version=None, expires_at=expires_at)

    def compare_and_set(
        self, key: str, value: Any, *, version: int | None, expires_at: float | None = None
    ) -> bool:
        from google.api_core.exceptions import AlreadyExists, FailedPrecondition, NotFound

        fields = {
            "value": json.dumps(value),
            "version": (version or 0) + 1,
            "expires_at": None if expires_at is None else float(expires_at),
            "purge_at": None if expires_at is None else datetime.fromtimestamp(expires_at, UTC),
        }
        doc = self._doc(key)
        entry, updated = self._read(doc)
        if (None if entry is None else entry.version) != version:
            return False
        try:
            if updated is None:
                doc.create(fields)
            else:  # a live entry at `version`, or an expired one: replace what we read
                option = self.client.write_option(last_update_time=updated)
                doc.update(fields, option=option)
            return True
        except (AlreadyExists, FailedPrecondition, NotFound):
            return False  # someone else wrote (or deleted) it since we read

    def delete(self, key: str, *, version: int | None = None) -> bool:
        from google.api_core.exceptions import FailedPrecondition, NotFound

        doc = self._doc(key)
        entry, updated = self._read(doc)
        if entry is None or (version is not None and entry.version != version):
            return False
        try:
            doc.delete(option=self.client.write_option(last_update_time=updated))
            return True
        except (FailedPrecondition, NotFound):
            return False
