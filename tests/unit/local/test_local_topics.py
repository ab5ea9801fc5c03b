"""Broker topics: fan-out to subscriptions (queues) with attribute filters."""

from __future__ import annotations

import pytest

from polyfn.events.messages import TopicMessage
from polyfn.local.broker import Broker, InvalidRequest, Subscription
from polyfn.local.clock import VirtualClock


def test_publish_fans_out_to_matching_subscriptions(broker: Broker, clock: VirtualClock):
    broker.subscribe("orders", "all")
    broker.subscribe("orders", "eu", {"region": ["eu-west", "eu-north"]})
    broker.subscribe("orders", "us", {"region": "us-east"})
    broker.subscribe("other", "elsewhere")

    mid = broker.publish("orders", b'{"id": 7}', {"region": "eu-west"}, subject="created")
    assert [m.id for m in broker.receive("all")] == [mid]
    (copy,) = broker.receive("eu")
    assert broker.receive("us") == []
    assert broker.receive("elsewhere") == []
    assert (copy.id, copy.topic, copy.subject, copy.attributes) == (
        mid,
        "orders",
        "created",
        {"region": "eu-west"},
    )

    msg = copy.topic_message()
    assert isinstance(msg, TopicMessage)
    assert (msg.id, msg.topic, msg.subject, msg.json()) == (mid, "orders", "created", {"id": 7})
    assert msg.published_at == clock.now()
    assert msg.extensions["subscription"] == "eu"


def test_filters_match_like_topic_triggers(broker: Broker):
    broker.subscribe("t", "f", {"a": "1", "b": ["x", "y"]})
    broker.publish("t", b"1", {"a": "1", "b": "y", "c": "ignored"})
    broker.publish("t", b"2", {"a": "1"})  # b missing
    broker.publish("t", b"3", {"a": "2", "b": "x"})
    broker.publish("t", b"4")
    assert [m.body for m in broker.receive("f")] == [b"1"]


def test_subscriptions_are_queues_with_their_own_settings(broker: Broker, clock: VirtualClock):
    broker.declare("slow", visibility_timeout=5)
    broker.subscribe("t", "slow")
    broker.publish("t", b"x")
    broker.receive("slow")
    clock.advance(5)
    assert broker.receive("slow")[0].delivery_count == 2


def test_subscribe_again_replaces_the_filter_and_unsubscribe(broker: Broker):
    broker.subscribe("t", "s", {"a": "1"})
    assert broker.subscribe("t", "s", {"a": "2"}) == Subscription("t", "s", {"a": "2"})
    assert broker.subscriptions() == [Subscription("t", "s", {"a": "2"})]
    assert broker.subscriptions("other") == []
    broker.publish("t", b"1", {"a": "1"})
    broker.publish("t", b"2", {"a": "2"})
    assert [m.body for m in broker.receive("s")] == [b"2"]
    assert broker.unsubscribe("t", "s")
    assert not broker.unsubscribe("t", "s")
    broker.publish("t", b"3", {"a": "2"})
    assert broker.receive("s") == []


def test_a_topic_without_subscriptions_drops_messages(broker: Broker):
    assert broker.publish("nobody", b"x")
    assert broker.idle()


def test_bad_filters_are_refused(broker: Broker):
    with pytest.raises(InvalidRequest):
        broker.subscribe("t", "s", ["not", "a", "dict"])  # type: ignore[arg-type]
    with pytest.raises(InvalidRequest):
        broker.subscribe("t", "")


def test_subscriptions_survive_a_restart(open_broker):
    broker = open_broker()
    broker.subscribe("t", "s", {"a": "1"})
    broker.close()
    again = open_broker()
    again.publish("t", b"x", {"a": "1"})
    assert len(again.receive("s")) == 1
