"""Structured JSON logs with correlation ids, the same on every provider.

Every log line (a ``logging`` record, from ``ctx.logger`` or any logger) becomes one JSON
object carrying the invocation it was written in: function, invocation id, provider, the
trace and span ids (``correlation_id`` is the trace id: one id from the HTTP request that
started a flow to the last queue handler), the event (or batch record) id and source, and
the idempotency key when an idempotent handler runs. The running invocation is found
through :data:`polyfn.context.CURRENT`, which polyfn.dispatch sets.

Per provider, the fields the platform reads are added:

- aws: ``xray_trace_id`` in X-Ray form (``1-5759e988-bd862e3fe1be46a994272793``), which
  CloudWatch Logs Insights and X-Ray correlate on
  (https://docs.aws.amazon.com/xray/latest/devguide/xray-concepts.html#xray-concepts-tracingheader);
- gcp: ``severity``, ``logging.googleapis.com/trace`` (``projects/P/traces/T``, P from
  ``GOOGLE_CLOUD_PROJECT``), ``logging.googleapis.com/spanId`` and
  ``logging.googleapis.com/trace_sampled``, the special fields of structured logging
  (https://cloud.google.com/logging/docs/structured-logging#special-payload-fields);
- azure: ``operation_Id`` (the trace id), the field Application Insights correlates
  telemetry on (https://learn.microsoft.com/azure/azure-monitor/app/distributed-trace-data).

Turn it on with :func:`configure_logging`, or ``POLYFN_LOG_FORMAT=json`` (read by the
adapters' entry points), or ``polyfn dev --log-format json``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from polyfn.context import CURRENT, Context

# The attributes every LogRecord has: anything else came through ``extra=`` and is kept.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
# LoggerAdapter extras that repeat what the context gives.
_FROM_CONTEXT = frozenset({"function", "invocation_id"})


def correlation(ctx: Context) -> dict[str, Any]:
    """The ids that tie a log line to its invocation, trace and event."""
    span = ctx.span
    parent = ctx.trace
    out: dict[str, Any] = {
        "function": ctx.function_name,
        "invocation_id": ctx.invocation_id,
        "provider": ctx.provider,
        "trace_id": span.trace_id,
        "span_id": span.parent_id,
        "correlation_id": span.trace_id,
    }
    if parent is not None:
        out["parent_span_id"] = parent.parent_id
    event = ctx._event
    if event is not None:
        for name, field in (("event_id", "id"), ("event_source", "event_source")):
            try:
                value = getattr(event, field)
            except Exception:  # a record whose id is malformed still gets its line logged
                continue
            if value is not None:
                out[name] = value
    if ctx.idempotency_key is not None:
        out["idempotency_key"] = ctx.idempotency_key
    return out


def _provider_fields(out: dict[str, Any], provider: str, sampled: bool) -> None:
    trace_id = out.get("trace_id")
    if provider == "gcp":
        out["severity"] = out.pop("level")
        if trace_id:
            project = os.environ.get("GOOGLE_CLOUD_PROJECT") or os.environ.get("GCP_PROJECT")
            trace = f"projects/{project}/traces/{trace_id}" if project else trace_id
            out["logging.googleapis.com/trace"] = trace
            out["logging.googleapis.com/spanId"] = out["span_id"]
            out["logging.googleapis.com/trace_sampled"] = sampled
    elif provider == "aws" and trace_id:
        out["xray_trace_id"] = f"1-{trace_id[:8]}-{trace_id[8:]}"
    elif provider == "azure" and trace_id:
        out["operation_Id"] = trace_id


class JsonFormatter(logging.Formatter):
    """One JSON object per record (see the module). ``provider``: whose platform fields to
    add when no invocation is running (inside one, the invocation's provider decides)."""

    def __init__(self, provider: str | None = None) -> None:
        super().__init__()
        self.provider = provider

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        ctx = CURRENT.get()
        provider = self.provider
        sampled = False
        if ctx is not None:
            out.update(correlation(ctx))
            provider = ctx.provider
            sampled = ctx.span.sampled
            if ctx._batch is not None and ctx._event is None:
                # A line about the whole batch: one link per record's trace.
                out["links"] = [t.traceparent for t in ctx.links]
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in _FROM_CONTEXT and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["error_type"] = record.exc_info[0].__name__ if record.exc_info[0] else None
            out["exception"] = self.formatException(record.exc_info)
        if provider:
            _provider_fields(out, provider, sampled)
        return json.dumps(out, default=str, ensure_ascii=False)


_HANDLER_FLAG = "_polyfn_json"


def configure_logging(
    level: int | str = logging.INFO,
    *,
    provider: str | None = None,
    stream: TextIO | None = None,
) -> logging.Handler:
    """Log JSON lines from the root logger at ``level``. When the runtime already put a
    handler on the root logger (Lambda's, the Azure worker's), it gets the JSON formatter
    instead of a second handler (which would print each line twice). Calling it again
    replaces what the last call set up. Returns the handler that formats."""
    root = logging.getLogger()
    root.setLevel(level)
    formatter = JsonFormatter(provider)
    for h in list(root.handlers):
        if getattr(h, _HANDLER_FLAG, False):
            root.removeHandler(h)
    if stream is None and root.handlers:
        for h in root.handlers:
            h.setFormatter(formatter)
        return root.handlers[0]
    handler = logging.StreamHandler(stream if stream is not None else sys.stdout)
    handler.setFormatter(formatter)
    setattr(handler, _HANDLER_FLAG, True)
    root.addHandler(handler)
    return handler


def configure_from_env(provider: str) -> None:
    """``POLYFN_LOG_FORMAT=json`` (and ``POLYFN_LOG_LEVEL``): what adapters call when the
    function is loaded."""
    if os.environ.get("POLYFN_LOG_FORMAT", "").lower() == "json":
        configure_logging(os.environ.get("POLYFN_LOG_LEVEL", "INFO").upper(), provider=provider)
