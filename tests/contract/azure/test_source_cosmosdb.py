"""Cosmos DB trigger: host payloads (tests/events/azure/cosmosdb__*) → ChangeEvent."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from azure.functions import Document, DocumentList
from azure_host_payloads import native

from polyfn import MalformedEventError
from polyfn.adapters.azure.sources import cosmosdb
from polyfn.events.change import ChangeEvent


def test_library_document_with_system_properties() -> None:
    obj, binding = native("cosmosdb__library__internal_fields.json")
    [change] = cosmosdb.from_native(obj, binding)
    assert change.values() == {
        "id": "1",
        "source": "items",
        "operation": "modify",
        "keys": {"id": "1"},
        "old": None,
        "new": {"id": "1", "name": None},
        "sequence": None,
        "time": datetime.fromtimestamp(1650036720, UTC),
    }
    assert change.extensions == {
        "_rid": "dummy12344",
        "_self": "7U4=/docs/gpU4AJcm7U4KAAAAAAAAAA==/",
        "_etag": "000-0500-0000-62598ff00000",
        "_attachments": "attachments/",
        "_ts": 1650036720,
    }


def test_change_feed_batch_with_older_binding_names() -> None:
    obj, binding = native("cosmosdb__host__change_feed.json")
    changes = cosmosdb.from_native(obj, binding)
    assert [(c.id, c.source, c.sequence) for c in changes] == [
        ("ord-1001", "orders", "12"),
        ("ord-1002", "orders", "13"),
    ]
    assert changes[0].new == {
        "id": "ord-1001",
        "customerId": "c-17",
        "status": "paid",
        "total": 42.5,
        "lines": [{"sku": "A-1", "qty": 2}],
    }
    assert changes[1].time == datetime(2024, 5, 1, 9, 19, 57, tzinfo=UTC)
    assert {c.operation for c in changes} == {"modify"}  # the feed cannot tell inserts


def test_user_fields_with_underscores_stay_in_the_document() -> None:
    docs = DocumentList([Document.from_dict({"id": "a", "_private": 1, "_lsn": 3})])
    [change] = cosmosdb.from_native(docs, {"containerName": "c"})
    assert change.new == {"id": "a", "_private": 1}
    assert change.extensions == {"_lsn": 3}


@pytest.mark.parametrize(
    ("docs", "field"),
    [
        ([{"name": "no id"}], "[0].id"),
        ([{"id": 7}], "[0].id"),
        ([{"id": "a"}, None], "[1]"),
        ([{"id": "a"}, "b"], "[1]"),
    ],
)
def test_malformed_documents(docs, field) -> None:
    native_docs = DocumentList(Document.from_dict(d) if isinstance(d, dict) else d for d in docs)
    with pytest.raises(MalformedEventError) as err:
        cosmosdb.from_native(native_docs, {})
    assert (err.value.provider, err.value.source, err.value.field) == (
        "azure",
        "azure:cosmosdb",
        field,
    )


def test_a_bad_timestamp_is_malformed() -> None:
    [change] = cosmosdb.from_native(DocumentList([Document.from_dict({"id": "a", "_ts": "x"})]), {})
    with pytest.raises(MalformedEventError) as err:
        change.time  # noqa: B018
    assert err.value.field == "[0]._ts"


def test_deletes_cannot_be_rendered() -> None:
    removed = ChangeEvent("a", "items", "remove", keys={"id": "a"}, old={"id": "a"})
    with pytest.raises(ValueError, match="no deletes"):
        cosmosdb.to_host([removed], {})


def test_a_local_insert_comes_back_as_a_modify() -> None:
    inserted = ChangeEvent("a", "items", "insert", keys={"id": "a"}, new={"id": "a", "n": 1})
    [back] = cosmosdb.from_native(cosmosdb.to_native([inserted], {}), {"containerName": "items"})
    assert back.operation == "modify"
    assert back.new == inserted.new


def test_a_plain_list_of_dicts_is_accepted() -> None:
    [change] = cosmosdb.from_native([{"id": "a", "_lsn": 1}], {"containerName": "c"})
    assert (change.id, change.sequence, change.source) == ("a", "1", "c")
