"""The local runtime on the real clock: the orders sample end to end through each provider
path with real threads and real time, send → handler latency, and ``kill -9`` of a process
running the runtime in the middle of a flow of 1,000 queued messages, which loses none of
them (a restart on the same state dir delivers every message whose send returned)."""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from polyfn import App, HttpRequest, QueueMessage
from polyfn.local.runtime import DeliveryReport, LocalRuntime

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[3]
FLOW = 1000
WAIT = 10.0


@pytest.mark.parametrize("provider", [None, "aws", "azure", "gcp"])
def test_orders_sample_on_the_real_clock(provider):
    reports: list[DeliveryReport] = []
    with LocalRuntime("samples.orders.app:app", provider=provider) as rt:
        rt.on_delivery(reports.append)
        for i in range(5):
            order = {"id": f"o-{i}", "items": [{"price": i, "qty": 2}]}
            body = json.dumps(order).encode()
            resp = rt.http(
                HttpRequest(
                    "POST", "/orders", body=body, headers={"content-type": "application/json"}
                )
            )
            assert resp.status == 200
        assert rt.wait_idle(WAIT)
        keys = [o.key for o in rt.broker.list("receipts")]
        assert keys == [f"receipts/o-{i}.json" for i in range(5)]
    ran = sorted({r.function for r in reports if r.ok})
    assert ran == ["index_receipt", "notify", "process_order"]


def test_send_to_handler_latency_is_milliseconds():
    app = App("latency")
    arrived: dict[str, float] = {}
    done = threading.Event()

    @app.queue("q", batch_size=1)
    def handle(msg: QueueMessage) -> None:
        arrived[msg.text] = time.perf_counter()
        if len(arrived) == 200:
            done.set()

    sent: dict[str, float] = {}
    with LocalRuntime(app) as rt:
        for i in range(200):
            sent[str(i)] = time.perf_counter()
            rt.send("q", str(i))
            # One at a time: each measures a wake-up, not a backlog.
            assert rt.wait_idle(WAIT)
        assert done.wait(WAIT)
    p50 = statistics.median(arrived[k] - sent[k] for k in sent) * 1000
    print(f"send → handler p50: {p50:.2f} ms")
    assert p50 < 20, f"send → handler p50 {p50:.2f} ms"


CHILD = """
import sys
import threading
import time

from polyfn import App
from polyfn.local.runtime import LocalRuntime

state_dir, count = sys.argv[1], int(sys.argv[2])
app = App("crash")
lock = threading.Lock()

def say(what, n):
    with lock:  # one write per line: the delivery thread and the sender both write
        sys.stdout.write(f"{what} {n}\\n")
        sys.stdout.flush()

@app.queue("work", batch_size=10, visibility_timeout=1)
def work(msg):
    time.sleep(0.001)  # slower than the sends: a backlog builds
    say("handled", msg.json()["n"])  # before the ack: at least once

with LocalRuntime(app, provider="aws", state_dir=state_dir) as rt:
    for n in range(count):
        rt.send("work", {"n": n})
        say("sent", n)
        time.sleep(0.0005)  # a flow, not a burst: the kill lands in the middle of it
    say("done", count)
    time.sleep(60)  # killed before
"""


def test_kill_9_mid_flow_loses_no_message(tmp_path: Path):
    child = tmp_path / "child.py"
    child.write_text(CHILD, encoding="utf-8")
    state = tmp_path / "state"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.Popen(
        [sys.executable, str(child), str(state), str(FLOW)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    sent: set[int] = set()
    handled: set[int] = set()
    killed = False
    try:
        for line in proc.stdout:  # lines written before the kill stay readable after it
            parts = line.split()
            if not line.endswith("\n") or len(parts) != 2:
                continue
            (sent if parts[0] == "sent" else handled).add(int(parts[1]))
            if not killed and len(sent) >= FLOW // 2:
                proc.send_signal(signal.SIGKILL)
                killed = True
    finally:
        if not killed:
            proc.kill()
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    assert FLOW // 2 <= len(sent) < FLOW, "the kill did not land mid-flow"

    app = App("crash")
    after: set[int] = set()

    @app.queue("work", batch_size=10, visibility_timeout=1)
    def work(msg: QueueMessage) -> None:
        after.add(msg.json()["n"])

    with LocalRuntime(app, provider="aws", state_dir=state) as rt:
        assert rt.wait_idle(WAIT)  # leases the killed process held expire within 1 s
    assert sent <= handled | after, f"lost: {sorted(sent - handled - after)[:10]}"
    assert after - handled, "the restart had nothing left to deliver: no backlog was killed"
