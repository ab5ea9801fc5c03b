"""Run polyfn's benchmarks: import time, per-event cost (AWS), per-invocation (Azure, GCP),
polyfn dev (start-up, HTTP and queue latency), the local workflow interpreter, an EMF
metrics flush beside aws-embedded-metrics.

python bench/run.py [--runs 15] [--repeat 7] [--only import|event|azure|gcp|dev|workflow|metrics]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import azure_event
import dev_server
import gcp_event
import import_time
import metrics_bench
import per_event
import workflow_bench


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="fresh interpreters per import case")
    parser.add_argument("--repeat", type=int, default=7, help="timeit rounds per per-event row")
    parser.add_argument(
        "--only",
        choices=("import", "event", "azure", "gcp", "dev", "workflow", "metrics"),
        help="run one benchmark only",
    )
    args = parser.parse_args(argv)
    if args.only in (None, "import"):
        import_time.main(["--runs", str(args.runs)])
        print()
    if args.only in (None, "event"):
        per_event.main(["--repeat", str(args.repeat)])
    if args.only in (None, "azure"):
        if args.only is None:
            print()
        azure_event.main(["--repeat", str(args.repeat)])
    if args.only in (None, "gcp"):
        if args.only is None:
            print()
        gcp_event.main(["--repeat", str(args.repeat)])
    if args.only in (None, "dev"):
        if args.only is None:
            print()
        dev_server.main([])
    if args.only in (None, "workflow"):
        if args.only is None:
            print()
        workflow_bench.main(["--repeat", str(args.repeat)])
    if args.only in (None, "metrics"):
        if args.only is None:
            print()
        metrics_bench.main(["--repeat", str(args.repeat)])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
