"""Event Grid trigger: the docs' Blob Storage events in both schemas
(tests/events/azure/eventgrid__*) → CloudEvent and StorageEvent."""

from __future__ import annotations

from datetime import UTC, datetime

import azure.functions as func
import pytest
from azure_host_payloads import native

from polyfn import MalformedEventError
from polyfn.adapters.azure.sources import eventgrid
from polyfn.errors import UnsupportedEventError
from polyfn.events.cloudevent import CloudEvent
from polyfn.events.storage import StorageEvent

TOPIC = (
    "/subscriptions/{subscription-id}/resourceGroups/Storage/providers/"
    "Microsoft.Storage/storageAccounts/my-storage-account"
)
CREATED_TIME = datetime(2017, 6, 26, 18, 41, 0, 958410, tzinfo=UTC)  # 7 digits cut to 6


def test_event_grid_schema_as_cloudevent() -> None:
    obj, binding = native("eventgrid__docs__blob_created_eventgrid_schema.json")
    assert isinstance(obj, func.EventGridEvent)
    event = eventgrid.from_native(obj, binding)
    assert event.attributes() == {
        "specversion": "1.0",
        "id": "831e1650-001e-001b-66ab-eeb76e069631",
        "source": TOPIC,
        "type": "Microsoft.Storage.BlobCreated",
        "subject": "/blobServices/default/containers/test-container/blobs/new-file.txt",
        "time": CREATED_TIME,
        "dataversion": "",
    }
    assert event.data["contentLength"] == 524288


def test_both_schemas_give_the_same_cloudevent() -> None:
    grid, b1 = native("eventgrid__docs__blob_created_eventgrid_schema.json")
    cloud, b2 = native("eventgrid__docs__blob_created_cloudevents_schema.json")
    assert isinstance(cloud, func.CloudEvent)
    a, b = eventgrid.from_native(grid, b1), eventgrid.from_native(cloud, b2)
    assert a == b
    assert (a.extensions, b.extensions) == ({"dataversion": ""}, {})


@pytest.mark.parametrize(
    ("name", "kind", "bucket", "key", "size", "etag"),
    [
        (
            "eventgrid__docs__blob_created_eventgrid_schema.json",
            "created",
            "test-container",
            "new-file.txt",
            524288,
            "0x8D4BCC2E4835CD0",
        ),
        (
            "eventgrid__docs__blob_created_cloudevents_schema.json",
            "created",
            "test-container",
            "new-file.txt",
            524288,
            "0x8D4BCC2E4835CD0",
        ),
        (
            "eventgrid__docs__blob_deleted_eventgrid_schema.json",
            "deleted",
            "testcontainer",
            "file-to-delete.txt",
            None,
            None,
        ),
        (
            "eventgrid__docs__blob_tier_changed_cloudevents_schema.json",
            "archived",
            "testcontainer",
            "Auto.jpg",
            105891,
            None,
        ),
        (
            "eventgrid__docs__async_operation_initiated_eventgrid_schema.json",
            "metadata_updated",
            "testcontainer",
            "00000.avro",
            3660,
            None,
        ),
        (
            "eventgrid__docs__blob_renamed_cloudevents_schema.json",
            "created",
            "my-file-system",
            "my-renamed-file.txt",
            None,
            None,
        ),
    ],
)
def test_storage_events(name, kind, bucket, key, size, etag) -> None:
    obj, binding = native(name)
    event = eventgrid.storage_event(obj, binding)
    assert (event.kind, event.bucket, event.key, event.size, event.etag) == (
        kind,
        bucket,
        key,
        size,
        etag,
    )
    assert event.version is None
    assert event.time is not None and event.time.tzinfo is not None
    assert event.event_source == "azure:eventgrid"
    assert event.extensions["id"] == obj.id
    assert event.extensions["data"] == obj.get_json()


def test_storage_event_extensions_use_the_schema_names() -> None:
    grid = eventgrid.storage_event(*native("eventgrid__docs__blob_created_eventgrid_schema.json"))
    assert {"topic", "eventType", "dataVersion"} <= set(grid.extensions)
    cloud = eventgrid.storage_event(
        *native("eventgrid__docs__blob_created_cloudevents_schema.json")
    )
    assert {"source", "type", "specversion"} <= set(cloud.extensions)
    assert grid == cloud


def test_directory_events_are_not_storage_events() -> None:
    obj, binding = native("eventgrid__docs__directory_created_eventgrid_schema.json")
    with pytest.raises(UnsupportedEventError) as err:
        eventgrid.storage_event(obj, binding)
    assert (err.value.provider, err.value.source, err.value.field) == (
        "azure",
        "azure:eventgrid",
        "eventType",
    )
    # ... but still CloudEvents.
    assert eventgrid.from_native(obj, binding).type == "Microsoft.Storage.DirectoryCreated"


def test_a_subject_outside_blob_storage_is_malformed() -> None:
    obj = func.EventGridEvent(
        id="1",
        data={},
        topic="t",
        subject="/something/else",
        event_type="Microsoft.Storage.BlobCreated",
        event_time=None,
        data_version="",
    )
    with pytest.raises(MalformedEventError) as err:
        eventgrid.storage_event(obj, {})
    assert err.value.field == "subject"


def test_missing_id_and_topic_are_malformed() -> None:
    kwargs = dict(data={}, subject="s", event_type="t", event_time=None, data_version="")
    with pytest.raises(MalformedEventError) as err:
        eventgrid.from_native(func.EventGridEvent(id=None, topic="t", **kwargs), {})
    assert err.value.field == "id"
    event = eventgrid.from_native(func.EventGridEvent(id="1", topic=None, **kwargs), {})
    with pytest.raises(MalformedEventError) as err:
        event.source  # noqa: B018
    assert err.value.field == "topic"


def test_cloudevents_with_binary_data_and_extensions() -> None:
    event = CloudEvent(
        "e-1",
        "/sensors",
        "com.example.reading",
        b"\x00\x01",
        time=datetime(2024, 5, 1, tzinfo=UTC),
        extensions={"partitionkey": "p-1"},
    )
    inv = eventgrid.to_host(event, {})
    assert '"data_base64":"AAE="' in inv.data.value
    native_event = eventgrid.to_native(event, {})
    assert isinstance(native_event, func.CloudEvent)
    back = eventgrid.from_native(native_event, {})
    assert back == event
    assert back.extensions == {"partitionkey": "p-1"}


def test_a_cloudevent_with_a_data_version_renders_in_the_event_grid_schema() -> None:
    event = CloudEvent("e-1", "/topic", "my.type", {"a": 1}, extensions={"dataversion": "2"})
    native_event = eventgrid.to_native(event, {})
    assert isinstance(native_event, func.EventGridEvent)
    assert native_event.data_version == "2"


def test_a_local_storage_event_renders_as_blob_created() -> None:
    event = StorageEvent("c", "k.txt", size=3, etag="0x9", time=datetime(2024, 5, 1, tzinfo=UTC))
    native_event = eventgrid.to_native(event, {})
    assert isinstance(native_event, func.EventGridEvent)
    assert native_event.event_type == "Microsoft.Storage.BlobCreated"
    assert native_event.subject == "/blobServices/default/containers/c/blobs/k.txt"
    assert native_event.get_json()["eTag"] == '"0x9"'
    assert eventgrid.storage_event(native_event, {}) == event
