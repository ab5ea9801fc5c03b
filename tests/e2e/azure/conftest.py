"""Azurite, the Azure Storage emulator (npm package ``azurite``, installed by ``npm ci`` from
the repository's package.json), started once per session on free loopback ports with
telemetry disabled and nothing persisted to disk.

A missing Azurite fails the tests rather than skipping them: CI installs it, so its absence
is a broken setup, not an optional feature.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
AZURITE = REPO / "node_modules" / ".bin" / "azurite"
START_TIMEOUT = 30.0  # seconds until all three services accept connections
STOP_TIMEOUT = 5.0
# The emulator's well-known development account (documented by Microsoft for Azurite).
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


class _PortTaken(RuntimeError):
    """Azurite could not bind a port we picked: someone took it in the meantime."""


def _free_ports(count: int) -> list[int]:
    # Bind them all before closing any, so the kernel cannot hand out the same port twice.
    socks = [socket.socket() for _ in range(count)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class Azurite:
    """A running Azurite: its connection string and clients of its blob, queue and table
    services."""

    blob_port: int
    queue_port: int
    table_port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def connection_string(self) -> str:
        base = "http://127.0.0.1"
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint={base}:{self.blob_port}/{ACCOUNT};"
            f"QueueEndpoint={base}:{self.queue_port}/{ACCOUNT};"
            f"TableEndpoint={base}:{self.table_port}/{ACCOUNT};"
        )

    def log(self) -> str:
        return self.log_path.read_text("utf-8", "replace")

    def queue_service(self) -> Any:
        from azure.storage.queue import QueueServiceClient

        return QueueServiceClient.from_connection_string(self.connection_string)

    def blob_service(self) -> Any:
        from azure.storage.blob import BlobServiceClient

        return BlobServiceClient.from_connection_string(self.connection_string)

    def table_service(self) -> Any:
        from azure.data.tables import TableServiceClient

        return TableServiceClient.from_connection_string(self.connection_string)

    def new_table_name(self) -> str:
        """A table name no other test uses (letters and digits only, as Azure requires)."""
        return f"t{uuid.uuid4().hex[:16]}"

    def new_queue(self) -> str:
        """A new, empty queue with a name no other test uses."""
        name = f"q-{uuid.uuid4().hex[:16]}"
        self.queue_service().create_queue(name)
        return name

    def new_container(self) -> str:
        name = f"c-{uuid.uuid4().hex[:16]}"
        self.blob_service().create_container(name)
        return name

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT)


def _start(workdir: Path) -> Azurite:
    blob, queue, table = _free_ports(3)
    log_path = workdir / "azurite.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                str(AZURITE),
                "--silent",  # no access log
                "--disableTelemetry",
                "--skipApiVersionCheck",  # the Python SDKs may be newer than the emulator
                "--loose",
                "--inMemoryPersistence",  # nothing on disk; every session starts empty
                "--extentMemoryLimit",
                "256",
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                str(blob),
                "--queueHost",
                "127.0.0.1",
                "--queuePort",
                str(queue),
                "--tableHost",
                "127.0.0.1",
                "--tablePort",
                str(table),
            ],
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    azurite = Azurite(blob, queue, table, process, log_path)
    deadline = time.monotonic() + START_TIMEOUT
    pending = [blob, queue, table]
    while pending:
        if process.poll() is not None:
            log = azurite.log()
            error = _PortTaken if "EADDRINUSE" in log else RuntimeError
            raise error(f"Azurite exited with code {process.returncode}:\n{log}")
        if time.monotonic() > deadline:
            azurite.stop()
            raise RuntimeError(
                f"Azurite did not listen on ports {pending} within {START_TIMEOUT:.0f}s:\n"
                f"{azurite.log()}"
            )
        pending = [p for p in pending if not _accepts(p)]
        if pending:
            time.sleep(0.05)  # between connection attempts, not a guess at readiness
    return azurite


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    if not AZURITE.exists():
        node = shutil.which("node") or "not found"
        pytest.fail(
            f"Azurite is not installed at {AZURITE.relative_to(REPO)} (node: {node}): run "
            "`npm ci --no-audit --no-fund` at the repository root (.ci/run does)",
            pytrace=False,
        )
    workdir = tmp_path_factory.mktemp("azurite")
    # Ports come free from the kernel but may be taken between our check and Azurite's
    # bind; one more try with new ports covers that race.
    try:
        server = _start(workdir)
    except _PortTaken:
        server = _start(workdir)
    try:
        yield server
    finally:
        server.stop()
