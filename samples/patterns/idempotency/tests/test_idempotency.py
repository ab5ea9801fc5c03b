"""The payment is taken once, however often its message is delivered.

Why duplicates happen: SQS standard queues deliver at least once
(https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/standard-queues-at-least-once-delivery.html),
so do Azure Queue Storage (https://learn.microsoft.com/en-us/azure/azure-functions/functions-bindings-storage-queue-trigger#poison-messages)
and Pub/Sub (https://cloud.google.com/pubsub/docs/subscriber#at-least-once-delivery).
"""

from __future__ import annotations

from typing import Any

import pytest

from polyfn import App
from polyfn.outputs import IDEMPOTENCY_KEY
from polyfn.testing import queue_message
from samples.patterns.idempotency import app as sample

PAYMENT = {"order_id": "o-1", "amount": 12.5}


@pytest.fixture
def polyfn_app() -> App:
    sample.CHARGES.clear()
    return sample.app


@pytest.mark.polyfn_providers
def test_the_same_payment_sent_twice_is_charged_once(polyfn: Any) -> None:
    polyfn.send("payments", PAYMENT)
    polyfn.send("payments", PAYMENT)  # the producer retried: a new message, same payment
    polyfn.idle()

    delivered = [i for report in polyfn.deliveries_of("take_payment") for i in report.ids]
    assert len(delivered) == 2 and polyfn.failures == []  # both delivered and acked...
    assert sample.CHARGES == [PAYMENT]  # ...one charge
    (event,) = polyfn.published("payment-events")  # ...one outbound message
    assert event.json() == {"order_id": "o-1", "charge": "ch-1"}
    assert event.attributes[IDEMPOTENCY_KEY] == "payment:o-1#1"
    assert len(polyfn.deliveries_of("record_payment_event")) == 1  # its consumer ran once


@pytest.mark.polyfn_providers
def test_a_redelivered_message_is_charged_once_and_its_key_is_stable(polyfn: Any) -> None:
    message = queue_message(PAYMENT, queue="payments", id="m-1")
    polyfn.invoke("take_payment", message)  # through the provider's adapter, as native
    polyfn.invoke("take_payment", message)  # the queue redelivered the same message
    polyfn.idle()

    assert len(sample.CHARGES) == 1
    (event,) = polyfn.published("payment-events")
    assert event.attributes[IDEMPOTENCY_KEY] == "payment:o-1#1"  # derived from the order

    polyfn.send("payments", {"order_id": "o-2", "amount": 3})
    polyfn.idle()
    assert [e.attributes[IDEMPOTENCY_KEY] for e in polyfn.published("payment-events")] == [
        "payment:o-1#1",
        "payment:o-2#1",
    ]
