"""Event Hubs trigger: host payloads (tests/events/azure/eventhub__*) → QueueMessage."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from azure_host_payloads import decode, native

from polyfn import MalformedEventError
from polyfn.adapters.azure.sources import eventhub
from polyfn.events.messages import QueueMessage


def test_library_metadata_from_a_live_run() -> None:
    obj, binding = native("eventhub__library__full_metadata.json")
    event = eventhub.from_native(obj, binding)
    assert event.values() == {
        "id": "47",
        "body": b"body_bytes",
        "attributes": {},
        "delivery_count": 1,
        "enqueued_at": datetime(2020, 7, 14, 1, 27, 55, 627000, tzinfo=UTC),
        "queue": "python-worker-ci-eventhub-one-metadata",
        "group_id": None,
    }
    ext = event.extensions
    assert ext["offset"] == "3696"
    assert ext["iothub_metadata"] == {"connection-device-id": "awesome-device-id"}
    assert ext["partition_context"]["PartitionId"] == "0"
    assert ext["system_properties"]["x-opt-sequence-number"] == 47


def test_single_event(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_NAME", "telemetry")
    obj, binding = native("eventhub__host__single.json")
    event = eventhub.from_native(obj, binding)
    assert (event.id, event.group_id, event.queue) == ("1203", "device-7", "telemetry")
    assert event.attributes == {"unit": "C", "sampleRate": "10"}
    assert event.extensions["properties"] == {"sampleRate": 10}
    assert event.extensions["offset"] == "4294968064"  # the converter's str
    # EnqueuedTimeUtc is EnqueuedTime.DateTime (unspecified kind): naive, UTC.
    assert event.enqueued_at == datetime(2024, 5, 1, 12, 0, 2, 500000, tzinfo=UTC)
    assert event.json() == {"t": 22.1}


def test_batch() -> None:
    obj, binding = native("eventhub__host__batch.json")
    events = eventhub.from_native(obj, binding)
    assert [e.id for e in events] == ["1200", "1201", "1202"]
    assert [e.group_id for e in events] == ["device-7", "device-7", "device-9"]
    assert [e.attributes for e in events] == [
        {"unit": "C"},
        {"unit": "C", "calibrated": "true"},
        {},
    ]
    assert [e.enqueued_at for e in events] == [
        datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=UTC),
        datetime(2024, 5, 1, 12, 0, 0, 456000, tzinfo=UTC),
        datetime(2024, 5, 1, 12, 0, 1, tzinfo=UTC),
    ]
    assert [e.extensions["offset"] for e in events] == [4294967296, 4294967552, 4294967808]
    assert {e.queue for e in events} == {"telemetry"}
    assert all(e.extensions["partition_context"]["PartitionId"] == "3" for e in events)


def test_iot_mock_without_sequence_numbers_is_malformed() -> None:
    obj, binding = native("eventhub__worker__iot_many_without_sequence.json")
    with pytest.raises(MalformedEventError) as err:
        eventhub.from_native(obj, binding)
    assert (err.value.provider, err.value.source, err.value.field) == (
        "azure",
        "azure:eventhub",
        "SystemPropertiesArray[0]",
    )


def test_a_local_batch_renders_as_cardinality_many() -> None:
    events = [
        QueueMessage(str(n), f"e{n}".encode(), group_id="k", attributes={"n": str(n)})
        for n in (5, 6)
    ]
    inv = eventhub.to_host(events, {})
    assert inv.data.type == "collection_string"
    assert inv.trigger_metadata["SequenceNumberArray"].value.sint64 == [5, 6]
    back = eventhub.from_native(decode(inv, {"type": "eventHubTrigger"}), {})
    assert [(e.id, e.body, e.group_id, e.attributes) for e in back] == [
        ("5", b"e5", "k", {"n": "5"}),
        ("6", b"e6", "k", {"n": "6"}),
    ]


def test_ids_must_be_sequence_numbers_to_render() -> None:
    with pytest.raises(ValueError, match="sequence number"):
        eventhub.to_host(QueueMessage("not-a-number", b""), {})


def test_properties_must_be_an_object() -> None:
    from azure.functions import EventHubEvent
    from azure.functions.meta import Datum

    event = EventHubEvent(
        body=b"", sequence_number=1, trigger_metadata={"Properties": Datum('"x"', "json")}
    )
    with pytest.raises(MalformedEventError) as err:
        eventhub.from_native(event, {}).attributes  # noqa: B018
    assert err.value.field == "Properties"
