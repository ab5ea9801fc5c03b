"""A kill -9 of ``polyfn dev`` during a flow of 1,000 queued messages loses none of them.

1,000 messages go in through ``POST /_polyfn/send`` (each one counts as accepted once its
200 came back); a queue handler, slow enough for a backlog to form, appends each id it
processes to a file, fsynced. Midway through its work, in the middle of a batch,
``polyfn dev`` gets SIGKILL; a new one on the same state dir takes the sends that were not
accepted yet (if any) and works off the rest (the killed one's in-flight messages come
back when their visibility timeout passes). Every accepted id must be in the file:
processed at least once, duplicates allowed.
"""

from __future__ import annotations

import http.client
import json
import re
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from .dev_process import SafeDev
from .test_dev_server import Dev

pytestmark = pytest.mark.e2e

FLOW = 1000
KILL_AFTER = 105  # messages recorded before the kill: mid-batch (batches of 10)
VISIBILITY = 2  # seconds: when the killed process's in-flight messages come back
MIN_BACKLOG = 100  # accepted, not yet processed, at the kill
IDLE_TIMEOUT = 20.0
_RECORDED = re.compile(r"\brecord recorded m-\d{4}$")

APP = """
import os
import time

from polyfn import App

app = App("kill9")
PROCESSED = {processed!r}


@app.queue("work", batch_size=10, visibility_timeout={visibility})
def record(msg, ctx):
    with open(PROCESSED, "a") as f:
        f.write(msg.text + "\\n")
        f.flush()
        os.fsync(f.fileno())
    ctx.logger.info("recorded %s", msg.text)  # the test kills on these lines: mid-batch
    time.sleep(0.005)  # more work: the queue runs behind the sends
"""


class _Dev(SafeDev):
    """polyfn dev, counting what the handler recorded."""

    def processed(self) -> int:
        """Messages the handler has logged as recorded so far."""
        with self._cond:
            return sum(1 for line in self.lines if _RECORDED.search(line))

    def wait_processed(self, count: int, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        with self._cond:  # woken by each line printed
            while (done := self.processed()) < count:
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    pytest.fail(f"{done} of {count} processed:\n{self.output[-3000:]}")
                self._cond.wait(left)
            return done


@pytest.fixture
def started() -> Iterator[list[Dev]]:
    devs: list[Dev] = []
    yield devs
    for dev in devs:  # SIGKILL, whatever state the test left them in
        if dev.proc.poll() is None:
            dev.proc.kill()
        dev.proc.wait(10)


def _send(url: str, ids: list[str], accepted: list[str], errors: list[BaseException]) -> None:
    """Send ``ids`` in order on one keep-alive connection, stopping at the first error."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        for message_id in ids:
            body = json.dumps({"queue": "work", "body": message_id})
            conn.request("POST", "/_polyfn/send", body, {"content-type": "application/json"})
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                raise AssertionError(f"send {message_id}: {resp.status}")
            accepted.append(message_id)  # only now: its 200 came back
    except BaseException as e:
        errors.append(e)
    finally:
        conn.close()


def test_kill_9_mid_flow_loses_no_accepted_message(tmp_path, started):
    processed_file = tmp_path / "processed.txt"
    app_dir = tmp_path / "kill9"
    app_dir.mkdir()
    app = APP.format(processed=str(processed_file), visibility=VISIBILITY)
    (app_dir / "app.py").write_text(textwrap.dedent(app))
    state = tmp_path / "state"
    args = (str(app_dir), "--no-reload", "--state-dir", str(state))

    ids = [f"m-{n:04d}" for n in range(FLOW)]
    first = _Dev(*args, cwd=tmp_path)
    started.append(first)
    accepted: list[str] = []
    errors: list[BaseException] = []
    sender = threading.Thread(target=_send, args=(first.url, ids, accepted, errors))
    sender.start()
    # The kill lands when the handler has done some work, the sends going on or not.
    first.wait_processed(KILL_AFTER, IDLE_TIMEOUT)
    first.proc.kill()  # SIGKILL: no shutdown code runs
    first.proc.wait(10)
    sender.join(10)
    assert not sender.is_alive()
    before = _lines(processed_file)
    backlog = len(accepted) - len(set(before))
    assert backlog >= MIN_BACKLOG, (
        f"{len(accepted)} accepted, {len(before)} processed at the kill: hardly a backlog"
    )

    # A new polyfn dev on the same state dir; the sends not accepted go to it (the one in
    # flight at the kill may be in the broker too: sent again, as a client retries).
    second = _Dev(*args, cwd=tmp_path)
    started.append(second)
    errors.clear()
    _send(second.url, ids[len(accepted) :], accepted, errors)
    assert not errors and accepted == ids, errors
    status, body = second.call("GET", f"/_polyfn/idle?timeout={IDLE_TIMEOUT}")
    assert (status, body) == (200, {"idle": True}), second.output[-3000:]

    processed = _lines(processed_file)
    lost = sorted(set(accepted) - set(processed))
    assert not lost, f"{len(lost)} accepted messages never processed: {lost[:10]}"
    status, queues = second.call("GET", "/_polyfn/queues")
    assert queues["work"]["dead_lettered"] == 0, queues
    assert set(processed) == set(accepted)  # at least once; a re-run is allowed


def _lines(path: Path) -> list[str]:
    # A kill between write and newline would leave a partial id: not a processed one.
    return [line for line in path.read_text().split("\n") if re.fullmatch(r"m-\d{4}", line)]
