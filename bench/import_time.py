"""Cold-start import cost: polyfn's AWS adapter next to Powertools, Mangum and pydantic.

Each case runs in a fresh interpreter (``python -c ...``); the wall-clock time of the
whole subprocess is taken, N times, and the median is reported, alone and over the
bare-interpreter baseline (``python -c pass``). Cases are run round-robin so that a
drift in machine load touches all of them alike.

Every module is loaded from cached bytecode, as from a deployment package built by pip
(which compiles on install): the subprocesses share a fresh ``PYTHONPYCACHEPREFIX``
that a warm-up run fills. Without it an editable checkout under
``PYTHONDONTWRITEBYTECODE=1`` would recompile polyfn on every start while the peers,
installed by pip, load their ``.pyc`` files. ``--no-pyc`` measures that case instead.

The Azure rows (h-k) are reported in a second table, over bare and over
``import azure.functions``, which the Python worker has loaded before it imports
``function_app.py``. The Google Cloud rows (l-o) in a third, over bare and over
``import functions_framework``, which the framework has loaded before it loads
``main.py``.

    python bench/import_time.py [--runs 15] [--no-pyc] [--provider aws|azure|gcp]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Case:
    key: str
    label: str
    code: str


CASES: tuple[Case, ...] = (
    Case("a", "bare interpreter (python -c pass)", "pass"),
    Case(
        "b",
        "polyfn + AWS adapter (handler)",
        "import polyfn.adapters.aws; from polyfn.adapters.aws import handler",
    ),
    Case(
        "c",
        "polyfn + AWS adapter + app module + handler(app, 'process_order')",
        "from polyfn.adapters.aws import handler; from samples.orders.app import app; "
        "handler(app, 'process_order')",
    ),
    Case(
        "c2",
        "(c) + the SQS source module (loaded by the first event)",
        "from polyfn.adapters.aws import handler; from samples.orders.app import app; "
        "handler(app, 'process_order'); "
        "from polyfn.adapters.aws.recognise import module; module('sqs')",
    ),
    Case(
        "c3",
        "polyfn + AWS adapter + the HTTP API (v2) source module",
        "from polyfn.adapters.aws import handler; "
        "from polyfn.adapters.aws.recognise import module; module('apigateway-v2')",
    ),
    Case(
        "d",
        "Powertools data classes",
        "import aws_lambda_powertools.utilities.data_classes",
    ),
    Case(
        "e",
        "Powertools parser (parse + SqsModel)",
        "from aws_lambda_powertools.utilities.parser import parse; "
        "from aws_lambda_powertools.utilities.parser.models import SqsModel",
    ),
    Case("f", "Mangum", "import mangum; from mangum import Mangum"),
    Case("g", "pydantic (reference)", "import pydantic"),
)

# polyfn's cold path must cost no more over the bare interpreter than Powertools'
# data classes do (the goal); (c) is the same check for the whole cold path.
GOALS = (("b", "d"), ("c", "d"))

# Azure: the worker imports azure.functions before the user's function_app.py, so what
# polyfn adds there is the figure over (h). No goal: reported for reference.
AZURE_BASE = "h"
AZURE_CASES: tuple[Case, ...] = (
    Case(
        "h", "azure.functions (loaded by the worker: the peer baseline)", "import azure.functions"
    ),
    Case(
        "i",
        "azure.functions + an empty v2 FunctionApp() (any v2 app)",
        "import azure.functions as func; func.FunctionApp()",
    ),
    Case("j", "polyfn + Azure adapter", "import polyfn.adapters.azure"),
    Case(
        "k",
        "(j) + samples.orders.function_app indexed (get_functions())",
        "import polyfn.adapters.azure; import samples.orders.function_app as m; "
        "m.app.get_functions()",
    ),
)

# Google Cloud: functions-framework is running (it serves the targets) when it loads the
# user's main.py, so what polyfn adds there is the figure over (l). No goal: for reference.
GCP_BASE = "l"
GCP_CASES: tuple[Case, ...] = (
    Case(
        "l",
        "functions_framework (loaded by the framework: the peer baseline)",
        "import functions_framework",
    ),
    Case("m", "polyfn + GCP adapter alone (no functions_framework)", "import polyfn.adapters.gcp"),
    Case(
        "n",
        "(l) + polyfn + GCP adapter",
        "import functions_framework; import polyfn.adapters.gcp",
    ),
    Case(
        "o",
        "(n) + samples/orders/main.py loaded (targets(app) built)",
        "import functions_framework; import samples.orders.main",
    ),
)


def _run_once(code: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)
    return time.perf_counter() - start


def measure(runs: int = 15, cases: tuple[Case, ...] = CASES, pyc: bool = True) -> dict[str, float]:
    """Median wall-clock seconds of each case, keyed by case key."""
    env = dict(os.environ)
    cache = tempfile.mkdtemp(prefix="polyfn-bench-pyc-")
    if pyc:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = cache
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["PYTHONPYCACHEPREFIX"] = cache  # stays empty: every module is compiled
    try:
        for case in cases:  # warm-up: writes the .pyc files, fills the OS file cache
            _run_once(case.code, env)
        samples: dict[str, list[float]] = {c.key: [] for c in cases}
        for _ in range(runs):
            for case in cases:
                samples[case.key].append(_run_once(case.code, env))
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return {key: statistics.median(times) for key, times in samples.items()}


def report(medians: dict[str, float], runs: int, pyc: bool = True) -> str:
    base = medians["a"]
    how = "from cached bytecode" if pyc else "compiling every module (no .pyc)"
    lines = [
        f"Cold-start import time (median of {runs} fresh interpreters, wall clock, {how})",
        "",
    ]
    if all(c.key in medians for c in CASES):
        lines += _aws_report(medians, base)
    if all(c.key in medians for c in AZURE_CASES):
        if len(lines) > 2:
            lines.append("")
        lines += _azure_report(medians, base)
    if all(c.key in medians for c in GCP_CASES):
        if len(lines) > 2:
            lines.append("")
        lines += _gcp_report(medians, base)
    return "\n".join(lines)


def _aws_report(medians: dict[str, float], base: float) -> list[str]:
    lines = [f"{'':3} {'case':66} {'median ms':>10} {'over bare':>10}"]
    for case in CASES:
        t = medians[case.key]
        over = "" if case.key == "a" else f"{(t - base) * 1000:10.1f}"
        lines.append(f"{case.key:3} {case.label:66} {t * 1000:10.1f} {over:>10}")
    lines.append("")
    for ours, peer in GOALS:
        mine, theirs = medians[ours] - base, medians[peer] - base
        verdict = "PASS" if mine <= theirs else "MISS"
        lines.append(
            f"goal: ({ours}) over bare <= ({peer}) Powertools data classes over bare: "
            f"{mine * 1000:.1f} ms vs {theirs * 1000:.1f} ms  {verdict}"
        )
    return lines


def _azure_report(medians: dict[str, float], base: float) -> list[str]:
    peer = medians[AZURE_BASE]
    lines = [
        "Azure Functions (the worker has imported azure.functions, (h), before function_app.py)",
        f"{'':3} {'case':66} {'median ms':>10} {'over bare':>10} {'over (h)':>10}",
        f"{'a':3} {'bare interpreter (python -c pass)':66} {base * 1000:10.1f}",
    ]
    for case in AZURE_CASES:
        t = medians[case.key]
        over_peer = "" if case.key == AZURE_BASE else f"{(t - peer) * 1000:10.1f}"
        lines.append(
            f"{case.key:3} {case.label:66} {t * 1000:10.1f} {(t - base) * 1000:10.1f} "
            f"{over_peer:>10}"
        )
    return lines


def _gcp_report(medians: dict[str, float], base: float) -> list[str]:
    peer = medians[GCP_BASE]
    lines = [
        "Google Cloud Functions (functions-framework has imported functions_framework, (l), "
        "before main.py)",
        f"{'':3} {'case':66} {'median ms':>10} {'over bare':>10} {'over (l)':>10}",
        f"{'a':3} {'bare interpreter (python -c pass)':66} {base * 1000:10.1f}",
    ]
    for case in GCP_CASES:
        t = medians[case.key]
        # (m) runs without functions_framework: only its figure over bare means something.
        over_peer = "" if case.key in (GCP_BASE, "m") else f"{(t - peer) * 1000:10.1f}"
        lines.append(
            f"{case.key:3} {case.label:66} {t * 1000:10.1f} {(t - base) * 1000:10.1f} "
            f"{over_peer:>10}"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="fresh interpreters per case")
    parser.add_argument(
        "--no-pyc", action="store_true", help="compile every module (no bytecode cache)"
    )
    parser.add_argument(
        "--provider", choices=("aws", "azure", "gcp"), help="measure one adapter's rows only"
    )
    args = parser.parse_args(argv)
    pyc = not args.no_pyc
    if args.provider == "aws":
        cases = CASES
    elif args.provider == "azure":
        cases = (CASES[0], *AZURE_CASES)  # (a), the bare interpreter, is the baseline
    elif args.provider == "gcp":
        cases = (CASES[0], *GCP_CASES)
    else:
        cases = CASES + AZURE_CASES + GCP_CASES
    print(report(measure(args.runs, cases, pyc=pyc), args.runs, pyc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
