"""Large payloads through object storage: the claim-check pattern, with the CloudEvents
``dataref`` extension (https://github.com/cloudevents/spec/blob/main/cloudevents/extensions/dataref.md:
"a reference to a location where the event payload is stored").

Outbound, ``@offload_large_payloads("payloads")`` (or :func:`large_payload_outputs` around
an :class:`~polyfn.outputs.Outputs`) makes ``ctx.outputs.send`` / ``publish`` / ``emit``
put a body over ``threshold`` bytes into the bucket and send a small message instead:

- the object: key ``<prefix><sha256 of the body>`` (content-addressed: a retried send
  writes the same object once, and the reader can check what it read);
- the message: attributes unchanged plus ``dataref`` (the reference below); its body the
  JSON stub ``{"dataref": ..., "size": n, "sha256": ...}`` (SQS refuses an empty body, and
  Azure Queue Storage messages have no attributes: the stub carries the reference there);
  group id, deduplication id, subject and delay unchanged;
- a CloudEvent: the ``dataref`` extension attribute, and as data the same stub with the
  original ``datacontenttype`` and how the data was encoded (its id, source, type and
  other attributes unchanged; ``datacontenttype`` becomes ``application/json``).

The reference is ``<scheme>://<bucket>/<key>``; the scheme names the store it was
written to: ``s3`` (AWS), ``gs`` (Google Cloud), ``az`` (Azure Blob Storage, container
and blob name, as adlfs/fsspec spell it) and ``polyfn`` (the local runtime's buckets).
Readers take bucket and key from it whatever the scheme (an Azure blob URL
``https://<account>.blob.core.windows.net/<container>/<blob>`` too) and read through their
own ``ctx.outputs.get``.

Inbound, ``@resolve_large_payloads`` gives the handler the event with the full body (a
queue or topic message's ``body``, a CloudEvent's ``data``) when the event carries a
reference (the ``dataref`` attribute or extension, or the stub as its body); the
reference stays in ``extensions["dataref"]`` and the ``dataref`` attribute is removed.
Other events pass unchanged. Objects are never deleted here: give the bucket a
lifecycle rule (expire after the queue's retention) rather than deleting on read, which
would break redelivery and fan-out.

Default thresholds are the target service's message limit for the context's provider, as
:mod:`polyfn.capabilities` records it (the queue, topic and event rows' ``max_payload``;
Azure Queue Storage's 64 KiB counted after base64), else :data:`LIMITS`, minus a margin
for the envelope. The local runtime uses :data:`LIMITS` ``["local"]``.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from polyfn.errors import PolyfnError
from polyfn.events.cloudevent import CloudEvent
from polyfn.outputs import Outputs, encode_body

DATAREF = "dataref"
PREFIX = "polyfn-payloads/"
KiB = 1024
MiB = 1024 * KiB

# Message size limits by provider and output (bytes; body and attributes count): the
# fallback when polyfn.capabilities has no row, and the local runtime's.
LIMITS: dict[str, dict[str, int]] = {
    # SQS: 256 KiB is a queue's default MaximumMessageSize (1 MiB at most):
    # https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html
    # SNS: https://docs.aws.amazon.com/general/latest/gr/sns.html (256 KiB)
    # EventBridge PutEvents entries: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html
    "aws": {"send": 256 * KiB, "publish": 256 * KiB, "emit": 256 * KiB},
    # Queue Storage: 64 KiB as stored, base64 by default (48 KiB of body):
    # https://learn.microsoft.com/en-us/azure/storage/queues/storage-queues-introduction
    # Service Bus standard tier: 256 KB:
    # https://learn.microsoft.com/en-us/azure/service-bus-messaging/service-bus-quotas
    # Event Grid: 1 MB per event: https://learn.microsoft.com/en-us/azure/event-grid/quotas-limits
    "azure": {"send": 48 * KiB, "publish": 256 * KiB, "emit": 1 * MiB},
    # Pub/Sub: 10 MB per message (data and attributes): https://cloud.google.com/pubsub/quotas
    "gcp": {"send": 10 * MiB, "publish": 10 * MiB, "emit": 10 * MiB},
    # The local broker has no limit; it behaves as the strictest common cloud default.
    "local": {"send": 256 * KiB, "publish": 256 * KiB, "emit": 256 * KiB},
}
ENVELOPE_MARGIN = 2 * KiB  # what the provider's envelope and the stub may add
SCHEMES = {"aws": "s3", "gcp": "gs", "azure": "az", "local": "polyfn"}
_STUB_KEYS = frozenset({"dataref", "size", "sha256"})


class ClaimCheckError(PolyfnError):
    """A payload reference that cannot be resolved; names provider, source and reference."""

    def __init__(self, provider: str, source: str, dataref: str, reason: str) -> None:
        self.provider = provider
        self.source = source
        self.dataref = dataref
        super().__init__(f"{provider} {source} event: dataref {dataref!r}: {reason}")


_SERVICE_OF = {"send": "queue", "publish": "topic", "emit": "event"}


def limit(provider: str | None, kind: str) -> int:
    """The default threshold for ``kind`` (send, publish, emit) on ``provider``: the
    ``max_payload`` of the service :mod:`polyfn.capabilities` records for it (the queue,
    topic or event row), else :data:`LIMITS`; less :data:`ENVELOPE_MARGIN`."""
    value = _capability_limit(provider, kind)
    if value is None:
        value = LIMITS.get(provider or "local", LIMITS["local"])[kind]
    return value - ENVELOPE_MARGIN


def _capability_limit(provider: str | None, kind: str) -> int | None:
    if provider not in ("aws", "azure", "gcp"):
        return None  # the local broker has no limit of its own
    from polyfn import capabilities

    service = capabilities.table()[provider].get(_SERVICE_OF[kind])
    fact = None if service is None else service.facts.get("max_payload")
    if fact is None or not isinstance(fact.value, int | float) or isinstance(fact.value, bool):
        return None
    value = int(fact.value)
    if provider == "azure" and kind == "send":
        # Queue Storage's 64 KiB is the stored size; the Functions default is base64.
        value = value * 3 // 4
    return value


def dataref_uri(provider: str | None, bucket: str, key: str) -> str:
    """The reference of ``bucket/key`` as written on ``provider`` (see the module)."""
    scheme = SCHEMES.get(provider or "local", "polyfn")
    return f"{scheme}://{bucket}/{quote(key, safe='/')}"


def parse_dataref(uri: str) -> tuple[str, str]:
    """(bucket, key) of a reference: ``s3://``, ``gs://``, ``az://``, ``polyfn://``, or an
    Azure blob URL. ValueError for anything else."""
    parts = urlsplit(uri)
    if parts.scheme in ("s3", "gs", "az", "polyfn"):
        bucket, key = parts.netloc, parts.path.lstrip("/")
    elif parts.scheme in ("https", "http") and ".blob." in parts.netloc:
        bucket, _, key = parts.path.lstrip("/").partition("/")
    else:
        raise ValueError("not an s3://, gs://, az://, polyfn:// or Azure blob reference")
    if not bucket or not key:
        raise ValueError("no bucket or no key in it")
    return unquote(bucket), unquote(key)


def _attributes_size(attributes: Mapping[str, Any]) -> int:
    return sum(len(k.encode()) + len(str(v).encode()) for k, v in attributes.items())


def _stub(uri: str, data: bytes) -> dict[str, Any]:
    return {"dataref": uri, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


class LargePayloadOutputs:
    """An :class:`~polyfn.outputs.Outputs` whose send, publish and emit offload large
    bodies to ``bucket`` (see the module); the rest goes to ``inner`` unchanged."""

    def __init__(
        self,
        inner: Outputs,
        bucket: str,
        *,
        threshold: int | None = None,
        provider: str | None = None,
        prefix: str = PREFIX,
    ) -> None:
        self.inner = inner
        self.bucket = bucket
        self.threshold = threshold
        self.provider = provider
        self.prefix = prefix

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def limit(self, kind: str) -> int:
        return self.threshold if self.threshold is not None else limit(self.provider, kind)

    def _offload(self, data: bytes, content_type: str | None) -> str:
        key = f"{self.prefix}{hashlib.sha256(data).hexdigest()}"
        self.inner.put(self.bucket, key, data, content_type=content_type)
        return dataref_uri(self.provider, self.bucket, key)

    def send(
        self, queue: str, body: Any, *, attributes: dict[str, str] | None = None, **kw: Any
    ) -> str:
        data, attrs = encode_body(body), dict(attributes or {})
        if len(data) + _attributes_size(attrs) > self.limit("send"):
            uri = self._offload(data, None)
            data, attrs = json.dumps(_stub(uri, data)).encode(), {**attrs, DATAREF: uri}
        return self.inner.send(queue, data, attributes=attrs, **kw)

    def publish(
        self, topic: str, body: Any, *, attributes: dict[str, str] | None = None, **kw: Any
    ) -> str:
        data, attrs = encode_body(body), dict(attributes or {})
        if len(data) + _attributes_size(attrs) > self.limit("publish"):
            uri = self._offload(data, None)
            data, attrs = json.dumps(_stub(uri, data)).encode(), {**attrs, DATAREF: uri}
        return self.inner.publish(topic, data, attributes=attrs, **kw)

    def emit(self, event: CloudEvent, *, bus: str | None = None) -> str:
        if event.data is None:
            return self.inner.emit(event, bus=bus)
        data = encode_body(event.data)
        if len(data) <= self.limit("emit"):
            return self.inner.emit(event, bus=bus)
        encoding = (
            "bytes"
            if isinstance(event.data, bytes)
            else "text"
            if isinstance(event.data, str)
            else "json"
        )
        uri = self._offload(data, event.datacontenttype or _CONTENT_TYPES[encoding])
        stub = {**_stub(uri, data), "encoding": encoding}
        if event.datacontenttype is not None:
            stub["datacontenttype"] = event.datacontenttype
        small = CloudEvent(
            event.id,
            event.source,
            event.type,
            stub,
            specversion=event.specversion,
            subject=event.subject,
            time=event.time,
            datacontenttype="application/json",
            dataschema=event.dataschema,
            extensions={**event.extensions, DATAREF: uri},
        )
        return self.inner.emit(small, bus=bus)


_CONTENT_TYPES = {
    "bytes": "application/octet-stream",
    "text": "text/plain; charset=utf-8",
    "json": "application/json",
}


def large_payload_outputs(
    outputs: Outputs,
    bucket: str,
    *,
    threshold: int | None = None,
    provider: str | None = None,
    prefix: str = PREFIX,
) -> LargePayloadOutputs:
    """``outputs`` offloading bodies over ``threshold`` bytes (default: the limit of the
    target service on ``provider``) to ``bucket``."""
    return LargePayloadOutputs(
        outputs, bucket, threshold=threshold, provider=provider, prefix=prefix
    )


# -- the decorators -------------------------------------------------------------------------
def _wrap(fn: Callable[..., Any], before: Callable[[Any, Any], tuple[Any, Any]]) -> Any:
    """A ``(event, ctx)`` wrapper of ``fn`` (sync or async, with or without ctx) that
    calls ``before(event, ctx)`` for the event and context to pass on."""
    from polyfn.app import _takes_context

    takes_ctx = _takes_context(fn)

    if inspect.iscoroutinefunction(fn):

        async def async_wrapper(event: Any, ctx: Any = None) -> Any:
            event, ctx = before(event, ctx)
            return await (fn(event, ctx) if takes_ctx else fn(event))

        return functools.wraps(fn)(async_wrapper)

    def wrapper(event: Any, ctx: Any = None) -> Any:
        event, ctx = before(event, ctx)
        return fn(event, ctx) if takes_ctx else fn(event)

    return functools.wraps(fn)(wrapper)


def offload_large_payloads(
    bucket: str, threshold: int | None = None, *, prefix: str = PREFIX
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Have the handler's ``ctx.outputs`` offload large bodies to ``bucket`` (see the
    module). ``threshold``: bytes (default: the target service's limit on the provider the
    function runs on). The handler gets the invocation's own Context, its ``outputs``
    swapped for the length of the call (as ``@outputs_after_success`` does), so
    ``isinstance(ctx, Context)`` holds and what other decorators set on it is shared."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        from polyfn.app import _takes_context

        takes_ctx = _takes_context(fn)

        def begin(ctx: Any) -> Any:
            if ctx is None:
                raise TypeError("offload_large_payloads: the handler was called without a context")
            real = ctx.outputs
            ctx.outputs = LargePayloadOutputs(
                real, bucket, threshold=threshold, provider=ctx.provider, prefix=prefix
            )
            return real

        if inspect.iscoroutinefunction(fn):

            async def async_wrapper(event: Any, ctx: Any = None) -> Any:
                real = begin(ctx)
                try:
                    return await (fn(event, ctx) if takes_ctx else fn(event))
                finally:
                    ctx.outputs = real

            return functools.wraps(fn)(async_wrapper)

        def wrapper(event: Any, ctx: Any = None) -> Any:
            real = begin(ctx)
            try:
                return fn(event, ctx) if takes_ctx else fn(event)
            finally:
                ctx.outputs = real

        return functools.wraps(fn)(wrapper)

    return decorate


def _reference(event: Any) -> tuple[str, dict[str, Any] | None] | None:
    """(dataref, stub) of an event that carries a reference, else None."""
    if getattr(event, "KIND", "") == "cloudevent":
        stub = event.data if _is_stub(event.data) else None
        ref = (event.extensions or {}).get(DATAREF) or (stub or {}).get(DATAREF)
        return (str(ref), stub) if ref else None
    attributes = getattr(event, "attributes", None)
    body = getattr(event, "body", None)
    if attributes is None or body is None:
        return None
    ref = attributes.get(DATAREF)
    stub = _body_stub(body) if ref is not None or len(body) < 1024 else None
    if ref is None and stub is None:
        return None
    ref = ref if ref is not None else stub[DATAREF]  # type: ignore[index]
    if isinstance(ref, bytes):
        ref = ref.decode()
    return str(ref), stub


def _is_stub(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and value.keys() >= _STUB_KEYS
        and isinstance(value["dataref"], str)
        and isinstance(value["sha256"], str)
        and len(value["sha256"]) == 64
    )


def _body_stub(body: bytes) -> dict[str, Any] | None:
    if not body.startswith(b"{"):
        return None
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if _is_stub(value) else None


def _load(event: Any, ctx: Any, ref: str, stub: dict[str, Any] | None) -> bytes:
    provider, source = event.provider, event.event_source
    try:
        bucket, key = parse_dataref(ref)
    except ValueError as e:
        raise ClaimCheckError(provider, source, ref, str(e)) from None
    try:
        data = ctx.outputs.get(bucket, key)
    except Exception as e:
        raise ClaimCheckError(
            provider, source, ref, f"cannot read it: {type(e).__name__}: {e}"
        ) from e
    if stub is not None and hashlib.sha256(data).hexdigest() != stub["sha256"]:
        raise ClaimCheckError(
            provider, source, ref, "its content does not match the sha256 the message names"
        )
    return data


def _decoded(data: bytes, stub: dict[str, Any] | None, content_type: str | None) -> Any:
    encoding = (stub or {}).get("encoding")
    if encoding == "bytes":
        return data
    if encoding == "text":
        return data.decode("utf-8")
    if encoding == "json" or content_type is None or "json" in content_type:
        return json.loads(data)
    if content_type.startswith("text/"):
        return data.decode("utf-8")
    return data


def resolved(event: Any, ctx: Any) -> Any:
    """``event`` with its referenced payload loaded (itself when it carries none)."""
    found = _reference(event)
    if found is None:
        return event
    ref, stub = found
    data = _load(event, ctx, ref, stub)
    common = {
        "provider": event.provider,
        "event_source": event.event_source,
        "extensions": {**(event.extensions or {}), DATAREF: ref},
        "native": event.native,
    }
    values = event.values()
    if getattr(event, "KIND", "") == "cloudevent":
        content_type = (stub or {}).get("datacontenttype", event.datacontenttype)
        if stub is not None:
            values["datacontenttype"] = stub.get("datacontenttype")
        values["data"] = _decoded(data, stub, content_type)
        return CloudEvent(**values, **common)
    # A lazy view cannot be written to: a plain event of its neutral class, full body.
    values["body"] = data
    values["attributes"] = {k: v for k, v in event.attributes.items() if k != DATAREF}
    return _neutral_class(event)(**values, **common)


def _neutral_class(event: Any) -> type[Any]:
    from polyfn.events.messages import QueueMessage, TopicMessage

    for cls in (QueueMessage, TopicMessage):
        if isinstance(event, cls):
            return cls
    raise TypeError(f"resolve_large_payloads: {type(event).__name__} has no body to resolve")


def resolve_large_payloads(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Give the handler referenced payloads loaded (see the module); reading goes through
    ``ctx.outputs.get``."""

    def before(event: Any, ctx: Any) -> tuple[Any, Any]:
        if isinstance(event, list):  # a batch=True handler: each record
            return [resolved(e, ctx) for e in event], ctx
        return resolved(event, ctx), ctx

    return _wrap(fn, before)
