"""The neutral Context of one Cloud Functions invocation.

- ``invocation_id``: the CloudEvent ``id`` for event functions (what Eventarc redelivers
  with a retried event), the ``Function-Execution-Id`` header for HTTP functions (Google's
  front end sets it; functions-framework makes one up when it is missing), else the trace.
- ``trace``: the ``traceparent`` header (or CloudEvent extension) when there is one, else
  ``X-Cloud-Trace-Context: TRACE_ID/SPAN_ID;o=1`` converted to W3C (the span id is
  decimal there; ``o=1`` means sampled). Read on first use only.
- ``region``: ``FUNCTION_REGION`` (set by Cloud Functions 1st gen), else
  ``GOOGLE_CLOUD_REGION``; None on Cloud Run functions, which set neither.
- ``deadline``: now + the function's timeout when known (``FUNCTION_TIMEOUT_SEC``, set by
  1st gen, or ``GcpOptions.timeout``): Google tells the function no deadline otherwise.
- ``function_name``: the polyfn function's (the same on every provider; the Google
  function's name is ``K_SERVICE`` / ``FUNCTION_TARGET``, the target name, in ``native``'s
  environment).
"""

from __future__ import annotations

import functools
import os
import time
from typing import Any

from polyfn.context import Context, TraceContext
from polyfn.observe.trace import cloud_trace_to_w3c, from_attributes, from_headers
from polyfn.outputs import Outputs

__all__ = ["cloud_trace_to_w3c", "event_context", "http_context", "trace_of"]

TRACE_HEADER = "X-Cloud-Trace-Context"
EXECUTION_HEADER = "Function-Execution-Id"
_CURRENT: Any = object()  # event_context(headers=...) not given: look the request up


def trace_of(headers: Any, attrs: Any = None) -> TraceContext | None:
    """The trace of a CloudEvent's attributes, else of the request's headers
    (``traceparent``, then ``X-Cloud-Trace-Context``: polyfn.observe.trace)."""
    return from_attributes(attrs) or from_headers(headers)


_flask: Any = None  # (has_request_context, request) once flask is imported


def current_request() -> Any:
    """The Flask request functions-framework is serving; None outside a request."""
    global _flask
    if _flask is None:  # imported once, not per event: an import statement costs ~0.5 us
        try:
            from flask import has_request_context, request
        except ImportError:  # pragma: no cover - flask comes with functions-framework
            return None
        _flask = (has_request_context, request)
    has_request_context, request = _flask
    return request._get_current_object() if has_request_context() else None


def _request_headers() -> Any:
    # The headers of the request being served (they carry the trace of CloudEvent
    # deliveries too); None outside a request.
    request = current_request()
    return None if request is None else request.headers


@functools.cache
def _runtime_env() -> tuple[str | None, str | None]:
    """(region, timeout seconds) from the environment Cloud Functions sets at start-up.
    Read once: the runtime never changes them, and three ``os.environ.get`` misses per
    invocation showed in the per-request cost."""
    region = os.environ.get("FUNCTION_REGION") or os.environ.get("GOOGLE_CLOUD_REGION")
    return region, os.environ.get("FUNCTION_TIMEOUT_SEC")


def _deadline(timeout: int | None) -> float | None:
    seconds = timeout or _runtime_env()[1]
    try:
        return time.time() + int(seconds) if seconds else None
    except ValueError:
        return None


def _region() -> str | None:
    return _runtime_env()[0]


def http_context(
    function_name: str, request: Any, outputs: Outputs, timeout: int | None = None
) -> Context:
    headers = request.headers
    invocation = headers.get(EXECUTION_HEADER) or headers.get(TRACE_HEADER) or "local"
    return Context(
        function_name,
        invocation,
        "gcp",
        region=_region(),
        deadline=_deadline(timeout),
        trace_source=lambda: trace_of(headers),
        outputs=outputs,
        native=request,
    )


def event_context(
    function_name: str,
    native: Any,
    attrs: Any,
    outputs: Outputs,
    timeout: int | None = None,
    *,
    headers: Any = _CURRENT,
) -> Context:
    """``attrs``: the CloudEvent attributes (of the converted CloudEvent, for a legacy
    event); ``native``: what the function was handed; ``headers``: the request's, when
    the caller has them (None: no request), else those of the request being served."""
    if headers is _CURRENT:
        headers = _request_headers()
    invocation = (attrs or {}).get("id") or (
        headers.get(EXECUTION_HEADER) if headers is not None else None
    )
    return Context(
        function_name,
        invocation or "local",
        "gcp",
        region=_region(),
        deadline=_deadline(timeout),
        trace_source=lambda: trace_of(headers, attrs),
        outputs=outputs,
        native=native,
    )
