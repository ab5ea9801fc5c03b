"""Push delivery from polyfn's Pub/Sub emulator to a functions-framework HTTP function on
127.0.0.1 (``gcp_push_target.flaky``): the documented JSON envelope, retries with the
subscription's backoff until a 2xx acknowledges, dead-lettering after the maximum number
of attempts, and switching a subscription between pull and push."""

from __future__ import annotations

import base64

import pytest

from .conftest import PROJECT, PubSub, PushEndpoint

pytestmark = pytest.mark.e2e

FAST_RETRY = {"minimum_backoff": {"nanos": 50_000_000}, "maximum_backoff": {"nanos": 200_000_000}}


def test_push_retries_until_the_function_succeeds(pubsub: PubSub, push_endpoint: PushEndpoint):
    topic, dlq = pubsub.topic("push"), pubsub.topic("push-dlq")
    sub = pubsub.subscription(
        "push",
        topic,
        push_config={"push_endpoint": f"{push_endpoint.url}?fail=2"},
        retry_policy=FAST_RETRY,
        dead_letter_policy={"dead_letter_topic": dlq, "max_delivery_attempts": 5},
        enable_message_ordering=True,
    )
    message_id = pubsub.publisher.publish(
        topic, b'{"order": 1}', ordering_key="o-1", kind="created"
    ).result()
    # Two 500s, then a 204 that acknowledges the message.
    assert push_endpoint.wait(lambda ds: sum(d["message_id"] == message_id for d in ds) >= 3)
    assert pubsub.idle(sub)
    deliveries = push_endpoint.deliveries(message_id)
    assert len(deliveries) == 3  # acknowledged: not pushed again
    assert [d["envelope"]["deliveryAttempt"] for d in deliveries] == [1, 2, 3]

    envelope = deliveries[0]["envelope"]
    message = envelope["message"]
    assert envelope["subscription"] == sub
    assert base64.b64decode(message["data"]) == b'{"order": 1}'
    assert message["attributes"] == {"kind": "created"}
    assert message["messageId"] == message["message_id"] == message_id
    assert message["publishTime"] == message["publish_time"]
    assert message["publishTime"].endswith("Z")
    assert message["orderingKey"] == "o-1"
    assert deliveries[0]["headers"]["Content-Type"] == "application/json"


def test_push_dead_letters_what_always_fails(pubsub: PubSub, push_endpoint: PushEndpoint):
    topic, dlq = pubsub.topic("doomed"), pubsub.topic("doomed-dlq")
    dead = pubsub.subscription("doomed-dlq", dlq)
    sub = pubsub.subscription(
        "doomed",
        topic,
        push_config={"push_endpoint": f"{push_endpoint.url}?fail=always"},
        retry_policy=FAST_RETRY,
        dead_letter_policy={"dead_letter_topic": dlq, "max_delivery_attempts": 5},
    )
    message_id = pubsub.publisher.publish(topic, b"never").result()
    (forwarded,) = pubsub.pull(dead, 1)
    assert forwarded.message.data == b"never"
    assert forwarded.message.attributes["CloudPubSubDeadLetterSourceDeliveryCount"] == "5"
    assert pubsub.idle(sub)
    attempts = [d["envelope"]["deliveryAttempt"] for d in push_endpoint.deliveries(message_id)]
    assert attempts == [1, 2, 3, 4, 5]


def test_push_without_retry_policy_or_dead_letters(pubsub: PubSub, push_endpoint: PushEndpoint):
    """No dead-letter policy: no deliveryAttempt; no retry policy: the push backoff."""
    topic = pubsub.topic("plain")
    sub = pubsub.subscription(
        "plain", topic, push_config={"push_endpoint": f"{push_endpoint.url}?fail=1"}
    )
    message_id = pubsub.publisher.publish(topic, b"x").result()
    assert push_endpoint.wait(lambda ds: sum(d["message_id"] == message_id for d in ds) >= 2)
    assert pubsub.idle(sub)
    assert ["deliveryAttempt" in d["envelope"] for d in push_endpoint.deliveries(message_id)] == [
        False,
        False,
    ]


