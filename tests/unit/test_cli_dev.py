"""``polyfn dev``'s arguments, and its server in-process: the control endpoints' answers
to bad requests, HTTP translation, and the producers' arguments."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from polyfn import App, HttpRequest, HttpResponse
from polyfn.cli import build_parser
from polyfn.cli.errors import CliError
from polyfn.cli.produce import parse_attrs
from polyfn.local.clock import RealClock, VirtualClock
from polyfn.local.reload import Reloader, describe_error
from polyfn.local.runtime import LocalRuntime
from polyfn.local.server import DevServer


def test_dev_arguments_and_defaults():
    args = build_parser().parse_args(["dev"])
    assert (args.target, args.provider, args.port, args.host) == (None, "none", 8080, "127.0.0.1")
    assert (args.state_dir, args.clock, args.reload) == (".polyfn/state", "real", True)
    args = build_parser().parse_args(
        ["dev", "samples/orders", "--as", "gcp", "--port", "0", "--clock", "virtual", "--no-reload"]
    )
    assert (args.target, args.provider, args.port, args.clock, args.reload) == (
        "samples/orders",
        "gcp",
        0,
        "virtual",
        False,
    )


@pytest.mark.parametrize("argv", [["dev", "--port", "70000"], ["dev", "--as", "ibm"]])
def test_dev_refuses_bad_arguments(argv, capsys):
    with pytest.raises(SystemExit) as e:
        build_parser().parse_args(argv)
    assert e.value.code == 2


def test_producer_arguments(monkeypatch):
    args = build_parser().parse_args(["publish", "t", "hi", "--attr", "a=1", "--attr", "b=x=y"])
    assert parse_attrs(args.attr) == {"a": "1", "b": "x=y"}
    with pytest.raises(CliError, match="NAME=VALUE"):
        parse_attrs(["novalue"])
    from polyfn.cli.produce import base_url

    monkeypatch.setenv("POLYFN_URL", "http://127.0.0.1:9999/")
    assert base_url(build_parser().parse_args(["send", "q", "b"])) == "http://127.0.0.1:9999"
    args = build_parser().parse_args(["send", "q", "b", "--url", "http://h:1"])
    assert base_url(args) == "http://h:1"


# -- the server, in-process -----------------------------------------------------------------
app = App("unit")


@app.http(["GET", "POST"], "/echo")
def echo(req: HttpRequest, ctx: Any) -> HttpResponse:
    body = {
        "method": req.method,
        "query": req.query.to_multi(),
        "cookies": req.cookies,
        "body": req.text,
        "client_ip": req.client_ip,
    }
    resp = HttpResponse.from_json(body, 201)
    resp.cookies = ["a=1; Path=/", "b=2"]
    return resp


@app.queue("jobs")
def job(msg: Any, ctx: Any) -> None:
    pass


def call(url: str, method: str, path: str, body: Any = None, raw: bytes | None = None) -> Any:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url + path, data=data, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read()), resp.headers
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read()), e.headers


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Any]:
    def start(clock: Any = None) -> tuple[DevServer, LocalRuntime]:
        server = DevServer(port=0).start(poll_interval=0.01)
        rt = LocalRuntime(app, state_dir=tmp_path / "state", clock=clock or VirtualClock())
        started.append((server, rt))
        return server, rt

    started: list[tuple[DevServer, LocalRuntime]] = []
    yield start
    for server, rt in started:
        server.stop()
        rt.stop()


def test_health_is_loading_until_ready(served):
    server, rt = served()
    assert call(server.url, "GET", "/_polyfn/health")[:2] == (503, {"status": "loading"})
    assert call(server.url, "GET", "/echo")[0] == 503
    assert call(server.url, "GET", "/_polyfn/idle")[:2] == (503, {"error": "the app is loading"})
    server.ready(rt.start())
    status, body, _ = call(server.url, "GET", "/_polyfn/health")
    assert status == 200 and body["status"] == "ready" and body["app"] == "unit"
    assert body["functions"] == {"echo": ["http"], "job": ["queue"]}


def test_http_requests_become_neutral_requests(served):
    server, rt = served()
    server.ready(rt.start())
    req = urllib.request.Request(
        server.url + "/echo?a=1&a=2&b=",
        data=b"hello",
        method="POST",
        headers={"Cookie": "s=x; t=y"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 201
        assert resp.headers.get_all("Set-Cookie") == ["a=1; Path=/", "b=2"]
        body = json.loads(resp.read())
    assert body == {
        "method": "POST",
        "query": {"a": ["1", "2"], "b": [""]},
        "cookies": {"s": "x", "t": "y"},
        "body": "hello",
        "client_ip": "127.0.0.1",
    }
    assert call(server.url, "GET", "/nowhere")[:2] == (404, {"error": "not found"})
    assert call(server.url, "DELETE", "/echo")[0] == 405


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "message"),
    [
        ("GET", "/_polyfn/nothing", None, 404, "no such control endpoint"),
        ("GET", "/_polyfn/clock", None, 405, "method not allowed"),
        ("POST", "/_polyfn/clock", {"seconds": 1}, 400, "advance_seconds"),
        ("POST", "/_polyfn/clock", {"advance_seconds": "1"}, 400, "must be a number"),
        ("POST", "/_polyfn/clock", {"advance_seconds": -1}, 400, "never goes back"),
        ("POST", "/_polyfn/clock", [1], 400, "JSON object"),
        ("GET", "/_polyfn/idle?timeout=soon", None, 400, "timeout must be a number"),
        ("GET", "/_polyfn/idle?timeout=9999", None, 400, "between 0 and"),
        ("POST", "/_polyfn/send", {"body": "x"}, 400, '"queue"'),
        ("POST", "/_polyfn/send", {"queue": "jobs"}, 400, '"body"'),
        ("POST", "/_polyfn/send", {"queue": "jobs", "body_base64": "%%"}, 400, "base64"),
        ("POST", "/_polyfn/send", {"queue": "jobs", "body": "x", "attributes": {"a": 1}}, 400, ""),
        ("POST", "/_polyfn/publish", {"body": "x"}, 400, '"topic"'),
        ("GET", "/_polyfn/objects/b/missing", None, 404, "no object"),
        ("DELETE", "/_polyfn/objects/b/missing", None, 404, "no object"),
        ("PUT", "/_polyfn/objects/bucket-only", None, 400, "BUCKET/KEY"),
        ("PUT", "/_polyfn/objects/b/../../etc", None, 400, ""),
        ("POST", "/_polyfn/objects/b/k", None, 405, "PUT, GET or DELETE"),
    ],
)
def test_control_errors(served, method, path, body, status, message):
    server, rt = served()
    server.ready(rt.start())
    got, answer, _ = call(server.url, method, path, body)
    assert got == status, answer
    assert message in answer["error"]


def test_clock_needs_the_virtual_clock(served):
    server, rt = served(RealClock())
    server.ready(rt.start())
    status, body, _ = call(server.url, "POST", "/_polyfn/clock", {"advance_seconds": 5})
    assert status == 409 and "--clock virtual" in body["error"]


def test_control_producers_objects_and_stats(served):
    server, rt = served()
    server.ready(rt.start())
    status, body, _ = call(
        server.url, "POST", "/_polyfn/send", {"queue": "jobs", "body": {"n": 1}, "group_id": None}
    )
    assert status == 200 and body["queue"] == "jobs"
    assert call(server.url, "GET", "/_polyfn/idle?timeout=5")[:2] == (200, {"idle": True})
    status, queues, _ = call(server.url, "GET", "/_polyfn/queues")
    assert queues["jobs"]["visible"] == 0 and queues["jobs"]["dead_lettered"] == 0
    req = urllib.request.Request(
        server.url + "/_polyfn/objects/files/a/b.txt",
        data=b"abc",
        method="PUT",
        headers={"content-type": "text/plain"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert json.loads(resp.read())["size"] == 3
    status, obj, _ = call(server.url, "GET", "/_polyfn/objects/files/a/b.txt")
    assert (obj["content_type"], obj["body_base64"]) == ("text/plain", "YWJj")
    assert call(server.url, "DELETE", "/_polyfn/objects/files/a/b.txt")[0] == 200
    status, body, _ = call(server.url, "POST", "/_polyfn/publish", {"topic": "t", "body": "x"})
    assert status == 200 and body["topic"] == "t"


def test_idle_times_out_with_504(served):
    server, rt = served()
    server.ready(rt.start())
    rt.broker.declare("held")
    rt.send("jobs", "x", delay_seconds=60)  # waits for the virtual clock: never idle
    assert call(server.url, "GET", "/_polyfn/idle?timeout=0.05")[:2] == (504, {"idle": False})


# -- reloading, in-process -----------------------------------------------------------------
def test_reload_keeps_the_old_modules_on_a_failure(tmp_path):
    import importlib
    import sys

    pkg = tmp_path / "reloadpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "helper.py").write_text("VALUE = 1\n")
    (pkg / "app.py").write_text(
        "from polyfn import App\nfrom .helper import VALUE\napp = App('r')\n"
    )
    sys.path.insert(0, str(tmp_path))
    try:
        first = importlib.import_module("reloadpkg.app")
        applied: list[App] = []
        errors: list[BaseException] = []
        r = Reloader(
            pkg,
            lambda: importlib.import_module("reloadpkg.app").app,
            applied.append,
            on_error=errors.append,
        )
        (pkg / "helper.py").write_text("VALUE = 2\n")
        assert r.reload([str(pkg / "helper.py")])
        second = sys.modules["reloadpkg.app"]
        assert second is not first and second.VALUE == 2 and applied == [second.app]
        assert first.VALUE == 1  # the old namespace is left as it was

        (pkg / "helper.py").write_text("VALUE = = 3\n")
        assert not r.reload([str(pkg / "helper.py")])
        assert sys.modules["reloadpkg.app"] is second  # the previous code stays
        assert sys.modules["reloadpkg.helper"].VALUE == 2
        assert describe_error(errors[0]).startswith(f"{pkg / 'helper.py'}:1: ")
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n.startswith("reloadpkg")]:
            del sys.modules[name]
