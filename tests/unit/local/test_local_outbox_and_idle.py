"""The outbox's claims, forwarding events into queues, and idleness."""

from __future__ import annotations

import json
import threading
import time

import pytest

from polyfn.events.cloudevent import CloudEvent
from polyfn.local.broker import Broker, InvalidRequest
from polyfn.local.clock import VirtualClock


def _emit(broker: Broker, n: int) -> None:
    for i in range(n):
        broker.emit(CloudEvent(f"e-{i}", "src", "t", {"i": i}))


def test_claims_ack_and_expiry(broker: Broker, clock: VirtualClock):
    _emit(broker, 3)
    claimed = broker.next_events(limit=2, lease=10)
    assert [r.event_id for r in claimed] == ["e-0", "e-1"]
    assert all(r.attempts == 1 for r in claimed)
    assert [r.event_id for r in broker.next_events()] == ["e-2"]
    assert broker.next_events() == []
    assert broker.ack_event(claimed[0])
    assert not broker.ack_event(claimed[0].id)
    clock.advance(30)  # the other claims ran out: at least once
    again = broker.next_events()
    assert [(r.event_id, r.attempts) for r in again] == [("e-1", 2), ("e-2", 2)]
    assert broker.pending_events() == 2


def test_release_with_a_delay(broker: Broker, clock: VirtualClock):
    _emit(broker, 1)
    (record,) = broker.next_events()
    assert broker.release_event(record, delay=5)
    assert broker.next_events() == []
    clock.advance(5)
    assert [r.event_id for r in broker.next_events()] == ["e-0"]


def test_kinds_filter(broker: Broker):
    _emit(broker, 1)
    broker.put("b", "k", b"x")
    assert [r.kind for r in broker.next_events(["storage"])] == ["storage"]
    assert [r.kind for r in broker.next_events("event")] == ["event"]
    assert broker.pending_events("storage") == 1
    with pytest.raises(InvalidRequest):
        broker.next_events(["nope"])


def test_wait_events_wakes_on_a_new_event(broker: Broker):
    result: list[bool] = []
    thread = threading.Thread(
        target=lambda: result.append(broker.wait_events(["storage"], timeout=5)), daemon=True
    )
    thread.start()
    time.sleep(0.05)
    _emit(broker, 1)  # another kind: keeps waiting
    time.sleep(0.05)
    assert result == []
    broker.put("b", "k", b"x")
    thread.join(2)
    assert result == [True]
    assert broker.wait_events(["change"], timeout=0.01) is False


def test_forward_event_moves_it_into_queues(broker: Broker):
    broker.declare("fn-b.fifo", fifo=True)
    broker.table_put("t", {"id": 1}, {"v": 1})
    (record,) = broker.next_events()
    mid = broker.forward_event(record, ["fn-a", "fn-b.fifo"])
    assert broker.pending_events() == 0
    (a,) = broker.receive("fn-a")
    (b,) = broker.receive("fn-b.fifo")
    assert a.id == b.id == mid
    assert json.loads(a.body) == record.payload
    assert a.attributes == {"polyfn-kind": "change", "polyfn-event-id": record.event_id}
    assert (a.group_id, b.group_id) == (None, "change:t")
    assert broker.forward_event(record, ["fn-a"]) is None


def test_idle(broker: Broker, clock: VirtualClock):
    assert broker.idle()
    broker.declare("q", max_deliveries=1)
    broker.send("q", b"x")
    assert not broker.idle()
    (lease,) = broker.receive("q")
    assert not broker.idle()  # in flight
    broker.nack(lease.receipt)  # its last delivery: dead-lettered
    assert broker.stats("q-dlq").visible == 1
    assert broker.idle()  # dead-letter queues are not waited for
    assert not broker.idle(["q-dlq"])

    broker.send("q", b"later", delay_seconds=60)
    assert not broker.idle()  # delayed messages are pending work
    assert broker.idle(["other"])
    clock.advance(60)
    broker.ack(broker.receive("q")[0].receipt)
    assert broker.idle()

    broker.put("b", "k", b"x")
    assert not broker.idle()  # an undelivered storage event
    (record,) = broker.next_events()
    assert not broker.idle()  # claimed, not acked
    broker.ack_event(record)
    assert broker.idle()


def test_idle_fires_due_schedules(broker: Broker, clock: VirtualClock):
    broker.register("s", "@hourly")
    assert broker.idle()
    clock.advance(3600)
    assert not broker.idle()
    assert [r.kind for r in broker.next_events()] == ["schedule"]


def test_wait_idle(broker: Broker):
    broker.declare("q")
    broker.send("q", b"x")
    (lease,) = broker.receive("q")
    result: list[bool] = []
    thread = threading.Thread(
        target=lambda: result.append(broker.wait_idle(timeout=5)), daemon=True
    )
    thread.start()
    time.sleep(0.05)
    assert result == []
    broker.ack(lease.receipt)
    thread.join(2)
    assert result == [True]
    broker.send("q", b"y")
    assert broker.wait_idle(timeout=0.01) is False


def test_wait_idle_sees_an_expired_last_lease_dead_lettered(broker: Broker, clock: VirtualClock):
    broker.declare("q", visibility_timeout=10, max_deliveries=1)
    broker.send("q", b"x")
    broker.receive("q")
    result: list[bool] = []
    thread = threading.Thread(
        target=lambda: result.append(broker.wait_idle(timeout=5)), daemon=True
    )
    thread.start()
    time.sleep(0.05)
    clock.advance(10)
    thread.join(2)
    assert result == [True]
    assert broker.stats("q-dlq").visible == 1
