"""One StateStore contract, run against every store on real parts:

- MemoryStore, SqliteStore (a file);
- DynamoDBStore on moto (boto3's real client, moto's DynamoDB with conditional writes);
- AzureTableStore on Azurite's Table service (the real azure-data-tables client);
- FirestoreStore with the real google-cloud-firestore client, over gRPC, against the
  minimal Firestore server in firestore_fake.py (no Firestore emulator can run here: it
  is a Java jar downloaded from Google).

Expiry runs on a virtual clock: the stores compare ``expires_at`` with ``store.time()``.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from polyfn.local.clock import VirtualClock
from polyfn.patterns import (
    AzureTableStore,
    DynamoDBStore,
    FirestoreStore,
    MemoryStore,
    SqliteStore,
    idempotent,
)
from polyfn.testing.factories import queue_message
from polyfn.testing.plugin import START
from tests.e2e.azure.conftest import Azurite, azurite  # noqa: F401 - the session fixture
from tests.patterns.firestore_fake import FakeFirestore

KINDS = ["memory", "sqlite", "dynamodb", "azure-table", "firestore"]


@pytest.fixture(scope="session")
def firestore_server() -> Iterator[FakeFirestore]:
    server = FakeFirestore()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _firestore_client(server: FakeFirestore, monkeypatch: pytest.MonkeyPatch) -> Any:
    from google.cloud import firestore

    # The client reads the variable when it is built: an insecure channel to the host,
    # anonymous credentials (google-cloud-firestore's emulator support).
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", f"127.0.0.1:{server.port}")
    return firestore.Client(project="polyfn-test")


@pytest.fixture
def make_store(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    """``make_store(kind, clock)``: a new, empty store of that kind; several calls with the
    same ``share`` name give stores over the same data (two processes, say)."""
    stack: list[Any] = []
    shared: dict[str, str] = {}

    def make(kind: str, clock: Any, share: str | None = None) -> Any:
        name = shared.setdefault(share, f"t{uuid.uuid4().hex[:12]}") if share else None
        name = name or f"t{uuid.uuid4().hex[:12]}"
        if kind == "memory":
            if share:
                pytest.skip("a MemoryStore is one process")
            return MemoryStore(clock)
        if kind == "sqlite":
            return SqliteStore(tmp_path / f"{name}.db", clock)
        if kind == "dynamodb":
            if not stack:
                moto = pytest.importorskip("moto")
                stack.append(moto.mock_aws())
                stack[-1].start()
            import boto3

            client = boto3.client("dynamodb", region_name="us-east-1")
            if name not in client.list_tables()["TableNames"]:
                client.create_table(
                    TableName=name,
                    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                    BillingMode="PAY_PER_REQUEST",
                )
            return DynamoDBStore(name, client, clock)
        if kind == "azure-table":
            server: Azurite = request.getfixturevalue("azurite")
            return AzureTableStore(name, connection_string=server.connection_string, clock=clock)
        if kind == "firestore":
            server_f: FakeFirestore = request.getfixturevalue("firestore_server")
            return FirestoreStore(
                name, client=_firestore_client(server_f, monkeypatch), clock=clock
            )
        raise AssertionError(kind)

    try:
        yield make
    finally:
        for mock in stack:
            mock.stop()


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(START)


@pytest.fixture
def store(make_store: Any, kind: str, clock: VirtualClock) -> Any:
    return make_store(kind, clock)


# --- the contract ------------------------------------------------------------------------


def test_put_if_absent_creates_once(store: Any) -> None:
    assert store.get("k") is None
    assert store.put_if_absent("k", {"n": 1}) is True
    assert store.put_if_absent("k", {"n": 2}) is False
    entry = store.get("k")
    assert (entry.value, entry.version, entry.expires_at) == ({"n": 1}, 1, None)


def test_compare_and_set_needs_the_current_version(store: Any) -> None:
    assert store.compare_and_set("k", "a", version=1) is False  # nothing at version 1
    assert store.compare_and_set("k", "a", version=None) is True
    assert store.compare_and_set("k", "b", version=None) is False  # not absent any more
    assert store.compare_and_set("k", "b", version=1) is True
    assert store.compare_and_set("k", "stale", version=1) is False  # a stale version
    entry = store.get("k")
    assert (entry.value, entry.version) == ("b", 2)
    assert store.compare_and_set("k", "c", version=2, expires_at=START.timestamp() + 5)
    assert store.get("k").expires_at == START.timestamp() + 5
    assert store.compare_and_set("k", "d", version=3)  # replaced without an expiry: none left
    assert store.get("k").expires_at is None


def test_expired_entries_read_as_absent_and_are_replaced(store: Any, clock: VirtualClock) -> None:
    expires = clock.time() + 10
    assert store.put_if_absent("k", "old", expires_at=expires)
    clock.advance(9)
    assert store.get("k").value == "old"
    assert store.put_if_absent("k", "new") is False
    clock.advance(1)  # now == expires_at: expired (live means expires_at > now)
    assert store.get("k") is None
    assert store.compare_and_set("k", "x", version=1) is False  # the expired version
    assert store.delete("k") is False  # nothing live to delete
    assert store.put_if_absent("k", "new", expires_at=clock.time() + 10) is True
    entry = store.get("k")
    assert (entry.value, entry.version) == ("new", 1)


def test_delete_at_a_version(store: Any) -> None:
    assert store.delete("k") is False
    store.put_if_absent("k", 1)
    store.compare_and_set("k", 2, version=1)
    assert store.delete("k", version=1) is False
    assert store.get("k").value == 2
    assert store.delete("k", version=2) is True
    assert store.get("k") is None
    assert store.delete("k", version=2) is False
    assert store.put_if_absent("k", 3) and store.delete("k") is True


def test_concurrent_put_if_absent_has_one_winner(store: Any) -> None:
    n = 8
    barrier = threading.Barrier(n)
    results: list[tuple[int, bool]] = []

    def race(i: int) -> None:
        barrier.wait(10)
        results.append((i, store.put_if_absent("race", {"winner": i})))

    threads = [threading.Thread(target=race, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    winners = [i for i, won in results if won]
    assert len(results) == n and len(winners) == 1
    assert store.get("race").value == {"winner": winners[0]}


def test_concurrent_compare_and_set_has_one_winner(store: Any) -> None:
    store.put_if_absent("counter", 0)
    n = 6
    barrier = threading.Barrier(n)
    results: list[bool] = []

    def race(i: int) -> None:
        barrier.wait(10)
        results.append(store.compare_and_set("counter", i, version=1))

    threads = [threading.Thread(target=race, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results.count(True) == 1
    assert store.get("counter").version == 2


KEYS = ["a/b", "a#b", "a?b", "a\\b", "tab\tnl\n", "\x7f\x85", "%2F", "é漢", ".", "..", "__x__"]


def test_keys_and_values_round_trip(store: Any) -> None:
    # Keys with the characters Azure Table keys and Firestore IDs forbid stay distinct.
    for i, key in enumerate(KEYS):
        assert store.put_if_absent(key, {"i": i, "key": key}), key
    for i, key in enumerate(KEYS):
        assert store.get(key).value == {"i": i, "key": key}, key
    value = {"list": [[1, 2], [], None], "s": "ü\u2028", "f": 1.5, "b": True, "n": None}
    assert store.put_if_absent("json", value)
    assert store.get("json").value == value


def test_two_instances_share_the_data(make_store: Any, kind: str, clock: VirtualClock) -> None:
    a = make_store(kind, clock, share="s")
    b = make_store(kind, clock, share="s")
    assert a.put_if_absent("k", "from a")
    assert b.put_if_absent("k", "from b") is False
    assert b.compare_and_set("k", "b", version=1)
    assert a.get("k").value == "b"


def test_idempotent_handler_has_one_effect(store: Any) -> None:
    effects: list[str] = []

    @idempotent(store)
    def handle(msg: Any) -> dict[str, int]:
        effects.append(msg.body.decode())
        return {"n": len(effects)}

    event = queue_message(b"order-1", queue="orders", id="m-1")
    assert handle(event) == {"n": 1}
    assert handle(event) == {"n": 1}  # the duplicate delivery: the stored result
    assert handle(queue_message(b"order-2", queue="orders", id="m-2")) == {"n": 2}
    assert effects == ["order-1", "order-2"]


# --- the conditional writes themselves (a writer sneaking in between read and write) ---


@pytest.mark.parametrize("cloud", ["azure-table", "firestore"])
def test_a_write_between_read_and_write_wins(
    make_store: Any, clock: VirtualClock, cloud: str
) -> None:
    """The store reads, then writes conditionally (ETag / update_time): a write by another
    instance in between must make ours fail at the service, not overwrite it."""
    ours = make_store(cloud, clock, share="race")
    theirs = make_store(cloud, clock, share="race")
    ours.put_if_absent("k", "v1", expires_at=clock.time() + 5)
    read = ours._read

    def read_then_interfere(arg: Any) -> Any:
        result = read(arg)
        entry = theirs.get("k")
        theirs.compare_and_set("k", "theirs", version=entry.version if entry else None)
        return result

    ours._read = read_then_interfere
    assert ours.compare_and_set("k", "ours", version=1) is False
    ours._read = read
    assert ours.get("k").value == "theirs"

    # An expired entry is replaced conditionally too.
    assert theirs.compare_and_set("k", "expiring", version=2, expires_at=clock.time() + 5)
    clock.advance(10)
    ours._read = read_then_interfere
    assert ours.put_if_absent("k", "ours") is False
    ours._read = read
    assert (ours.get("k").value, ours.get("k").version) == ("theirs", 1)

    ours._read = read_then_interfere  # and so is deleting
    assert ours.delete("k", version=1) is False
    ours._read = read
    assert ours.get("k").version == 2


def test_the_firestore_client_used_the_fake(
    make_store: Any, clock: VirtualClock, firestore_server: FakeFirestore
) -> None:
    """Guards against the client silently talking to something else (or nothing)."""
    firestore_server.calls.clear()
    store = make_store("firestore", clock)
    assert store.put_if_absent("k", 1) and store.get("k").value == 1
    assert "Commit" in firestore_server.calls
    assert "BatchGetDocuments" in firestore_server.calls
    assert set(firestore_server.calls) <= {"Commit", "BatchGetDocuments"}
