"""Metrics, one neutral way: ``ctx.metrics.add("orders_processed", 1, route="/orders")``.

A handler records counters (``add``), gauges (``gauge``) and distributions (``record``,
``timing``) with a unit and dimensions; polyfn flushes them once at the end of the
invocation to the provider's own metrics service:

- ``aws``: one CloudWatch embedded metric format (EMF) document per dimension set,
  printed to stdout, which Lambda ships to CloudWatch Logs, which extracts the metrics
  (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
- ``azure``: OpenTelemetry metrics when a MeterProvider is configured
  (``azure.monitor.opentelemetry.configure_azure_monitor()`` sets the global one; the
  metrics land in Application Insights' ``customMetrics`` table,
  https://learn.microsoft.com/azure/azure-monitor/app/opentelemetry-add-modify?tabs=python).
  Otherwise one JSON log line per value through the ``polyfn.metrics`` logger: the Python
  worker forwards log records to the Functions host, which writes them to Application
  Insights' ``traces`` table
  (https://learn.microsoft.com/azure/azure-functions/functions-reference-python#logging);
  query them with ``traces | extend m = parse_json(message) | where isnotnull(m.metric)``.
- ``gcp``: OpenTelemetry when a MeterProvider is configured (with
  opentelemetry-exporter-gcp-monitoring's ``CloudMonitoringMetricsExporter``), otherwise one
  structured JSON line per value on stdout, which Cloud Run functions send to Cloud Logging
  as ``jsonPayload`` (https://cloud.google.com/logging/docs/structured-logging), ready for a
  log-based distribution metric on ``jsonPayload.value`` with label extractors on
  ``jsonPayload.dimensions.*``
  (https://cloud.google.com/logging/docs/logs-based-metrics/distribution-metrics).
- ``local``: the in-memory recorder (``recorder()``), plus a debug log line.

Override per process with ``use_sink(...)`` or per deployment with the environment
variable ``POLYFN_METRICS=emf|otel|log|memory|off`` (``use_sink`` wins). The namespace (EMF
namespace, OpenTelemetry meter name) is ``POLYFN_METRICS_NAMESPACE``, else the one
``Metrics`` was given (the app's name), else ``"polyfn"``.

Cost: importing this module imports only the standard library; recording appends to a
dict; nothing is resolved, serialised or imported (OpenTelemetry included) until a flush
finds something recorded.

Limits are the strictest of the three clouds, so that a handler that works on one works on
all: metric names follow OpenTelemetry's instrument name syntax
(https://opentelemetry.io/docs/specs/otel/metrics/api/#instrument-name-syntax); at most 30
dimensions per metric, names and values ASCII, non-blank, names not starting with ``:``
(CloudWatch's rules, https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Dimension);
units are CloudWatch's (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDatum.html),
translated to UCUM for OpenTelemetry.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import sys
import time
from typing import Any, Literal, Protocol, TextIO

_log = logging.getLogger("polyfn.metrics")

Kind = Literal["counter", "gauge", "histogram"]
Unit = Literal[
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
]

# CloudWatch unit → UCUM (what OpenTelemetry exporters expect, https://ucum.org/ucum).
UCUM: dict[str, str] = {
    "Seconds": "s",
    "Microseconds": "us",
    "Milliseconds": "ms",
    "Bytes": "By",
    "Kilobytes": "kBy",
    "Megabytes": "MBy",
    "Gigabytes": "GBy",
    "Terabytes": "TBy",
    "Bits": "bit",
    "Kilobits": "kbit",
    "Megabits": "Mbit",
    "Gigabits": "Gbit",
    "Terabits": "Tbit",
    "Percent": "%",
    "Count": "1",
    "Bytes/Second": "By/s",
    "Kilobytes/Second": "kBy/s",
    "Megabytes/Second": "MBy/s",
    "Gigabytes/Second": "GBy/s",
    "Terabytes/Second": "TBy/s",
    "Bits/Second": "bit/s",
    "Kilobits/Second": "kbit/s",
    "Megabits/Second": "Mbit/s",
    "Gigabits/Second": "Gbit/s",
    "Terabits/Second": "Tbit/s",
    "Count/Second": "1/s",
    "None": "",
}

MAX_DIMENSIONS = 30  # per metric (EMF DimensionSet; PutMetricData)
MAX_METRICS_PER_DOCUMENT = 100  # EMF: MetricDefinitions per MetricDirective
MAX_VALUES_PER_METRIC = 100  # EMF: values in one metric's array
DEFAULT_NAMESPACE = "polyfn"

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.\-/]{0,254}\Z")
_EMF_NAMESPACE = re.compile(r"[a-zA-Z0-9._#:/-]{1,255}\Z")
_RESERVED = frozenset({"_aws"})
# Names and (dimension, value) pairs already found valid: most handlers record the same
# few on every invocation. Bounded, so that high-cardinality values cannot grow them.
_CACHE_SIZE = 4096
_GOOD_NAMES: set[str] = set()
_GOOD_DIMENSIONS: dict[tuple[str, str], str] = {}


class Series:
    """The values one metric (name + dimensions) got during one invocation."""

    # A plain class, not a dataclass: building a dataclass costs ~0.3 ms at import.
    __slots__ = ("dimensions", "kind", "name", "unit", "values")

    def __init__(
        self,
        name: str,
        kind: Kind,
        unit: str,
        dimensions: tuple[tuple[str, str], ...],
        values: list[float] | None = None,
    ) -> None:
        self.name = name
        self.kind: Kind = kind
        self.unit = unit
        self.dimensions = dimensions
        self.values: list[float] = [] if values is None else values

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Series):
            return NotImplemented
        return (self.name, self.kind, self.unit, self.dimensions, self.values) == (
            other.name,
            other.kind,
            other.unit,
            other.dimensions,
            other.values,
        )

    def __repr__(self) -> str:
        return (
            f"Series({self.name!r}, {self.kind!r}, {self.unit!r}, {self.dimensions!r}, "
            f"{self.values!r})"
        )

    def points(self) -> list[float]:
        """What is sent: a counter's sum, a gauge's last value, every histogram value."""
        if self.kind == "counter":
            values = self.values
            # Integers stay integers (3, not 3.0); floats are summed without drift.
            exact = all(type(v) is int for v in values)
            return [sum(values) if exact else math.fsum(values)]
        if self.kind == "gauge":
            return [self.values[-1]]
        return list(self.values)

    @property
    def attributes(self) -> dict[str, str]:
        return dict(self.dimensions)


class Batch:
    """One flush: every series of one invocation, and who recorded them."""

    __slots__ = (
        "function_name",
        "invocation_id",
        "namespace",
        "properties",
        "provider",
        "series",
        "timestamp_ms",
        "trace_id",
    )

    def __init__(
        self,
        namespace: str,
        provider: str,
        function_name: str,
        invocation_id: str,
        trace_id: str | None,
        timestamp_ms: int,
        series: list[Series],
        properties: dict[str, Any] | None = None,
    ) -> None:
        self.namespace = namespace
        self.provider = provider
        self.function_name = function_name
        self.invocation_id = invocation_id
        self.trace_id = trace_id
        self.timestamp_ms = timestamp_ms
        self.series = series
        self.properties: dict[str, Any] = {} if properties is None else properties

    def __repr__(self) -> str:
        return (
            f"Batch(namespace={self.namespace!r}, provider={self.provider!r}, "
            f"function_name={self.function_name!r}, invocation_id={self.invocation_id!r}, "
            f"series={self.series!r})"
        )

    def root_properties(self) -> dict[str, Any]:
        """Non-dimension fields of every document: invocation and trace ids, then the
        handler's own ``set_property`` values."""
        props: dict[str, Any] = {"invocation_id": self.invocation_id}
        if self.trace_id:
            props["trace_id"] = self.trace_id
        props.update(self.properties)
        return props


