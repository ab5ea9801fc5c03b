"""The local workflow interpreter: state transitions per second, and a small workflow's
end-to-end time.

- a chain of 1,000 Pass states (each with a ResultPath), run by ``execute``: transitions
  per second;
- a 4-state workflow (Task → Choice → Task → Succeed, the Tasks polyfn functions) run
  end to end with ``polyfn.workflow.local.run`` (definition checked, resources bound,
  executed): the median time per run; the goal is under 1 ms.

    python bench/workflow_bench.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from polyfn.workflow import execute
from polyfn.workflow.builder import Choice, Pass, Succeed, Task, Workflow, path
from polyfn.workflow.local import run

CHAIN = 1000
GOAL_MS = 1.0


def chain(n: int = CHAIN) -> dict:
    return Workflow(*(Pass(f"S{i}", result=i, result_path="$.last") for i in range(n))).to_asl()


def four_states() -> dict:
    return Workflow(
        Task("Price", function="price", result_path="$.total"),
        Choice("Big?").when(path("$.total").gt(100), next="Discount").otherwise("Done"),
        Task("Discount", function="discount", result_path="$.total"),
        Succeed("Done"),
    ).to_asl()


FUNCTIONS = {
    "price": lambda o: sum(i["qty"] * i["price"] for i in o["items"]),
    "discount": lambda o: round(o["total"] * 0.9, 2),
}
ORDER = {"items": [{"qty": 3, "price": 40.0}, {"qty": 1, "price": 5.0}]}


def _median(fn, repeat: int) -> float:
    number, _ = timeit.Timer(fn).autorange()
    return statistics.median(t / number for t in timeit.repeat(fn, number=number, repeat=repeat))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)

    machine = chain()
    r = execute(machine, {})
    assert r.status == "SUCCEEDED" and r.output == {"last": CHAIN - 1}, r
    per_run = _median(lambda: execute(machine, {}), args.repeat)
    print(f"Workflow (local interpreter), median of {args.repeat}")
    print(
        f"  {CHAIN}-state Pass chain: {per_run * 1e3:8.2f} ms/run  "
        f"{CHAIN / per_run:12,.0f} transitions/s"
    )

    small = four_states()
    r = run(small, ORDER, functions=FUNCTIONS)
    assert r.status == "SUCCEEDED" and r.output["total"] == 112.5, r
    e2e = _median(lambda: run(small, ORDER, functions=FUNCTIONS), args.repeat)
    verdict = "PASS" if e2e * 1e3 < GOAL_MS else "MISS"
    print(
        f"  4-state workflow end to end: {e2e * 1e6:8.1f} µs/run  "
        f"(goal < {GOAL_MS:g} ms: {verdict})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
