"""Object storage: a folder per bucket under ``<state dir>/buckets``; every put and delete
records a storage event.

An object ``key`` is the file ``buckets/<bucket>/<key>``, its "/"-separated parts
becoming subfolders, so the data can be looked at with any file tool. The database keeps
each object's row (size, MD5 etag, version, content type, metadata); the row is the
truth: files added to the folders by hand are not objects (put them through the broker).

Keys are refused (:class:`~.errors.InvalidKey`) when they could leave the bucket's folder
or cannot be a file: empty, absolute (leading "/"), with an empty, "." or ".." part
(so no "a//b" and no trailing "/"), a backslash or a NUL, a part longer than 255 bytes, or
a key that is a folder of other keys ("a" when "a/b" exists, and the reverse). Bucket
names are one folder name: letters, digits, ".", "_", "-", not starting with a dot.

``version`` is a number that grows with every put (a generation, as Cloud Storage has),
``etag`` the MD5 hex digest of the data, as S3 gives for a simple put.

Crash safety. A put writes the data to ``tmp/`` first, outside the lock. Then, under it:
(1) a transaction records the intent (bucket, key, temporary file, etag...); (2) the file
is renamed over ``buckets/<bucket>/<key>`` (atomic: readers see the old or the new data,
never a part); (3) one transaction writes the object row and its ``created`` event and
deletes the intent. A delete does the same with an unlink. When a broker opens a state
dir, it finishes every intent it finds, in order (a pending rename is done if the
temporary file is still there, the rest of the step is replayed), and removes temporary
files no intent names. So after ``kill -9`` at any point, a put or delete that had
reached (1) is complete with its event, and one that had not has left no trace; one that
returned had passed (3). (Power loss can lose more: data files are not fsync'ed, see
``store``.)
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import json
import mimetypes
import os
import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from polyfn.local.clock import to_datetime

from .core import dumps, new_id
from .errors import InvalidKey, ObjectNotFound
from .outbox import Outbox

_BUCKET = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]*$")


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    bucket: str
    key: str
    size: int
    etag: str
    version: str
    content_type: str
    metadata: dict[str, str]
    modified: datetime


@dataclass(frozen=True, slots=True)
class StoredObject:
    info: ObjectInfo
    data: bytes


def check_bucket(bucket: str) -> None:
    if not isinstance(bucket, str) or not _BUCKET.match(bucket) or len(bucket) > 255:
        raise InvalidKey(
            f"bucket name {bucket!r}: letters, digits, '.', '_' and '-', not starting with '.'"
        )


def key_parts(key: str) -> list[str]:
    """The folder names and file name of ``key``; :class:`InvalidKey` if it is unsafe."""
    if not isinstance(key, str) or not key:
        raise InvalidKey("an object key must be a non-empty string")
    if key.startswith("/"):
        raise InvalidKey(f"object key {key!r}: absolute keys are refused")
    if "\\" in key or "\x00" in key:
        raise InvalidKey(f"object key {key!r}: backslashes and NUL are refused")
    parts = key.split("/")
    for part in parts:
        if part in ("", ".", ".."):
            raise InvalidKey(f"object key {key!r}: empty, '.' and '..' parts are refused")
        if len(part.encode("utf-8")) > 255:
            raise InvalidKey(f"object key {key!r}: a part is longer than 255 bytes")
    return parts


def _info(row: tuple[Any, ...]) -> ObjectInfo:
    bucket, key, size, etag, version, ctype, metadata, modified = row
    return ObjectInfo(
        bucket, key, size, etag, version, ctype, json.loads(metadata), to_datetime(modified)
    )


_OBJECT_COLUMNS = "bucket, key, size, etag, version, content_type, metadata, modified"


class Storage(Outbox):
    def _path(self, bucket: str, key: str) -> Path:
        check_bucket(bucket)
        root = self.store.buckets / bucket
        path = root.joinpath(*key_parts(key))
        # Belt and braces against symlinks planted in the folders.
        if not path.resolve().is_relative_to(root.resolve()):
            raise InvalidKey(f"object key {key!r} leaves bucket {bucket!r}")
        return path

    def put(
        self,
        bucket: str,
        key: str,
        data: bytes,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> ObjectInfo:
        """Store an object (replacing any) and record its ``created`` event."""
        path = self._path(bucket, key)
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(f"object data is bytes, not {type(data).__name__}")
        meta = {str(k): str(v) for k, v in (metadata or {}).items()}
        ctype = content_type or mimetypes.guess_type(key)[0] or "application/octet-stream"
        etag = hashlib.md5(data, usedforsecurity=False).hexdigest()
        tmp = self.store.tmp / f"{new_id()}.part"
        tmp.write_bytes(data)
        recorded = False
        try:
            with self._cond:
                self._make_parents(path, bucket, key)
                with self._write() as db:
                    intent = db.execute(
                        "INSERT INTO file_intents (op, bucket, key, tmp, size, etag, "
                        "content_type, metadata) VALUES ('put', ?, ?, ?, ?, ?, ?, ?)",
                        (bucket, key, tmp.name, len(data), etag, ctype, dumps(meta)),
                    ).lastrowid
                recorded = True
                return self._finish_put(int(intent or 0), bucket, key, tmp, path)
        finally:
            # Once the intent is recorded the temporary file belongs to it: whether it is
            # still there tells recovery whether the rename happened.
            if not recorded:
                tmp.unlink(missing_ok=True)

    def _make_parents(self, path: Path, bucket: str, key: str) -> None:
        if path.is_dir():
            raise InvalidKey(f"object key {key!r} is a folder of other keys in {bucket!r}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise InvalidKey(
                f"object key {key!r}: a part of it is an object of bucket {bucket!r}"
            ) from None

    def _finish_put(self, intent: int, bucket: str, key: str, tmp: Path, path: Path) -> ObjectInfo:
        if tmp.exists():
            try:
                os.replace(tmp, path)
            except OSError as exc:  # the key became a folder meanwhile: nothing happened
                with self._write() as db:
                    db.execute("DELETE FROM file_intents WHERE id = ?", (intent,))
                tmp.unlink(missing_ok=True)
                raise InvalidKey(f"object key {key!r} cannot be written: {exc}") from None
        with self._write() as db:
            size, etag, ctype, meta = db.execute(
                "SELECT size, etag, content_type, metadata FROM file_intents WHERE id = ?",
                (intent,),
            ).fetchone()
            now = self.clock.time()
            version = str(self._counter(db, "object-version"))
            db.execute(
                f"INSERT OR REPLACE INTO objects ({_OBJECT_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (bucket, key, size, etag, version, ctype, meta, now),
            )
            info = ObjectInfo(
                bucket, key, size, etag, version, ctype, json.loads(meta), to_datetime(now)
            )
            self._storage_event(db, info, "created", now)
            db.execute("DELETE FROM file_intents WHERE id = ?", (intent,))
        return info

    def delete(self, bucket: str, key: str) -> bool:
        """Delete an object and record its ``deleted`` event; False (and no event) if
        there was none."""
        path = self._path(bucket, key)
        with self._cond:
            if self.head(bucket, key) is None:
                return False
            with self._write() as db:
                intent = db.execute(
                    "INSERT INTO file_intents (op, bucket, key) VALUES ('delete', ?, ?)",
                    (bucket, key),
                ).lastrowid
            self._finish_delete(int(intent or 0), bucket, key, path)
            return True

    def _finish_delete(self, intent: int, bucket: str, key: str, path: Path) -> None:
        path.unlink(missing_ok=True)
        self._prune(path.parent, self.store.buckets / bucket)
        with self._write() as db:
            row = db.execute(
                f"DELETE FROM objects WHERE bucket = ? AND key = ? RETURNING {_OBJECT_COLUMNS}",
                (bucket, key),
            ).fetchone()
            if row is not None:
                self._storage_event(db, _info(row), "deleted", self.clock.time())
            db.execute("DELETE FROM file_intents WHERE id = ?", (intent,))

    @staticmethod
    def _prune(folder: Path, root: Path) -> None:
        """Remove the folders a delete left empty, up to the bucket's."""
        while folder != root and folder.is_relative_to(root):
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent

    def _storage_event(
        self, db: sqlite3.Connection, info: ObjectInfo, kind: str, now: float
    ) -> None:
        payload = {
            "bucket": info.bucket,
            "key": info.key,
            "kind": kind,
            "size": info.size,
            "etag": info.etag,
            "version": info.version,
            "time": now,
            "content_type": info.content_type,
            "metadata": info.metadata,
        }
        self._record(db, "storage", new_id(), payload, now)

    def head(self, bucket: str, key: str) -> ObjectInfo | None:
        """The object's description, or None."""
        with self._cond:
            row = self.db.execute(
                f"SELECT {_OBJECT_COLUMNS} FROM objects WHERE bucket = ? AND key = ?",
                (bucket, key),
            ).fetchone()
        return None if row is None else _info(row)

    def get(self, bucket: str, key: str) -> StoredObject:
        """The object's data and description; :class:`ObjectNotFound` if there is none."""
        path = self._path(bucket, key)
        with self._cond:  # a put renames under the lock: read the row and file together
            info = self.head(bucket, key)
            if info is None:
                raise ObjectNotFound(bucket, key)
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                raise ObjectNotFound(bucket, key) from None
        return StoredObject(info, data)

    def list(self, bucket: str, prefix: str = "") -> list[ObjectInfo]:
        """The bucket's objects whose key starts with ``prefix``, by key."""
        out = []
        with self._cond:
            rows = self.db.execute(
                f"SELECT {_OBJECT_COLUMNS} FROM objects WHERE bucket = ? AND key >= ? ORDER BY key",
                (bucket, prefix),
            )
            for row in rows:
                if not row[1].startswith(prefix):
                    break
                out.append(_info(row))
        return out

    def buckets(self) -> builtins.list[str]:
        """Buckets that hold objects."""
        with self._cond:
            rows = self.db.execute("SELECT DISTINCT bucket FROM objects ORDER BY bucket")
            return [r[0] for r in rows]

    def _recover_files(self) -> None:
        """Finish the puts and deletes a crash interrupted; drop orphan temporary files."""
        with self._cond:
            intents = self.db.execute(
                "SELECT id, op, bucket, key, tmp FROM file_intents ORDER BY id"
            ).fetchall()
            for intent, op, bucket, key, tmp in intents:
                path = self._path(bucket, key)
                if op == "put":
                    # On InvalidKey _finish_put dropped the intent: the put never happened.
                    with contextlib.suppress(InvalidKey):
                        self._finish_put(intent, bucket, key, self.store.tmp / tmp, path)
                else:
                    self._finish_delete(intent, bucket, key, path)
            for leftover in self.store.tmp.iterdir():
                leftover.unlink(missing_ok=True)
