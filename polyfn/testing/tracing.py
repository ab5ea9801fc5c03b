"""Assertions on what polyfn adds to sent messages: the sender's trace context.

Everything ``ctx.outputs`` sends carries the sending span's ``traceparent`` (and
``tracestate``) as an attribute, object metadata or CloudEvent extension; the native forms
differ per service (SQS ``MessageAttributes`` dicts, Pub/Sub ``ce-traceparent`` in binary
CloudEvents). :func:`without_trace` checks it is there and valid, and returns the rest,
for comparing with what the handler itself set.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from polyfn.context import TraceContext

_NAMES = ("traceparent", "ce-traceparent")
_STATE = ("tracestate", "ce-tracestate")


def _text(value: Any) -> str:
    if isinstance(value, Mapping):  # SQS/SNS MessageAttributes: {"DataType", "StringValue"}
        value = value.get("StringValue") or value.get("Value")
    if isinstance(value, bytes):
        value = value.decode()
    return str(value)


def without_trace(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    """``attributes`` minus the trace context polyfn added; fails (AssertionError) when
    there is none, or it is not a valid W3C ``traceparent``."""
    out = dict(attributes or {})
    found = [name for name in _NAMES if name in out]
    assert found, f"no traceparent among {sorted(out)}"
    for name in found:
        value = _text(out.pop(name))
        assert TraceContext.parse(value) is not None, f"{name} {value!r} is not a traceparent"
    for name in _STATE:
        out.pop(name, None)
    return out
