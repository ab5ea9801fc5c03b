"""kill -9 of a process in the middle of a flow of 1,000 queued messages loses none of them:
every message whose send returned is, after a restart on the same state dir, either acked
(its ack may have run) or still deliverable; every acked one is gone; every object whose
put returned is there with its storage event. Twice: the second run starts from the
first one's recovered state."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from polyfn.local.broker import Broker

from .crash_child import BUCKET, QUEUE

pytestmark = pytest.mark.e2e

CHILD = Path(__file__).with_name("crash_child.py")
REPO = Path(__file__).resolve().parents[3]
FLOW = 1000


@dataclass
class Seen:
    sent: list[str] = field(default_factory=list)
    acking: set[str] = field(default_factory=set)
    acked: set[str] = field(default_factory=set)
    puts: dict[str, str] = field(default_factory=dict)
    new_puts: set[str] = field(default_factory=set)  # this round's: their events are pending


def _run_and_kill(state_dir: Path, first: int, seen: Seen) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), str(state_dir), str(first), str(FLOW)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    sent_before = len(seen.sent)
    seen.new_puts = set()
    killed = False
    try:
        # Lines written before the kill stay readable after it: read to the end.
        for line in proc.stdout:
            parts = line.split()
            if not line.endswith("\n") or not parts:
                continue  # a line cut by the kill
            if parts[0] == "sent":
                seen.sent.append(parts[1])
            elif parts[0] == "acking":
                seen.acking.add(parts[1])
            elif parts[0] == "acked":
                seen.acked.add(parts[1])
            elif parts[0] == "put":
                seen.puts[parts[1]] = parts[2]
                seen.new_puts.add(parts[1])
            if not killed and len(seen.sent) - sent_before >= FLOW // 2:
                proc.send_signal(signal.SIGKILL)  # kill -9, mid-flow
                killed = True
    finally:
        if not killed:
            proc.kill()
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    assert FLOW // 2 <= len(seen.sent) - sent_before < FLOW, "the kill did not land mid-flow"


def _check(state_dir: Path, seen: Seen) -> None:
    with Broker(state_dir) as broker:
        queued = {m.id for m in broker.peek(QUEUE, limit=10 * FLOW)}
        lost = [mid for mid in seen.sent if mid not in queued and mid not in seen.acking]
        assert lost == [], f"{len(lost)} accepted messages lost"
        assert not seen.acked & queued, "acked messages came back"

        # Everything still queued is deliverable (leases cut by the kill run out).
        delivered: set[str] = set()
        while delivered != queued:
            assert broker.wait_visible(QUEUE, 5.0), f"{len(queued - delivered)} not delivered"
            for message in broker.receive(QUEUE, max_messages=10, visibility_timeout=60):
                delivered.add(message.id)
        assert delivered == queued

        keys = {info.key: info.etag for info in broker.list(BUCKET)}
        for key, etag in seen.puts.items():
            assert keys.get(key) == etag, f"object {key} lost"
        created = {r.event.key for r in broker.next_events(["storage"], limit=10 * FLOW)}
        assert seen.new_puts <= created, "a put lost its storage event"
        for record in broker.next_events(limit=10 * FLOW):
            broker.ack_event(record)
        # Give the messages back, for the next round's consumer.
        for message in broker.peek(QUEUE, limit=10 * FLOW):
            broker.nack(message.receipt or "", delay=0)
        assert not list((state_dir / "tmp").iterdir())


def test_kill_9_during_a_flow_of_1000_messages_loses_none(tmp_path: Path):
    state_dir = tmp_path / "state"
    seen = Seen()
    _run_and_kill(state_dir, 0, seen)
    _check(state_dir, seen)
    _run_and_kill(state_dir, FLOW, seen)
    _check(state_dir, seen)
    assert len(seen.sent) >= FLOW
