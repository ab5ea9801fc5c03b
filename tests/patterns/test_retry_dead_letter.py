"""polyfn.patterns retry and dead_letter, under each provider's adapter on the local runtime
(virtual clock), and directly.

Provider facts relied on (delivery counts): SQS ApproximateReceiveCount
(https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html),
Azure Queue Storage DequeueCount
(https://learn.microsoft.com/en-us/azure/azure-functions/functions-bindings-storage-queue-trigger#message-metadata),
Pub/Sub deliveryAttempt only under a dead-letter policy
(https://cloud.google.com/pubsub/docs/handling-failures#track-delivery-attempts), Kinesis
and Event Hubs keep no delivery count.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

import pytest

from polyfn import App
from polyfn.context import Context
from polyfn.local.clock import VirtualClock
from polyfn.outputs import Outputs
from polyfn.outputs.memory import MemoryDriver
from polyfn.patterns import RetryPolicy, SqliteStore, dead_letter, retry
from polyfn.patterns.dead_letter import (
    ATTEMPTS,
    ERROR_MESSAGE,
    ERROR_TYPE,
    EVENT_ID,
    FUNCTION,
    SOURCE,
    provider_attempts,
)
from polyfn.results import Retry
from polyfn.testing.factories import queue_message
from polyfn.testing.plugin import START

CALLS: list[tuple[str, float, float | None]] = []  # (function, clock time, remaining)
FAIL_FIRST = 2

PROVIDER_SOURCE = {
    None: "local:queue",
    "aws": "aws:sqs",
    "azure": "azure:queue",
    "gcp": "gcp:pubsub",
}


@pytest.fixture
def polyfn_options(polyfn_provider: str | None) -> Any:
    # A known function timeout on every provider, so ctx.remaining_time() is not None.
    if polyfn_provider == "azure":
        from polyfn.adapters.azure import AzureOptions

        return AzureOptions(function_timeout=60)
    if polyfn_provider == "gcp":
        from polyfn.adapters.gcp import GcpOptions

        return GcpOptions(timeout=60)
    return None


@pytest.fixture
def polyfn_app(polyfn_clock: VirtualClock, tmp_path: Path) -> App:
    CALLS.clear()
    app = App("reliability")
    store = SqliteStore(tmp_path / "dlq-state.db", clock=polyfn_clock)

    @app.queue("jobs", max_deliveries=1)
    @retry(
        RetryPolicy(max_attempts=3, initial_delay=1, multiplier=2, jitter=False), clock=polyfn_clock
    )
    def flaky(msg: Any, ctx: Any) -> None:
        CALLS.append(("flaky", polyfn_clock.time(), ctx.remaining_time()))
        if len([c for c in CALLS if c[0] == "flaky"]) <= FAIL_FIRST:
            raise ConnectionError("transient")

    @app.queue("slow", max_deliveries=1)
    @retry(
        RetryPolicy(max_attempts=5, initial_delay=25, multiplier=1, jitter=False),
        clock=polyfn_clock,
    )
    def slow(msg: Any, ctx: Any) -> None:
        CALLS.append(("slow", polyfn_clock.time(), ctx.remaining_time()))
        raise ConnectionError("still down")

    @app.queue("orders", max_deliveries=10)
    @dead_letter("orders-parked", max_attempts=3)
    def poison(msg: Any) -> None:  # no ctx: the decorator still sends through it
        CALLS.append(("poison", polyfn_clock.time(), None))
        if msg.body == b"poison":
            raise ValueError("cannot parse order " + msg.id)

    @app.stream("clicks")
    @dead_letter("clicks-parked", max_attempts=3, store=store)
    def click(record: Any, ctx: Any) -> None:
        CALLS.append(("click:" + record.text, polyfn_clock.time(), None))
        if record.body == b"poison":
            raise ValueError("bad click")

    return app


def _times(name: str) -> list[float]:
    return [t for f, t, _ in CALLS if f == name]


# -- retry ------------------------------------------------------------------------------------
@pytest.mark.polyfn_providers
def test_retry_succeeds_on_the_third_attempt_with_backoff(polyfn: Any) -> None:
    polyfn.send("jobs", b"job")
    polyfn.idle()  # no failure reaches the provider: the third attempt succeeded
    times = _times("flaky")
    assert len(times) == 3
    assert [b - a for a, b in itertools.pairwise(times)] == [1.0, 2.0]
    assert polyfn.pending("jobs") == []


@pytest.mark.polyfn_providers
def test_retry_gives_up_after_max_attempts_and_reraises(polyfn: Any) -> None:
    global FAIL_FIRST
    FAIL_FIRST = 99
    try:
        polyfn.send("jobs", b"job")
        polyfn.settle(check=False)
    finally:
        FAIL_FIRST = 2
    deliveries = _deliveries(polyfn, 1)
    assert len(_times("flaky")) == 3 * deliveries
    failures = polyfn.failures  # the provider saw the error: it dead-letters (max 1)
    assert len(failures) == deliveries and {f.function for f in failures} == {"flaky"}
    assert list(failures[-1].dead_lettered.values()) == ["jobs-dlq"]
    assert [m.body for m in polyfn.dead_letters("jobs")] == [b"job"]


@pytest.mark.polyfn_providers("aws", "azure", "gcp")
def test_retry_never_sleeps_past_the_deadline(polyfn: Any) -> None:
    polyfn.send("slow", b"x")
    polyfn.settle(check=False)
    calls = [(t, r) for f, t, r in CALLS if f == "slow"]
    first_remaining = calls[0][1]
    assert first_remaining is not None and 50 < first_remaining <= 60
    slept = calls[2][0] - calls[0][0]
    # 25 s sleeps: two fit in 60 s (ending at 50), a third would end at 75: give up
    # after 3 of the 5 attempts, with no sleep begun that outlives the invocation.
    deliveries = _deliveries(polyfn, 1)
    assert len(calls) == 3 * deliveries and slept == 50
    assert slept + 25 + 0.5 > first_remaining
    assert len(polyfn.failures) == deliveries


def _deliveries(polyfn: Any, max_deliveries: int) -> int:
    """Deliveries before the provider dead-letters: Pub/Sub's dead-letter policy takes 5
    attempts at least (https://cloud.google.com/pubsub/docs/handling-failures), and
    ``--as gcp`` runs it as deployed."""
    return max(5, max_deliveries) if polyfn.provider == "gcp" else max_deliveries


def _ctx(deadline: float | None, outputs: Outputs | None = None) -> Context:
    return Context("fn", "inv-1", "local", deadline=deadline, outputs=outputs)


def test_retry_budget_is_spent_on_the_given_clock() -> None:
    clock = VirtualClock(START)
    calls: list[float] = []
    policy = RetryPolicy(max_attempts=10, initial_delay=1, max_delay=60, jitter=False)

    @retry(policy, clock=clock)
    def handler(event: Any, ctx: Any) -> None:
        calls.append(clock.time())
        raise TimeoutError("x")

    with pytest.raises(TimeoutError):
        handler(queue_message(b""), _ctx(time.time() + 10))
    # sleeps 1, 2, 4 (7 s); the next (8 s) would not end 0.5 s before the 10 s deadline
    assert [c - calls[0] for c in calls] == [0, 1, 3, 7]


def test_retry_does_not_sleep_when_the_first_delay_does_not_fit() -> None:
    clock = VirtualClock(START)
    calls: list[int] = []

    @retry(RetryPolicy(initial_delay=10, jitter=False), clock=clock)
    def handler(event: Any, ctx: Any) -> None:
        calls.append(1)
        raise OSError("down")

    with pytest.raises(OSError):
        handler(queue_message(b""), _ctx(time.time() + 5))
    assert calls == [1] and clock.time() == START.timestamp()


def test_retry_leaves_retry_and_unlisted_errors_to_the_provider() -> None:
    clock = VirtualClock(START)
    calls: list[str] = []

    @retry(RetryPolicy(retry_on=(ConnectionError,)), clock=clock)
    def handler(event: Any) -> None:
        calls.append(event.text)
        raise Retry("later") if event.text == "r" else KeyError("bug")

    with pytest.raises(Retry):
        handler(queue_message("r"))
    with pytest.raises(KeyError):
        handler(queue_message("k"))
    assert calls == ["r", "k"] and clock.time() == START.timestamp()


def test_retry_jitter_stays_within_the_exponential_cap() -> None:
    policy = RetryPolicy(initial_delay=2, multiplier=3, max_delay=10)
    assert policy.delay(1, lambda: 0.5) == 1.0
    assert policy.delay(2, lambda: 1.0) == 6.0
    assert policy.delay(5, lambda: 1.0) == 10.0
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)


def test_retry_async_handler() -> None:
    import asyncio

    clock = VirtualClock(START)
    calls: list[float] = []

    @retry(RetryPolicy(initial_delay=3, jitter=False), clock=clock)
    async def handler(event: Any) -> str:
        calls.append(clock.time())
        if len(calls) < 2:
            raise ConnectionError("x")
        return "ok"

    assert asyncio.run(handler(queue_message(b""))) == "ok"
    assert calls[1] - calls[0] == 3


# -- dead letters -----------------------------------------------------------------------------
@pytest.mark.polyfn_providers
def test_dead_letter_after_n_failures_across_deliveries(polyfn: Any, polyfn_provider: Any) -> None:
    polyfn.send("orders", b"poison", attributes={"tenant": "t1"})
    polyfn.send("orders", b"fine")
    polyfn.settle(check=False)
    poisoned = [c for c in CALLS if c[0] == "poison"]
    assert len(poisoned) == 4  # fine once, poison three times (three deliveries)
    assert len(polyfn.failures) == 2  # the third delivery parked it and acked
    assert polyfn.pending("orders") == [] and polyfn.dead_letters("orders") == []
    (parked,) = polyfn.sent("orders-parked")
    assert parked.body == b"poison"
    attrs = parked.attributes
    assert attrs[SOURCE] == f"{PROVIDER_SOURCE[polyfn_provider]}:orders"
    assert attrs[FUNCTION] == "poison"
    assert attrs[ATTEMPTS] == "3"
    assert attrs[ERROR_TYPE] == "ValueError"
    assert attrs[ERROR_MESSAGE].startswith("cannot parse order ")
    assert attrs[EVENT_ID] == attrs[ERROR_MESSAGE].removeprefix("cannot parse order ")
    if polyfn_provider != "azure":  # Queue Storage messages carry no attributes
        assert attrs["tenant"] == "t1"


@pytest.mark.polyfn_providers
def test_dead_letter_counts_in_the_store_when_the_source_keeps_no_count(polyfn: Any) -> None:
    """Kinesis (aws) and Event Hubs (azure) deliver delivery_count 1 every time: the store
    counts; a poison record stops blocking its shard after three attempts."""
    for body in (b"ok-1", b"poison", b"ok-2"):
        polyfn.send("clicks", body, group_id="user-1")
    polyfn.settle(check=False)
    names = [c[0] for c in CALLS]
    assert names.count("click:poison") == 3
    assert names.count("click:ok-2") >= 1  # the shard moved on
    (parked,) = polyfn.sent("clicks-parked")
    assert parked.body == b"poison"
    assert parked.attributes[ATTEMPTS] == "3"
    assert polyfn.dead_letters("clicks") == []


def test_store_counting_by_direct_invocation(tmp_path: Path) -> None:
    clock = VirtualClock(START)
    store = SqliteStore(tmp_path / "s.db", clock)
    driver = MemoryDriver()
    calls: list[int] = []

    @dead_letter("parked", max_attempts=3, store=store)
    def handler(event: Any, ctx: Any) -> str:
        calls.append(1)
        raise RuntimeError("boom")

    record = queue_message(b"r", id="seq-1")
    record.event_source = "aws:kinesis"  # a source without a delivery count
    assert provider_attempts(record) is None
    ctx = _ctx(None, Outputs(driver))
    for _ in range(2):
        with pytest.raises(RuntimeError):
            handler(record, ctx)
    assert driver.sent == []
    assert handler(record, ctx) is None  # parked: returns normally
    (sent,) = driver.sent
    assert sent.target == "parked" and sent.options["attributes"][ATTEMPTS] == "3"
    assert store.get("dead-letter:fn:aws:kinesis:seq-1") is None  # cleaned up


def test_provider_count_is_used_when_the_source_keeps_one() -> None:
    driver = MemoryDriver()

    @dead_letter("parked", max_attempts=5)
    def handler(event: Any) -> None:
        raise RuntimeError("boom")

    ctx = _ctx(None, Outputs(driver))
    with pytest.raises(RuntimeError):
        handler(queue_message(b"x", delivery_count=4), ctx)
    handler(queue_message(b"x", delivery_count=5), ctx)  # the fifth delivery: parked
    assert len(driver.sent) == 1
    assert driver.sent[0].options["attributes"][ATTEMPTS] == "5"
