"""In-process retry of a transient error, and parking a poison record of a stream.

Streams keep no delivery count: Kinesis (https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html:
a failing batch blocks its shard until it succeeds or expires), Event Hubs
(https://learn.microsoft.com/en-us/azure/azure-functions/functions-reliable-event-processing),
so ``dead_letter`` counts failures in a store.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from polyfn import App, HandlerError
from polyfn.testing import queue_message
from samples.patterns.retry_dead_letter import app as sample


@pytest.fixture
def polyfn_options(polyfn_provider: str | None) -> Any:
    """On Azure, park on a Service Bus queue: Queue Storage messages carry no attributes
    (https://learn.microsoft.com/en-us/azure/storage/queues/storage-queues-introduction),
    so the polyfn-* attributes would be dropped (with a warning)."""
    if polyfn_provider == "azure":
        from polyfn.adapters.azure import AzureOptions

        return AzureOptions(queue_service="servicebus")
    return None


@pytest.fixture
def polyfn_app() -> App:
    sample.WAREHOUSE.__init__()  # type: ignore[misc]
    sample.CLICKS.clear()
    return sample.app


@pytest.mark.polyfn_providers
def test_a_transient_error_succeeds_on_the_third_attempt(polyfn: Any) -> None:
    sample.WAREHOUSE.drops = 2
    polyfn.send("readings", {"sensor": "s-1", "celsius": 21.5})
    polyfn.idle()  # fails the test if the queue saw a failure: the retries stayed inside

    assert sample.WAREHOUSE.attempts == 3
    assert sample.WAREHOUSE.rows == [{"sensor": "s-1", "celsius": 21.5}]
    assert len(polyfn.deliveries_of("export_reading")) == 1


@pytest.mark.polyfn_providers
def test_past_its_attempts_the_error_goes_back_to_the_queue(polyfn: Any) -> None:
    sample.WAREHOUSE.drops = 4  # 3 attempts in the first delivery, 1 in the second
    polyfn.send("readings", {"sensor": "s-2", "celsius": 4.0})
    polyfn.settle(check=False)

    (failed,) = polyfn.failures  # the queue saw one failure and redelivered
    assert failed.function == "export_reading"
    assert sample.WAREHOUSE.attempts == 5 and len(sample.WAREHOUSE.rows) == 1


@pytest.mark.polyfn_providers
def test_a_poison_record_is_parked_and_the_next_record_runs(polyfn: Any) -> None:
    for body in (b'{"page": "/home"}', b"<not json>", b'{"page": "/cart"}'):
        polyfn.send("clicks", body, group_id="user-7")  # one shard / partition, in order
    polyfn.settle(check=False)

    assert sample.CLICKS == {"/home": 1, "/cart": 1}  # the stream moved past the bad one
    assert len(polyfn.failures) == 2  # two failed tries; the third parked it
    (parked,) = polyfn.sent("poison")
    assert parked.body == b"<not json>"
    attributes = parked.attributes
    assert attributes["polyfn-function"] == "count_click"
    assert attributes["polyfn-attempts"] == "3"
    assert attributes["polyfn-error-type"] == "JSONDecodeError"
    assert attributes["polyfn-source"].endswith(":clicks")
    assert attributes["polyfn-event-id"]
    assert polyfn.dead_letters("clicks") == []


@pytest.mark.polyfn_providers("azure")
def test_a_replayed_batch_counts_each_record_once(polyfn: Any) -> None:
    """Event Hubs replays a whole batch after a failure (no partial batch): the records
    before the bad one must not count twice."""
    batch = [
        queue_message(b'{"page": "/home"}', queue="clicks", id="1"),
        queue_message(b"<not json>", queue="clicks", id="2"),
    ]
    for _ in range(3):  # the bad record's three attempts; the third parks it
        with contextlib.suppress(HandlerError):
            polyfn.invoke("count_click", batch)
    assert sample.CLICKS == {"/home": 1}
    assert [m.body for m in polyfn.sent("poison")] == [b"<not json>"]
