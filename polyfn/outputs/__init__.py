"""Neutral output ports: send to a queue, publish to a topic, put a blob, emit an event.

Handlers call ``ctx.outputs.send(...)`` and friends; an adapter supplies the
:class:`OutputDriver` that speaks to its cloud (boto3 on AWS, ...). Bodies may be bytes,
text, or any JSON-serialisable value (encoded as compact UTF-8 JSON).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from polyfn.errors import PolyfnError
from polyfn.events._base import json_bytes
from polyfn.events.cloudevent import CloudEvent

if TYPE_CHECKING:
    from polyfn.context import Context

#: The attribute carrying the idempotency key of the handler that sent a message.
IDEMPOTENCY_KEY = "polyfn-idempotency-key"
#: The attributes polyfn adds to what handlers send (trace context, idempotency key).
POLYFN_ATTRIBUTES = frozenset({"traceparent", "tracestate", IDEMPOTENCY_KEY})


def user_attributes(attributes: dict[str, str]) -> dict[str, str]:
    """``attributes`` without the ones polyfn added: what a sink that has no attributes
    (Azure Queue Storage) should warn about dropping."""
    if POLYFN_ATTRIBUTES.isdisjoint(attributes):
        return attributes
    return {k: v for k, v in attributes.items() if k not in POLYFN_ATTRIBUTES}


def encode_body(body: Any) -> bytes:
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    if hasattr(body, "model_dump_json"):
        return body.model_dump_json().encode("utf-8")
    return json_bytes(body)


class OutputDriver(Protocol):
    """What an adapter implements to deliver outputs; every method returns the id given."""

    def send(
        self,
        queue: str,
        body: bytes,
        attributes: dict[str, str],
        group_id: str | None,
        deduplication_id: str | None,
        delay_seconds: int,
    ) -> str: ...

    def publish(
        self, topic: str, body: bytes, attributes: dict[str, str], subject: str | None
    ) -> str: ...

    def put(
        self,
        bucket: str,
        key: str,
        data: bytes,
        content_type: str | None,
        metadata: dict[str, str],
    ) -> str | None: ...

    def emit(self, event: CloudEvent, bus: str | None) -> str: ...

    def get(self, bucket: str, key: str) -> bytes:
        """The content of object ``key`` in ``bucket`` (claim checks read payloads back)."""
        ...


class Outputs:
    """The output port handed to handlers through the context.

    Bound to a context (``ctx.outputs``), what it sends carries the trace context of the
    span sending it (``traceparent``/``tracestate`` attributes, object metadata, CloudEvent
    extensions) and, inside an idempotent handler, ``polyfn-idempotency-key``.
    """

    __slots__ = ("_sent", "ctx", "driver")

    def __init__(self, driver: OutputDriver, ctx: Context | None = None) -> None:
        self.driver = driver
        self.ctx = ctx
        self._sent: tuple[str, int] = ("", 0)  # (idempotency key, outputs sent under it)

    def _stamp(self, attributes: dict[str, str] | None, key: bool = True) -> dict[str, str]:
        attributes = attributes or {}
        ctx = self.ctx
        if ctx is None:
            return attributes
        from polyfn.observe.trace import stamp

        attributes = stamp(attributes, ctx.span)
        idem = ctx.idempotency_key
        if key and idem is not None and IDEMPOTENCY_KEY not in attributes:
            # <event key>#<n>: the same on every attempt at the event, distinct per output.
            n = self._sent[1] + 1 if self._sent[0] == idem else 1
            self._sent = (idem, n)
            attributes = {**attributes, IDEMPOTENCY_KEY: f"{idem}#{n}"}
        return attributes

    def send(
        self,
        queue: str,
        body: Any,
        *,
        attributes: dict[str, str] | None = None,
        group_id: str | None = None,
        deduplication_id: str | None = None,
        delay_seconds: int = 0,
    ) -> str:
        """Send a message to a queue; returns the message id the service assigned."""
        return self.driver.send(
            queue,
            encode_body(body),
            self._stamp(attributes),
            group_id,
            deduplication_id,
            delay_seconds,
        )

    def publish(
        self,
        topic: str,
        body: Any,
        *,
        attributes: dict[str, str] | None = None,
        subject: str | None = None,
    ) -> str:
        """Publish a message to a topic; returns the message id."""
        return self.driver.publish(topic, encode_body(body), self._stamp(attributes), subject)

    def put(
        self,
        bucket: str,
        key: str,
        data: Any,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> str | None:
        """Store an object; returns its version id or etag when the service gives one."""
        return self.driver.put(
            bucket, key, encode_body(data), content_type, self._stamp(metadata, key=False)
        )

    def emit(self, event: CloudEvent, *, bus: str | None = None) -> str:
        """Put an event on an event bus (EventBridge, Event Grid, Eventarc)."""
        extensions = event.extensions
        if self.ctx is not None and "traceparent" not in extensions:
            # The CloudEvents distributed tracing extension carries the trace, on a copy:
            # the caller's event stays as it was (and a received event's view is read-only).
            event = CloudEvent(
                **event.values(),
                provider=event.provider,
                event_source=event.event_source,
                extensions={**extensions, **self._stamp({})},
                native=event.native,
            )
        return self.driver.emit(event, bus)

    def get(self, bucket: str, key: str) -> bytes:
        """Read an object back (S3 object, blob, GCS object; the local broker's bucket);
        raises the driver's error (not found included) when it cannot."""
        return self.driver.get(bucket, key)


class LazyDriver:
    """A driver built on first use from ``factory``: a cold start that sends nothing
    imports no SDK. Thread-safe (runtimes may call handlers from a thread pool)."""

    __slots__ = ("_driver", "_factory", "_lock")

    def __init__(self, factory: Callable[[], OutputDriver]) -> None:
        self._factory = factory
        self._driver: OutputDriver | None = None
        self._lock = threading.Lock()

    def _get(self) -> OutputDriver:
        driver = self._driver
        if driver is None:
            with self._lock:
                if self._driver is None:
                    self._driver = self._factory()
                driver = self._driver
        return driver

    def send(self, *args: Any) -> str:
        return self._get().send(*args)

    def publish(self, *args: Any) -> str:
        return self._get().publish(*args)

    def put(self, *args: Any) -> str | None:
        return self._get().put(*args)

    def emit(self, *args: Any) -> str:
        return self._get().emit(*args)

    def get(self, *args: Any) -> bytes:
        return self._get().get(*args)


class _Unconfigured:
    def __init__(self, provider: str) -> None:
        self.provider = provider

    def _fail(self, *_: Any, **__: Any) -> Any:
        raise PolyfnError(
            f"no output driver is configured for provider {self.provider!r}: run the "
            "function through an adapter, or pass outputs= to the Context"
        )

    send = publish = put = emit = _fail
    get = _fail


def unconfigured_driver(provider: str) -> OutputDriver:
    return _Unconfigured(provider)  # type: ignore[return-value]
