"""Metrics on AWS: one invocation's EMF flush of 3 metrics, polyfn beside the official
aws-embedded-metrics library (the peer), median µs per invocation.

- (i)   polyfn: ``Metrics(ctx)``, ``add`` x2 + ``record`` with one extra dimension,
        ``flush()`` → one EMF line (the EMF sink, Lambda's default);
- (ii)  aws-embedded-metrics as a Lambda user writes it: ``create_metrics_logger()``,
        ``put_dimensions``, ``put_metric`` x3, ``flush_sync()`` (Lambda environment,
        stdout sink);
- (iii) aws-embedded-metrics' serializer alone: ``MetricsContext`` + ``LogSerializer``,
        for reference (no environment, no sink).

Every variant writes to the same null stream; each one's output is checked first.

    python bench/metrics_bench.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from polyfn.context import Context
from polyfn.observe import metrics as M


class _Null(io.TextIOBase):
    def write(self, s: str) -> int:
        return len(s)


class _Capture(io.TextIOBase):
    def __init__(self) -> None:
        self.lines: list[str] = []

    def write(self, s: str) -> int:
        self.lines.extend(x for x in s.splitlines() if x)
        return len(s)


CTX = Context("create_order", "req-1", "aws")


def polyfn_flush() -> None:
    m = M.Metrics(CTX, namespace="orders")
    m.add("orders_processed", 1, route="/orders")
    m.add("items", 3, route="/orders")
    m.record("latency", 12.5, route="/orders")
    m.flush()


def peer_flush() -> None:
    from aws_embedded_metrics.logger.metrics_logger_factory import create_metrics_logger

    logger = create_metrics_logger()
    logger.set_namespace("orders")
    logger.put_dimensions({"route": "/orders"})
    logger.put_metric("orders_processed", 1, "Count")
    logger.put_metric("items", 3, "Count")
    logger.put_metric("latency", 12.5, "Milliseconds")
    logger.flush_sync()


def peer_serialize() -> None:
    from aws_embedded_metrics.logger.metrics_context import MetricsContext
    from aws_embedded_metrics.serializers.log_serializer import LogSerializer

    context = MetricsContext(namespace="orders")
    context.set_dimensions([{"function": "create_order", "provider": "aws", "route": "/orders"}])
    context.put_metric("orders_processed", 1, "Count")
    context.put_metric("items", 3, "Count")
    context.put_metric("latency", 12.5, "Milliseconds")
    for line in LogSerializer.serialize(context):
        sys.stdout.write(line + "\n")


def _check(fn) -> None:
    capture, saved = _Capture(), sys.stdout
    sys.stdout = capture
    try:
        fn()
    finally:
        sys.stdout = saved
    (line,) = capture.lines
    doc = json.loads(line)
    names = {x["Name"] for x in doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert names == {"orders_processed", "items", "latency"}, (fn.__name__, names)
    assert (doc["orders_processed"], doc["items"], doc["latency"]) == (1, 3, 12.5), doc
    assert doc["route"] == "/orders", doc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    try:
        import aws_embedded_metrics  # noqa: F401
    except ImportError:
        print("Metrics (EMF): aws-embedded-metrics is not installed (pip install -e '.[bench]')")
        return 0
    # The peer reads its environment on first import and flush (as on Lambda); set here,
    # not at import, so that the other benchmarks run.py starts never see them.
    saved_env = {k: os.environ.get(k) for k in _PEER_ENV}
    os.environ.update(_PEER_ENV)
    try:
        return _run(args.repeat)
    finally:
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


_PEER_ENV = {"AWS_EMF_ENVIRONMENT": "Lambda", "AWS_LAMBDA_FUNCTION_NAME": "bench"}


def _run(repeat: int) -> int:
    M.use_sink("emf")  # the AWS default, whatever POLYFN_METRICS says
    rows = [
        ("(i)   polyfn Metrics + flush", polyfn_flush),
        ("(ii)  aws-embedded-metrics logger + flush", peer_flush),
        ("(iii) aws-embedded-metrics serializer only", peer_serialize),
    ]
    for _, fn in rows:
        _check(fn)
    saved = sys.stdout
    sys.stdout = _Null()
    try:
        numbers = {label: timeit.Timer(fn).autorange()[0] for label, fn in rows}
        samples: dict[str, list[float]] = {label: [] for label, _ in rows}
        for _ in range(repeat):  # round-robin, so that load hits every row alike
            for label, fn in rows:
                n = numbers[label]
                samples[label].append(timeit.timeit(fn, number=n) / n)
    finally:
        sys.stdout = saved
        M.use_sink(None)
    medians = {label: statistics.median(v) * 1e6 for label, v in samples.items()}
    print(f"Metrics: EMF flush of 3 metrics per invocation, median of {repeat} (µs)")
    for label, _ in rows:
        print(f"  {label:<44} {medians[label]:8.1f}")
    ours, peer = medians[rows[0][0]], medians[rows[1][0]]
    print(f"  polyfn / aws-embedded-metrics: {ours / peer:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
