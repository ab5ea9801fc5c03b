"""The neutral invocation context handed to every handler."""

from __future__ import annotations

import logging
import time
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from polyfn.observe.metrics import Metrics
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
        "_batch",
        "_bound_outputs",
        "_event",
        "_event_trace",
        "_logger",
        "_metrics",
        "_outputs",
        "_span",
        "_trace",
        "_trace_source",
        "deadline",
        "function_name",
        "idempotency_key",
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
        # Set by polyfn.dispatch: the event (or batch record) being handled, and the batch.
        self._event: Any = None
        self._batch: Any = None
        # (event, value) pairs: each is computed once per event, on first use.
        self._event_trace: tuple[Any, TraceContext | None] | None = None
        self._span: tuple[Any, TraceContext] | None = None
        self._bound_outputs: Outputs | None = None
        self._metrics: Metrics | None = None
        self.idempotency_key: str | None = None
        """The key of the idempotent handler running (polyfn.patterns.idempotent), if any:
        outputs carry it so that consumers can drop duplicates."""

    @property
    def deadline_at(self) -> datetime | None:
        return None if self.deadline is None else datetime.fromtimestamp(self.deadline, UTC)

    def remaining_time(self) -> float | None:
        """Seconds left before the provider stops the invocation (None when unbounded)."""
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - time.time())

    @property
    def event(self) -> Any:
        """The event being handled (in a batch: the record being handled; None between)."""
        return self._event

    @property
    def trace(self) -> TraceContext | None:
        """The trace this invocation continues: the one the event (or batch record) carries
        (``traceparent`` header or attribute, X-Ray, Pub/Sub, Service Bus; see
        polyfn.observe.trace), else the one the provider's runtime gives the invocation."""
        event = self._event
        if event is not None:
            cached = self._event_trace
            if cached is None or cached[0] is not event:
                from polyfn.observe.trace import trace_of

                cached = self._event_trace = (event, trace_of(event))
            if cached[1] is not None:
                return cached[1]
        return self._trace_of_invocation()

    def _trace_of_invocation(self) -> TraceContext | None:
        """The trace the provider's runtime gives the invocation (X-Ray, the Functions
        host's), whatever the event carries."""
        if self._trace is None and self._trace_source is not None:
            self._trace = self._trace_source()
            self._trace_source = None
        return self._trace

    @property
    def traceparent(self) -> str | None:
        trace = self.trace
        return None if trace is None else trace.traceparent

    @property
    def span(self) -> TraceContext:
        """This invocation's own span (per record in a batch): a child of :attr:`trace`, or
        the root of a new trace. What polyfn sends carries it as ``traceparent``."""
        event = self._event
        cached = self._span
        if cached is None or cached[0] is not event:
            from polyfn.observe.trace import child_of

            cached = self._span = (event, child_of(self.trace))
        return cached[1]

    @property
    def links(self) -> list[TraceContext]:
        """The traces the records of the batch being handled carry: one span link each."""
        from polyfn.observe.trace import trace_of

        return [t for t in map(trace_of, self._batch or ()) if t is not None]

    @property
    def metrics(self) -> Metrics:
        """Record metrics: CloudWatch EMF on AWS, OpenTelemetry or structured logs on
        Azure and Google Cloud (polyfn.observe.metrics); flushed when the handler ends."""
        if self._metrics is None:
            from polyfn.observe.metrics import Metrics

            self._metrics = Metrics(self)
        return self._metrics

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
        """Send, publish, put and emit through the provider's services. What is sent
        carries this invocation's trace context (and idempotency key)."""
        bound = self._bound_outputs
        if bound is None:
            from polyfn.outputs import Outputs, unconfigured_driver

            port = self._outputs
            driver = port.driver if port is not None else unconfigured_driver(self.provider)
            bound = self._bound_outputs = Outputs(driver, self)
        return bound

    @outputs.setter
    def outputs(self, port: Outputs) -> None:
        # Patterns swap the port for the length of a call (outputs after success).
        self._bound_outputs = port

    def __repr__(self) -> str:
        return (
            f"Context(function_name={self.function_name!r}, "
            f"invocation_id={self.invocation_id!r}, provider={self.provider!r})"
        )


CURRENT: ContextVar[Context | None] = ContextVar("polyfn_context", default=None)
"""The context of the invocation running (set by polyfn.dispatch): what JSON logs read."""


def current_context() -> Context | None:
    return CURRENT.get()
