"""The broker's SQLite database: file, schema, migrations, transactions, the state-dir lock.

Layout of a state dir::

    broker.sqlite3 (+ -wal, -shm)   every queue, message, object row, schedule, table, event
    broker.lock                     held (flock) by the process that owns the state dir
    buckets/<bucket>/<key>          object data, keys with "/" as subfolders
    tmp/                            object data being written (same filesystem: rename is atomic)

Durability. The database runs in WAL mode with ``synchronous=NORMAL``. A commit appends
the transaction to the -wal file with ``write()`` before it returns; only the ``fsync`` is
put off to checkpoints. Once ``write()`` returned the bytes are the kernel's: a process
killed at any point (``kill -9``, a crash) loses nothing that was committed, and the next
open replays the WAL. What NORMAL gives up is the last transactions before a power cut or
an OS crash (never the database's integrity), the right trade for a development runtime:
every broker call that returned has committed, and commits stay cheap (~tens of µs).

Concurrency. One connection, used by every thread under the broker's lock (``Broker``
holds a condition around every call): operations are short, and one writer at a time is
what SQLite allows anyway. One process owns a state dir: :class:`Store` takes an exclusive
``flock`` on ``broker.lock`` (released by the kernel when the process dies, even by
``kill -9``) and refuses a second owner with :class:`~.errors.StateDirLocked`; another
program adds to a running broker through that broker's API, not through the file.

Migrations. ``PRAGMA user_version`` is the number of migrations applied; each entry of
:data:`MIGRATIONS` runs once, in its own transaction, in order.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import StateDirLocked

DATABASE = "broker.sqlite3"
LOCK_FILE = "broker.lock"

MIGRATIONS: tuple[str, ...] = (
    # 1: the first schema.
    """
    CREATE TABLE queues (
        name TEXT PRIMARY KEY,
        visibility_timeout REAL NOT NULL,
        max_deliveries INTEGER,
        dead_letter TEXT,
        fifo INTEGER NOT NULL,
        backoff_base REAL NOT NULL,
        backoff_max REAL NOT NULL,
        created_at REAL NOT NULL
    );
    -- seq: acceptance order. A message is deliverable when visible_at <= now; a leased one
    -- has a receipt and visible_at = its lease deadline (an expired lease keeps its
    -- receipt until the message is delivered again, so that a late ack still counts).
    CREATE TABLE messages (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL,
        queue TEXT NOT NULL,
        body BLOB NOT NULL,
        attributes TEXT NOT NULL,
        group_id TEXT,
        enqueued_at REAL NOT NULL,
        visible_at REAL NOT NULL,
        deliveries INTEGER NOT NULL DEFAULT 0,
        receipt TEXT,
        last_error TEXT,
        topic TEXT,
        subject TEXT,
        dead_letter_source TEXT,
        dead_letter_reason TEXT
    );
    CREATE INDEX messages_visible ON messages (queue, visible_at, seq);
    CREATE INDEX messages_order ON messages (queue, seq);
    CREATE UNIQUE INDEX messages_receipt ON messages (receipt) WHERE receipt IS NOT NULL;
    CREATE TABLE dedup (
        queue TEXT NOT NULL,
        dedup_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        expires_at REAL NOT NULL,
        PRIMARY KEY (queue, dedup_id)
    );
    CREATE TABLE subscriptions (
        topic TEXT NOT NULL,
        name TEXT NOT NULL,
        filter TEXT,
        PRIMARY KEY (topic, name)
    );
    CREATE TABLE objects (
        bucket TEXT NOT NULL,
        key TEXT NOT NULL,
        size INTEGER NOT NULL,
        etag TEXT NOT NULL,
        version TEXT NOT NULL,
        content_type TEXT NOT NULL,
        metadata TEXT NOT NULL,
        modified REAL NOT NULL,
        PRIMARY KEY (bucket, key)
    );
    -- A put or delete whose file operation may or may not have happened (see storage.py).
    CREATE TABLE file_intents (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        op TEXT NOT NULL,
        bucket TEXT NOT NULL,
        key TEXT NOT NULL,
        tmp TEXT,
        size INTEGER,
        etag TEXT,
        content_type TEXT,
        metadata TEXT
    );
    CREATE TABLE schedules (
        name TEXT PRIMARY KEY,
        expression TEXT NOT NULL,
        timezone TEXT NOT NULL,
        anchor REAL NOT NULL,
        last_fired REAL NOT NULL
    );
    CREATE TABLE items (
        source TEXT NOT NULL,
        keys TEXT NOT NULL,
        item TEXT NOT NULL,
        PRIMARY KEY (source, keys)
    );
    CREATE TABLE counters (
        name TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    );
    -- Produced events waiting for the dispatcher. order_key: events sharing one are
    -- handed out one at a time, in id order (a change stream's source).
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        event_id TEXT NOT NULL,
        order_key TEXT,
        payload TEXT NOT NULL,
        created_at REAL NOT NULL,
        available_at REAL NOT NULL,
        claim TEXT,
        attempts INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX outbox_available ON outbox (available_at, id);
    """,
)


class Store:
    """The open database of one state dir (or of a temporary one, removed on close)."""

    def __init__(self, state_dir: str | os.PathLike[str] | None) -> None:
        self.temporary = state_dir is None
        root = Path(tempfile.mkdtemp(prefix="polyfn-broker-")) if state_dir is None else None
        self.root: Path = root if root is not None else Path(state_dir)  # type: ignore[arg-type]
        self.root.mkdir(parents=True, exist_ok=True)
        self.buckets = self.root / "buckets"
        self.tmp = self.root / "tmp"
        self.buckets.mkdir(exist_ok=True)
        self.tmp.mkdir(exist_ok=True)
        self._lock_fd = _lock(self.root / LOCK_FILE)
        try:
            # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE ... COMMIT).
            self.db = sqlite3.connect(
                self.root / DATABASE, isolation_level=None, check_same_thread=False
            )
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA busy_timeout=5000")
            self._migrate()
        except BaseException:
            _unlock(self._lock_fd)
            raise

    def _migrate(self) -> None:
        (version,) = self.db.execute("PRAGMA user_version").fetchone()
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            # executescript commits first; BEGIN inside it makes the step atomic.
            self.db.executescript(
                f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version={number};COMMIT;"
            )

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed when the block ends, rolled back if it raises.
        The caller holds the broker's lock."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()
        _unlock(self._lock_fd)
        if self.temporary:
            shutil.rmtree(self.root, ignore_errors=True)


def _lock(path: Path) -> int | None:
    try:
        import fcntl
    except ImportError:  # Windows: no flock; one broker per state dir is left to the user
        return None
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise StateDirLocked(
            f"state dir {path.parent} is in use by another broker (polyfn dev already running?)"
        ) from None
    return fd


def _unlock(fd: int | None) -> None:
    if fd is not None:
        os.close(fd)  # closing the descriptor releases the flock
