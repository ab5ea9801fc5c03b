"""Helpers and fixtures of the Google Cloud contract tests: Google's sample events
(tests/events/gcp, provenance in its PROVENANCE.md), Flask requests as functions-framework
builds them, and functions-framework apps serving a main.py of targets (its test client,
or a real HTTP server on 127.0.0.1)."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

EVENTS = Path(__file__).parents[2] / "events" / "gcp"
PUBLISHED = "google.cloud.pubsub.topic.v1.messagePublished"


def load(name: str) -> Any:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def files(prefix: str) -> list[str]:
    found = sorted(p.name for p in EVENTS.glob(f"{prefix}*.json"))
    assert found, f"no sample events for {prefix!r}"
    return found


def cloudevent(data: Any, **attrs: Any) -> dict[str, Any]:
    """A structured CloudEvent around a binary-mode sample's data (the attributes
    Eventarc sets for the type, unless given)."""
    out = {
        "specversion": "1.0",
        "id": "8134215637394811",
        "source": "//pubsub.googleapis.com/projects/test-project/topics/my-topic",
        "type": PUBLISHED,
        "time": "2021-02-05T04:06:14.109Z",
        "datacontenttype": "application/json",
    }
    out.update(attrs)
    out["data"] = data
    return out


def flask_request(
    headers: dict[str, str], body: bytes, path: str = "/", method: str = "POST"
) -> Any:
    """The Flask request functions-framework would hand an HTTP function."""
    from flask import Request
    from werkzeug.test import EnvironBuilder

    builder = EnvironBuilder(path=path, method=method, headers=headers, data=body)
    try:
        return Request(builder.get_environ())
    finally:
        builder.close()


def write_main(directory: Path, body: str) -> Path:
    """A main.py holding ``body`` (imports and ``globals().update(targets(...))``)."""
    path = directory / "main.py"
    path.write_text(body, encoding="utf-8")
    return path


def create_app(target: str, source: Path | str) -> Any:
    """functions-framework's own app for ``target`` of ``source``, signature type from
    the registry (no --signature-type)."""
    import functions_framework

    return functions_framework.create_app(target, str(source))


@contextmanager
def real_server(app: Any) -> Iterator[str]:
    """``app`` behind werkzeug's threaded server on 127.0.0.1 (an ephemeral port); yields
    its base URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


def post(
    url: str, headers: dict[str, str], body: bytes, method: str = "POST"
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP request over the loopback (no proxies); (status, headers, body)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, data=body or None, headers=headers, method=method)
    try:
        with opener.open(request, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


# -- fixtures (imported by the test modules: a conftest.py here would shadow the
# repository's, which other tests import as `conftest`) ---------------------------------

MAIN = """\
from gcp_probe_app import OUTPUTS, app

from polyfn.adapters.gcp import GcpOptions, targets

globals().update(targets(app, GcpOptions({options}), outputs=OUTPUTS))
"""


@pytest.fixture(name="gcp_environment", autouse=True)
def gcp_environment_fixture(monkeypatch: pytest.MonkeyPatch) -> None:
    # functions-framework writes FUNCTION_TARGET and FUNCTION_SIGNATURE_TYPE into the
    # environment: restored after each test. No Google client may look for credentials.
    for name in ("FUNCTION_TARGET", "FUNCTION_SIGNATURE_TYPE", "FUNCTION_REGION", "K_SERVICE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "polyfn-test")
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    import gcp_probe_app

    gcp_probe_app.take()
    gcp_probe_app.DRIVER.sent.clear()


@pytest.fixture(name="serve")
def serve_fixture(tmp_path: Path) -> Callable[..., Any]:
    """``serve(target, options="")``: functions-framework's Flask app serving one target
    of the probe app (``options``: GcpOptions arguments as source text)."""
    made: dict[str, Path] = {}

    def make(target: str, options: str = "") -> Any:
        if options not in made:
            directory = tmp_path / f"main{len(made)}"
            directory.mkdir()
            made[options] = write_main(directory, MAIN.format(options=options))
        return create_app(target, made[options])

    return make
