"""The neutral Context from the worker's ``azure.functions.Context``."""

from __future__ import annotations

import os
import time
from typing import Any

from polyfn.context import Context, TraceContext
from polyfn.outputs import Outputs


def _trace_of(native: Any) -> TraceContext | None:
    trace = getattr(native, "trace_context", None)
    parent = getattr(trace, "trace_parent", None)
    if not parent:
        return None
    return TraceContext.parse(parent, getattr(trace, "trace_state", None) or None)


def make_context(
    function_name: str, native: Any, outputs: Outputs, timeout: int | None = None
) -> Context:
    """``function_name`` is the polyfn function's (the Azure function's own name, which may
    carry a ``_2`` suffix, is ``native.function_name``). The worker tells no deadline: it is
    known only when the adapter wrote host.json's ``functionTimeout`` (``timeout``)."""
    return Context(
        function_name,
        getattr(native, "invocation_id", None) or "local",
        "azure",
        # App Service sets REGION_NAME ("West Europe") in every function app.
        region=os.environ.get("REGION_NAME"),
        deadline=None if timeout is None else time.time() + timeout,
        trace_source=(lambda: _trace_of(native)) if native is not None else None,
        outputs=outputs,
        native=native,
    )
