"""Queue Storage trigger: host payloads (tests/events/azure/queue__*) → QueueMessage."""

from __future__ import annotations

from datetime import UTC, datetime

import azure.functions as func
import pytest
from azure.functions.queue import QueueMessage as DecodedQueueMessage
from azure_host_payloads import decode, invocation, native

from polyfn import MalformedEventError
from polyfn.adapters.azure.sources import queue


def test_first_delivery() -> None:
    obj, binding = native("queue__host__message.json")
    msg = queue.from_native(obj, binding)
    assert msg.values() == {
        "id": "6f1c7a8e-3b0d-4e51-9a7c-2d5e8f4b1a90",
        "body": b'{"orderId":"ord-1001","amount":42.5}',
        "attributes": {},
        "delivery_count": 1,
        "enqueued_at": datetime(2024, 5, 1, 9, 30, 12, tzinfo=UTC),
        "queue": "orders",
        "group_id": None,
    }
    assert msg.json() == {"orderId": "ord-1001", "amount": 42.5}
    assert msg.extensions == {
        "pop_receipt": "AgAAAAMAAAAAAAAAmJ8tqJmb2gE=",
        "expiration_time": datetime(2024, 5, 8, 9, 30, 12, tzinfo=UTC),
        "time_next_visible": datetime(2024, 5, 1, 9, 40, 13, tzinfo=UTC),
    }
    assert msg.native is obj


def test_redelivered_binary_message_and_app_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERS_QUEUE", "orders-prod")
    obj, binding = native("queue__host__redelivered_binary.json")
    msg = queue.from_native(obj, binding)
    assert msg.body == b"\x00\x01\x02\x03\xff"
    assert msg.delivery_count == 3
    assert msg.queue == "orders-prod"  # %ORDERS_QUEUE% resolved like the host does
    # No QueueTrigger string for a message that is not text, as the extension does.
    inv = queue.to_host(msg, binding)
    assert inv.data.type == "bytes"
    assert "QueueTrigger" not in inv.trigger_metadata


def test_unresolvable_setting_stays_visible(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ORDERS_QUEUE", raising=False)
    obj, binding = native("queue__host__redelivered_binary.json")
    assert queue.from_native(obj, binding).queue == "%ORDERS_QUEUE%"


def test_library_decode_test_payload() -> None:
    obj, binding = native("queue__library__test_queue.json")
    msg = queue.from_native(obj, binding)
    assert (msg.id, msg.text, msg.delivery_count) == ("1", "test_body", 10)
    assert msg.enqueued_at == datetime(2022, 1, 12, 3, 16, 34, tzinfo=UTC)
    assert msg.extensions["pop_receipt"] == "dummy_pop_receipt"


def test_host_renders_times_and_counts_as_the_extension_does() -> None:
    obj, binding = native("queue__host__message.json")
    inv = queue.to_host(queue.from_native(obj, binding), binding)
    meta = inv.trigger_metadata
    # DateTimeOffset and long binding data travel as Newtonsoft JSON.
    assert (meta["InsertionTime"].type, meta["InsertionTime"].value) == (
        "json",
        '"2024-05-01T09:30:12+00:00"',
    )
    assert (meta["DequeueCount"].type, meta["DequeueCount"].value) == ("json", "1")
    assert meta["QueueTrigger"].value == '{"orderId":"ord-1001","amount":42.5}'
    original, _ = invocation("queue__host__message.json")
    assert {k: (d.type, d.value) for k, d in meta.items()} == {
        k: (d.type, d.value) for k, d in original.trigger_metadata.items()
    }


def test_hand_built_message_counts_as_first_delivery() -> None:
    msg = queue.from_native(func.QueueMessage(id="x", body="hi"), {"queueName": "q"})
    assert (msg.delivery_count, msg.enqueued_at, msg.extensions) == (1, None, {})


def test_missing_id_is_malformed() -> None:
    inv, binding = invocation("queue__host__message.json")
    del inv.trigger_metadata["Id"]
    with pytest.raises(MalformedEventError) as err:
        queue.from_native(decode(inv, binding), binding)
    assert (err.value.provider, err.value.source, err.value.field) == ("azure", "azure:queue", "Id")


def test_wrong_dequeue_count_is_malformed() -> None:
    msg = queue.from_native(DecodedQueueMessage(id="1", body=b"", dequeue_count="3"), {})
    with pytest.raises(MalformedEventError) as err:
        msg.delivery_count  # noqa: B018
    assert err.value.field == "DequeueCount"


def test_wrong_insertion_time_is_malformed() -> None:
    msg = queue.from_native(DecodedQueueMessage(id="1", body=b"", insertion_time="now"), {})
    with pytest.raises(MalformedEventError) as err:
        msg.enqueued_at  # noqa: B018
    assert err.value.field == "InsertionTime"


def test_settings_inside_a_value_are_resolved(monkeypatch: pytest.MonkeyPatch) -> None:
    from polyfn.adapters.azure.sources._common import setting

    monkeypatch.setenv("ENV", "prod")
    assert setting({"queueName": "orders-%ENV%"}, "queueName") == "orders-prod"
    assert setting({"path": "%MISSING%/{name}"}, "path") == "%MISSING%/{name}"
    assert setting({"a": ""}, "a", "b") == ""
    assert setting(None, "a") == ""
