"""The orders sample, unchanged, on Google Cloud's local stand-ins: its functions-framework
targets (samples/orders/main.py) served on 127.0.0.1, Pub/Sub by polyfn's emulator pushing
to them, Cloud Storage by gcp-storage-emulator.

POST /orders → ``create_order`` sends the order (GcpDriver → the ``orders`` topic) → a push
subscription delivers it to ``process_order`` → which puts a receipt (Cloud Storage) and
publishes an announcement (the ``order-events`` topic, read here by a pull subscription).
An order that fails is retried by Pub/Sub, then dead-lettered.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.api_core import exceptions

from polyfn.testing import without_trace

from .conftest import PROJECT, PubSub, PushEndpoint, serve

pytestmark = pytest.mark.e2e

MAIN = Path(__file__).resolve().parents[3] / "samples" / "orders" / "main.py"
TOPICS = f"projects/{PROJECT}/topics"
SUBS = f"projects/{PROJECT}/subscriptions"
FAST_RETRY = {"minimum_backoff": {"nanos": 50_000_000}, "maximum_backoff": {"nanos": 200_000_000}}


@pytest.fixture(scope="module")
def orders_env(pubsub_emulator: Any, storage_emulator: str) -> Iterator[None]:
    # The functions read these when they first send something, in their server threads.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PUBSUB_EMULATOR_HOST", pubsub_emulator.address)
        mp.setenv("STORAGE_EMULATOR_HOST", storage_emulator)
        mp.setenv("GOOGLE_CLOUD_PROJECT", PROJECT)
        mp.setenv("GCE_METADATA_HOST", "127.0.0.1:9")
        mp.setenv("NO_GCE_CHECK", "True")
        yield


@pytest.fixture(scope="module")
def create_order(orders_env: None) -> Iterator[PushEndpoint]:
    yield from serve(MAIN, "create_order")


@pytest.fixture(scope="module")
def process_order(orders_env: None) -> Iterator[PushEndpoint]:
    yield from serve(MAIN, "process_order")


@pytest.fixture
def resources(pubsub: PubSub, storage_env: str, process_order: PushEndpoint) -> PubSub:
    """The sample's topics, bucket and subscriptions (made once: their names are fixed)."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    p, s = pubsub.publisher, pubsub.subscriber
    try:
        for topic in ("orders", "orders-dead", "order-events"):
            p.create_topic(name=f"{TOPICS}/{topic}")
    except exceptions.AlreadyExists:
        return pubsub
    # The queue's subscription is named after the queue: a push body names only it.
    s.create_subscription(
        request={
            "name": f"{SUBS}/orders",
            "topic": f"{TOPICS}/orders",
            "push_config": {"push_endpoint": f"{process_order.url}{TOPICS}/orders"},
            "retry_policy": FAST_RETRY,
            "dead_letter_policy": {
                "dead_letter_topic": f"{TOPICS}/orders-dead",
                "max_delivery_attempts": 5,
            },
        }
    )
    s.create_subscription(request={"name": f"{SUBS}/orders-dead", "topic": f"{TOPICS}/orders-dead"})
    s.create_subscription(
        request={"name": f"{SUBS}/order-events-observer", "topic": f"{TOPICS}/order-events"}
    )
    storage.Client(project=PROJECT, credentials=AnonymousCredentials()).create_bucket("receipts")
    return pubsub


def post(url: str, path: str, body: Any) -> tuple[int, Any]:
    host, port = url.removeprefix("http://").rstrip("/").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"null")
    finally:
        conn.close()


def test_an_order_flows_through_pubsub_and_storage(
    resources: PubSub, create_order: PushEndpoint
) -> None:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    status, answer = post(
        create_order.url, "/orders", {"id": "o-1", "items": [{"price": 2, "qty": 3}]}
    )
    assert status == 200, answer
    assert answer["id"] == "o-1"

    (event,) = resources.pull(f"{SUBS}/order-events-observer", 1)
    resources.ack(f"{SUBS}/order-events-observer", [event])
    assert json.loads(event.message.data) == {
        "order": "o-1",
        "total": 6,
        "message": answer["queued_as"],
    }
    assert without_trace(event.message.attributes) == {
        "event": "order-processed",
        "subject": "order processed",
    }
    assert resources.idle(f"{SUBS}/orders")

    client = storage.Client(project=PROJECT, credentials=AnonymousCredentials())
    blob = client.bucket("receipts").get_blob("receipts/o-1.json")
    assert blob is not None and blob.content_type == "application/json"
    assert json.loads(blob.download_as_bytes())["total"] == 6


def test_a_failing_order_is_retried_then_dead_lettered(resources: PubSub) -> None:
    message_id = resources.publisher.publish(
        f"{TOPICS}/orders", json.dumps({"id": "o-bad", "items": []}).encode()
    ).result()
    (dead,) = resources.pull(f"{SUBS}/orders-dead", 1)
    resources.ack(f"{SUBS}/orders-dead", [dead])
    assert json.loads(dead.message.data)["id"] == "o-bad"
    assert dead.message.attributes["CloudPubSubDeadLetterSourceDeliveryCount"] == "5"
    assert dead.message.attributes["CloudPubSubDeadLetterSourceSubscription"] == "orders"
    assert message_id
