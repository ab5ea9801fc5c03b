"""W3C trace context read from what each provider carries, and made for what we send.

Where a trace arrives (each read on first use only):

- HTTP: the ``traceparent``/``tracestate`` headers (https://www.w3.org/TR/trace-context/);
  else AWS X-Ray's ``X-Amzn-Trace-Id``
  (https://docs.aws.amazon.com/xray/latest/devguide/xray-concepts.html#xray-concepts-tracingheader);
  else Google's ``X-Cloud-Trace-Context``
  (https://cloud.google.com/trace/docs/trace-context#legacy-http-header).
- Messages (queue and topic): the ``traceparent`` attribute polyfn's outputs set (and that
  the Service Bus SDK sets beside ``Diagnostic-Id``, azure/servicebus/_common/tracing.py);
  ``googclient_traceparent``, which google-cloud-pubsub's OpenTelemetry propagation sets
  (google/cloud/pubsub_v1/open_telemetry/context_propagation.py); ``Diagnostic-Id``
  (Service Bus, Event Hubs); SQS's ``AWSTraceHeader`` system attribute (X-Ray format,
  https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html).
- CloudEvents: the ``traceparent`` extension (CloudEvents distributed tracing extension,
  https://github.com/cloudevents/spec/blob/main/cloudevents/extensions/distributed-tracing.md).

What polyfn sends carries ``traceparent`` (and ``tracestate``) naming the span of the
invocation (or batch record) that sent it, so the next function continues the trace.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from polyfn.context import TraceContext

#: Message attributes that may hold a W3C traceparent, in the order they are tried.
MESSAGE_TRACE_ATTRIBUTES = ("traceparent", "googclient_traceparent", "Diagnostic-Id")
#: Attributes polyfn adds to what it sends; sinks without attributes may drop them silently.
TRACE_ATTRIBUTES = frozenset({"traceparent", "tracestate"})


def _random_hex(size: int) -> str:
    value = os.urandom(size)
    while not any(value):  # all zeros is invalid (W3C trace context, 3.2.2.3 and 3.2.2.4)
        value = os.urandom(size)
    return value.hex()


def new_span_id() -> str:
    return _random_hex(8)


def new_trace_id() -> str:
    return _random_hex(16)


def xray_to_trace(header: str | None) -> TraceContext | None:
    """``Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1`` →
    W3C trace context: the X-Ray trace id's 8 + 24 hex digits are the W3C trace id."""
    if not header:
        return None
    parts = dict(p.strip().split("=", 1) for p in header.split(";") if "=" in p)
    root = parts.get("Root", "").split("-")
    parent = parts.get("Parent")
    if len(root) != 3 or not parent:
        return None
    return TraceContext.parse(f"00-{root[1]}{root[2]}-{parent}-0{parts.get('Sampled', '0')}")


def w3c_to_xray(traceparent: str) -> str | None:
    """A W3C ``traceparent`` as an X-Ray trace header (the inverse of xray_to_trace)."""
    trace = TraceContext.parse(traceparent)
    if trace is None:
        return None
    t = trace.trace_id
    return f"Root=1-{t[:8]}-{t[8:]};Parent={trace.parent_id};Sampled={int(trace.sampled)}"


def cloud_trace_to_w3c(value: str | None) -> TraceContext | None:
    """``105445aa7843bc8bf206b12000100000/1;o=1`` → W3C trace context (None when invalid)."""
    if not value:
        return None
    trace_id, _, rest = value.partition("/")
    span, _, options = rest.partition(";")
    try:
        span_id = int(span)
    except ValueError:
        return None
    if len(trace_id) != 32 or not 0 < span_id < 2**64:
        return None
    sampled = "01" if options.strip() == "o=1" else "00"
    return TraceContext.parse(f"00-{trace_id.lower()}-{span_id:016x}-{sampled}")


def _get(mapping: Any, name: str) -> Any:
    try:
        return mapping.get(name)
    except Exception:  # a view whose attributes cannot be read carries no trace
        return None


def from_headers(headers: Any) -> TraceContext | None:
    """The trace an HTTP request carries (case-insensitive header mappings)."""
    if headers is None:
        return None
    parent = _get(headers, "traceparent")
    if parent:
        trace = TraceContext.parse(parent, _get(headers, "tracestate") or None)
        if trace is not None:
            return trace
    return xray_to_trace(_get(headers, "x-amzn-trace-id")) or cloud_trace_to_w3c(
        _get(headers, "x-cloud-trace-context")
    )


def from_attributes(attributes: Mapping[str, Any] | None) -> TraceContext | None:
    """The trace a message's attributes carry."""
    if not attributes:
        return None
    for name in MESSAGE_TRACE_ATTRIBUTES:
        value = attributes.get(name)
        if isinstance(value, bytes):
            value = value.decode("ascii", "replace")
        if value:
            trace = TraceContext.parse(str(value), attributes.get("tracestate") or None)
            if trace is not None:
                return trace
    return None


def trace_of(event: Any) -> TraceContext | None:
    """The trace context ``event`` carries, or None (read lazily; never raises)."""
    try:
        kind = getattr(event, "KIND", None)
        if kind == "http":
            return from_headers(event.headers)
        if kind == "cloudevent":
            ext = event.extensions or {}
            return (
                TraceContext.parse(ext["traceparent"], ext.get("tracestate"))
                if ("traceparent" in ext)
                else None
            )
        attributes = getattr(event, "attributes", None)
        trace = from_attributes(attributes)
        if trace is None and getattr(event, "provider", None) == "aws" and kind == "queue":
            system = (event.extensions or {}).get("attributes") or {}
            trace = xray_to_trace(system.get("AWSTraceHeader"))
        return trace
    except Exception:
        return None


def child_of(parent: TraceContext | None) -> TraceContext:
    """A new span under ``parent``; a new sampled trace when there is none."""
    if parent is None:
        return TraceContext(new_trace_id(), new_span_id(), True)
    return TraceContext(parent.trace_id, new_span_id(), parent.sampled, parent.tracestate)


def stamp(attributes: dict[str, str], span: TraceContext) -> dict[str, str]:
    """``attributes`` plus the span's traceparent/tracestate (given values win)."""
    if "traceparent" in attributes:
        return attributes
    out = dict(attributes)
    out["traceparent"] = span.traceparent
    if span.tracestate:
        out["tracestate"] = span.tracestate
    return out
