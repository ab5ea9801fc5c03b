"""polyfn.observe.metrics: EMF on AWS, OpenTelemetry or log lines on Azure and GCP.

Sources for the shapes relied on:
- EMF: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
  (the JSON schema below is that page's, without its $id/title/examples annotations; the
  page now allows 30 dimension keys per DimensionSet, older versions said 9); the
  official aws-embedded-metrics library's LogSerializer is the reference serializer.
- OpenTelemetry metrics API and SDK (InMemoryMetricReader):
  https://opentelemetry.io/docs/specs/otel/metrics/api/ and
  https://opentelemetry-python.readthedocs.io/en/latest/sdk/metrics.export.html
- Cloud Logging structured logs (severity, message, logging.googleapis.com/trace):
  https://cloud.google.com/logging/docs/structured-logging
"""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import textwrap

import jsonschema
import pytest

from polyfn.context import Context, TraceContext
from polyfn.observe import metrics as M

EMF_SCHEMA = {
    "type": "object",
    "required": ["_aws"],
    "properties": {
        "_aws": {
            "type": "object",
            "required": ["Timestamp", "CloudWatchMetrics"],
            "properties": {
                "Timestamp": {"type": "integer"},
                "CloudWatchMetrics": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["Namespace", "Dimensions", "Metrics"],
                        "properties": {
                            "Namespace": {
                                "type": "string",
                                "pattern": "^(.*)$",
                                "minLength": 1,
                                "maxLength": 255,
                            },
                            "Dimensions": {
                                "type": "array",
                                "minItems": 1,
                                "items": {
                                    "type": "array",
                                    "minItems": 0,
                                    "maxItems": 30,
                                    "items": {
                                        "type": "string",
                                        "pattern": "^(.*)$",
                                        "minLength": 1,
                                        "maxLength": 255,
                                    },
                                },
                            },
                            "Metrics": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["Name"],
                                    "properties": {
                                        "Name": {
                                            "type": "string",
                                            "pattern": "^(.*)$",
                                            "minLength": 1,
                                            "maxLength": 255,
                                        },
                                        "Unit": {
                                            "type": "string",
                                            "pattern": "^(Seconds|Microseconds|Milliseconds|Bytes"
                                            "|Kilobytes|Megabytes|Gigabytes|Terabytes|Bits|Kilobits"
                                            "|Megabits|Gigabits|Terabits|Percent|Count"
                                            "|Bytes\\/Second|Kilobytes\\/Second|Megabytes\\/Second"
                                            "|Gigabytes\\/Second|Terabytes\\/Second|Bits\\/Second"
                                            "|Kilobits\\/Second|Megabits\\/Second|Gigabits\\/Second"
                                            "|Terabits\\/Second|Count\\/Second|None)$",
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        }
    },
}


def check_emf(doc: dict) -> None:
    """The schema, plus the spec's rules a schema cannot say: every dimension reference is
    a string member of the root, every metric a number or at most 100 numbers, at most
    100 metrics per directive."""
    jsonschema.validate(doc, EMF_SCHEMA)
    for directive in doc["_aws"]["CloudWatchMetrics"]:
        assert len(directive["Metrics"]) <= 100
        for dimension_set in directive["Dimensions"]:
            for key in dimension_set:
                assert isinstance(doc[key], str), key
        for metric in directive["Metrics"]:
            value = doc[metric["Name"]]
            if isinstance(value, list):
                assert 1 <= len(value) <= 100
                assert all(isinstance(v, int | float) for v in value)
            else:
                assert isinstance(value, int | float) and not isinstance(value, bool)


@pytest.fixture(autouse=True)
def _clean(monkeypatch):
    for name in ("POLYFN_METRICS", "POLYFN_METRICS_NAMESPACE", "GOOGLE_CLOUD_PROJECT"):
        monkeypatch.delenv(name, raising=False)
    M.recorder().clear()
    yield
    M.use_sink(None)
    M.recorder().clear()


TRACE = TraceContext("5759e988bd862e3fe1be46a994272793", "53995c3f42cd8ad8", True)


def make(provider: str = "aws", namespace: str | None = "orders") -> M.Metrics:
    ctx = Context("create_order", "req-1", provider, trace=TRACE)
    return M.Metrics(ctx, namespace=namespace)


def emf_out(m: M.Metrics) -> list[dict]:
    out = io.StringIO()
    M.use_sink(M.EmfSink(out))
    m.flush()
    return [json.loads(line) for line in out.getvalue().splitlines()]


# -- EMF --------------------------------------------------------------------------------


def test_emf_document_is_valid_and_carries_ids_as_properties():
    m = make()
    m.add("orders_processed", 1, route="/orders")
    m.add("orders_processed", 2, route="/orders")
    m.record("latency", 12.5)
    m.record("latency", 7.5)
    m.gauge("queue_depth", 4, "Count")
    m.gauge("queue_depth", 7, "Count")
    docs = emf_out(m)
    for doc in docs:
        check_emf(doc)
    by_dims = {tuple(d["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]): d for d in docs}
    routed = by_dims[("function", "provider", "route")]
    assert routed["orders_processed"] == 3  # a counter's sum
    assert routed["route"] == "/orders"
    plain = by_dims[("function", "provider")]
    assert plain["latency"] == [12.5, 7.5]  # every sample of a distribution
    assert plain["queue_depth"] == 7  # a gauge's last value
    for doc in docs:
        assert doc["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "orders"
        assert doc["function"] == "create_order" and doc["provider"] == "aws"
        assert doc["invocation_id"] == "req-1"
        assert doc["trace_id"] == TRACE.trace_id
        # Ids are properties, never dimensions (a metric per request would cost dearly).
        assert "invocation_id" not in doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]


def test_emf_splits_at_100_metrics_and_100_values():
    m = make()
    for i in range(150):
        m.add(f"m{i:03}", i)
    m.record("latency", 1.0)
    for i in range(249):
        m.record("latency", float(i))
    docs = emf_out(m)
    for doc in docs:
        check_emf(doc)
    names = [[x["Name"] for x in d["_aws"]["CloudWatchMetrics"][0]["Metrics"]] for d in docs]
    assert [len(n) for n in names] == [100, 51, 1, 1]
    assert sorted(n for group in names for n in group) == sorted(
        [f"m{i:03}" for i in range(150)] + ["latency"] * 3
    )
    latency = [d["latency"] for d in docs if "latency" in d]
    assert [len(v) for v in latency] == [100, 100, 50]
    assert [v for chunk in latency for v in chunk] == [1.0, *map(float, range(249))]


def test_emf_timestamp_is_epoch_milliseconds(monkeypatch):
    monkeypatch.setattr(M.time, "time", lambda: 1_700_000_000.123)
    m = make()
    m.add("n")
    assert emf_out(m)[0]["_aws"]["Timestamp"] == 1_700_000_000_123


def library_documents(namespace: str, dims: dict, metrics: list, props: dict) -> list[dict]:
    """What the official aws-embedded-metrics serializer writes (offline: its
    MetricsContext and LogSerializer, no environment detection, no agent)."""
    from aws_embedded_metrics.logger.metrics_context import MetricsContext
    from aws_embedded_metrics.serializers.log_serializer import LogSerializer

    context = MetricsContext(namespace=namespace)
    context.set_dimensions([dims])
    for name, value, unit in metrics:
        context.put_metric(name, value, unit)
    for key, value in props.items():
        context.set_property(key, value)
    return [json.loads(doc) for doc in LogSerializer.serialize(context)]


def _agreeing_fields(doc: dict) -> dict:
    directive = doc["_aws"]["CloudWatchMetrics"][0]
    members = set(directive["Dimensions"][0]) | {x["Name"] for x in directive["Metrics"]}
    return {
        "Namespace": directive["Namespace"],
        "Dimensions": directive["Dimensions"],
        "Metrics": sorted(directive["Metrics"], key=lambda x: x["Name"]),
        "members": {k: doc[k] for k in members},
        "invocation_id": doc.get("invocation_id"),
        "timestamp_type": type(doc["_aws"]["Timestamp"]),
    }


@pytest.mark.parametrize("count", [3, 130])
def test_emf_agrees_with_aws_embedded_metrics(count):
    metrics = [
        (f"metric_{i}", i * 1.5, unit)
        for i, unit in zip(range(count), ["Count", "Milliseconds", "Bytes"] * count, strict=False)
    ]
    m = make()
    m.set_dimensions(stage="prod")
    for name, value, unit in metrics:
        m.record(name, value, unit)
    ours = emf_out(m)
    dims = {"function": "create_order", "provider": "aws", "stage": "prod"}
    theirs = library_documents("orders", dims, metrics, {"invocation_id": "req-1"})
    for doc in theirs:
        check_emf(doc)  # the reference passes the same checks
    assert len(ours) == len(theirs)
    assert [_agreeing_fields(d) for d in ours] == [_agreeing_fields(d) for d in theirs]


def test_emf_default_namespace_env_and_invalid(monkeypatch, caplog):
    m = make(namespace=None)
    m.add("n")
    assert emf_out(m)[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "polyfn"
    monkeypatch.setenv("POLYFN_METRICS_NAMESPACE", "shop/orders")
    m.add("n")
    assert emf_out(m)[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "shop/orders"
    monkeypatch.setenv("POLYFN_METRICS_NAMESPACE", "bad namespace!")
    m.add("n")
    with caplog.at_level(logging.WARNING, "polyfn.metrics"):
        assert emf_out(m)[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "polyfn"
    assert "bad namespace!" in caplog.text


def test_aws_default_sink_is_emf_on_stdout(capsys):
    m = make("aws")
    m.add("orders_processed")
    m.flush()
    (line,) = capsys.readouterr().out.splitlines()
    check_emf(json.loads(line))


# -- limits and validation ------------------------------------------------------------


def test_thirty_dimensions_at_most():
    m = make()
    m.add("ok", **{f"d{i}": "x" for i in range(28)})  # + function, provider = 30
    with pytest.raises(ValueError, match="31 dimensions, at most 30"):
        m.add("too_many", **{f"d{i}": "x" for i in range(29)})
    for doc in emf_out(m):
        check_emf(doc)


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda m: m.add("9lives"), "invalid metric name"),
        (lambda m: m.add("n", unit="Furlongs"), "unknown unit"),
        (lambda m: m.add("n", -1), "cannot go down"),
        (lambda m: m.add("n", float("nan")), "finite"),
        (lambda m: m.add("n", route="caf\u00e9"), "ASCII"),
        (lambda m: m.add("n", route=" "), "invalid value"),
        (lambda m: m.add("route", route="x"), "name of one of its dimensions"),
        (lambda m: (m.add("n"), m.record("n", 1.0)), "recorded as a counter"),
    ],
)
def test_bad_metrics_fail_loudly(call, error):
    with pytest.raises(ValueError, match=error):
        call(make())


def test_value_must_be_a_number():
    with pytest.raises(TypeError, match="number"):
        make().add("n", "3")


def test_set_dimensions_adds_and_removes_defaults():
    m = make()
    m.set_dimensions(stage="prod", provider=None)
    assert m.dimensions == {"function": "create_order", "stage": "prod"}
    m.add("n", tenant=42)
    (series,) = m.pending
    assert series.attributes == {"function": "create_order", "stage": "prod", "tenant": "42"}


def test_timing_records_milliseconds_even_when_the_block_raises(monkeypatch):
    ticks = iter([10.0, 10.25])
    monkeypatch.setattr(M.time, "perf_counter", lambda: next(ticks))
    m = make("local")
    with pytest.raises(RuntimeError), m.timing("charge", gateway="stripe"):
        raise RuntimeError("card declined")
    (series,) = m.pending
    assert (series.kind, series.unit, series.values) == ("histogram", "Milliseconds", [250.0])
    assert series.attributes["gateway"] == "stripe"


# -- OpenTelemetry ----------------------------------------------------------------------


@pytest.fixture
def otel_reader():
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    M.use_sink(M.OtelSink(provider))
    yield reader
    provider.shutdown()


def otel_points(reader) -> dict[str, tuple]:
    data = reader.get_metrics_data()
    found = {}
    for rm in data.resource_metrics:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                for point in metric.data.data_points:
                    found[metric.name] = (sm.scope.name, metric.unit, metric.data, point)
    return found


@pytest.mark.parametrize("provider", ["azure", "gcp"])
def test_otel_instruments_values_units_and_attributes(otel_reader, provider):
    from opentelemetry.sdk.metrics.export import Gauge, Histogram, Sum

    m = make(provider)
    m.add("orders_processed", 2, route="/orders")
    m.add("orders_processed", 3, route="/orders")
    m.gauge("queue_depth", 9, "Count")
    m.record("payload_size", 100, "Bytes")
    m.record("payload_size", 300, "Bytes")
    m.set_property("order_id", "o-1")  # a property is not an attribute
    m.flush()
    points = otel_points(otel_reader)
    attrs = {"function": "create_order", "provider": provider}

    scope, unit, data, point = points["orders_processed"]
    assert scope == "orders" and unit == "1"
    assert isinstance(data, Sum) and data.is_monotonic
    assert point.value == 5 and dict(point.attributes) == {**attrs, "route": "/orders"}

    _, unit, data, point = points["queue_depth"]
    assert isinstance(data, Gauge) and unit == "1" and point.value == 9
    assert dict(point.attributes) == attrs

    _, unit, data, point = points["payload_size"]
    assert isinstance(data, Histogram) and unit == "By"
    assert (point.count, point.sum, point.min, point.max) == (2, 400, 100, 300)


def test_otel_timing_unit_is_ms(otel_reader):
    m = make("gcp")
    with m.timing("charge"):
        pass
    m.flush()
    _, unit, _, point = otel_points(otel_reader)["charge"]
    assert unit == "ms" and point.count == 1


AUTO_SCRIPT = textwrap.dedent(
    """
    import json, logging, sys
    from polyfn.context import Context
    from polyfn.observe import metrics as M

    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(name)s %(message)s")
    assert "opentelemetry" not in sys.modules, "importing metrics imported OpenTelemetry"
    provider = sys.argv[1]
    m = M.Metrics(Context("fn", "inv-1", provider))
    m.add("before")
    m.flush()  # nothing configured: the log fallback, and still no OpenTelemetry
    print("OTEL_LOADED", "opentelemetry" in sys.modules)

    from opentelemetry import metrics
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    reader = InMemoryMetricReader()
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
    m.add("after", 4)
    m.flush()
    names = [
        (x.name, p.value)
        for rm in reader.get_metrics_data().resource_metrics
        for sm in rm.scope_metrics
        for x in sm.metrics
        for p in x.data.data_points
    ]
    print("OTEL", json.dumps(names))
    """
)


@pytest.mark.parametrize("provider", ["azure", "gcp"])
def test_auto_choice_log_then_global_meter_provider(provider):
    # A fresh interpreter: the global MeterProvider can be set only once per process.
    proc = subprocess.run(
        [sys.executable, "-c", AUTO_SCRIPT, provider],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "OTEL_LOADED False" in lines
    assert 'OTEL [["after", 4]]' in lines
    if provider == "azure":
        (line,) = [x for x in lines if x.startswith("polyfn.metrics ")]
        record = json.loads(line.removeprefix("polyfn.metrics "))
    else:
        (line,) = [x for x in lines if x.startswith("{")]
        record = json.loads(line)
        assert record["severity"] == "INFO"
    assert record["metric"] == "before" and record["value"] == 1
    assert "after" not in proc.stdout.split("OTEL_LOADED")[1].split("OTEL ")[0]


# -- log fallback -----------------------------------------------------------------------


def test_azure_log_line_is_json_through_the_polyfn_metrics_logger(caplog):
    M.use_sink("log")
    m = make("azure")
    m.add("orders_processed", 2, route="/orders")
    m.record("latency", 1.5)
    m.record("latency", 2.5)
    with caplog.at_level(logging.INFO, "polyfn.metrics"):
        m.flush()
    records = [json.loads(r.getMessage()) for r in caplog.records if r.name == "polyfn.metrics"]
    assert [(r["metric"], r["value"]) for r in records] == [
        ("orders_processed", 2),
        ("latency", 1.5),
        ("latency", 2.5),
    ]
    first = records[0]
    assert first == {
        "metric": "orders_processed",
        "kind": "counter",
        "unit": "Count",
        "value": 2,
        "dimensions": {"function": "create_order", "provider": "azure", "route": "/orders"},
        "namespace": "orders",
        "timestamp_ms": first["timestamp_ms"],
        "invocation_id": "req-1",
        "trace_id": TRACE.trace_id,
    }


def test_gcp_log_line_is_structured_for_cloud_logging(monkeypatch):
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "my-project")
    out = io.StringIO()
    M.use_sink(M.LogSink(out))
    m = make("gcp")
    m.gauge("queue_depth", 3, "Count", queue="orders")
    m.set_property("order_id", "o-1")
    m.flush()
    (record,) = [json.loads(x) for x in out.getvalue().splitlines()]
    assert record["severity"] == "INFO"
    assert record["message"] == "metric queue_depth=3 Count"
    assert record["logging.googleapis.com/trace"] == f"projects/my-project/traces/{TRACE.trace_id}"
    assert record["value"] == 3 and record["dimensions"]["queue"] == "orders"
    assert record["order_id"] == "o-1"


def test_local_goes_to_the_recorder_and_a_debug_line(caplog):
    m = make("local")
    m.add("orders_processed", route="/orders")
    m.add("orders_processed", route="/refunds")
    with caplog.at_level(logging.DEBUG, "polyfn.metrics"):
        m.flush()
    assert M.recorder().values("orders_processed") == [1, 1]
    assert M.recorder().values("orders_processed", route="/orders") == [1]
    assert "orders_processed=[1] Count" in caplog.text
    assert m.pending == []


# -- choosing the sink ------------------------------------------------------------------


def test_polyfn_metrics_env_overrides_the_provider(monkeypatch, capsys):
    monkeypatch.setenv("POLYFN_METRICS", "emf")
    m = make("gcp")
    m.add("n")
    m.flush()
    check_emf(json.loads(capsys.readouterr().out))

    monkeypatch.setenv("POLYFN_METRICS", "off")
    m.add("n")
    m.flush()
    assert capsys.readouterr().out == ""

    monkeypatch.setenv("POLYFN_METRICS", "memory")
    m.add("n")
    m.flush()
    assert M.recorder().values("n") == [1]


def test_unknown_env_value_warns_and_falls_back(monkeypatch, caplog):
    monkeypatch.setenv("POLYFN_METRICS", "statsd")
    m = make("local")
    m.add("n")
    with caplog.at_level(logging.WARNING, "polyfn.metrics"):
        m.flush()
    assert "statsd" in caplog.text
    assert M.recorder().values("n") == [1]


def test_use_sink_beats_env_and_restores(monkeypatch):
    monkeypatch.setenv("POLYFN_METRICS", "off")
    sink = M.MemorySink()
    assert M.use_sink(sink) is None
    m = make("aws")
    m.add("n")
    m.flush()
    assert sink.values("n") == [1]
    assert M.use_sink("log") is sink
    with pytest.raises(ValueError, match="unknown sink"):
        M.use_sink("prometheus")


# -- never raises, costs nothing --------------------------------------------------------


class Boom:
    def emit(self, batch):
        raise OSError("stdout closed")


def test_flush_never_raises(caplog):
    M.use_sink(Boom())
    m = make("aws")
    m.add("n")
    with caplog.at_level(logging.WARNING, "polyfn.metrics"):
        m.flush()
    assert "1 metric(s) of function 'create_order' on aws were not sent" in caplog.text
    assert "OSError: stdout closed" in caplog.text


def test_a_broken_trace_does_not_cost_the_metrics():
    class Ctx:
        provider, function_name, invocation_id = "local", "fn", "i-1"

        @property
        def trace(self):
            raise ValueError("bad traceparent")

    m = M.Metrics(Ctx())
    m.add("n")
    m.flush()
    (batch,) = M.recorder().batches
    assert batch.trace_id is None and batch.invocation_id == "i-1"


def test_nothing_recorded_means_nothing_done():
    class Touchy:
        def __getattr__(self, name):
            raise AssertionError(f"ctx.{name} read")

    class Counting:
        emitted = 0

        def emit(self, batch):
            Counting.emitted += 1

    M.use_sink(Counting())
    m = M.Metrics(Touchy())  # __init__ reads nothing
    m.flush()
    assert Counting.emitted == 0


def test_ctx_metrics_is_one_metrics_per_context():
    ctx = Context("create_order", "req-9", "local")
    assert ctx.metrics is ctx.metrics
    ctx.metrics.add("orders_processed", 2)
    ctx.metrics.flush()
    (batch,) = M.recorder().batches
    assert (batch.function_name, batch.invocation_id) == ("create_order", "req-9")
    assert batch.series[0].attributes == {"function": "create_order", "provider": "local"}
