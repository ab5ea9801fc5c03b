"""Blob trigger: host payloads (tests/events/azure/blob__*) → StorageEvent."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from azure.functions.blob import InputStream
from azure_host_payloads import decode, invocation, native

from polyfn import MalformedEventError
from polyfn.adapters.azure.sources import blob
from polyfn.events.storage import StorageEvent


def test_library_payload() -> None:
    obj, binding = native("blob__library__trigger_metadata.json")
    event = blob.from_native(obj, binding)
    assert event.values() == {
        "bucket": "samples",
        "key": "blob_trigger_name",
        "kind": "created",
        "size": 12,
        "etag": "0x8D8989BC453467D",
        "version": None,
        "time": datetime(2020, 12, 4, 21, 30, 5, tzinfo=UTC),
    }
    assert event.extensions["uri"] == "https://test.io/blob_trigger"
    assert event.extensions["metadata"] == {"Hello": "World"}
    assert event.extensions["blob_properties"]["ContentMD5"] == "B54d+wzLC8IlnxyyZxwPsw=="
    assert event.native.read() == b"blob_content"


def test_versioned_blob_in_folders() -> None:
    obj, binding = native("blob__host__versioned.json")
    event = blob.from_native(obj, binding)
    assert (event.bucket, event.key) == ("uploads", "2024/05/report one.csv")
    assert (event.size, event.etag) == (17, "0x8DC69C3B7F2D1A4")  # quotes removed
    assert event.version == "2024-05-01T09:15:27.4311562Z"
    assert event.time == datetime(2024, 5, 1, 9, 15, 27, tzinfo=UTC)


def test_path_pattern_parameters_are_rendered_like_the_host() -> None:
    obj, binding = native("blob__host__versioned.json")
    inv = blob.to_host(blob.from_native(obj, binding), binding)
    assert inv.trigger_metadata["name"].value == "2024/05/report one"
    assert inv.trigger_metadata["ext"].value == "csv"
    assert blob.path_parameters("samples/{name}", "samples/a/b") == {"name": "a/b"}
    assert blob.path_parameters("samples/{name}", "other/a") == {}


def test_content_survives_a_read_by_the_handler() -> None:
    obj, binding = native("blob__library__trigger_metadata.json")
    event = blob.from_native(obj, binding)
    assert obj.read() == b"blob_content"
    assert blob.to_native(event, binding).read() == b"blob_content"


def test_a_local_event_gets_an_azure_uri() -> None:
    event = StorageEvent("c", "dir/x y.txt", size=5, etag="0x1")
    back = blob.to_native(event, {"path": "c/{name}"})
    assert back.name == "c/dir/x y.txt"
    assert back.length == 5
    assert back.uri == "https://polyfn.blob.core.windows.net/c/dir/x%20y.txt"


@pytest.mark.parametrize("name", ["blob_trigger_name", "/x", "c/"])
def test_a_path_without_container_and_blob_is_malformed(name: str) -> None:
    # "blob_trigger_name" is the value the library's own test uses (see PROVENANCE.md).
    inv, binding = invocation("blob__library__trigger_metadata.json")
    inv.trigger_metadata["BlobTrigger"].value = name
    with pytest.raises(MalformedEventError) as err:
        blob.from_native(decode(inv, binding), binding)
    assert (err.value.provider, err.value.source, err.value.field) == (
        "azure",
        "azure:blob",
        "BlobTrigger",
    )


def test_a_stream_without_trigger_metadata_is_malformed() -> None:
    with pytest.raises(MalformedEventError) as err:
        blob.from_native(InputStream(data=b"x"), {})
    assert err.value.field == "BlobTrigger"


def test_an_unparsable_last_modified_is_malformed() -> None:
    stream = InputStream(data=b"", name="c/k", blob_properties={"LastModified": "yesterday"})
    with pytest.raises(MalformedEventError) as err:
        blob.from_native(stream, {}).time  # noqa: B018
    assert err.value.field == "Properties.LastModified"
