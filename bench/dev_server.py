"""``polyfn dev`` beside functions-framework: start-up, HTTP latency, queue latency.

All on 127.0.0.1, with the same handler (bench/dev_app.py for polyfn, bench/dev_ff.py for
functions-framework: ``GET /items/{id}`` answering ``{"id": ..., "name": "widget",
"price": 4.5}``):

1. start-up to the first HTTP 200 of ``GET /items/1``: each server spawned as a user
   starts it, the bench polling the route; ``--runs`` rounds, interleaved, medians;
2. HTTP latency with a keep-alive client (one ``http.client.HTTPConnection`` per server,
   reused): ``--requests`` timed requests per server after a warm-up, in blocks going
   round-robin over the servers; p50 and p99, and the p50 over the handler's own cost
   (the handler called directly, in-process);
3. queue send -> handler: a ``LocalRuntime`` on the real clock in this process, ``--sends``
   sequential sends, each timed from just before ``send`` to the moment the handler runs;
   and the same through ``POST /_polyfn/send`` on an in-process ``DevServer``.

Goals (from the issue): HTTP p50 under 0.5 ms over the handler; queue send -> handler p50
under 5 ms.

    python bench/dev_server.py [--runs 7] [--requests 2000] [--sends 500]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.client import HTTPConnection
from pathlib import Path
from types import SimpleNamespace
from typing import Any

try:  # run as a script, or imported by run.py (which puts this folder on sys.path)
    from per_event import per_call_us
except ImportError:  # imported as bench.dev_server
    from .per_event import per_call_us

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
APP = HERE / "dev_app.py"  # the polyfn app
FF_SOURCE = HERE / "dev_ff.py"  # functions-framework's main.py
HOST = "127.0.0.1"
PATH = "/items/1"
EXPECTED = {"id": "1", "name": "widget", "price": 4.5}
HTTP_GOAL_MS = 0.5  # p50 over the handler
QUEUE_GOAL_MS = 5.0  # p50 send -> handler
START_TIMEOUT = 30.0
POLL = 0.002  # seconds between start-up probes
BLOCKS = 10  # round-robin blocks of the HTTP requests
WARMUP = 200

# The floor: the standard library's threading HTTP/1.1 server (which polyfn dev builds on,
# with the same settings: keep-alive, Nagle off) answering the same JSON, no app behind it.
FLOOR_SERVER = """
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    def do_GET(self):
        body = json.dumps({"id": self.path.rsplit("/", 1)[-1], "name": "widget",
                           "price": 4.5}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
s = ThreadingHTTPServer(("127.0.0.1", 0), H)
s.daemon_threads = True
print("serving http://127.0.0.1:%d" % s.server_address[1], flush=True)
s.serve_forever()
"""


# -- servers as subprocesses -----------------------------------------------------------------
class Served:
    """A server process; a thread drains its output (kept for error messages)."""

    def __init__(self, argv: list[str], port: int | None = None) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines: list[str] = []
        self.port = port
        self.serving_at: float | None = None
        if port is None:  # it prints "... serving http://HOST:PORT" first
            assert self.proc.stdout is not None
            line = self.proc.stdout.readline()
            self.serving_at = time.perf_counter()
            self.lines.append(line)
            if "serving http://" not in line:
                self.stop()
                raise RuntimeError(f"{argv[:4]} did not start: {self.output}")
            self.port = int(line.rsplit(":", 1)[1].strip().rstrip("/"))
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines[-40:])

    def wait_200(self) -> float:
        """Seconds from the spawn to the first 200 of ``GET PATH``."""
        assert self.port is not None
        deadline = time.perf_counter() + START_TIMEOUT
        while True:
            conn = HTTPConnection(HOST, self.port, timeout=1.0)
            try:
                conn.request("GET", PATH)
                resp = conn.getresponse()
                resp.read()
                if resp.status == 200:
                    return time.perf_counter() - self.started
            except OSError:  # not listening yet
                pass
            finally:
                conn.close()
            if self.proc.poll() is not None or time.perf_counter() > deadline:
                self.stop()
                raise RuntimeError(f"no 200 from {self.proc.args[:4]}:\n{self.output}")
            time.sleep(POLL)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def polyfn_dev(state_dir: str, provider: str = "none") -> Served:
    argv = [sys.executable, "-m", "polyfn.cli", "dev", str(APP), "--port", "0"]
    argv += ["--clock", "real", "--state-dir", state_dir, "--no-reload", "--as", provider]
    return Served(argv)


def functions_framework() -> Served:
    script = Path(sys.executable).with_name("functions-framework")
    cli = [str(script)] if script.exists() else [sys.executable, "-m", "functions_framework"]
    port = free_port()
    argv = [*cli, "--target", "get_item", "--source", str(FF_SOURCE)]
    return Served([*argv, "--host", HOST, "--port", str(port)], port=port)


def floor_server() -> Served:
    return Served([sys.executable, "-c", FLOOR_SERVER])


@contextmanager
def scratch() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="polyfn-bench-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# -- 1. start-up -----------------------------------------------------------------------------
def startup(runs: int) -> tuple[dict[str, float], float]:
    """Median ms to the first 200 per server, and polyfn dev's median ms to its serving
    line."""
    times: dict[str, list[float]] = {"polyfn": [], "ff": []}
    serving: list[float] = []
    for i in range(runs):
        with scratch() as tmp:
            dev = polyfn_dev(str(tmp / f"state{i}"))
            try:
                times["polyfn"].append(dev.wait_200())
                assert dev.serving_at is not None
                serving.append(dev.serving_at - dev.started)
            finally:
                dev.stop()
        ff = functions_framework()
        try:
            times["ff"].append(ff.wait_200())
        finally:
            ff.stop()
    medians = {k: statistics.median(v) * 1e3 for k, v in times.items()}
    return medians, statistics.median(serving) * 1e3


# -- 2. HTTP latency ---------------------------------------------------------------------------
class Client:
    """One keep-alive connection; counts the times the server closed it."""

    def __init__(self, port: int) -> None:
        self.conn = HTTPConnection(HOST, port, timeout=10)
        self.reconnects = 0
        self.samples: list[int] = []
        resp = self._get()
        body = resp.read()
        assert resp.status == 200 and json.loads(body) == EXPECTED, (resp.status, body)
        self.server = resp.getheader("server", "?")

    def _get(self) -> Any:
        self.conn.request("GET", PATH)
        return self.conn.getresponse()

    def run(self, n: int, keep: bool = True) -> None:
        clock = time.perf_counter_ns
        for _ in range(n):
            t0 = clock()
            resp = self._get()
            resp.read()
            t1 = clock()
            if resp.status != 200:
                raise RuntimeError(f"status {resp.status}")
            if self.conn.sock is None:  # the server closed it: the next request reconnects
                self.reconnects += 1
            if keep:
                self.samples.append(t1 - t0)


def percentile(ns: list[int], q: float) -> float:
    """The q-th percentile in microseconds."""
    ordered = sorted(ns)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e3


def http_latency(requests: int) -> tuple[dict[str, Client], dict[str, Served]]:
    servers: dict[str, Served] = {}
    with scratch() as tmp:
        try:
            for provider in ("none", "aws", "gcp"):
                servers[provider] = polyfn_dev(str(tmp / provider), provider)
            servers["ff"] = functions_framework()
            servers["floor"] = floor_server()
            for s in servers.values():
                s.wait_200()
            clients = {k: Client(s.port) for k, s in servers.items()}  # type: ignore[arg-type]
            for c in clients.values():
                c.run(WARMUP, keep=False)
            block = max(1, requests // BLOCKS)
            for _ in range(BLOCKS):
                for c in clients.values():
                    c.run(block)
            for c in clients.values():
                c.conn.close()
        finally:
            for s in servers.values():
                s.stop()
    return clients, servers


def handler_us(repeat: int = 5) -> dict[str, float]:
    """Each handler called directly, in-process: what the servers add to is this."""
    from polyfn import Context, HttpRequest

    dev_app = _dev_app()
    import dev_ff

    req = HttpRequest("GET", PATH)
    req.route, req.path_params = "/items/{id}", {"id": "1"}
    ctx = Context("get_item", "bench")
    flask_like = SimpleNamespace(path=PATH)
    assert dev_app.get_item(req, ctx) == EXPECTED == dev_ff.get_item(flask_like)
    return per_call_us(
        {
            "polyfn": lambda: dev_app.get_item(req, ctx),
            "ff": lambda: dev_ff.get_item(flask_like),
        },
        repeat,
    )


def _dev_app() -> Any:
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    import dev_app

    return dev_app


# -- 3. queue send -> handler --------------------------------------------------------------------
class Probe:
    """The queue handler's hook: records when it ran and wakes the sender."""

    def __init__(self) -> None:
        self.ran = threading.Event()
        self.at = 0

    def __call__(self, msg: Any) -> None:
        self.at = time.perf_counter_ns()
        self.ran.set()


def queue_latency(sends: int, send: Callable[[], Any], probe: Probe, rt: Any) -> list[int]:
    """``sends`` sequential sends: each waits for its handler and for the runtime to be
    idle again (the ack), so that every send finds it quiet; ns from send to handler."""
    out: list[int] = []
    for i in range(sends + 20):  # the first 20 warm up
        probe.ran.clear()
        t0 = time.perf_counter_ns()
        send()
        if not probe.ran.wait(10):
            raise RuntimeError("the queue handler did not run within 10 s")
        if i >= 20:
            out.append(probe.at - t0)
        if not rt.wait_idle(10):
            raise RuntimeError("the runtime did not go idle")
    return out


def queue_rows(sends: int) -> dict[str, list[int]]:
    from polyfn.local.clock import RealClock
    from polyfn.local.runtime import LocalRuntime
    from polyfn.local.server import DevServer

    dev_app = _dev_app()
    probe = Probe()
    dev_app.on_message = probe
    results: dict[str, list[int]] = {}
    try:
        with scratch() as tmp:
            for provider in (None, "aws", "gcp"):
                state = tmp / (provider or "none")
                with LocalRuntime(
                    dev_app.app, provider=provider, state_dir=state, clock=RealClock()
                ) as rt:

                    def send(rt: Any = rt) -> Any:
                        return rt.send(dev_app.QUEUE, "job")

                    results[provider or "neutral"] = queue_latency(sends, send, probe, rt)
            with LocalRuntime(dev_app.app, state_dir=tmp / "http", clock=RealClock()) as rt:
                server = DevServer(HOST, 0).start()
                server.ready(rt)
                conn = HTTPConnection(HOST, server.server_address[1], timeout=10)
                body = json.dumps({"queue": dev_app.QUEUE, "body": "job"})

                def post() -> None:
                    conn.request("POST", "/_polyfn/send", body)
                    resp = conn.getresponse()
                    resp.read()
                    assert resp.status == 200, resp.status

                try:
                    results["http"] = queue_latency(sends, post, probe, rt)
                finally:
                    conn.close()
                    server.stop()
    finally:
        dev_app.on_message = dev_app._ignore
    return results


# -- report ------------------------------------------------------------------------------------
def _row(label: str, width: int, *cells: str, note: str = "") -> str:
    return (
        f"  {label:{width}}" + "".join(f" {c:>9}" for c in cells) + (f"   {note}" if note else "")
    )


def _server_name(header: str) -> str:
    if header.startswith("gunicorn"):
        threads = os.environ.get("THREADS", str((os.cpu_count() or 1) * 4))
        return f"gunicorn, gthread worker ({os.environ.get('WORKERS', '1')} x {threads} threads)"
    if header.startswith("Werkzeug"):
        return "the Flask (Werkzeug) development server"
    return header


def verdict(value: float, limit: float) -> str:
    return "PASS" if value < limit else "MISS"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="start-up runs per server")
    parser.add_argument("--requests", type=int, default=2000, help="timed HTTP requests each")
    parser.add_argument("--sends", type=int, default=500, help="timed queue sends per row")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)  # the runtime's and servers' chatter
    started = time.perf_counter()

    up, serving_ms = startup(args.runs)
    clients, _ = http_latency(args.requests)
    handler = handler_us()
    queues = queue_rows(args.sends)

    ff_server = _server_name(clients["ff"].server)
    rel = APP.relative_to(ROOT)
    out = ["polyfn dev beside functions-framework (127.0.0.1)", ""]
    w = 62
    out.append(f"Start-up to the first HTTP 200 of GET {PATH} (median of {args.runs} runs)")
    out.append(_row("", w, "ms"))
    out.append(
        _row(
            f"(a) polyfn dev {rel} --port 0 --no-reload",
            w,
            f"{up['polyfn']:.1f}",
            note=f"serving line at {serving_ms:.1f} ms",
        )
    )
    out.append(
        _row("(b) functions-framework --target get_item", w, f"{up['ff']:.1f}", note=ff_server)
    )
    out.append("")

    n = len(clients["none"].samples)
    out.append(
        f"HTTP GET {PATH}, one keep-alive connection per server "
        f"({n} requests after {WARMUP} warm-up, us per request)"
    )
    out.append(_row("", w, "p50", "p99", "p50-hdlr"))
    labels = {
        "none": ("(i)   polyfn dev (neutral path)", "polyfn"),
        "aws": ("(ii)  polyfn dev --as aws", "polyfn"),
        "gcp": ("(iii) polyfn dev --as gcp", "polyfn"),
        "ff": ("(iv)  functions-framework", "ff"),
        "floor": ("(v)   stdlib ThreadingHTTPServer, same JSON, no app", None),
    }
    p50: dict[str, float] = {}
    for key, (label, hdlr) in labels.items():
        c = clients[key]
        p50[key] = percentile(c.samples, 0.5)
        over = f"{p50[key] - handler[hdlr]:.1f}" if hdlr else ""
        notes = ["the floor of this client"] if key == "floor" else []
        if key == "ff":
            notes.append(ff_server)
        if c.reconnects:
            notes.append(f"{c.reconnects} reconnects")
        out.append(
            _row(
                label,
                w,
                f"{p50[key]:.1f}",
                f"{percentile(c.samples, 0.99):.1f}",
                over,
                note="; ".join(notes),
            )
        )
    out.append(
        f"  handler alone, called in-process: polyfn {handler['polyfn']:.2f} us, "
        f"functions-framework {handler['ff']:.2f} us"
    )
    out.append("")

    k = len(queues["neutral"])
    out.append(f"Queue send -> handler, real clock ({k} sequential sends after 20 warm-up)")
    out.append(_row("", w, "p50 ms", "p99 ms"))
    qlabels = {
        "neutral": "(i)   LocalRuntime.send, in-process (neutral path)",
        "aws": "(ii)  LocalRuntime.send, --as aws",
        "gcp": "(iii) LocalRuntime.send, --as gcp",
        "http": "(iv)  POST /_polyfn/send to a DevServer (neutral path)",
    }
    q50: dict[str, float] = {}
    for key, label in qlabels.items():
        q50[key] = percentile(queues[key], 0.5) / 1e3
        out.append(_row(label, w, f"{q50[key]:.2f}", f"{percentile(queues[key], 0.99) / 1e3:.2f}"))
    out.append(_row("(v)   functions-framework", w, "n/a", "n/a", note="no queue (peer: n/a)"))
    out.append("")

    over_ms = (p50["none"] - handler["polyfn"]) / 1e3
    out.append(
        f"goal: polyfn dev HTTP p50 over the handler (i) < {HTTP_GOAL_MS} ms: {over_ms:.3f} ms "
        f"(functions-framework (iv): {(p50['ff'] - handler['ff']) / 1e3:.3f} ms)  "
        f"{verdict(over_ms, HTTP_GOAL_MS)}"
    )
    out.append(
        f"goal: queue send -> handler p50 (i) < {QUEUE_GOAL_MS:g} ms: {q50['neutral']:.2f} ms  "
        f"{verdict(q50['neutral'], QUEUE_GOAL_MS)}"
    )
    out.append(f"(the dev bench took {time.perf_counter() - started:.0f} s)")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
