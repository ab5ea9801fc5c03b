"""polyfn's Pub/Sub emulator against the unchanged google-cloud-pubsub client: admin calls,
publish, Pull and StreamingPull (subscriber.subscribe), ack deadlines and redelivery with
delivery attempts, dead-lettering, ordering keys and filters."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import defaultdict
from typing import Any

import pytest
from google.api_core import exceptions

from .conftest import PROJECT, WAIT, PubSub

pytestmark = pytest.mark.e2e


def test_topics_and_subscriptions(pubsub: PubSub) -> None:
    topic = pubsub.topic("admin")
    assert pubsub.publisher.get_topic(topic=topic).name == topic
    with pytest.raises(exceptions.AlreadyExists):
        pubsub.publisher.create_topic(name=topic)
    sub = pubsub.subscription("admin", topic, ack_deadline_seconds=30)
    got = pubsub.subscriber.get_subscription(subscription=sub)
    assert (got.topic, got.ack_deadline_seconds) == (topic, 30)

    topics = [t.name for t in pubsub.publisher.list_topics(project=f"projects/{PROJECT}")]
    assert topic in topics
    assert list(pubsub.publisher.list_topic_subscriptions(topic=topic)) == [sub]
    subs = [s.name for s in pubsub.subscriber.list_subscriptions(project=f"projects/{PROJECT}")]
    assert sub in subs

    pubsub.publisher.delete_topic(topic=topic)
    with pytest.raises(exceptions.NotFound):
        pubsub.publisher.get_topic(topic=topic)
    # As on the service, the subscription outlives its topic, detached.
    assert pubsub.subscriber.get_subscription(subscription=sub).topic == "_deleted-topic_"
    pubsub.subscriber.delete_subscription(subscription=sub)
    with pytest.raises(exceptions.NotFound):
        pubsub.subscriber.get_subscription(subscription=sub)


def test_refuses_what_the_service_refuses(pubsub: PubSub) -> None:
    topic = pubsub.topic("refusals")
    with pytest.raises(exceptions.InvalidArgument):
        pubsub.publisher.create_topic(name=f"projects/{PROJECT}/topics/9starts-with-digit")
    with pytest.raises(exceptions.NotFound):
        pubsub.subscription("no-topic", f"projects/{PROJECT}/topics/t-missing-{pubsub.prefix}")
    with pytest.raises(exceptions.InvalidArgument):
        pubsub.subscription("deadline", topic, ack_deadline_seconds=5)
    with pytest.raises(exceptions.InvalidArgument, match="max_delivery_attempts"):
        pubsub.subscription(
            "dlq",
            topic,
            dead_letter_policy={"dead_letter_topic": topic, "max_delivery_attempts": 2},
        )
    with pytest.raises(exceptions.InvalidArgument, match="filter"):
        pubsub.subscription("filter", topic, filter='attributes.kind > "a"')
    # Push endpoints must be on loopback: the emulator never sends traffic elsewhere.
    with pytest.raises(exceptions.InvalidArgument, match="loopback"):
        pubsub.subscription("push", topic, push_config={"push_endpoint": "https://example.com/"})
    with pytest.raises(exceptions.InvalidArgument, match="exactly_once"):
        pubsub.subscription("eod", topic, enable_exactly_once_delivery=True)
    # What the emulator lacks (snapshots, seek, schemas, ...) says so.
    with pytest.raises(exceptions.MethodNotImplemented):
        pubsub.subscriber.list_snapshots(project=f"projects/{PROJECT}")


def test_publish_and_pull(pubsub: PubSub) -> None:
    topic = pubsub.topic("pull")
    sub = pubsub.subscription("pull", topic)
    ids = [
        pubsub.publisher.publish(topic, b"one", kind="a").result(),
        pubsub.publisher.publish(topic, b"two", kind="b").result(),
    ]
    got = pubsub.pull(sub, 2)
    assert [r.message.data for r in got] == [b"one", b"two"]
    assert [r.message.message_id for r in got] == ids
    assert [dict(r.message.attributes) for r in got] == [{"kind": "a"}, {"kind": "b"}]
    assert all(r.message.publish_time.timestamp() > 0 for r in got)
    assert all(r.delivery_attempt == 0 for r in got)  # no dead-letter policy: not counted
    pubsub.ack(sub, got)
    assert pubsub.idle(sub)
    # Acknowledged messages are not delivered again: a Pull waits, then answers nothing.
    resp = pubsub.subscriber.pull(request={"subscription": sub, "max_messages": 5}, timeout=1.5)
    assert list(resp.received_messages) == []


def test_messages_before_a_subscription_are_not_delivered_to_it(pubsub: PubSub) -> None:
    topic = pubsub.topic("before")
    pubsub.publisher.publish(topic, b"early").result()
    sub = pubsub.subscription("before", topic)
    pubsub.publisher.publish(topic, b"late").result()
    assert [r.message.data for r in pubsub.pull(sub, 1)] == [b"late"]


def test_ack_deadline_expiry_redelivers_with_the_next_attempt(pubsub: PubSub) -> None:
    topic, dlq = pubsub.topic("expiry"), pubsub.topic("expiry-dlq")
    sub = pubsub.subscription(
        "expiry", topic, dead_letter_policy={"dead_letter_topic": dlq, "max_delivery_attempts": 5}
    )
    pubsub.publisher.publish(topic, b"slow").result()
    (first,) = pubsub.pull(sub, 1)
    assert first.delivery_attempt == 1
    # Shorten the lease to one second and let it lapse: the message comes back.
    pubsub.subscriber.modify_ack_deadline(
        request={"subscription": sub, "ack_ids": [first.ack_id], "ack_deadline_seconds": 1}
    )
    (second,) = pubsub.pull(sub, 1)
    assert second.message.message_id == first.message.message_id
    assert second.delivery_attempt == 2
    assert second.ack_id != first.ack_id
    pubsub.ack(sub, [second])
    assert pubsub.idle(sub)


def test_nack_then_dead_letter_after_max_attempts(pubsub: PubSub) -> None:
    topic, dlq = pubsub.topic("nack"), pubsub.topic("nack-dlq")
    dead = pubsub.subscription("nack-dlq", dlq)
    sub = pubsub.subscription(
        "nack", topic, dead_letter_policy={"dead_letter_topic": dlq, "max_delivery_attempts": 5}
    )
    message_id = pubsub.publisher.publish(topic, b"poison", origin="test").result()
    attempts = []
    for _ in range(5):
        (r,) = pubsub.pull(sub, 1)
        attempts.append(r.delivery_attempt)
        pubsub.subscriber.modify_ack_deadline(
            request={"subscription": sub, "ack_ids": [r.ack_id], "ack_deadline_seconds": 0}
        )
    assert attempts == [1, 2, 3, 4, 5]
    (forwarded,) = pubsub.pull(dead, 1)
    assert forwarded.message.data == b"poison"
    attrs = dict(forwarded.message.attributes)
    assert attrs["origin"] == "test"
    assert attrs["CloudPubSubDeadLetterSourceDeliveryCount"] == "5"
    assert attrs["CloudPubSubDeadLetterSourceSubscription"] == sub.rsplit("/", 1)[-1]
    assert attrs["CloudPubSubDeadLetterSourceSubscriptionProject"] == PROJECT
    assert forwarded.message.message_id != message_id
    assert pubsub.idle(sub)  # gone from the source subscription


def test_retry_policy_backs_off(pubsub: PubSub) -> None:
    import time

    topic = pubsub.topic("backoff")
    sub = pubsub.subscription(
        "backoff",
        topic,
        retry_policy={"minimum_backoff": {"nanos": 300_000_000}, "maximum_backoff": {"seconds": 1}},
    )
    pubsub.publisher.publish(topic, b"later").result()
    (r,) = pubsub.pull(sub, 1)
    nacked = time.monotonic()
    pubsub.subscriber.modify_ack_deadline(
        request={"subscription": sub, "ack_ids": [r.ack_id], "ack_deadline_seconds": 0}
    )
    (again,) = pubsub.pull(sub, 1)
    assert time.monotonic() - nacked >= 0.3
    pubsub.ack(sub, [again])


def test_streaming_pull_ack_and_nack(pubsub: PubSub) -> None:
    topic, dlq = pubsub.topic("stream"), pubsub.topic("stream-dlq")
    sub = pubsub.subscription(
        "stream", topic, dead_letter_policy={"dead_letter_topic": dlq, "max_delivery_attempts": 5}
    )
    seen: dict[bytes, list[int | None]] = defaultdict(list)
    done = threading.Condition()

    def callback(message: Any) -> None:
        with done:
            seen[message.data].append(message.delivery_attempt)
            done.notify_all()
        # Every message is refused once, then acknowledged.
        if len(seen[message.data]) == 1:
            message.nack()
        else:
            message.ack()

    future = pubsub.subscriber.subscribe(sub, callback)
    try:
        for i in range(3):
            pubsub.publisher.publish(topic, f"m{i}".encode()).result()
        with done:
            assert done.wait_for(lambda: sum(map(len, seen.values())) >= 6, WAIT), seen
        assert pubsub.idle(sub)
    finally:
        future.cancel()
        future.result(timeout=WAIT)
    assert dict(seen) == {b"m0": [1, 2], b"m1": [1, 2], b"m2": [1, 2]}


def test_ordering_keys_keep_their_order_across_redelivery(pubsub: PubSub) -> None:
    topic = pubsub.topic("ordered")
    sub = pubsub.subscription("ordered", topic, enable_message_ordering=True)
    order: dict[str, list[int]] = defaultdict(list)
    done = threading.Condition()
    nacked: set[str] = set()

    def callback(message: Any) -> None:
        key, n = message.ordering_key, int(message.data)
        with done:
            order[key].append(n)
            done.notify_all()
        if n == 2 and key not in nacked:  # refuse the second of each key once
            nacked.add(key)
            message.nack()
        else:
            message.ack()

    for n in range(1, 6):
        for key in ("k1", "k2"):
            pubsub.publisher.publish(topic, str(n).encode(), ordering_key=key)
    future = pubsub.subscriber.subscribe(sub, callback)
    try:
        with done:
            assert done.wait_for(lambda: all(len(order[k]) >= 6 for k in ("k1", "k2")), WAIT), order
        assert pubsub.idle(sub)
    finally:
        future.cancel()
        future.result(timeout=WAIT)
    # 2 is delivered twice and nothing after it is delivered before it is acknowledged.
    assert order == {"k1": [1, 2, 2, 3, 4, 5], "k2": [1, 2, 2, 3, 4, 5]}


def test_filter_delivers_matching_messages_only(pubsub: PubSub) -> None:
    topic = pubsub.topic("filtered")
    sub = pubsub.subscription(
        "filtered", topic, filter='attributes.kind = "order" AND NOT attributes:test'
    )
    prefix = pubsub.subscription("prefixed", topic, filter='hasPrefix(attributes.region, "eu-")')
    pubsub.publisher.publish(topic, b"a", kind="order").result()
    pubsub.publisher.publish(topic, b"b", kind="order", test="1").result()
    pubsub.publisher.publish(topic, b"c", kind="refund", region="eu-west").result()
    assert [r.message.data for r in pubsub.pull(sub, 1)] == [b"a"]
    assert [r.message.data for r in pubsub.pull(prefix, 1)] == [b"c"]
    assert pubsub.emulator.broker.backlog(sub) == (0, 1)  # "b" was never queued


def test_streaming_pull_on_a_missing_subscription_fails(pubsub: PubSub) -> None:
    future = pubsub.subscriber.subscribe(
        f"projects/{PROJECT}/subscriptions/s-missing-{pubsub.prefix}", lambda m: m.ack()
    )
    with pytest.raises(exceptions.NotFound):
        future.result(timeout=WAIT)


def test_command_line_entry(gcp_env: None) -> None:
    """``python -m polyfn.local.pubsub --port 0`` serves until terminated."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "polyfn.local.pubsub", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("export PUBSUB_EMULATOR_HOST=127.0.0.1:"), line
        address = line.split("=", 1)[1]
        from google.cloud import pubsub_v1

        os.environ["PUBSUB_EMULATOR_HOST"] = address  # restored by gcp_env's monkeypatch
        publisher = pubsub_v1.PublisherClient()
        topic = f"projects/{PROJECT}/topics/cli"
        assert publisher.create_topic(name=topic).name == topic
        assert publisher.publish(topic, b"x").result(timeout=WAIT)
        publisher.stop()
    finally:
        proc.terminate()
        assert proc.wait(WAIT) == 0
