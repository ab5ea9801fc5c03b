"""A batch handler always gets a list on Azure, whatever shape the host payload has.

azure.functions' converters decode by the trigger metadata they see, not by the
binding's cardinality: ServiceBusMessageInConverter.decode returns one ServiceBusMessage
when the metadata has ``UserProperties`` and a list when it has ``UserPropertiesArray``
(azure/functions/servicebus.py ``_is_cardinality_one`` / ``_is_cardinality_many``); the
Event Hubs converter likewise. A ``batch=True`` function (cardinality many) handed a
single-message payload must still receive a list of one.
Sources: https://learn.microsoft.com/azure/azure-functions/functions-bindings-service-bus-trigger
(cardinality), https://learn.microsoft.com/azure/azure-functions/functions-bindings-event-hubs-trigger
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from polyfn import App, ChangeEvent, QueueMessage, TopicMessage
from polyfn.adapters.azure import AzureOptions, function_app
from polyfn.adapters.azure.worker import Worker

WHEN = datetime(2026, 1, 2, tzinfo=UTC)


def _app(seen: list[Any]) -> App:
    app = App("cardinality")

    @app.queue("work", batch=True)
    def work(msgs: Any) -> None:
        seen.append(("work", msgs))

    @app.topic("news", batch=True)
    def news(msgs: Any) -> None:
        seen.append(("news", msgs))

    @app.stream("hub", batch=True)
    def hub(msgs: Any) -> None:
        seen.append(("hub", msgs))

    @app.stream("hub2")
    def hub_each(msg: Any) -> None:
        seen.append(("hub_each", msg))

    @app.change("db/items", batch=True)
    def items(changes: Any) -> None:
        seen.append(("items", changes))

    return app


@pytest.fixture
def worker_and_seen() -> tuple[Worker, list[Any]]:
    seen: list[Any] = []
    fa = function_app(_app(seen), AzureOptions(queue_service="servicebus"))
    return Worker(fa), seen


def test_service_bus_queue_batch_gets_a_list_for_a_single_message_payload(worker_and_seen):
    worker, seen = worker_and_seen
    worker.invoke("work", QueueMessage("a", b"x", enqueued_at=WHEN))  # single-message shape
    ((name, msgs),) = seen
    assert name == "work" and isinstance(msgs, list)
    assert [(m.id, m.body, m.queue) for m in msgs] == [("a", b"x", "work")]


def test_service_bus_topic_batch_gets_a_list_for_a_single_message_payload(worker_and_seen):
    worker, seen = worker_and_seen
    worker.invoke("news", TopicMessage("t1", "news", b"hi", published_at=WHEN))
    ((_, msgs),) = seen
    assert isinstance(msgs, list) and [m.id for m in msgs] == ["t1"]


def test_event_hubs_batch_gets_a_list_for_a_single_event_payload(worker_and_seen):
    worker, seen = worker_and_seen
    worker.invoke("hub", QueueMessage("7", b"e", enqueued_at=WHEN))
    worker.invoke("hub_each", QueueMessage("8", b"f", enqueued_at=WHEN))
    (_, msgs), (_, one) = seen
    assert isinstance(msgs, list) and [m.id for m in msgs] == ["7"]
    assert not isinstance(one, list) and one.id == "8"  # a per-record handler: one event


def test_cosmos_batch_gets_a_list(worker_and_seen):
    worker, seen = worker_and_seen
    change = ChangeEvent("1", "db/items", "insert", keys={"id": "1"}, new={"id": "1", "n": 1})
    worker.invoke("items", [change])
    ((_, changes),) = seen
    assert isinstance(changes, list) and [c.new["n"] for c in changes] == [1]


def test_batches_in_the_many_shape_stay_lists(worker_and_seen):
    worker, seen = worker_and_seen
    worker.invoke("work", [QueueMessage(i, b"x", enqueued_at=WHEN) for i in ("a", "b")])
    ((_, msgs),) = seen
    assert [m.id for m in msgs] == ["a", "b"]
