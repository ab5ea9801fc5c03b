"""The cloud emulators ``polyfn dev --emulators`` starts for handlers that call a provider's
SDK directly (outside ``ctx.outputs``), and the environment variables pointing the SDKs
at them.

    with start_emulators(["aws", "gcp"]) as emulators:   # os.environ now points at them
        app = load_app("app:app")                        # import after: SDK clients made
        ...                                              # at import time see the emulators
    # stopped, os.environ restored

- ``aws``: moto's server (``pip install 'moto[server]'``), in-process. Sets
  ``AWS_ENDPOINT_URL`` (boto3 >= 1.28 sends every service there) and fake credentials, so
  a call never reaches AWS with real keys; ``AWS_REGION`` / ``AWS_DEFAULT_REGION`` only
  when unset (default us-east-1).
- ``azure``: Azurite (``npm install azurite``: ``./node_modules/.bin/azurite``, else
  ``azurite`` on PATH), in memory, on free ports. Sets ``AzureWebJobsStorage`` and
  ``AZURE_STORAGE_CONNECTION_STRING`` to its development account's connection string.
- ``gcp``: polyfn's Pub/Sub emulator (:mod:`polyfn.local.pubsub`, needs ``polyfn[gcp]``),
  in-process. Sets ``PUBSUB_EMULATOR_HOST``; ``GOOGLE_CLOUD_PROJECT`` only when unset
  (default ``polyfn-local``).

Everything listens on ``host`` (127.0.0.1) on ports the system picks, and keeps its state
in memory: each start is empty.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

NAMES = ("aws", "azure", "gcp")
DEFAULT_REGION = "us-east-1"
DEFAULT_PROJECT = "polyfn-local"
START_TIMEOUT = 30.0  # seconds Azurite gets to listen (node's start-up, cold caches)
STOP_TIMEOUT = 5.0
# Azurite's well-known development account (public, documented by Microsoft).
AZURE_ACCOUNT = "devstoreaccount1"
AZURE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
_AZURITE_LISTENING = re.compile(
    r"Azurite (Blob|Queue|Table) service is successfully listening at (\S+)"
)


class EmulatorError(RuntimeError):
    """An emulator that cannot start: not installed, or it failed; the message says what
    to do."""


def parse_names(text: str) -> tuple[str, ...]:
    """``"aws,gcp"`` → ``("aws", "gcp")``; ``"none"`` → ``()``; ``"all"`` → every one."""
    parts = [p.strip().lower() for p in text.split(",") if p.strip()]
    if parts == ["none"]:
        return ()
    if parts == ["all"]:
        return NAMES
    unknown = [p for p in parts if p not in NAMES]
    if unknown or not parts:
        raise ValueError(
            f"unknown emulator {', '.join(unknown) or repr(text)}: give a comma list of "
            f"{', '.join(NAMES)}, or all, or none"
        )
    return tuple(dict.fromkeys(parts))


@dataclass
class Emulator:
    """One running emulator: where it answers and the variables that point SDKs at it."""

    name: str
    """aws, azure or gcp."""
    product: str
    endpoints: dict[str, str]
    env: dict[str, str] = field(default_factory=dict)
    """The variables set for it, with their values (those left as the user set them too)."""
    stop: Callable[[], None] = lambda: None

    def describe(self) -> dict[str, Any]:
        return {"emulator": self.product, "endpoints": self.endpoints, "env": self.env}


class Emulators:
    """The emulators started, in order; a context manager that stops them and restores
    ``os.environ`` as it was."""

    def __init__(self) -> None:
        self.running: list[Emulator] = []
        self._saved: dict[str, str | None] = {}

    def describe(self) -> dict[str, Any]:
        """``{name: {"emulator", "endpoints", "env"}}``, for ``GET /_polyfn/emulators``."""
        return {e.name: e.describe() for e in self.running}

    def set_env(self, emulator: Emulator, force: dict[str, str], defaults: dict[str, str]) -> None:
        """Set ``force`` and, where the user has not, ``defaults``; remember what was there."""
        for name, value in [*force.items(), *defaults.items()]:
            self._saved.setdefault(name, os.environ.get(name))
            if name in force or not os.environ.get(name):
                os.environ[name] = value
            emulator.env[name] = os.environ[name]

    def close(self) -> None:
        while self.running:
            emulator = self.running.pop()
            try:
                emulator.stop()
            except Exception:  # stop the others anyway
                logging.getLogger("polyfn.local").exception("stopping %s failed", emulator.name)
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved.clear()

    def __enter__(self) -> Emulators:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_emulators(names: Iterable[str], host: str = "127.0.0.1") -> Emulators:
    """Start each named emulator and set its variables in ``os.environ``; on a failure the
    ones already started are stopped and :class:`EmulatorError` says why."""
    emulators = Emulators()
    try:
        for name in names:
            if name not in _STARTERS:
                raise EmulatorError(f"no emulator {name!r}: choose from {', '.join(NAMES)}")
            _STARTERS[name](emulators, host)
    except BaseException:
        emulators.close()
        raise
    return emulators


# -- aws: moto ----------------------------------------------------------------------------------
def _start_aws(emulators: Emulators, host: str) -> None:
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as e:
        raise EmulatorError(
            f"the aws emulator is moto's server, which is not installed ({e}): "
            "pip install 'moto[server]'"
        ) from None
    # werkzeug would log every request moto answers to stderr.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address=host, port=0, verbose=False)
    server.start()
    bound_host, port = server.get_host_and_port()
    url = f"http://{_url_host(bound_host)}:{port}"
    emulator = Emulator("aws", "moto", {"all services": url}, stop=server.stop)
    emulators.running.append(emulator)
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
    emulators.set_env(
        emulator,
        force={
            "AWS_ENDPOINT_URL": url,
            # Fake keys, so that a client ignoring AWS_ENDPOINT_URL fails instead of
            # reaching AWS with the developer's real ones.
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
        },
        defaults={"AWS_REGION": region, "AWS_DEFAULT_REGION": region},
    )


# -- gcp: polyfn's Pub/Sub emulator -------------------------------------------------------------
def _start_gcp(emulators: Emulators, host: str) -> None:
    try:
        from polyfn.local.pubsub.server import PubSubEmulator
    except ImportError as e:
        raise EmulatorError(
            f"the gcp emulator (Pub/Sub) needs google-cloud-pubsub and grpcio ({e}): "
            "pip install 'polyfn[gcp]'"
        ) from None
    server = PubSubEmulator(host, 0).start()
    emulator = Emulator(
        "gcp", "Pub/Sub emulator (polyfn)", {"pubsub": server.address}, stop=server.stop
    )
    emulators.running.append(emulator)
    emulators.set_env(
        emulator,
        force={"PUBSUB_EMULATOR_HOST": server.address},
        defaults={"GOOGLE_CLOUD_PROJECT": DEFAULT_PROJECT},
    )


# -- azure: Azurite -----------------------------------------------------------------------------
def find_azurite(cwd: Path | None = None) -> str:
    """``./node_modules/.bin/azurite``, else ``azurite`` on PATH."""
    local = (cwd or Path.cwd()) / "node_modules" / ".bin" / "azurite"
    if local.exists():
        return str(local)
    found = shutil.which("azurite")
    if found is None:
        raise EmulatorError(
            "the azure emulator is Azurite, which is not installed: run `npm install "
            "azurite` in this folder (or `npm install -g azurite`); it needs Node.js"
        )
    return found


class _Azurite:
    """An Azurite process on system-chosen ports, read from its start-up lines (no port
    race, no polling)."""

    def __init__(self, command: str, host: str) -> None:
        args = [command, "--silent", "--disableTelemetry", "--skipApiVersionCheck", "--loose"]
        args += ["--inMemoryPersistence", "--extentMemoryLimit", "256"]
        for service in ("blob", "queue", "table"):
            args += [f"--{service}Host", host, f"--{service}Port", "0"]
        try:
            self.process = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
            )
        except OSError as e:
            raise EmulatorError(f"cannot run Azurite ({command}): {e}") from None
        self.urls: dict[str, str] = {}
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self._done = False
        threading.Thread(target=self._read, name="azurite-output", daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:  # drained until exit: a full pipe would block it
            with self._cond:
                self.lines = [*self.lines[-50:], line.rstrip()]
                if m := _AZURITE_LISTENING.search(line):
                    self.urls[m.group(1).lower()] = m.group(2)
                self._cond.notify_all()
        with self._cond:
            self._done = True
            self._cond.notify_all()

    def wait_listening(self, timeout: float) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        with self._cond:  # woken by each line Azurite prints
            while len(self.urls) < 3 and not self._done:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            urls, done, output = dict(self.urls), self._done, "\n".join(self.lines)
        if len(urls) == 3:
            return urls
        self.stop()
        why = "exited" if done else f"did not listen within {timeout:.0f}s"
        raise EmulatorError(f"Azurite {why}:\n{output or '(no output)'}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT)


def azure_connection_string(urls: dict[str, str]) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={AZURE_ACCOUNT};AccountKey={AZURE_KEY};"
        f"BlobEndpoint={urls['blob']}/{AZURE_ACCOUNT};"
        f"QueueEndpoint={urls['queue']}/{AZURE_ACCOUNT};"
        f"TableEndpoint={urls['table']}/{AZURE_ACCOUNT};"
    )


def _start_azure(emulators: Emulators, host: str) -> None:
    azurite = _Azurite(find_azurite(), host)
    urls = azurite.wait_listening(START_TIMEOUT)
    emulator = Emulator("azure", "Azurite", urls, stop=azurite.stop)
    emulators.running.append(emulator)
    connection = azure_connection_string(urls)
    emulators.set_env(
        emulator,
        force={"AzureWebJobsStorage": connection, "AZURE_STORAGE_CONNECTION_STRING": connection},
        defaults={},
    )


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


_STARTERS: dict[str, Callable[[Emulators, str], None]] = {
    "aws": _start_aws,
    "azure": _start_azure,
    "gcp": _start_gcp,
}