class Sink(Protocol):
    def emit(self, batch: Batch) -> None: ...


class _Timer:
    __slots__ = ("_dimensions", "_metrics", "_name", "_start")

    def __init__(self, metrics: Metrics, name: str, dimensions: dict[str, Any]) -> None:
        metrics._check_name(name)
        self._metrics, self._name, self._dimensions = metrics, name, dimensions
        self._start = 0.0

    def __enter__(self) -> _Timer:
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        # Recorded whether the block raised or not: a failure's duration counts too.
        elapsed_ms = (time.perf_counter() - self._start) * 1000.0
        self._metrics.record(self._name, elapsed_ms, "Milliseconds", **self._dimensions)


class Metrics:
    """The metrics of one invocation (``ctx.metrics``), sent by ``flush()``.

    Every metric carries the default dimensions ``function`` (the polyfn function's name)
    and ``provider``, plus those of ``set_dimensions`` and those given to the call.
    """

    __slots__ = ("_ctx", "_dimensions", "_kinds", "_namespace", "_properties", "_series")

    def __init__(self, ctx: Any, *, namespace: str | None = None) -> None:
        self._ctx = ctx
        self._namespace = namespace
        self._dimensions: dict[str, str] | None = None  # built on first use
        self._series: dict[tuple[str, tuple[tuple[str, str], ...]], Series] | None = None
        self._kinds: dict[str, tuple[Kind, str]] | None = None
        self._properties: dict[str, Any] | None = None

    # -- recording -----------------------------------------------------------------
    def add(self, name: str, value: float = 1, unit: Unit = "Count", **dimensions: Any) -> None:
        """Count something: values add up over the invocation (never negative)."""
        self._record("counter", name, value, unit, dimensions)

    def gauge(self, name: str, value: float, unit: Unit = "None", **dimensions: Any) -> None:
        """The current level of something: the last value of the invocation is sent."""
        self._record("gauge", name, value, unit, dimensions)

    def record(
        self, name: str, value: float, unit: Unit = "Milliseconds", **dimensions: Any
    ) -> None:
        """One sample of a distribution (a latency, a size): every value is sent."""
        self._record("histogram", name, value, unit, dimensions)

    def timing(self, name: str, **dimensions: Any) -> _Timer:
        """``with ctx.metrics.timing("charge_card"):`` records the block's milliseconds."""
        return _Timer(self, name, dimensions)

    def set_dimensions(self, **dimensions: Any) -> None:
        """Dimensions for every later metric of this invocation; ``name=None`` removes one
        (the defaults ``function`` and ``provider`` included)."""
        dims = self._base()
        for key, value in dimensions.items():
            if value is None:
                dims.pop(key, None)
            else:
                dims[key] = _dimension(key, value)
        if len(dims) > MAX_DIMENSIONS:
            raise ValueError(f"metrics: {len(dims)} dimensions, at most {MAX_DIMENSIONS}")

    def set_property(self, key: str, value: Any) -> None:
        """A non-dimension field of this invocation's metrics (an order id, a version):
        searchable in the logs, never part of a metric's identity (not sent to OTel)."""
        if self._properties is None:
            self._properties = {}
        self._properties[key] = value

    @property
    def dimensions(self) -> dict[str, str]:
        """The dimensions every metric recorded now gets (a copy)."""
        return dict(self._base())

    @property
    def pending(self) -> list[Series]:
        """What the next flush sends."""
        return list(self._series.values()) if self._series else []

    # -- flushing ------------------------------------------------------------------
    def flush(self) -> None:
        """Send what was recorded to the sink and forget it. Never raises: a failure is
        logged as a warning (a metric must not fail the invocation)."""
        series = self._series
        if not series:
            return
        self._series = self._kinds = None
        try:
            sink = resolve_sink(getattr(self._ctx, "provider", "local"))
            if sink is not None:
                sink.emit(self._batch(list(series.values())))
        except Exception as e:
            _log.warning(
                "metrics: %d metric(s) of function %r on %s were not sent: %s: %s",
                len(series),
                getattr(self._ctx, "function_name", "?"),
                getattr(self._ctx, "provider", "?"),
                type(e).__name__,
                e,
            )

    # -- internals -----------------------------------------------------------------
    def _base(self) -> dict[str, str]:
        if self._dimensions is None:
            ctx = self._ctx
            self._dimensions = {
                "function": str(getattr(ctx, "function_name", "") or "unknown"),
                "provider": str(getattr(ctx, "provider", "") or "local"),
            }
        return self._dimensions

    @staticmethod
    def _check_name(name: str) -> None:
        if name in _GOOD_NAMES:
            return
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(
                f"metrics: invalid metric name {name!r}: a letter, then up to 254 letters, "
                "digits, '_', '.', '-' or '/' (OpenTelemetry's instrument name syntax)"
            )
        if len(_GOOD_NAMES) < _CACHE_SIZE:
            _GOOD_NAMES.add(name)

    def _record(
        self, kind: Kind, name: str, value: float, unit: str, dimensions: dict[str, Any]
    ) -> None:
        self._check_name(name)
        if unit not in UCUM:
            raise ValueError(f"metrics: {name!r}: unknown unit {unit!r}; one of {sorted(UCUM)}")
        if type(value) not in (int, float) and (
            isinstance(value, bool) or not isinstance(value, int | float)
        ):
            raise TypeError(f"metrics: {name!r}: value must be a number, not {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"metrics: {name!r}: value must be finite, not {value!r}")
        if kind == "counter" and value < 0:
            raise ValueError(f"metrics: counter {name!r} cannot go down ({value!r})")
        base = self._base()
        if dimensions:
            dims = dict(base)
            for key, dvalue in dimensions.items():
                dims[key] = _dimension(key, dvalue)
            if len(dims) > MAX_DIMENSIONS:
                raise ValueError(
                    f"metrics: {name!r} has {len(dims)} dimensions, at most {MAX_DIMENSIONS}"
                )
        else:
            dims = base
        if name in dims:
            raise ValueError(f"metrics: metric {name!r} has the name of one of its dimensions")
        kinds = self._kinds
        if kinds is None:
            kinds = self._kinds = {}
            self._series = {}
        known = kinds.setdefault(name, (kind, unit))
        if known != (kind, unit):
            raise ValueError(
                f"metrics: {name!r} was recorded as a {known[0]} in {known[1]}, "
                f"now as a {kind} in {unit}"
            )
        key_dims = tuple(sorted(dims.items()))
        series = self._series
        assert series is not None
        entry = series.get((name, key_dims))
        if entry is None:
            entry = series[(name, key_dims)] = Series(name, kind, unit, key_dims)
        entry.values.append(value)

    def _batch(self, series: list[Series]) -> Batch:
        ctx = self._ctx
        try:
            trace = ctx.trace
            trace_id = trace.trace_id if trace is not None else None
        except Exception:  # a malformed trace header must not cost the metrics
            trace_id = None
        namespace = os.environ.get("POLYFN_METRICS_NAMESPACE") or self._namespace
        return Batch(
            namespace=namespace or DEFAULT_NAMESPACE,
            provider=str(getattr(ctx, "provider", "local")),
            function_name=str(getattr(ctx, "function_name", "")),
            invocation_id=str(getattr(ctx, "invocation_id", "")),
            trace_id=trace_id,
            timestamp_ms=int(time.time() * 1000),
            series=series,
            properties=dict(self._properties or {}),
        )

    def __repr__(self) -> str:
        return f"Metrics({self._ctx!r}, pending={len(self._series or ())})"


def _dimension(key: str, value: Any) -> str:
    if type(value) is str:
        checked = _GOOD_DIMENSIONS.get((key, value))
        if checked is not None:
            return checked
    text = _checked_dimension(key, value)
    if len(_GOOD_DIMENSIONS) < _CACHE_SIZE:
        _GOOD_DIMENSIONS[(key, text)] = text
    return text


def _checked_dimension(key: str, value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    if not isinstance(key, str) or not key.strip() or len(key) > 255 or not key.isascii():
        raise ValueError(f"metrics: invalid dimension name {key!r} (1-255 ASCII characters)")
    if key.startswith(":") or key in _RESERVED:
        raise ValueError(f"metrics: dimension name {key!r} is reserved")
    if not text.strip() or len(text) > 1024 or not text.isascii():
        raise ValueError(
            f"metrics: dimension {key!r}: invalid value {text!r} (1-1024 ASCII characters)"
        )
    return text


# -- sinks ---------------------------------------------------------------------------


def _json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, separators=(",", ":"), default=str)


def emf_documents(batch: Batch) -> list[dict[str, Any]]:
    """The EMF documents of a batch: one per dimension set, split so that no document has
    more than 100 metrics nor any metric more than 100 values."""
    namespace = batch.namespace
    if not _EMF_NAMESPACE.match(namespace):
        _log.warning(
            "metrics: aws EMF: namespace %r is not valid (1-255 of a-z A-Z 0-9 . _ # : / -); "
            "using %r",
            namespace,
            DEFAULT_NAMESPACE,
        )
        namespace = DEFAULT_NAMESPACE
    groups: dict[tuple[tuple[str, str], ...], list[Series]] = {}
    for s in batch.series:
        groups.setdefault(s.dimensions, []).append(s)
    props = batch.root_properties()
    docs: list[dict[str, Any]] = []
    for dims, members in groups.items():
        # Round r holds the r-th slice of 100 values of each metric that has one.
        rounds: list[list[tuple[Series, list[float]]]] = []
        for s in members:
            points = s.points()
            for r, start in enumerate(range(0, len(points), MAX_VALUES_PER_METRIC)):
                if r == len(rounds):
                    rounds.append([])
                rounds[r].append((s, points[start : start + MAX_VALUES_PER_METRIC]))
        for chunk_round in rounds:
            for i in range(0, len(chunk_round), MAX_METRICS_PER_DOCUMENT):
                chunk = chunk_round[i : i + MAX_METRICS_PER_DOCUMENT]
                doc: dict[str, Any] = {
                    "_aws": {
                        "Timestamp": batch.timestamp_ms,
                        "CloudWatchMetrics": [
                            {
                                "Namespace": namespace,
                                "Dimensions": [[k for k, _ in dims]],
                                "Metrics": [{"Name": s.name, "Unit": s.unit} for s, _ in chunk],
                            }
                        ],
                    }
                }
                # Dimension and metric members win over properties of the same name.
                doc.update(props)
                doc.update(dims)
                for s, values in chunk:
                    doc[s.name] = values[0] if len(values) == 1 else values
                docs.append(doc)
    return docs


class EmfSink:
    """CloudWatch embedded metric format, one JSON document per line on ``stream``
    (stdout by default: Lambda sends each line to CloudWatch Logs as one log event)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def emit(self, batch: Batch) -> None:
        out = self.stream or sys.stdout
        out.write("".join(_json(doc) + "\n" for doc in emf_documents(batch)))
        out.flush()


def log_records(batch: Batch) -> list[dict[str, Any]]:
    """The log fallback's records: one per value sent (a counter's sum, a gauge's last
    value, each histogram value), so that a log-based metric can read ``value``."""
    common = batch.root_properties()
    records = []
    for s in batch.series:
        for value in s.points():
            record: dict[str, Any] = {
                "metric": s.name,
                "kind": s.kind,
                "unit": s.unit,
                "value": value,
                "dimensions": s.attributes,
                "namespace": batch.namespace,
                "timestamp_ms": batch.timestamp_ms,
            }
            record.update((k, v) for k, v in common.items() if k not in record)
            records.append(record)
    return records


class LogSink:
    """Structured log lines, one per value.

    On ``gcp`` and ``aws`` a JSON line on stdout (``stream``): Cloud Logging reads
    ``severity`` and ``message`` and ``logging.googleapis.com/trace`` (set when the project is
    known from ``GOOGLE_CLOUD_PROJECT`` or ``GCP_PROJECT``), and keeps the rest as
    ``jsonPayload``; CloudWatch metric filters match JSON lines. Elsewhere (Azure, local)
    the JSON is the message of an INFO record of the ``polyfn.metrics`` logger, which the
    Azure Functions worker forwards to Application Insights' ``traces``.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def emit(self, batch: Batch) -> None:
        records = log_records(batch)
        if batch.provider not in ("gcp", "aws"):
            for record in records:
                _log.info("%s", _json(record))
            return
        if batch.provider == "gcp":
            project = os.environ.get("GOOGLE_CLOUD_PROJECT") or os.environ.get("GCP_PROJECT")
            for record in records:
                record["severity"] = "INFO"
                record["message"] = f"metric {record['metric']}={record['value']} {record['unit']}"
                if project and batch.trace_id:
                    trace = f"projects/{project}/traces/{batch.trace_id}"
                    record["logging.googleapis.com/trace"] = trace
        out = self.stream or sys.stdout
        out.write("".join(_json(record) + "\n" for record in records))
        out.flush()


