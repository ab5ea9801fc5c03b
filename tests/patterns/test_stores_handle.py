"""App-declared stores: ``app.store(name)`` and how a StoreHandle picks its backend."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from polyfn import App
from polyfn.errors import DefinitionError
from polyfn.local.clock import VirtualClock
from polyfn.patterns import (
    AzureTableStore,
    DynamoDBStore,
    FirestoreStore,
    MemoryStore,
    SqliteStore,
    StoreHandle,
    idempotent,
)
from polyfn.patterns.backends import default_resource_name, detect_backend, resource_env
from polyfn.testing.factories import queue_message
from polyfn.testing.plugin import START

DETECTION_ENV = [
    "POLYFN_STORE_BACKEND",
    "AWS_LAMBDA_FUNCTION_NAME",
    "FUNCTIONS_WORKER_RUNTIME",
    "K_SERVICE",
    "FUNCTION_TARGET",
    "POLYFN_STATE_DIR",
    "POLYFN_STORE_DEDUPE_ORDERS",
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in DETECTION_ENV:
        monkeypatch.delenv(var, raising=False)


def test_declaring_twice_gives_the_same_handle() -> None:
    app = App("shop")
    handle = app.store("dedupe-orders", ttl=3600)
    assert app.store("dedupe-orders") is handle
    assert app.store("dedupe-orders", ttl=3600) is handle
    assert app.stores == {"dedupe-orders": handle}
    assert (handle.name, handle.ttl) == ("dedupe-orders", 3600)
    assert isinstance(handle, StoreHandle)
    with pytest.raises(DefinitionError, match="already declared with ttl=3600"):
        app.store("dedupe-orders", ttl=60)


@pytest.mark.parametrize("bad", ["", "a/b", "-x", "ü", "a b", None])
def test_bad_store_names_are_refused(bad: Any) -> None:
    with pytest.raises(DefinitionError, match="store name"):
        App("shop").store(bad)


def test_bad_ttl_is_refused() -> None:
    with pytest.raises(DefinitionError, match="ttl must be > 0"):
        App("shop").store("s", ttl=0)


def test_declaring_costs_nothing_until_used() -> None:
    """No SDK is imported, no backend built, by declaring (only by first use). The
    polyfn.patterns package itself still loads store.py (sqlite3) eagerly."""
    code = (
        "import sys; from polyfn import App; a = App('x'); "
        "print('polyfn.patterns.backends' in sys.modules); h = a.store('s'); "
        "print(sorted(m for m in ('boto3', 'azure.data.tables', 'google.cloud.firestore', "
        "'polyfn.patterns.azure_table', 'polyfn.patterns.firestore') if m in sys.modules)); "
        "print(h._backend)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert out[:3] == ["False", "[]", "None"]


def test_use_sets_the_backend() -> None:
    backend = MemoryStore(VirtualClock(START))
    handle = App("shop").store("s").use(backend)
    assert handle.backend is backend and handle.clock is backend.clock
    assert handle.put_if_absent("k", 1) and backend.get("k").value == 1


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "memory"),
        ({"POLYFN_STATE_DIR": "/tmp/x"}, "sqlite"),
        ({"AWS_LAMBDA_FUNCTION_NAME": "f"}, "dynamodb"),
        ({"FUNCTIONS_WORKER_RUNTIME": "python"}, "azure-table"),
        ({"K_SERVICE": "svc"}, "firestore"),
        ({"FUNCTION_TARGET": "handler"}, "firestore"),
        # The explicit choice wins over detection.
        ({"POLYFN_STORE_BACKEND": "Memory", "AWS_LAMBDA_FUNCTION_NAME": "f"}, "memory"),
        ({"POLYFN_STORE_BACKEND": "sqlite", "K_SERVICE": "svc"}, "sqlite"),
    ],
)
def test_detection(env: dict[str, str], expected: str) -> None:
    assert detect_backend(env) == expected


def test_each_backend_is_built_with_its_resource_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def built(**env: str) -> Any:
        for var in DETECTION_ENV:
            monkeypatch.delenv(var, raising=False)
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        return App("shop").store("dedupe-orders").backend

    assert isinstance(built(), MemoryStore)

    sqlite = built(POLYFN_STATE_DIR=str(tmp_path / "state"))
    assert isinstance(sqlite, SqliteStore)
    assert Path(sqlite.path) == tmp_path / "state" / "stores.db"
    assert sqlite.table == "dedupe-orders"

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")  # boto3 builds a client offline
    dynamo = built(AWS_LAMBDA_FUNCTION_NAME="f", POLYFN_STORE_DEDUPE_ORDERS="shop-Dedupe-1")
    assert isinstance(dynamo, DynamoDBStore) and dynamo.table == "shop-Dedupe-1"

    azure = built(FUNCTIONS_WORKER_RUNTIME="python")
    assert isinstance(azure, AzureTableStore) and azure.table == "dedupeorders"
    azure = built(POLYFN_STORE_BACKEND="azure-table", POLYFN_STORE_DEDUPE_ORDERS="Dedupe")
    assert azure.table == "Dedupe"

    firestore = built(K_SERVICE="svc")
    assert isinstance(firestore, FirestoreStore) and firestore.collection == "dedupe-orders"


def test_resource_names() -> None:
    assert resource_env("dedupe-orders") == "POLYFN_STORE_DEDUPE_ORDERS"
    assert resource_env("a.b_c9") == "POLYFN_STORE_A_B_C9"
    assert default_resource_name("dedupe-orders", "dynamodb") == "dedupe-orders"
    assert default_resource_name("dedupe-orders", "firestore") == "dedupe-orders"
    assert default_resource_name("dedupe-orders", "azure-table") == "dedupeorders"
    assert default_resource_name("7d", "azure-table") == "polyfn7d"
    assert default_resource_name("x" * 80, "azure-table") == "x" * 63


def test_unknown_backend_names_the_store_and_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POLYFN_STORE_BACKEND", "redis")
    handle = App("shop").store("dedupe")
    with pytest.raises(DefinitionError) as info:
        handle.get("k")
    assert "'dedupe'" in str(info.value) and "POLYFN_STORE_BACKEND" in str(info.value)
    assert "'redis'" in str(info.value)


def test_sqlite_without_a_state_dir_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLYFN_STORE_BACKEND", "sqlite")
    with pytest.raises(DefinitionError, match="POLYFN_STATE_DIR"):
        App("shop").store("dedupe").backend  # noqa: B018 - resolving is the point


def test_an_invalid_azure_table_name_is_a_definition_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POLYFN_STORE_BACKEND", "azure-table")
    monkeypatch.setenv("POLYFN_STORE_DEDUPE_ORDERS", "bad-name")
    with pytest.raises(DefinitionError, match="POLYFN_STORE_DEDUPE_ORDERS"):
        App("shop").store("dedupe-orders").backend  # noqa: B018


def test_stores_in_one_sqlite_file_are_separate(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("POLYFN_STATE_DIR", str(tmp_path))
    app = App("shop")
    a, b = app.store("a"), app.store("b")
    assert a.put_if_absent("k", "a") and b.put_if_absent("k", "b")
    assert (a.get("k").value, b.get("k").value) == ("a", "b")
    # Another process (another App over the same directory) sees the same data.
    assert App("shop").store("a").get("k").value == "a"


def test_ttl_is_the_default_expiry() -> None:
    clock = VirtualClock(START)
    handle = App("shop").store("s", ttl=60).use(MemoryStore(clock))
    assert handle.put_if_absent("k", 1)
    assert handle.get("k").expires_at == clock.time() + 60
    assert handle.compare_and_set("j", 1, version=None, expires_at=clock.time() + 5)
    assert handle.get("j").expires_at == clock.time() + 5  # an explicit expiry wins
    clock.advance(60)
    assert handle.get("k") is None and handle.get("j") is None


def test_idempotency_over_a_declared_store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("POLYFN_STATE_DIR", str(tmp_path))
    app = App("shop")
    effects: list[str] = []

    @app.queue("orders")
    @idempotent(app.store("dedupe", ttl=3600))
    def handle(msg: Any) -> str:
        effects.append(msg.id)
        return "ok"

    event = queue_message(b"x", queue="orders", id="m-1")
    assert handle(event) == handle(event) == "ok"
    assert effects == ["m-1"]
    assert isinstance(app.stores["dedupe"].backend, SqliteStore)
