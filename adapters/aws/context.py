"""The neutral Context from a Lambda context object."""

from __future__ import annotations

import os
import time
from typing import Any

from polyfn.context import Context, TraceContext
from polyfn.outputs import Outputs


def xray_to_trace(header: str | None) -> TraceContext | None:
    """``Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1`` →
    W3C trace context: the X-Ray trace id's 8 + 24 hex digits are the W3C trace id."""
    if not header:
        return None
    parts = dict(p.split("=", 1) for p in header.split(";") if "=" in p)
    root = parts.get("Root", "").split("-")
    parent = parts.get("Parent")
    if len(root) != 3 or not parent:
        return None
    return TraceContext.parse(f"00-{root[1]}{root[2]}-{parent}-0{parts.get('Sampled', '0')}")


def _current_trace() -> TraceContext | None:
    # awslambdaric sets _X_AMZN_TRACE_ID for each invocation.
    return xray_to_trace(os.environ.get("_X_AMZN_TRACE_ID"))


def make_context(function_name: str, native: Any, outputs: Outputs) -> Context:
    if native is None:
        return Context(function_name, "local", "aws", outputs=outputs, trace_source=_current_trace)
    deadline_ms = getattr(native, "_epoch_deadline_time_in_ms", None)
    if deadline_ms is not None:
        deadline = deadline_ms / 1000
    else:
        remaining = getattr(native, "get_remaining_time_in_millis", None)
        deadline = time.time() + remaining() / 1000 if remaining else None
    arn = getattr(native, "invoked_function_arn", "") or ""
    arn_parts = arn.split(":")
    region = arn_parts[3] if len(arn_parts) > 3 else os.environ.get("AWS_REGION")
    return Context(
        function_name,
        getattr(native, "aws_request_id", "unknown"),
        "aws",
        region=region,
        deadline=deadline,
        trace_source=_current_trace,
        outputs=outputs,
        native=native,
    )
