"""The local Pub/Sub emulator (polyfn.local.pubsub), gcp-storage-emulator and a
functions-framework push endpoint, all on 127.0.0.1, for the Google Cloud e2e tests.

Every Google client here is the unchanged library, pointed at the emulators through
PUBSUB_EMULATOR_HOST and STORAGE_EMULATOR_HOST with a fake project; the metadata server
is pointed at a closed loopback port, so that nothing can reach Google even by mistake.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from polyfn.local.pubsub import PubSubEmulator

PROJECT = "polyfn-e2e"
HERE = Path(__file__).resolve().parent
PUSH_SOURCE = HERE / "gcp_push_target.py"
CLOUDEVENT_SOURCE = HERE / "gcp_push_cloudevent.py"
WAIT = 10.0  # seconds: the longest any test waits for a delivery
# Where google-auth would look for the metadata server: a closed port on loopback.
NO_METADATA = "127.0.0.1:9"


@pytest.fixture(scope="session")
def pubsub_emulator() -> Iterator[PubSubEmulator]:
    with PubSubEmulator() as emulator:
        yield emulator


@pytest.fixture(scope="session")
def storage_emulator() -> Iterator[str]:
    """gcp-storage-emulator in this process, in memory; its base URL."""
    from gcp_storage_emulator.server import create_server

    logging.getLogger("gcp_storage_emulator").setLevel(logging.WARNING)
    server = create_server("127.0.0.1", 0, in_memory=True)
    server.start()
    try:
        port = server._api._httpd.server_port  # port 0: the one the OS picked
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def gcp_env(monkeypatch: pytest.MonkeyPatch, pubsub_emulator: PubSubEmulator) -> None:
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", pubsub_emulator.address)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", PROJECT)
    monkeypatch.setenv("GCE_METADATA_HOST", NO_METADATA)
    monkeypatch.setenv("GCE_METADATA_IP", NO_METADATA)
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@dataclass
class PubSub:
    """The official clients on the emulator, and unique names for one test."""

    emulator: PubSubEmulator
    publisher: Any
    subscriber: Any
    prefix: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    def topic(self, name: str) -> str:
        path = f"projects/{PROJECT}/topics/t-{self.prefix}-{name}"
        self.publisher.create_topic(name=path)
        return path

    def subscription(self, name: str, topic: str, **config: Any) -> str:
        path = f"projects/{PROJECT}/subscriptions/s-{self.prefix}-{name}"
        self.subscriber.create_subscription(request={"name": path, "topic": topic, **config})
        return path

    def pull(self, subscription: str, count: int, timeout: float = WAIT) -> list[Any]:
        """``count`` messages by synchronous pull (each Pull waits on the server)."""
        end = time.monotonic() + timeout
        out: list[Any] = []
        while len(out) < count and time.monotonic() < end:
            resp = self.subscriber.pull(
                request={"subscription": subscription, "max_messages": count - len(out)},
                timeout=max(1.0, end - time.monotonic()),
            )
            out.extend(resp.received_messages)
        return out

    def ack(self, subscription: str, received: list[Any]) -> None:
        self.subscriber.acknowledge(
            request={"subscription": subscription, "ack_ids": [r.ack_id for r in received]}
        )

    def idle(self, subscription: str, timeout: float = WAIT) -> bool:
        assert self.emulator.broker is not None
        return self.emulator.broker.wait_idle(subscription, timeout)


@pytest.fixture
def pubsub(gcp_env: None, pubsub_emulator: PubSubEmulator) -> Iterator[PubSub]:
    from google.cloud import pubsub_v1

    publisher = pubsub_v1.PublisherClient(
        publisher_options=pubsub_v1.types.PublisherOptions(enable_message_ordering=True)
    )
    subscriber = pubsub_v1.SubscriberClient()
    try:
        yield PubSub(pubsub_emulator, publisher, subscriber)
    finally:
        publisher.stop()
        subscriber.close()


@pytest.fixture
def storage_env(monkeypatch: pytest.MonkeyPatch, gcp_env: None, storage_emulator: str) -> str:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", storage_emulator)
    return storage_emulator


@dataclass
class PushEndpoint:
    """A functions-framework app on 127.0.0.1 and the module of its function, which
    records what it receives in ``deliveries`` and notifies ``changed``."""

    url: str
    module: Any

    def deliveries(self, message_id: str | None = None) -> list[dict[str, Any]]:
        with self.module.changed:
            return [
                d
                for d in self.module.deliveries
                if message_id is None or d["message_id"] == message_id
            ]

    def wait(
        self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float = WAIT
    ) -> bool:
        with self.module.changed:
            return self.module.changed.wait_for(
                lambda: predicate(list(self.module.deliveries)), timeout
            )


def serve(source: Path, target: str, signature: str | None = None) -> Iterator[PushEndpoint]:
    """Serve one target of ``source`` with functions-framework on 127.0.0.1 (the target's
    own decorator gives its signature type when ``signature`` is None)."""
    import functions_framework
    from werkzeug.serving import make_server

    app = functions_framework.create_app(target, str(source), signature)
    module = sys.modules[source.stem]  # where functions-framework loaded the source
    # It also appended the source's folder to sys.path, for the source's own imports;
    # these sources have none, and that folder must not shadow other tests' modules.
    with contextlib.suppress(ValueError):
        sys.path.remove(os.path.realpath(source.parent))
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=f"push-{target}", daemon=True)
    thread.start()
    try:
        yield PushEndpoint(f"http://127.0.0.1:{server.server_port}/", module)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(scope="session")
def push_endpoint() -> Iterator[PushEndpoint]:
    """An HTTP function answering 500 to the first ``?fail=N`` pushes of each message."""
    yield from serve(PUSH_SOURCE, "flaky", "http")


@pytest.fixture(scope="session")
def cloudevent_endpoint() -> Iterator[PushEndpoint]:
    """A CloudEvent function raising for the first ``fail`` (attribute) deliveries."""
    yield from serve(CLOUDEVENT_SOURCE, "receive", "cloudevent")
