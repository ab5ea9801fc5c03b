"""The Google Cloud output driver: Pub/Sub through polyfn's emulator and Cloud Storage
through gcp-storage-emulator, both read back with the official client libraries."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from polyfn import CloudEvent, Context
from polyfn.adapters.gcp.outputs import GcpDriver, GcpOutputError, OutputTargetNotFound
from polyfn.outputs import Outputs
from polyfn.testing import without_trace

from .conftest import PROJECT, PubSub

pytestmark = pytest.mark.e2e


@pytest.fixture
def driver(gcp_env: None) -> Any:
    d = GcpDriver()
    yield d
    d.close()


def outputs(driver: GcpDriver) -> Any:
    return Context("f", "inv", "gcp", outputs=Outputs(driver)).outputs


def test_publish(pubsub: PubSub, driver: GcpDriver) -> None:
    topic = pubsub.topic("events")
    sub = pubsub.subscription("events", topic)
    short = topic.rsplit("/", 1)[-1]  # a short name: the project comes from the settings
    message_id = outputs(driver).publish(
        short, {"order": 7}, attributes={"kind": "created"}, subject="orders/7"
    )
    (r,) = pubsub.pull(sub, 1)
    assert r.message.message_id == message_id
    assert json.loads(r.message.data) == {"order": 7}
    assert without_trace(r.message.attributes) == {"kind": "created", "subject": "orders/7"}
    # A full topic name passes through.
    outputs(driver).publish(topic, b"raw")
    (r,) = pubsub.pull(sub, 1)
    assert r.message.data == b"raw"


def test_send_maps_group_and_deduplication_ids(pubsub: PubSub, driver: GcpDriver) -> None:
    topic = pubsub.topic("orders")
    sub = pubsub.subscription("orders", topic, enable_message_ordering=True)
    queue = topic.rsplit("/", 1)[-1]
    out = outputs(driver)
    for n in range(3):
        out.send(queue, f"m{n}", group_id="customer-1", deduplication_id=f"d{n}")
    received = []
    for _ in range(3):  # an ordered subscription delivers a key's messages one at a time
        (r,) = pubsub.pull(sub, 1)
        received.append(r)
        pubsub.ack(sub, [r])
    assert [r.message.data for r in received] == [b"m0", b"m1", b"m2"]
    assert {r.message.ordering_key for r in received} == {"customer-1"}
    assert [r.message.attributes["deduplication_id"] for r in received] == ["d0", "d1", "d2"]


def test_send_refuses_what_pubsub_cannot_do(pubsub: PubSub, driver: GcpDriver) -> None:
    topic = pubsub.topic("refuse")
    out = outputs(driver)
    with pytest.raises(GcpOutputError, match="no delayed delivery") as e:
        out.send(topic, "later", delay_seconds=30)
    assert e.value.provider == "gcp"
    with pytest.raises(GcpOutputError, match="parameters of its publish call"):
        out.send(topic, "x", attributes={"timeout": "3"})
    with pytest.raises(GcpOutputError, match="'subject'"):
        out.publish(topic, "x", attributes={"subject": "a"}, subject="b")
    with pytest.raises(OutputTargetNotFound) as missing:
        out.publish(f"t-missing-{pubsub.prefix}", "x")
    assert missing.value.resource == f"projects/{PROJECT}/topics/t-missing-{pubsub.prefix}"


def test_emit_publishes_a_binary_mode_cloudevent(pubsub: PubSub, driver: GcpDriver) -> None:
    topic = pubsub.topic("bus")
    sub = pubsub.subscription("bus", topic)
    event = CloudEvent(
        "ev-1",
        "//orders.example/shop",
        "com.example.order.created",
        {"order": 7},
        subject="orders/7",
        time=datetime(2024, 5, 1, 12, 30, tzinfo=UTC),
        extensions={"tenant": "acme", "priority": 3, "urgent": True},
    )
    message_id = outputs(driver).emit(event, bus=topic.rsplit("/", 1)[-1])
    (r,) = pubsub.pull(sub, 1)
    assert r.message.message_id == message_id
    assert json.loads(r.message.data) == {"order": 7}
    assert without_trace(r.message.attributes) == {
        "Content-Type": "application/json",
        "ce-specversion": "1.0",
        "ce-id": "ev-1",
        "ce-source": "//orders.example/shop",
        "ce-type": "com.example.order.created",
        "ce-subject": "orders/7",
        "ce-time": "2024-05-01T12:30:00Z",
        "ce-tenant": "acme",
        "ce-priority": "3",
        "ce-urgent": "true",
    }


def test_emit_needs_a_bus_and_valid_extensions(gcp_env: None, driver: GcpDriver) -> None:
    event = CloudEvent("1", "s", "t", "text")
    with pytest.raises(GcpOutputError, match="POLYFN_GCP_EVENT_TOPIC"):
        driver.emit(event, None)
    bad = CloudEvent("1", "s", "t", extensions={"Bad-Name": "x"})
    with pytest.raises(GcpOutputError, match="Bad-Name"):
        driver.emit(bad, "bus")
    nested = CloudEvent("1", "s", "t", extensions={"resources": ["a"]})
    with pytest.raises(GcpOutputError, match="resources"):
        driver.emit(nested, "bus")


def test_emit_default_topic_from_the_setting(
    pubsub: PubSub, driver: GcpDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    topic = pubsub.topic("default-bus")
    sub = pubsub.subscription("default-bus", topic)
    monkeypatch.setenv("POLYFN_GCP_EVENT_TOPIC", topic)
    driver.emit(CloudEvent("2", "s", "t", b"\x00bin", datacontenttype="application/x-bin"), None)
    (r,) = pubsub.pull(sub, 1)
    assert r.message.data == b"\x00bin"
    assert r.message.attributes["Content-Type"] == "application/x-bin"


def test_put_into_cloud_storage(storage_env: str, driver: GcpDriver) -> None:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    client = storage.Client(project=PROJECT, credentials=AnonymousCredentials())
    bucket = f"receipts-{uuid.uuid4().hex[:8]}"
    client.create_bucket(bucket)
    generation = outputs(driver).put(
        bucket,
        "orders/7.json",
        {"total": 12},
        content_type="application/json",
        metadata={"order": "7"},
    )
    blob = client.bucket(bucket).get_blob("orders/7.json")
    assert blob is not None
    assert json.loads(blob.download_as_bytes()) == {"total": 12}
    assert blob.content_type == "application/json"
    assert without_trace(blob.metadata) == {"order": "7"}
    # The upload's answer carries the generation (the emulator's object GET omits it).
    assert generation is not None and generation.isdigit()

    with pytest.raises(OutputTargetNotFound) as e:
        outputs(driver).put(f"missing-{bucket}", "k", b"x")
    assert (e.value.provider, e.value.service) == ("gcp", "cloud storage")


def test_project_must_be_known_with_an_emulator(
    gcp_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT")
    with pytest.raises(GcpOutputError, match="GOOGLE_CLOUD_PROJECT"):
        GcpDriver().publish("topic", b"x", {}, None)
    assert GcpDriver("explicit").topic_path("t") == "projects/explicit/topics/t"


def test_the_driver_imports_no_sdk_until_used() -> None:
    code = (
        "import sys; from polyfn.adapters.gcp.outputs import GcpDriver; GcpDriver(); "
        "print(','.join(m for m in sys.modules if m.startswith(SDKS)))"
    )
    # "google" and "google.cloud" themselves may be imported by namespace .pth files.
    sdks = ("google.cloud.pubsub", "google.cloud.storage", "google.auth", "google.api_core", "grpc")
    code = f"SDKS = {sdks!r}; {code}"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
