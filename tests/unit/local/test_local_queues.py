"""Broker queues: leases, visibility timeout, backoff, dead letters, FIFO, de-duplication."""

from __future__ import annotations

import threading
import time

import pytest

from polyfn.events.messages import QueueMessage
from polyfn.local.broker import Broker, InvalidRequest, QueueNotFound, StateDirLocked
from polyfn.local.clock import VirtualClock


def test_send_receive_ack(broker: Broker, clock: VirtualClock):
    broker.declare("orders")
    mid = broker.send("orders", b'{"id": 1}', {"kind": "new", "raw": b"\x00\x01"})
    (lease,) = broker.receive("orders")
    assert (lease.id, lease.body, lease.queue) == (mid, b'{"id": 1}', "orders")
    assert lease.attributes == {"kind": "new", "raw": b"\x00\x01"}
    assert lease.delivery_count == 1
    assert lease.enqueued_at == clock.now()
    assert lease.receipt
    assert broker.receive("orders") == []  # leased: invisible
    assert broker.ack(lease.receipt)
    assert not broker.ack(lease.receipt)  # settled already
    assert broker.stats("orders").total == 0


def test_message_becomes_a_neutral_event(broker: Broker):
    broker.declare("orders")
    broker.send("orders", b"hello", {"a": "1"})
    (lease,) = broker.receive("orders")
    msg = lease.queue_message()
    assert isinstance(msg, QueueMessage)
    assert (msg.id, msg.text, msg.attributes, msg.delivery_count, msg.queue) == (
        lease.id,
        "hello",
        {"a": "1"},
        1,
        "orders",
    )
    assert (msg.provider, msg.event_source, msg.extensions["receipt"]) == (
        "local",
        "local:queue",
        lease.receipt,
    )


def test_unknown_queue_and_bad_arguments(broker: Broker):
    with pytest.raises(QueueNotFound):
        broker.send("nope", b"x")
    with pytest.raises(QueueNotFound):
        broker.receive("nope")
    broker.declare("q")
    with pytest.raises(TypeError):
        broker.send("q", "text")  # type: ignore[arg-type]
    with pytest.raises(InvalidRequest):
        broker.receive("q", max_messages=0)
    with pytest.raises(InvalidRequest):
        broker.declare("q", visibility_timeout=0)
    with pytest.raises(InvalidRequest):
        broker.declare("q", max_deliveries=3, dead_letter="q")


def test_declare_again_updates_settings_and_keeps_messages(broker: Broker):
    broker.declare("q")
    broker.send("q", b"kept")
    config = broker.declare("q", visibility_timeout=5, max_deliveries=2)
    assert (config.visibility_timeout, config.max_deliveries, config.dead_letter) == (
        5,
        2,
        "q-dlq",
    )
    assert broker.queue_config("q") == config
    assert [q.name for q in broker.queues()] == ["q", "q-dlq"]
    assert broker.receive("q")[0].body == b"kept"
    assert broker.ensure_queue("q") == config  # ensure_queue changes nothing that exists


def test_lease_expires_at_visibility_timeout(broker: Broker, clock: VirtualClock):
    broker.declare("q", visibility_timeout=30)
    broker.send("q", b"x")
    (first,) = broker.receive("q")
    clock.advance(29)
    assert broker.receive("q") == []
    clock.advance(1)
    (second,) = broker.receive("q")
    assert second.id == first.id
    assert second.delivery_count == 2
    assert second.receipt != first.receipt
    assert not broker.ack(first.receipt)  # delivered again: the old receipt is stale
    assert broker.ack(second.receipt)


def test_late_ack_counts_until_redelivery(broker: Broker, clock: VirtualClock):
    broker.declare("q", visibility_timeout=10)
    broker.send("q", b"x")
    (lease,) = broker.receive("q")
    clock.advance(60)
    assert broker.ack(lease.receipt)
    assert broker.receive("q") == []


def test_receive_with_its_own_visibility_timeout_and_extend(broker: Broker, clock: VirtualClock):
    broker.declare("q", visibility_timeout=30)
    broker.send("q", b"x")
    (lease,) = broker.receive("q", visibility_timeout=5)
    clock.advance(4)
    assert broker.extend(lease.receipt, 10)
    clock.advance(9)
    assert broker.receive("q") == []
    clock.advance(1)
    assert broker.receive("q")[0].delivery_count == 2
    assert not broker.extend("no-such-receipt", 10)