class OtelSink:
    """OpenTelemetry metrics through ``opentelemetry-api``: counters ``add`` their sum,
    gauges ``set`` their last value, histograms ``record`` every value; dimensions are the
    attributes; units in UCUM; the meter is named after the namespace.

    ``meter_provider``: the global one when None. ``force_flush``: ask the provider to
    export at once (for runtimes that freeze between invocations; it costs an export).
    """

    def __init__(self, meter_provider: Any = None, *, force_flush: bool = False) -> None:
        self.meter_provider = meter_provider
        self.force_flush = force_flush
        self._instruments: dict[tuple[int, str, str, str, str], Any] = {}

    def _provider(self) -> Any:
        if self.meter_provider is not None:
            return self.meter_provider
        from opentelemetry import metrics as otel_metrics

        return otel_metrics.get_meter_provider()

    def _instrument(self, provider: Any, namespace: str, s: Series) -> Any:
        key = (id(provider), namespace, s.kind, s.name, s.unit)
        instrument = self._instruments.get(key)
        if instrument is None:
            meter = provider.get_meter(namespace)
            create = {
                "counter": meter.create_counter,
                "gauge": meter.create_gauge,
                "histogram": meter.create_histogram,
            }[s.kind]
            instrument = self._instruments[key] = create(s.name, unit=UCUM[s.unit])
        return instrument

    def emit(self, batch: Batch) -> None:
        provider = self._provider()
        for s in batch.series:
            instrument = self._instrument(provider, batch.namespace, s)
            attributes = s.attributes
            if s.kind == "counter":
                instrument.add(s.points()[0], attributes)
            elif s.kind == "gauge":
                instrument.set(s.points()[0], attributes)
            else:
                for value in s.values:
                    instrument.record(value, attributes)
        if self.force_flush and hasattr(provider, "force_flush"):
            provider.force_flush()


