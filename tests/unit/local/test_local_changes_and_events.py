"""Broker change streams and event bus: what their writes record in the outbox."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from polyfn.events.change import ChangeEvent
from polyfn.events.cloudevent import CloudEvent
from polyfn.local.broker import Broker, InvalidRequest
from polyfn.local.clock import VirtualClock


def test_table_writes_raise_change_events_with_old_new_and_sequence(
    broker: Broker, clock: VirtualClock
):
    inserted = broker.table_put("orders", {"id": "o1"}, {"total": 10})
    clock.advance(1)
    modified = broker.table_put("orders", {"id": "o1"}, {"total": 12, "paid": True})
    broker.table_put("customers", {"id": "c1"}, {"name": "Ann"})
    removed = broker.table_delete("orders", {"id": "o1"})

    assert (inserted.operation, inserted.old, inserted.new, inserted.sequence) == (
        "insert",
        None,
        {"id": "o1", "total": 10},
        "1",
    )
    assert (modified.operation, modified.old, modified.new, modified.sequence) == (
        "modify",
        {"id": "o1", "total": 10},
        {"id": "o1", "total": 12, "paid": True},
        "2",
    )
    assert removed is not None
    assert (removed.operation, removed.old, removed.new, removed.sequence) == (
        "remove",
        {"id": "o1", "total": 12, "paid": True},
        None,
        "3",
    )
    assert modified.time == clock.now()

    records = broker.next_events(["change"])
    assert [(r.event.source, r.event.sequence) for r in records] == [
        ("orders", "1"),
        ("orders", "2"),
        ("customers", "1"),
        ("orders", "3"),
    ]
    assert isinstance(records[0].event, ChangeEvent)
    assert records[0].event == inserted
    assert records[0].order_key == "change:orders"


def test_change_events_of_a_source_wait_behind_a_claimed_one(broker: Broker):
    for n in range(3):
        broker.table_put("t", {"k": n}, {"v": n})
    broker.table_put("u", {"k": 0}, {"v": 0})
    (first,) = broker.next_events(limit=1)
    # t's later events wait for the first's ack; another source does not.
    assert [(r.event.source, r.event.sequence) for r in broker.next_events()] == [("u", "1")]
    broker.release_event(first)  # failed: it is handed out again, before the others
    again = broker.next_events()
    assert (again[0].id, again[0].attempts) == (first.id, 2)
    assert [r.event.sequence for r in again] == ["1", "2", "3"]


def test_table_reads(broker: Broker):
    broker.table_put("t", {"pk": "a", "sk": 1}, {"v": 1})
    broker.table_put("t", {"sk": 2, "pk": "a"}, {"v": 2})
    assert broker.table_get("t", {"sk": 1, "pk": "a"}) == {"pk": "a", "sk": 1, "v": 1}
    assert broker.table_get("t", {"pk": "b", "sk": 1}) is None
    assert [i["v"] for i in broker.table_items("t")] == [1, 2]
    assert broker.table_delete("t", {"pk": "zzz", "sk": 0}) is None


def test_bad_items_are_refused(broker: Broker):
    with pytest.raises(InvalidRequest):
        broker.table_put("t", {}, {"v": 1})
    with pytest.raises(InvalidRequest):
        broker.table_put("t", {"id": 1}, {"id": 2})
    with pytest.raises(InvalidRequest):
        broker.table_put("t", {"id": 1}, {"when": datetime.now(UTC)})
    assert broker.next_events() == []


def test_emit_records_a_cloud_event(broker: Broker, clock: VirtualClock):
    sent = CloudEvent(
        "e-1",
        "orders",
        "order.created",
        {"id": 7},
        subject="o/7",
        datacontenttype="application/json",
        extensions={"tenant": "acme"},
    )
    assert broker.emit(sent, "sales") == "e-1"
    (record,) = broker.next_events(["event"])
    got = record.event
    assert isinstance(got, CloudEvent)
    assert (got.id, got.source, got.type, got.data, got.subject) == (
        "e-1",
        "orders",
        "order.created",
        {"id": 7},
        "o/7",
    )
    assert got.time == clock.now()
    assert got.extensions == {"tenant": "acme", "bus": "sales"}


def test_emit_binary_data_and_defaults(broker: Broker):
    event_id = broker.emit(CloudEvent("", "s", "t", b"\x00\xff"))
    assert event_id
    (record,) = broker.next_events()
    assert record.event.data == b"\x00\xff"
    assert record.event.id == event_id
    assert record.event.extensions["bus"] == "default"
    with pytest.raises(InvalidRequest):
        broker.emit(CloudEvent("x", "", "t"))
    with pytest.raises(InvalidRequest):
        broker.emit(CloudEvent("x", "s", "t", object()))