def test_nack_backs_off_exponentially_up_to_the_cap(broker: Broker, clock: VirtualClock):
    broker.declare("q", backoff=(2, 5))
    broker.send("q", b"x")
    waits = []
    for _ in range(4):
        (lease,) = broker.receive("q")
        assert broker.nack(lease.receipt, error="boom")
        waited = 0
        while broker.stats("q").visible == 0:
            clock.advance(1)
            waited += 1
        waits.append(waited)
    assert waits == [2, 4, 5, 5]
    (lease,) = broker.receive("q")
    assert lease.delivery_count == 5
    assert lease.last_error == "boom"


def test_nack_with_a_delay(broker: Broker, clock: VirtualClock):
    broker.declare("q", backoff=(100, 100))
    broker.send("q", b"x")
    (lease,) = broker.receive("q")
    assert broker.nack(lease.receipt, delay=0)
    (again,) = broker.receive("q")
    assert again.delivery_count == 2
    assert broker.nack(again.receipt, delay=7)
    clock.advance(6)
    assert broker.receive("q") == []
    clock.advance(1)
    assert len(broker.receive("q")) == 1
    assert not broker.nack("stale")


def test_three_failures_land_in_the_dead_letter_queue(broker: Broker, clock: VirtualClock):
    broker.declare("q", max_deliveries=3, backoff=(1, 1))
    mid = broker.send("q", b"poison", {"trace": "t-1"}, delay_seconds=0)
    for attempt in (1, 2, 3):
        (lease,) = broker.receive("q")
        assert lease.delivery_count == attempt
        broker.nack(lease.receipt, error=f"ValueError: attempt {attempt}")
        clock.advance(1)
    assert broker.receive("q") == []
    assert broker.stats("q").total == 0
    (dead,) = broker.receive("q-dlq")
    assert (dead.id, dead.body, dead.attributes) == (mid, b"poison", {"trace": "t-1"})
    assert dead.delivery_count == 1
    assert dead.dead_letter_source == "q"
    assert dead.dead_letter_reason == "failed 3 of 3 deliveries: ValueError: attempt 3"
    assert dead.last_error == "ValueError: attempt 3"
    assert dead.queue_message().extensions["dead_letter_source"] == "q"


def test_expired_leases_count_as_failures(broker: Broker, clock: VirtualClock):
    broker.declare("q", visibility_timeout=10, max_deliveries=2, dead_letter="parking")
    broker.send("q", b"slow")
    for _ in range(2):
        assert len(broker.receive("q")) == 1
        clock.advance(10)
    # The second lease expired: the message is dead-lettered when next looked at.
    assert broker.stats("q").total == 0
    (dead,) = broker.peek("parking")
    assert dead.dead_letter_reason == "failed 2 of 2 deliveries: visibility timeout expired"
    assert dead.receipt is None


def test_delay_seconds(broker: Broker, clock: VirtualClock):
    broker.declare("q")
    broker.send("q", b"later", delay_seconds=60)
    broker.send("q", b"now")
    (now,) = broker.receive("q")
    assert now.body == b"now"
    broker.ack(now.receipt)
    assert broker.stats("q").delayed == 1
    clock.advance(59)
    assert broker.receive("q") == []
    clock.advance(1)
    assert [m.body for m in broker.receive("q")] == [b"later"]


def test_standard_queue_delivers_in_about_send_order(broker: Broker):
    broker.declare("q")
    for i in range(5):
        broker.send("q", str(i).encode())
    assert [m.body for m in broker.receive("q", max_messages=3)] == [b"0", b"1", b"2"]
    assert [m.body for m in broker.receive("q", max_messages=3)] == [b"3", b"4"]


def test_fifo_needs_a_group(broker: Broker):
    broker.declare("q.fifo", fifo=True)
    with pytest.raises(InvalidRequest, match="group_id"):
        broker.send("q.fifo", b"x")


def test_fifo_keeps_group_order_behind_a_failing_head(broker: Broker, clock: VirtualClock):
    broker.declare("q.fifo", fifo=True, backoff=(10, 10))
    for body, group in (("a1", "A"), ("a2", "A"), ("b1", "B"), ("a3", "A"), ("b2", "B")):
        broker.send("q.fifo", body.encode(), group_id=group)

    def take() -> list[str]:
        return [m.body.decode() for m in broker.receive("q.fifo", max_messages=1)]

    assert take() == ["a1"]
    assert take() == ["b1"]  # a2 waits while a1 is in flight
    (a1,) = [m for m in broker.peek("q.fifo") if m.body == b"a1"]
    assert a1.receipt is not None
    broker.nack(a1.receipt)  # a1 backs off 10 s: group A stays blocked
    assert take() == []  # b2 waits for b1, in flight
    clock.advance(10)
    (lease,) = broker.receive("q.fifo", max_messages=1)
    assert (lease.body, lease.delivery_count, lease.group_id) == (b"a1", 2, "A")
    broker.ack(lease.receipt)
    assert take() == ["a2"]