def test_modify_push_config_switches_between_pull_and_push(
    pubsub: PubSub, push_endpoint: PushEndpoint
):
    topic = pubsub.topic("switch")
    sub = pubsub.subscription("switch", topic)
    pulled_id = pubsub.publisher.publish(topic, b"pulled").result()
    (pulled,) = pubsub.pull(sub, 1)
    assert pulled.message.message_id == pulled_id
    pubsub.ack(sub, [pulled])

    pubsub.subscriber.modify_push_config(
        request={"subscription": sub, "push_config": {"push_endpoint": push_endpoint.url}}
    )
    pushed_id = pubsub.publisher.publish(topic, b"pushed").result()
    assert push_endpoint.wait(lambda ds: any(d["message_id"] == pushed_id for d in ds))
    assert pubsub.idle(sub)
    config = pubsub.subscriber.get_subscription(subscription=sub).push_config
    assert config.push_endpoint == push_endpoint.url

    pubsub.subscriber.modify_push_config(request={"subscription": sub, "push_config": {}})
    again_id = pubsub.publisher.publish(topic, b"pulled again").result()
    (again,) = pubsub.pull(sub, 1)
    assert again.message.message_id == again_id
    assert push_endpoint.deliveries(again_id) == []


def test_unwrapped_push_writes_metadata_as_headers(pubsub: PubSub, push_endpoint: PushEndpoint):
    topic = pubsub.topic("unwrapped")
    sub = pubsub.subscription(
        "unwrapped",
        topic,
        push_config={
            "push_endpoint": push_endpoint.url,
            "no_wrapper": {"write_metadata": True},
        },
    )
    pubsub.publisher.publish(topic, b'{"raw": true}', color="blue").result()
    assert push_endpoint.wait(
        lambda ds: any(d["headers"].get("X-Goog-Pubsub-Subscription-Name") == sub for d in ds)
    )
    (d,) = [d for d in push_endpoint.deliveries() if d["message_id"] is None]
    assert d["headers"]["Color"] == "blue"
    assert d["headers"]["X-Goog-Pubsub-Message-Id"]
    assert pubsub.idle(sub)
    assert sub.startswith(f"projects/{PROJECT}/")


def test_push_to_a_cloudevent_function(pubsub: PubSub, cloudevent_endpoint: PushEndpoint):
    """A raised exception nacks (500), returning acks: functions-framework turns the raw
    push request into a messagePublished CloudEvent of the topic in the URL path."""
    topic, dlq = pubsub.topic("ce"), pubsub.topic("ce-dlq")
    dead = pubsub.subscription("ce-dlq", dlq)
    sub = pubsub.subscription(
        "ce",
        topic,
        push_config={"push_endpoint": f"{cloudevent_endpoint.url}{topic}"},
        retry_policy=FAST_RETRY,
        dead_letter_policy={"dead_letter_topic": dlq, "max_delivery_attempts": 5},
    )
    retried = pubsub.publisher.publish(topic, b"retry me", fail="1").result()
    doomed = pubsub.publisher.publish(topic, b"doomed", fail="always").result()
    (forwarded,) = pubsub.pull(dead, 1)
    assert forwarded.message.data == b"doomed"
    assert pubsub.idle(sub)
    assert len(cloudevent_endpoint.deliveries(retried)) == 2
    assert len(cloudevent_endpoint.deliveries(doomed)) == 5

    first = cloudevent_endpoint.deliveries(retried)[0]
    assert first["attributes"]["type"] == "google.cloud.pubsub.topic.v1.messagePublished"
    assert first["attributes"]["source"] == f"//pubsub.googleapis.com/{topic}"
    assert first["attributes"]["id"] == retried
    message = first["data"]["message"]
    assert base64.b64decode(message["data"]) == b"retry me"
    assert message["attributes"] == {"fail": "1"}
