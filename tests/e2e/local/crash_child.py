"""The process the crash test kills: sends messages and puts objects into a broker while a
consumer thread acks what it receives, reporting on stdout (line-buffered) each send and
put *after* it returned, and each ack before and after it.

    python crash_child.py STATE_DIR FIRST COUNT
"""

from __future__ import annotations

import sys
import threading
import time

from polyfn.local.broker import Broker

QUEUE = "work"
BUCKET = "bucket"


def main() -> None:
    state_dir, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    lock = threading.Lock()

    def say(*parts: str) -> None:
        with lock:
            print(*parts, flush=True)

    broker = Broker(state_dir)
    broker.declare(QUEUE, visibility_timeout=1)

    def consume() -> None:
        while True:
            broker.wait_visible(QUEUE, 1.0)
            for message in broker.receive(QUEUE, max_messages=10):
                time.sleep(0.002)  # "processing", slower than the sends: a backlog builds
                say("acking", message.id)
                broker.ack(message.receipt or "")
                say("acked", message.id)

    threading.Thread(target=consume, daemon=True).start()
    for i in range(first, first + count):
        say("sent", broker.send(QUEUE, f"m{i}".encode()))
        if i % 10 == 0:
            info = broker.put(BUCKET, f"k/{i}", f"data {i}".encode())
            say("put", info.key, info.etag)
        time.sleep(0.001)  # a flow, not a burst: the kill lands in the middle of it
    say("done")
    time.sleep(60)  # the test kills us before


if __name__ == "__main__":
    main()
