"""App-declared state stores: ``app.store("dedupe")`` gives a :class:`StoreHandle`, a
:class:`~polyfn.patterns.store.StateStore` whose backend is chosen where the app runs.

The backend, resolved on first use (so declaring a store costs nothing at import):

1. ``handle.use(store)`` — set explicitly (tests, custom setups);
2. env ``POLYFN_STORE_BACKEND`` — ``memory``, ``sqlite``, ``dynamodb``, ``azure-table``
   or ``firestore``;
3. detected from the runtime: ``AWS_LAMBDA_FUNCTION_NAME`` → dynamodb,
   ``FUNCTIONS_WORKER_RUNTIME`` → azure-table, ``K_SERVICE`` or ``FUNCTION_TARGET`` →
   firestore, ``POLYFN_STATE_DIR`` → sqlite (file ``$POLYFN_STATE_DIR/stores.db``, shared
   by the local runtime's processes), else memory (one process).

The table / collection: env ``POLYFN_STORE_<NAME>`` (the name upper-cased, every other
character than A-Z and 0-9 turned into ``_``), else :func:`default_resource_name`.

Nothing heavy is imported here: the backends' modules (sqlite3, boto3, the Azure and
Google SDKs) load when a handle first resolves.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any

from polyfn.errors import DefinitionError
from polyfn.naming import env_var

BACKEND_ENV = "POLYFN_STORE_BACKEND"
STATE_DIR_ENV = "POLYFN_STATE_DIR"
BACKENDS = ("memory", "sqlite", "dynamodb", "azure-table", "firestore")
SQLITE_FILE = "stores.db"


def resource_env(name: str) -> str:
    """The env var naming the physical table of store ``name``: ``POLYFN_STORE_<NAME>``."""
    return env_var("store", name)


def detect_backend(env: Mapping[str, str] | None = None) -> str:
    """The backend for this environment (see the module), ignoring ``handle.use``."""
    env = os.environ if env is None else env
    chosen = env.get(BACKEND_ENV)
    if chosen:
        return chosen.strip().lower()
    if env.get("AWS_LAMBDA_FUNCTION_NAME"):
        return "dynamodb"
    if env.get("FUNCTIONS_WORKER_RUNTIME"):
        return "azure-table"
    if env.get("K_SERVICE") or env.get("FUNCTION_TARGET"):
        return "firestore"
    if env.get(STATE_DIR_ENV):
        return "sqlite"
    return "memory"


def default_resource_name(name: str, backend: str) -> str:
    """The table / collection for store ``name`` when ``POLYFN_STORE_<NAME>`` is unset.

    The name itself, except on Azure Table storage, whose table names are 3-63 letters and
    digits starting with a letter: other characters are dropped, and ``polyfn`` is put in
    front when what is left is too short or starts with a digit (``"dedupe-orders"`` →
    ``"dedupeorders"``, ``"7d"`` → ``"polyfn7d"``)."""
    if backend != "azure-table":
        return name
    table = "".join(c for c in name if c.isascii() and c.isalnum())
    if len(table) < 3 or not table[0].isalpha():
        table = "polyfn" + table
    return table[:63]


class StoreHandle:
    """A named store declared by an app (``app.store(name, ttl=...)``): a StateStore that
    delegates to a backend resolved on first use (see the module).

    ``name``: the logical name; ``ttl``: seconds a written entry lives when the writer gives
    no ``expires_at`` (None: forever). Deployment descriptors read both."""

    def __init__(self, name: str, *, ttl: float | None = None) -> None:
        self.name = name
        self.ttl = ttl
        self._backend: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        shown = type(self._backend).__name__ if self._backend is not None else "unresolved"
        return f"StoreHandle({self.name!r}, ttl={self.ttl!r}, backend={shown})"

    # --- the backend -------------------------------------------------------------------

    def use(self, store: Any) -> StoreHandle:
        """Use ``store`` (any StateStore) as the backend from now on; returns the handle."""
        with self._lock:
            self._backend = store
        return self

    @property
    def backend(self) -> Any:
        """The StateStore this handle delegates to (resolved and built on first use)."""
        if self._backend is None:
            with self._lock:
                if self._backend is None:
                    self._backend = self._build(os.environ)
        return self._backend

    @property
    def clock(self) -> Any:
        """The backend's clock (what the patterns read the time from)."""
        return self.backend.clock

    def resource_name(self, backend: str, env: Mapping[str, str] | None = None) -> str:
        """The physical table / collection of this store on ``backend``."""
        env = os.environ if env is None else env
        return env.get(resource_env(self.name)) or default_resource_name(self.name, backend)

    def _build(self, env: Mapping[str, str]) -> Any:
        kind = detect_backend(env)
        if kind not in BACKENDS:
            raise DefinitionError(
                f"store {self.name!r}: unknown backend {kind!r} in env {BACKEND_ENV} "
                f"(one of {', '.join(BACKENDS)})"
            )
        resource = self.resource_name(kind, env)
        if kind == "memory":
            from polyfn.patterns.store import MemoryStore

            return MemoryStore()
        if kind == "sqlite":
            from pathlib import Path

            from polyfn.patterns.store import SqliteStore

            state_dir = env.get(STATE_DIR_ENV)
            if not state_dir:
                raise DefinitionError(
                    f"store {self.name!r}: backend sqlite ({BACKEND_ENV}) needs env "
                    f"{STATE_DIR_ENV}, the directory of {SQLITE_FILE}"
                )
            Path(state_dir).mkdir(parents=True, exist_ok=True)
            return SqliteStore(Path(state_dir) / SQLITE_FILE, table=resource)
        if kind == "dynamodb":
            from polyfn.patterns.store import DynamoDBStore

            return DynamoDBStore(resource)
        if kind == "azure-table":
            from polyfn.patterns.azure_table import AzureTableStore

            try:
                return AzureTableStore(resource)
            except ValueError as e:
                raise DefinitionError(
                    f"store {self.name!r}: {e}; set env {resource_env(self.name)}"
                ) from None
        from polyfn.patterns.firestore import FirestoreStore

        try:
            return FirestoreStore(resource)
        except ValueError as e:
            raise DefinitionError(
                f"store {self.name!r}: {e}; set env {resource_env(self.name)}"
            ) from None

    # --- the StateStore protocol, delegated ------------------------------------------

    def _expiry(self, expires_at: float | None) -> float | None:
        if expires_at is None and self.ttl is not None:
            return self.backend.time() + self.ttl
        return expires_at

    def get(self, key: str) -> Any:
        return self.backend.get(key)

    def put_if_absent(self, key: str, value: Any, *, expires_at: float | None = None) -> bool:
        return self.backend.put_if_absent(key, value, expires_at=self._expiry(expires_at))

    def compare_and_set(
        self, key: str, value: Any, *, version: int | None, expires_at: float | None = None
    ) -> bool:
        return self.backend.compare_and_set(
            key, value, version=version, expires_at=self._expiry(expires_at)
        )

    def delete(self, key: str, *, version: int | None = None) -> bool:
        return self.backend.delete(key, version=version)

    def time(self) -> float:
        return self.backend.time()