def test_fifo_batch_takes_consecutive_visible_messages_per_group(broker: Broker):
    broker.declare("q.fifo", fifo=True)
    for body, group in (("a1", "A"), ("a2", "A"), ("b1", "B"), ("a3", "A")):
        broker.send("q.fifo", body.encode(), group_id=group)
    batch = broker.receive("q.fifo", max_messages=10)
    assert [m.body for m in batch] == [b"a1", b"a2", b"b1", b"a3"]


def test_fifo_deduplication_window(broker: Broker, clock: VirtualClock):
    broker.declare("q.fifo", fifo=True)
    first = broker.send("q.fifo", b"x", group_id="g", deduplication_id="d-1")
    clock.advance(299)
    assert broker.send("q.fifo", b"x again", group_id="g", deduplication_id="d-1") == first
    assert broker.stats("q.fifo").total == 1
    clock.advance(1)  # the 5-minute window is over
    second = broker.send("q.fifo", b"x later", group_id="g", deduplication_id="d-1")
    assert second != first
    assert broker.stats("q.fifo").total == 2
    # Standard queues ignore de-duplication ids.
    broker.declare("std")
    broker.send("std", b"1", deduplication_id="same")
    broker.send("std", b"2", deduplication_id="same")
    assert broker.stats("std").total == 2


def test_stats_and_peek(broker: Broker, clock: VirtualClock):
    broker.declare("q")
    broker.send("q", b"1")
    broker.send("q", b"2")
    broker.send("q", b"3", delay_seconds=5)
    broker.receive("q", max_messages=1)
    stats = broker.stats("q")
    assert (stats.visible, stats.in_flight, stats.delayed, stats.total) == (1, 1, 1, 3)
    assert [m.body for m in broker.peek("q")] == [b"1", b"2", b"3"]
    with pytest.raises(QueueNotFound):
        broker.stats("nope")


def _in_thread(fn, *args) -> tuple[threading.Thread, list]:  # type: ignore[no-untyped-def]
    result: list = []
    thread = threading.Thread(target=lambda: result.append(fn(*args)), daemon=True)
    thread.start()
    return thread, result


def test_wait_visible_wakes_on_send(broker: Broker):
    broker.declare("q")
    thread, result = _in_thread(broker.wait_visible, "q", 5.0)
    time.sleep(0.05)
    assert result == []
    broker.send("q", b"x")
    thread.join(2)
    assert result == [True]


def test_wait_visible_wakes_when_the_clock_reaches_a_lease_deadline(
    broker: Broker, clock: VirtualClock
):
    broker.declare("q", visibility_timeout=30)
    broker.send("q", b"x")
    broker.receive("q")
    thread, result = _in_thread(broker.wait_visible, ["other", "q"], 5.0)
    time.sleep(0.05)
    clock.advance(10)
    time.sleep(0.05)
    assert result == []
    clock.advance(20)
    thread.join(2)
    assert result == [True]


def test_wait_visible_times_out(broker: Broker):
    broker.declare("q")
    started = time.monotonic()
    assert broker.wait_visible("q", 0.05) is False
    assert time.monotonic() - started < 1


def test_wait_visible_with_the_real_clock(tmp_path):
    with Broker(tmp_path / "real") as broker:
        broker.declare("q", visibility_timeout=0.1)
        broker.send("q", b"x")
        broker.receive("q")
        started = time.monotonic()
        assert broker.wait_visible("q", 5.0)
        assert 0.05 <= time.monotonic() - started < 2


def test_close_wakes_waiters(broker: Broker):
    broker.declare("q")
    thread, result = _in_thread(broker.wait_visible, "q", None)
    time.sleep(0.05)
    broker.close()
    thread.join(2)
    assert result == [False]


def test_messages_and_leases_survive_a_restart(open_broker, clock: VirtualClock):
    broker = open_broker()
    broker.declare("q", visibility_timeout=30, max_deliveries=5)
    broker.send("q", b"leased")
    broker.send("q", b"waiting")
    (lease,) = broker.receive("q", max_messages=1)
    broker.close()

    again = open_broker()
    assert again.queue_config("q").max_deliveries == 5
    assert [m.body for m in again.receive("q")] == [b"waiting"]
    assert again.ack(lease.receipt)  # the lease survived too


def test_one_broker_per_state_dir(open_broker):
    open_broker()
    with pytest.raises(StateDirLocked):
        open_broker()


def test_temporary_state_dir_is_removed_on_close(clock: VirtualClock):
    broker = Broker(None, clock)
    root = broker.state_dir
    assert (root / "broker.sqlite3").exists()
    broker.close()
    assert not root.exists()
