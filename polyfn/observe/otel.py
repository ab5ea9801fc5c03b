"""OpenTelemetry spans around every invocation, batch and batch record.

``enable_tracing()`` (or ``POLYFN_OTEL=1`` read by the adapters) makes polyfn's dispatcher
open a span per invocation through the OpenTelemetry API, on whatever TracerProvider the
app configured (the Azure Monitor distro, Google Cloud Trace's exporter, the AWS
Distro for OpenTelemetry, or an OTLP exporter):

- HTTP: a SERVER span, child of the request's trace context (polyfn.observe.trace);
- one event: a CONSUMER span, child of the trace the event carries;
- a batch: a CONSUMER span for the whole batch with one **link per record** (each
  record's trace context), and a span per record, child of that record's trace, so
  every producer's trace is continued (OpenTelemetry messaging conventions:
  https://opentelemetry.io/docs/specs/semconv/messaging/messaging-spans/#trace-structure).

Each span becomes ``ctx.span``: what the handler sends carries its ``traceparent``, so the
next function's span is its child. A handler that raises ends its span with ERROR status
and the exception recorded; an HTTP answer of 500 and above too.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from polyfn.context import Context, TraceContext
from polyfn.observe.trace import trace_of


def _remote(tc: TraceContext) -> trace.SpanContext:
    state = trace.TraceState.from_header([tc.tracestate]) if tc.tracestate else None
    return trace.SpanContext(
        int(tc.trace_id, 16),
        int(tc.parent_id, 16),
        is_remote=True,
        trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED if tc.sampled else 0),
        trace_state=state,
    )


def _parent(tc: TraceContext | None) -> Any:
    """An OpenTelemetry context whose current span is ``tc`` (None: the ambient one)."""
    if tc is None:
        return None
    return trace.set_span_in_context(trace.NonRecordingSpan(_remote(tc)))


def _adopt(ctx: Context, event: Any, span: Any) -> None:
    """Make the OpenTelemetry span the context's own span (what outputs carry)."""
    sc = span.get_span_context()
    if sc.is_valid:
        sampled = bool(sc.trace_flags & trace.TraceFlags.SAMPLED)
        own = TraceContext(f"{sc.trace_id:032x}", f"{sc.span_id:016x}", sampled)
        ctx._span = (event, own)


def _attributes(fn: Any, ctx: Context, event: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "faas.name": fn.name,
        "faas.invocation_id": ctx.invocation_id,
        "cloud.provider": ctx.provider,
    }
    if event is not None:
        out["polyfn.event_source"] = getattr(event, "event_source", "")
        kind = getattr(event, "KIND", "")
        if kind == "http":
            out["http.request.method"] = event.method
            out["url.path"] = event.path
        else:
            out["faas.trigger"] = "pubsub" if kind in ("queue", "topic") else "datasource"
            event_id = getattr(event, "id", None)
            if event_id is not None:
                out["messaging.message.id"] = str(event_id)
    return out


class Observer:
    """Opens the spans polyfn.dispatch asks for (installed by :func:`enable_tracing`)."""

    def __init__(self, tracer_provider: Any = None) -> None:
        self.tracer = trace.get_tracer("polyfn", tracer_provider=tracer_provider)

    @contextmanager
    def invocation(self, fn: Any, ctx: Context, event: Any) -> Iterator[Any]:
        kind = SpanKind.SERVER if getattr(event, "KIND", "") == "http" else SpanKind.CONSUMER
        with self.tracer.start_as_current_span(
            fn.name,
            context=_parent(ctx.trace),
            kind=kind,
            attributes=_attributes(fn, ctx, event),
        ) as span:
            _adopt(ctx, event, span)
            yield span

    @contextmanager
    def batch(self, fn: Any, ctx: Context, records: Sequence[Any]) -> Iterator[Any]:
        links = [Link(_remote(tc)) for tc in ctx.links]
        attributes = _attributes(fn, ctx, None)
        attributes["messaging.batch.message_count"] = len(records)
        with self.tracer.start_as_current_span(
            f"{fn.name} process",
            context=_parent(ctx._trace_of_invocation()),
            kind=SpanKind.CONSUMER,
            links=links,
            attributes=attributes,
        ) as span:
            _adopt(ctx, None, span)
            yield span

    @contextmanager
    def record(self, fn: Any, ctx: Context, record: Any) -> Iterator[Any]:
        # The record's own trace continues its producer's; without one it is a child of
        # the batch span (the current one).
        with self.tracer.start_as_current_span(
            fn.name,
            context=_parent(trace_of(record)),
            kind=SpanKind.CONSUMER,
            attributes=_attributes(fn, ctx, record),
        ) as span:
            _adopt(ctx, record, span)
            yield span

    @staticmethod
    def http_status(span: Any, status: int) -> None:
        span.set_attribute("http.response.status_code", status)
        if status >= 500:
            span.set_status(Status(StatusCode.ERROR))


def enable_tracing(tracer_provider: Any = None) -> Observer:
    """Open OpenTelemetry spans around invocations from now on (see the module);
    ``tracer_provider``: default the global one."""
    import polyfn.dispatch

    observer = Observer(tracer_provider)
    polyfn.dispatch.observer = observer
    return observer


def disable_tracing() -> None:
    import polyfn.dispatch

    polyfn.dispatch.observer = None