class MemorySink:
    """Keeps every batch in memory (the local runtime's sink; tests read it), and logs a
    debug line per batch."""

    def __init__(self) -> None:
        self.batches: list[Batch] = []

    def emit(self, batch: Batch) -> None:
        self.batches.append(batch)
        if _log.isEnabledFor(logging.DEBUG):
            _log.debug(
                "metrics of %s (%s): %s",
                batch.function_name,
                batch.invocation_id,
                ", ".join(f"{s.name}={s.points()} {s.unit}" for s in batch.series),
            )

    @property
    def series(self) -> list[Series]:
        return [s for b in self.batches for s in b.series]

    def values(self, name: str, **dimensions: Any) -> list[float]:
        """Every value recorded for ``name`` whose dimensions include ``dimensions``."""
        want = {k: str(v) for k, v in dimensions.items()}
        return [
            v
            for s in self.series
            if s.name == name and want.items() <= s.attributes.items()
            for v in s.values
        ]

    def clear(self) -> None:
        self.batches.clear()


# -- choosing the sink -----------------------------------------------------------------

SINK_NAMES = ("emf", "otel", "log", "memory", "off")
_AUTO: Any = object()
_override: Any = _AUTO
_named: dict[str, Sink] = {}
_recorder = MemorySink()
_warned: set[str] = set()


