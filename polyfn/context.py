"""The neutral invocation context handed to every handler."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from polyfn.outputs import Outputs

_log = logging.getLogger("polyfn")


@dataclass(frozen=True, slots=True)
class TraceContext:
    """W3C trace context (https://www.w3.org/TR/trace-context/)."""

    trace_id: str
    parent_id: str
    sampled: bool = False
    tracestate: str | None = None

    @property
    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.parent_id}-{'01' if self.sampled else '00'}"

    @classmethod
    def parse(cls, traceparent: str, tracestate: str | None = None) -> TraceContext | None:
        """Parse a ``traceparent`` header; None when it is not a valid one."""
        parts = traceparent.strip().split("-")
        if len(parts) < 4 or len(parts[1]) != 32 or len(parts[2]) != 16:
            return None
        try:
            flags = int(parts[3][:2], 16)
            int(parts[1], 16), int(parts[2], 16)
        except ValueError:
            return None
        if parts[1] == "0" * 32 or parts[2] == "0" * 16:
            return None
        return cls(parts[1], parts[2], bool(flags & 1), tracestate)


class Context:
    """Who is running and for how long: the same on every provider.

    ``native`` is the provider's own context object (the Lambda context, the Azure
    ``Context``, the Flask request), for what only it has.
    """

    __slots__ = (
        "_logger",
        "_outputs",
        "_trace",
        "_trace_source",
        "deadline",
        "function_name",
        "invocation_id",
        "native",
        "provider",
        "region",
    )

    def __init__(
        self,
        function_name: str,
        invocation_id: str,
        provider: str = "local",
        *,
        region: str | None = None,
        deadline: float | None = None,
        trace: TraceContext | None = None,
        trace_source: Any = None,
        outputs: Outputs | None = None,
        native: Any = None,
    ) -> None:
        self.function_name = function_name
        self.invocation_id = invocation_id
        self.provider = provider
        self.region = region
        self.deadline = deadline
        """Epoch seconds by which the invocation must finish; None when unbounded."""
        self._trace = trace
        # A zero-argument callable that yields the trace context, parsed only if asked for.
        self._trace_source = trace_source
        self._outputs = outputs
        self._logger: logging.LoggerAdapter[logging.Logger] | None = None
        self.native = native

    @property
    def deadline_at(self) -> datetime | None:
        return None if self.deadline is None else datetime.fromtimestamp(self.deadline, UTC)

    def remaining_time(self) -> float | None:
        """Seconds left before the provider stops the invocation (None when unbounded)."""
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - time.time())

    @property
    def trace(self) -> TraceContext | None:
        if self._trace is None and self._trace_source is not None:
            self._trace = self._trace_source()
            self._trace_source = None
        return self._trace

    @property
    def traceparent(self) -> str | None:
        trace = self.trace
        return None if trace is None else trace.traceparent

    @property
    def logger(self) -> logging.LoggerAdapter[logging.Logger]:
        """A logger whose records carry the function name and invocation id."""
        if self._logger is None:
            self._logger = logging.LoggerAdapter(
                logging.getLogger(f"polyfn.fn.{self.function_name}"),
                {"function": self.function_name, "invocation_id": self.invocation_id},
            )
        return self._logger

    @property
    def outputs(self) -> Outputs:
        """Send, publish, put and emit through the provider's services."""
        if self._outputs is None:
            from polyfn.outputs import Outputs, unconfigured_driver

            self._outputs = Outputs(unconfigured_driver(self.provider))
        return self._outputs

    def __repr__(self) -> str:
        return (
            f"Context(function_name={self.function_name!r}, "
            f"invocation_id={self.invocation_id!r}, provider={self.provider!r})"
        )
