"""Push delivery: worker threads POST each message of a push subscription to its endpoint.

The request is the one Google documents for push subscriptions ("Push subscriptions" and
"Payload unwrapping" in the Pub/Sub docs): by default a JSON envelope::

    {"message": {"data": base64, "attributes": {...}, "messageId": ..., "message_id": ...,
                 "publishTime": RFC 3339, "publish_time": ..., "orderingKey": ...},
     "subscription": "projects/P/subscriptions/S", "deliveryAttempt": N}

(``orderingKey`` when the message has one, ``deliveryAttempt`` when the subscription has a
dead-letter policy); with ``no_wrapper`` the raw data is the body and, with
``write_metadata``, the attributes and ``x-goog-pubsub-*`` metadata are headers. A 102, 200,
201, 202 or 204 answer acknowledges the message; anything else, a timeout (the ack
deadline) or a refused connection nacks it, and the broker redelivers it after the
subscription's backoff or dead-letters it.

Only loopback endpoints are accepted: the emulator must never send traffic off the machine.
No OIDC token is attached (there is nobody to sign one).
"""

from __future__ import annotations

import base64
import http.client
import ipaddress
import json
import logging
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .errors import BrokerError

if TYPE_CHECKING:
    from .broker import Broker

log = logging.getLogger("polyfn.local.pubsub")

ACK_STATUSES = frozenset({102, 200, 201, 202, 204})
WORKERS_PER_SUBSCRIPTION = 4
USER_AGENT = "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)"


def check_push_endpoint(url: str) -> None:
    """Refuse endpoints that are not http(s) on a loopback address."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    loopback = host == "localhost"
    if not loopback:
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
    if parts.scheme not in ("http", "https") or not loopback:
        raise BrokerError(
            "INVALID_ARGUMENT",
            f"Invalid push endpoint {url!r}: the emulator pushes only to http(s) URLs on "
            "loopback addresses (127.0.0.0/8, ::1, localhost)",
        )


def request_for(received: Any, subscription: str, push_config: Any) -> tuple[bytes, dict[str, str]]:
    """The body and headers of the push request of one ReceivedMessage."""
    m = received.message
    publish_time = m.publish_time.ToJsonString()
    if push_config.HasField("no_wrapper"):
        headers: dict[str, str] = {}
        if push_config.no_wrapper.write_metadata:
            headers.update(m.attributes)
            headers["x-goog-pubsub-subscription-name"] = subscription
            headers["x-goog-pubsub-message-id"] = m.message_id
            headers["x-goog-pubsub-publish-time"] = publish_time
            if m.ordering_key:
                headers["x-goog-pubsub-ordering-key"] = m.ordering_key
        if not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = "application/octet-stream"
        return m.data, headers
    message: dict[str, Any] = {
        "data": base64.b64encode(m.data).decode("ascii"),
        "attributes": dict(m.attributes),
        "messageId": m.message_id,
        "message_id": m.message_id,
        "publishTime": publish_time,
        "publish_time": publish_time,
    }
    if m.ordering_key:
        message["orderingKey"] = m.ordering_key
    envelope: dict[str, Any] = {"message": message, "subscription": subscription}
    if received.delivery_attempt:
        envelope["deliveryAttempt"] = received.delivery_attempt
    return json.dumps(envelope).encode("utf-8"), {"Content-Type": "application/json"}


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST without proxies (http.client, not urllib, which would honour HTTP_PROXY)."""
    parts = urlsplit(url)
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = cls(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    try:
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn.request("POST", path, body, {"User-Agent": USER_AGENT, **headers})
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


class PushDispatcher:
    """Starts the workers of each push subscription (the broker calls ``start`` when a
    subscription gets an endpoint); workers end when it loses it or the broker closes."""

    def __init__(self, broker: Broker, workers: int = WORKERS_PER_SUBSCRIPTION) -> None:
        self.broker = broker
        self.workers = workers
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        broker.on_push = self.start

    def start(self, subscription: str, generation: int) -> None:
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            for i in range(self.workers):
                t = threading.Thread(
                    target=self._work,
                    args=(subscription, generation),
                    name=f"pubsub-push-{subscription.rsplit('/', 1)[-1]}-{i}",
                    daemon=True,
                )
                self._threads.append(t)
                t.start()

    def join(self, timeout: float) -> None:
        with self._lock:
            threads = list(self._threads)
        for t in threads:
            t.join(timeout)

    def _work(self, subscription: str, generation: int) -> None:
        while True:
            job = self.broker.next_push(subscription, generation)
            if job is None:
                return
            received, push_config, ack_deadline = job
            body, headers = request_for(received, subscription, push_config)
            try:
                status = post(push_config.push_endpoint, body, headers, ack_deadline)
            except Exception as e:  # refused, timed out, or headers http.client rejects
                log.info("push to %s failed: %s", push_config.push_endpoint, e)
                status = 0
            self.broker.push_done(subscription, received.ack_id, status in ACK_STATUSES)