def recorder() -> MemorySink:
    """The process's in-memory sink: where ``local`` invocations' metrics go."""
    return _recorder


def _named_sink(name: str) -> Sink | None:
    if name == "off":
        return None
    if name == "memory":
        return _recorder
    sink = _named.get(name)
    if sink is None:
        factory: dict[str, type[Any]] = {"emf": EmfSink, "otel": OtelSink, "log": LogSink}
        sink = _named[name] = factory[name]()
    return sink


def use_sink(sink: Sink | str | None) -> Sink | str | None:
    """Send every later flush to ``sink``: a Sink, or one of ``emf``, ``otel``, ``log``,
    ``memory``, ``off``; None goes back to choosing by provider (and ``POLYFN_METRICS``).
    Returns the previous setting, for restoring it."""
    global _override
    if isinstance(sink, str) and sink not in SINK_NAMES:
        raise ValueError(f"metrics: unknown sink {sink!r}; one of {', '.join(SINK_NAMES)}")
    previous = None if _override is _AUTO else _override
    _override = _AUTO if sink is None else sink
    return previous


def otel_configured() -> bool:
    """Whether an OpenTelemetry MeterProvider has been set (globally, or named by
    ``OTEL_PYTHON_METER_PROVIDER``). Imports nothing when OpenTelemetry is not loaded:
    whoever configured one has imported it."""
    if "opentelemetry.metrics" not in sys.modules and (
        "OTEL_PYTHON_METER_PROVIDER" not in os.environ
    ):
        return False
    try:
        from opentelemetry import metrics as otel_metrics
    except ImportError:
        return False
    provider = otel_metrics.get_meter_provider()
    if isinstance(provider, otel_metrics.NoOpMeterProvider):
        return False
    # Until set_meter_provider, the API hands out a private proxy that records nothing.
    return type(provider).__name__ != "_ProxyMeterProvider"


def resolve_sink(provider: str) -> Sink | None:
    """The sink of a flush: ``use_sink``'s, else ``POLYFN_METRICS``'s, else the provider's
    default. None: metrics are off."""
    if _override is not _AUTO:
        return _named_sink(_override) if isinstance(_override, str) else _override
    env = os.environ.get("POLYFN_METRICS", "").strip().lower()
    if env:
        if env in SINK_NAMES:
            return _named_sink(env)
        if env not in _warned:
            _warned.add(env)
            _log.warning(
                "metrics: POLYFN_METRICS=%r is not one of %s; choosing by provider",
                env,
                ", ".join(SINK_NAMES),
            )
    if provider == "aws":
        return _named_sink("emf")
    if provider in ("azure", "gcp"):
        return _named_sink("otel" if otel_configured() else "log")
    if provider == "local":
        return _recorder
    return _named_sink("log")
