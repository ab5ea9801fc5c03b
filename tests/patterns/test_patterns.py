"""polyfn.patterns: idempotent handlers and the circuit breaker, on the virtual clock."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from polyfn import App
from polyfn.local.clock import VirtualClock
from polyfn.patterns import (
    CircuitBreaker,
    CircuitOpen,
    DynamoDBStore,
    IdempotencyInProgress,
    MemoryStore,
    SqliteStore,
    idempotent,
)
from polyfn.testing.factories import queue_message
from polyfn.testing.plugin import START

EFFECTS: list[str] = []


@pytest.fixture
def store(polyfn_clock: VirtualClock, tmp_path: Path) -> SqliteStore:
    return SqliteStore(tmp_path / "state.db", clock=polyfn_clock)


@pytest.fixture
def polyfn_app(store: SqliteStore) -> App:
    EFFECTS.clear()
    app = App("patterns")

    @app.queue("orders")
    @idempotent(store)
    def handle(msg: Any) -> dict[str, Any]:
        EFFECTS.append(msg.body.decode() if isinstance(msg.body, bytes) else str(msg.body))
        return {"n": len(EFFECTS)}

    @app.queue("payments")
    @idempotent(store)
    def pay(msg: Any, ctx: Any) -> str:
        EFFECTS.append(f"pay:{ctx is not None}")
        return "ok"

    return app


@pytest.mark.polyfn_providers
def test_duplicate_delivery_has_one_effect(polyfn: Any) -> None:
    event = queue_message(b"order-1", queue="orders", id="m-1")
    polyfn.invoke("handle", event)
    polyfn.invoke("handle", event)
    assert EFFECTS == ["order-1"]
    polyfn.invoke("handle", queue_message(b"order-2", queue="orders", id="m-2"))
    assert EFFECTS == ["order-1", "order-2"]


@pytest.mark.polyfn_providers
def test_handler_with_context_keeps_its_arity(polyfn: Any) -> None:
    event = queue_message(b"p", queue="payments", id="p-1")
    polyfn.invoke("pay", event)
    polyfn.invoke("pay", event)
    assert EFFECTS == ["pay:True"]


def _store(clock: VirtualClock, kind: str, tmp_path: Path) -> Any:
    return MemoryStore(clock) if kind == "memory" else SqliteStore(tmp_path / "s.db", clock)


@pytest.fixture(params=["memory", "sqlite", "dynamodb"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    clock = VirtualClock(START)
    if request.param != "dynamodb":
        yield _store(clock, request.param, tmp_path)
        return
    boto3 = pytest.importorskip("boto3")
    moto = pytest.importorskip("moto")
    with moto.mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="state",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield DynamoDBStore("state", client, clock)


def test_duplicate_returns_the_stored_result(any_store: Any) -> None:
    calls: list[int] = []

    @idempotent(any_store)
    def handler(event: Any) -> dict[str, int]:
        calls.append(1)
        return {"calls": len(calls)}

    event = queue_message(b"x", id="a")
    assert handler(event) == {"calls": 1}
    assert handler(event) == {"calls": 1}
    assert calls == [1]


def test_in_progress_duplicate_raises(any_store: Any) -> None:
    started, release = threading.Event(), threading.Event()
    event = queue_message(b"x", id="slow")

    @idempotent(any_store)
    def handler(e: Any) -> str:
        started.set()
        release.wait(5)
        return "done"

    results: list[Any] = []
    t = threading.Thread(target=lambda: results.append(handler(event)))
    t.start()
    assert started.wait(5)
    with pytest.raises(IdempotencyInProgress):
        handler(event)
    release.set()
    t.join(5)
    assert results == ["done"]
    assert handler(event) == "done"


def test_failure_then_retry_runs_again(any_store: Any) -> None:
    calls: list[int] = []

    @idempotent(any_store)
    def handler(e: Any) -> int:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return len(calls)

    event = queue_message(b"x", id="f")
    with pytest.raises(RuntimeError):
        handler(event)
    assert handler(event) == 2
    assert handler(event) == 2
    assert len(calls) == 2


def test_records_expire(tmp_path: Path) -> None:
    clock = VirtualClock(START)
    calls: list[int] = []

    @idempotent(SqliteStore(tmp_path / "s.db", clock), expires_after=60)
    def handler(e: Any) -> int:
        calls.append(1)
        return len(calls)

    event = queue_message(b"x", id="e")
    assert handler(event) == 1
    clock.advance(59)
    assert handler(event) == 1
    clock.advance(2)
    assert handler(event) == 2


def test_custom_key(any_store: Any) -> None:
    calls: list[int] = []

    @idempotent(any_store, key=lambda e: e.body.decode())
    def handler(e: Any) -> None:
        calls.append(1)

    handler(queue_message(b"same", id="1"))
    handler(queue_message(b"same", id="2"))
    assert calls == [1]


def _fail() -> None:
    raise RuntimeError("down")


def test_breaker_opens_rejects_half_opens_and_closes(any_store: Any) -> None:
    clock = any_store.clock
    breaker = CircuitBreaker("svc", any_store, failure_threshold=3, cool_down=30)
    for _ in range(3):
        with pytest.raises(RuntimeError):
            breaker.call(_fail)
    assert breaker.state == "open"
    called: list[int] = []
    with pytest.raises(CircuitOpen):
        breaker.call(called.append, 1)
    assert called == []

    clock.advance(29)
    with pytest.raises(CircuitOpen):
        breaker.call(called.append, 1)
    clock.advance(1)
    assert breaker.state == "half-open"
    assert breaker.call(lambda: "ok") == "ok"
    assert breaker.state == "closed"


def test_breaker_reopens_on_failed_trial(any_store: Any) -> None:
    clock = any_store.clock
    breaker = CircuitBreaker("svc", any_store, failure_threshold=2, cool_down=10)
    for _ in range(2):
        with pytest.raises(RuntimeError):
            breaker.call(_fail)
    clock.advance(10)
    with pytest.raises(RuntimeError):
        breaker.call(_fail)  # the trial
    assert breaker.state == "open"
    with pytest.raises(CircuitOpen):
        breaker.call(lambda: "ok")
    clock.advance(10)
    assert breaker.call(lambda: "ok") == "ok"
    assert breaker.state == "closed"


def test_breaker_success_resets_the_failure_count(any_store: Any) -> None:
    breaker = CircuitBreaker("svc", any_store, failure_threshold=2)
    with pytest.raises(RuntimeError):
        breaker.call(_fail)
    breaker.call(lambda: None)
    with pytest.raises(RuntimeError):
        breaker.call(_fail)
    assert breaker.state == "closed"


def test_breaker_decorator_form(any_store: Any) -> None:
    breaker = CircuitBreaker("deco", any_store, failure_threshold=1)

    @breaker
    def flaky(x: int) -> int:
        if x < 0:
            raise ValueError(x)
        return x * 2

    assert flaky(2) == 4
    with pytest.raises(ValueError):
        flaky(-1)
    with pytest.raises(CircuitOpen):
        flaky(2)


def test_breaker_state_is_shared_through_sqlite(tmp_path: Path) -> None:
    clock = VirtualClock(START)
    a = CircuitBreaker("shared", SqliteStore(tmp_path / "s.db", clock), failure_threshold=2)
    b = CircuitBreaker("shared", SqliteStore(tmp_path / "s.db", clock), failure_threshold=2)
    with pytest.raises(RuntimeError):
        a.call(_fail)
    with pytest.raises(RuntimeError):
        b.call(_fail)
    assert a.state == b.state == "open"
    with pytest.raises(CircuitOpen):
        a.call(lambda: None)
    clock.advance(30)
    assert b.call(lambda: "ok") == "ok"
    assert a.state == "closed"


def test_half_open_lets_one_trial_through(any_store: Any) -> None:
    breaker = CircuitBreaker("one", any_store, failure_threshold=1, cool_down=5)
    with pytest.raises(RuntimeError):
        breaker.call(_fail)
    any_store.clock.advance(5)

    def trial() -> str:
        with pytest.raises(CircuitOpen):  # a second caller during the trial is refused
            breaker.call(lambda: "second")
        return "first"

    assert breaker.call(trial) == "first"
    assert breaker.state == "closed"
