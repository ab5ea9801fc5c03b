"""``polyfn dev`` as a user runs it: a subprocess serving the orders sample, driven over
HTTP through the app's routes and the control endpoints, fed by ``polyfn send``,
``publish`` and ``put``, under each ``--as`` provider, and reloading edited code."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from polyfn.cli import main

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[3]
START_TIMEOUT = 20.0
WAIT = 10.0
_URL = re.compile(r"polyfn dev: serving (http://\S+)")


class Dev:
    """A ``polyfn dev`` subprocess; a thread collects its output so that waits wake on
    each new line instead of sleeping."""

    def __init__(self, *args: str, cwd: Path = REPO) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
        env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "polyfn.cli", "dev", *args, "--port", "0"],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        self.url = self.wait_for(_URL).group(1)
        self.wait_ready()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    @property
    def output(self) -> str:
        with self._cond:
            return "\n".join(self.lines)

    def wait_for(self, pattern: re.Pattern[str] | str, timeout: float = START_TIMEOUT) -> Any:
        """The first output line matching ``pattern``; fails after ``timeout``."""
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        seen = 0
        with self._cond:
            while True:
                for line in self.lines[seen:]:
                    if m := regex.search(line):
                        return m
                seen = len(self.lines)
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and seen == len(self.lines)):
                    pytest.fail(f"no line matching {regex.pattern!r} in:\n{self.output}")
                self._cond.wait(min(left, 0.5))

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            status, body = self.call("GET", "/_polyfn/health")
            if status == 200 and body["status"] == "ready":
                return
            assert status == 503 and body == {"status": "loading"}
            if time.monotonic() > deadline or self.proc.poll() is not None:
                pytest.fail(f"polyfn dev never got ready:\n{self.output}")
            with self._cond:  # the table's lines come as it gets ready
                self._cond.wait(0.05)

    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        for k, v in (headers or {"content-type": "application/json"}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=WAIT + 5) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def idle(self) -> None:
        status, body = self.call("GET", f"/_polyfn/idle?timeout={WAIT}")
        assert (status, body) == (200, {"idle": True}), self.output

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def start_dev(tmp_path: Path) -> Iterator[Any]:
    started: list[Dev] = []

    def start(*args: str, cwd: Path = REPO) -> Dev:
        dev = Dev(*args, "--state-dir", str(tmp_path / f"state{len(started)}"), cwd=cwd)
        started.append(dev)
        return dev

    yield start
    for dev in started:
        dev.stop()
    for dev in started:
        assert dev.proc.returncode == 0, dev.output


def _order(dev: Dev, order_id: str) -> None:
    status, body = dev.call("POST", "/orders", {"id": order_id, "items": [{"price": 2, "qty": 3}]})
    assert status == 200, body
    assert body["id"] == order_id


def _receipt(dev: Dev, order_id: str) -> dict[str, Any]:
    status, body = dev.call("GET", f"/_polyfn/objects/receipts/receipts/{order_id}.json")
    assert status == 200, body
    import base64

    return json.loads(base64.b64decode(body["body_base64"]))


def test_orders_flow_schedules_and_cli_producers(start_dev):
    dev = start_dev("samples/orders", "--clock", "virtual", "--no-reload")
    status, health = dev.call("GET", "/_polyfn/health")
    assert health["app"] == "orders" and health["provider"] == "neutral"
    assert health["functions"]["process_order"] == ["queue"]

    _order(dev, "o-1")
    dev.idle()
    assert _receipt(dev, "o-1")["total"] == 6
    for fn, kind in [("process_order", "queue"), ("index_receipt", "storage"), ("notify", "topic")]:
        dev.wait_for(rf"{fn} {kind} \[neutral\] ok 1 message", WAIT)
    status, queues = dev.call("GET", "/_polyfn/queues")
    assert queues["orders"] == {
        "visible": 0,
        "in_flight": 0,
        "delayed": 0,
        "dead_letter": "orders-dlq",
        "dead_lettered": 0,
    }

    # A day of virtual time: the nightly report fires once, at once.
    status, schedules = dev.call("GET", "/_polyfn/schedules")
    before = schedules["orders-nightly_report"]["last_fired"]
    status, moved = dev.call("POST", "/_polyfn/clock", {"advance_seconds": 86400})
    assert status == 200, moved
    dev.idle()
    dev.wait_for(r"nightly_report schedule \[neutral\] ok 1 message", WAIT)
    status, schedules = dev.call("GET", "/_polyfn/schedules")
    assert schedules["orders-nightly_report"]["last_fired"] > before

    # The producer commands, as another terminal would run them.
    order = json.dumps({"id": "o-2", "items": [{"price": 5}]})
    assert main(["send", "orders", order, "--url", dev.url]) == 0
    dev.idle()
    assert _receipt(dev, "o-2")["total"] == 5
    receipt = dev.output.count("index_receipt storage")
    file = REPO / "pyproject.toml"
    assert main(["put", "receipts", "receipts/by-hand.json", str(file), "--url", dev.url]) == 0
    dev.idle()
    assert dev.output.count("index_receipt storage") == receipt + 1
    body = json.dumps({"order": "o-3"})
    args = ["publish", "order-events", body, "--attr", "event=order-processed", "--url", dev.url]
    assert main(args) == 0
    dev.idle()
    dev.wait_for(r"notify .*'order': 'o-3'", WAIT)

    # A message failing 3 times is dead-lettered (virtual time jumps the backoffs).
    assert main(["send", "orders", '{"id": "bad", "items": []}', "--url", dev.url]) == 0
    for _ in range(3):
        dev.call("POST", "/_polyfn/clock", {"advance_seconds": 600})
        dev.call("GET", "/_polyfn/idle?timeout=1")
    dev.idle()
    status, queues = dev.call("GET", "/_polyfn/queues")
    assert queues["orders"]["dead_lettered"] == 1, dev.output


def test_producers_explain_a_missing_server(capsys):
    assert main(["send", "orders", "x", "--url", "http://127.0.0.1:9"]) == 1
    assert "no polyfn dev answers at http://127.0.0.1:9" in capsys.readouterr().err


@pytest.mark.parametrize("provider", ["aws", "azure", "gcp"])
def test_orders_through_each_provider(start_dev, provider):
    dev = start_dev("samples/orders", "--as", provider, "--clock", "virtual", "--no-reload")
    status, health = dev.call("GET", "/_polyfn/health")
    assert health["provider"] == provider
    _order(dev, f"o-{provider}")
    dev.idle()
    assert _receipt(dev, f"o-{provider}")["total"] == 6
    dev.wait_for(rf"notify topic \[{provider}\] ok", WAIT)
    status, body = dev.call("GET", "/orders/o-1?verbose=1")
    assert (status, body) == (200, {"id": "o-1", "verbose": True})


def test_hot_reload_keeps_serving_through_a_syntax_error(start_dev, tmp_path):
    shutil.copytree(
        REPO / "samples" / "orders", tmp_path / "shop", ignore=shutil.ignore_patterns("tests")
    )
    app_file = tmp_path / "shop" / "app.py"
    dev = start_dev("shop", "--clock", "virtual", cwd=tmp_path)
    dev.wait_for(r"watching .* for changes")
    assert dev.call("GET", "/orders/a") == (200, {"id": "a", "verbose": False})

    source = app_file.read_text()
    old = 'return {"id": req.path_params["id"], "verbose": req.query.get("verbose") == "1"}'
    assert old in source
    app_file.write_text(source.replace(old, 'return {"id": req.path_params["id"], "v": 2}'))
    deadline = time.monotonic() + WAIT
    while dev.call("GET", "/orders/a")[1] != {"id": "a", "v": 2}:
        assert time.monotonic() < deadline, f"the edit never applied:\n{dev.output}"
        dev.wait_for(r"reloaded", WAIT)  # wakes as polyfn dev reports the reload

    # The queue's state survives reloads: an order queued before one is processed after.
    _order(dev, "kept")
    dev.idle()
    assert _receipt(dev, "kept")["total"] == 6

    app_file.write_text(source.replace("def get_order(", "def get_order(:"))
    m = dev.wait_for(r"reload failed, the previous code keeps serving: (.*)", WAIT)
    assert "app.py" in m.group(1) and "line" in m.group(1), m.group(0)
    assert dev.call("GET", "/orders/a") == (200, {"id": "a", "v": 2})


@pytest.mark.parametrize("provider", ["none", "aws"])
def test_json_logs_carry_the_requests_trace_through_queue_and_topic(start_dev, provider):
    """``--log-format json``: every line after the ready line is a JSON object; the
    request's traceparent reaches process_order (queue) and notify (topic) in the logs."""
    dev = start_dev("samples/orders", "--as", provider, "--log-format", "json", "--no-reload")
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    headers = {
        "content-type": "application/json",
        "traceparent": f"00-{trace_id}-00f067aa0ba902b7-01",
    }
    order = {"id": "o-t", "items": [{"price": 2, "qty": 3}]}
    status, _ = dev.call("POST", "/orders", order, headers=headers)
    assert status == 200
    dev.idle()
    dev.wait_for(r'"function": "notify".*"verdict": "ok"')
    records = []
    for line in dev.lines:
        if line.startswith("{"):
            records.append(json.loads(line))
    notify = [r for r in records if r.get("logger") == "polyfn.fn.notify"]
    assert notify and all(r["trace_id"] == trace_id for r in notify), dev.output
    assert all(r["correlation_id"] == trace_id for r in notify)
    deliveries = {r["function"] for r in records if r.get("logger") == "polyfn.dev"}
    assert {"process_order", "notify"} <= deliveries
