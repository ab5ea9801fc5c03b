"""The neutral Context from a Lambda context object."""

from __future__ import annotations

import os
import time
from typing import Any

from polyfn.context import Context, TraceContext
from polyfn.observe.trace import xray_to_trace
from polyfn.outputs import Outputs

__all__ = ["make_context", "xray_to_trace"]


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
