"""Service Bus trigger: host payloads (tests/events/azure/servicebus__*) → QueueMessage /
TopicMessage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from azure_host_payloads import decode, invocation, native

from polyfn import MalformedEventError
from polyfn.adapters.azure.sources import servicebus
from polyfn.events.messages import QueueMessage, TopicMessage


def test_session_queue_message() -> None:
    obj, binding = native("servicebus__host__session_queue.json")
    msg = servicebus.from_native(obj, binding)
    assert isinstance(msg, QueueMessage)
    assert msg.values() == {
        "id": "abcee18397398d93891830a0aac89eed",
        "body": b'{"orderId":"ord-2002"}',
        "attributes": {
            "tenant": "contoso",
            "priority": "5",
            "express": "true",
            "weight": "1.25",
            "$AzureWebJobsParentId": "6ceef68b-0794-45dd-bb2e-630748515552",
        },
        "delivery_count": 2,
        # EnqueuedTimeUtc is a DateTime of unspecified kind: the converter gives a naive
        # time, which is UTC.
        "enqueued_at": datetime(2024, 5, 1, 8, 0, 1, 215000, tzinfo=UTC),
        "queue": "orders",
        "group_id": "customer-17",
    }
    assert msg.extensions == {
        "application_properties": {"priority": 5, "express": True, "weight": 1.25},
        "content_type": "application/json",
        "correlation_id": "87c66eaf88e84119b66a26278a7b4149",
        "expires_at_utc": datetime(2024, 5, 15, 8, 0, 1, 215000),
        "label": "order.created",
        "lock_token": "87931fd2-39f4-415a-9fdc-adfdcbed3148",
        "sequence_number": 38291,
        "subject": "order.created",
    }


def test_topic_subscription_message() -> None:
    obj, binding = native("servicebus__host__topic.json")
    msg = servicebus.from_native(obj, binding)
    assert isinstance(msg, TopicMessage)
    assert msg.values() == {
        "id": "msg-3003",
        "topic": "orders",
        "subject": "order.shipped",
        "body": b"order 3003 shipped",
        "attributes": {"region": "eu"},
        "published_at": datetime(2024, 5, 1, 8, 5, 0, 500000, tzinfo=UTC),
    }
    ext = msg.extensions
    assert ext["delivery_count"] == 1
    assert "subject" not in ext and ext["label"] == "order.shipped"
    assert (ext["reply_to"], ext["to"], ext["partition_key"]) == ("replies", "billing", "eu")
    assert ext["expires_at_utc"] == datetime(9999, 12, 31, 23, 59, 59, 999999)  # never


def test_batch() -> None:
    obj, binding = native("servicebus__host__batch.json")
    msgs = servicebus.from_native(obj, binding)
    assert [m.id for m in msgs] == ["m-1", "m-2", "m-3"]
    assert [m.delivery_count for m in msgs] == [1, 1, 4]
    assert [m.attributes for m in msgs] == [
        {"attempt": "1"},
        {},
        {"attempt": "4", "source": "retry"},
    ]
    assert [m.extensions["sequence_number"] for m in msgs] == [101, 102, 103]
    assert [m.group_id for m in msgs] == [None, None, None]
    assert msgs[2].enqueued_at == datetime(2024, 5, 1, 8, 0, 2, tzinfo=UTC)
    assert msgs[0].json() == {"orderId": "ord-1"}


def test_library_payload_with_every_property() -> None:
    obj, binding = native("servicebus__library__single.json")
    msg = servicebus.from_native(obj, binding)
    assert (msg.id, msg.delivery_count, msg.group_id) == (
        "abcee18397398d93891830a0aac89eed",
        571,
        "mocked_session_id",
    )
    # ApplicationProperties wins over the older UserProperties when both are sent.
    assert msg.attributes == {"application": "value"}
    assert msg.enqueued_at == datetime(2020, 6, 18, 5, 39, 12, 286041, tzinfo=UTC)
    ext = msg.extensions
    assert ext["time_to_live"] == timedelta(hours=11, minutes=22, seconds=33)
    assert (ext["state"], ext["enqueued_sequence_number"]) == (1, 15)
    assert ext["dead_letter_reason"] == "mocked_dead_letter_reason"
    assert (ext["subject"], ext["label"]) == ("mocked_subject", "mocked_label")


def test_user_properties_when_application_properties_are_absent() -> None:
    inv, binding = invocation("servicebus__library__single.json")
    del inv.trigger_metadata["ApplicationProperties"]
    msg = servicebus.from_native(decode(inv, binding), binding)
    assert msg.attributes == {
        "$AzureWebJobsParentId": "6ceef68b-0794-45dd-bb2e-630748515552",
        "x-opt-enqueue-sequence-number": "0",
    }
    assert msg.extensions["application_properties"] == {"x-opt-enqueue-sequence-number": 0}


def test_typed_properties_come_back_typed() -> None:
    obj, binding = native("servicebus__host__session_queue.json")
    back = servicebus.to_native(servicebus.from_native(obj, binding), binding)
    assert back.application_properties == obj.application_properties
    assert back.user_properties == obj.application_properties


def test_batch_string_arrays_lose_their_nulls_as_on_azure() -> None:
    """The host drops null entries of string arrays (the Python worker does not declare
    IncludeEmptyEntriesInMessagePayload): a property only the second message has lands
    on the first. to_host renders that faithfully; the module docstring says so."""
    from azure.functions.servicebus import ServiceBusMessage

    second = ServiceBusMessage(
        body=b"2",
        message_id="b",
        content_type="text/plain",
        application_properties={},
        user_properties={},
    )
    msgs = [QueueMessage("a", b"1"), servicebus.from_native(second, {})]
    inv = servicebus.to_host(msgs, {})
    assert inv.trigger_metadata["ContentTypeArray"].value.string == ["text/plain"]
    decoded = servicebus.from_native(decode(inv, {"type": "serviceBusTrigger"}), {})
    assert decoded[0].extensions.get("content_type") == "text/plain"
    assert "content_type" not in decoded[1].extensions


def test_bytes_attributes_travel_as_base64() -> None:
    msg = QueueMessage("a", b"", attributes={"sig": b"\x01\x02"})
    back = servicebus.from_native(servicebus.to_native(msg, {}), {})
    assert back.attributes == {"sig": "AQI="}


def test_missing_message_id_is_malformed() -> None:
    inv, binding = invocation("servicebus__host__topic.json")
    del inv.trigger_metadata["MessageId"]
    with pytest.raises(MalformedEventError) as err:
        servicebus.from_native(decode(inv, binding), binding)
    assert (err.value.provider, err.value.source, err.value.field) == (
        "azure",
        "azure:servicebus",
        "MessageId",
    )


def test_application_properties_must_be_an_object() -> None:
    from azure.functions.servicebus import ServiceBusMessage

    msg = ServiceBusMessage(
        body=b"", message_id="1", application_properties=["x"], user_properties={}
    )
    with pytest.raises(MalformedEventError) as err:
        servicebus.from_native(msg, {}).attributes  # noqa: B018
    assert err.value.field == "ApplicationProperties"


def test_a_batch_message_without_id_names_its_array_entry() -> None:
    inv, binding = invocation("servicebus__host__batch.json")
    inv.trigger_metadata["MessageIdArray"].value.string.pop()
    with pytest.raises(MalformedEventError) as err:
        servicebus.from_native(decode(inv, binding), binding)
    assert err.value.field == "MessageIdArray[2]"
