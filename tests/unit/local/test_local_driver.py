"""LocalDriver: handler outputs through the neutral Outputs port into the broker."""

from __future__ import annotations

import pytest

from polyfn.events.cloudevent import CloudEvent
from polyfn.local.broker import Broker, LocalDriver, LocalOutputError
from polyfn.outputs import LazyDriver, Outputs


@pytest.fixture
def outputs(broker: Broker) -> Outputs:
    return Outputs(LazyDriver(lambda: LocalDriver(broker)))


def test_send_declares_unknown_queues(broker: Broker, outputs: Outputs):
    mid = outputs.send("receipts", {"id": 1}, attributes={"a": "1"}, delay_seconds=0)
    (lease,) = broker.receive("receipts")
    assert (lease.id, lease.body, lease.attributes) == (
        mid,
        b'{"id":1}',
        {"a": "1"},
    )


def test_send_keeps_fifo_options(broker: Broker, outputs: Outputs):
    broker.declare("q.fifo", fifo=True)
    first = outputs.send("q.fifo", "a", group_id="g", deduplication_id="d")
    assert outputs.send("q.fifo", "a", group_id="g", deduplication_id="d") == first
    assert broker.receive("q.fifo")[0].group_id == "g"
    with pytest.raises(LocalOutputError, match=r"local queue 'q.fifo': .*group_id"):
        outputs.send("q.fifo", "no group")


def test_publish_fans_out(broker: Broker, outputs: Outputs):
    broker.subscribe("events", "audit")
    broker.subscribe("events", "eu-only", {"region": "eu"})
    mid = outputs.publish("events", "hi", attributes={"region": "us"}, subject="s")
    assert [m.id for m in broker.receive("audit")] == [mid]
    assert broker.receive("eu-only") == []


def test_put_returns_the_version_and_raises_the_event(broker: Broker, outputs: Outputs):
    version = outputs.put("receipts", "r/1.json", {"ok": True})
    assert version == broker.head("receipts", "r/1.json").version  # type: ignore[union-attr]
    assert broker.get("receipts", "r/1.json").data == b'{"ok":true}'
    assert [r.event.key for r in broker.next_events(["storage"])] == ["r/1.json"]
    with pytest.raises(LocalOutputError, match="local storage"):
        outputs.put("receipts", "../x", b"")


def test_emit(broker: Broker, outputs: Outputs):
    assert outputs.emit(CloudEvent("e", "s", "t", {"x": 1}), bus="sales") == "e"
    (record,) = broker.next_events(["event"])
    assert record.event.extensions["bus"] == "sales"
