"""``python -m polyfn.local.pubsub [--host 127.0.0.1] [--port 8085]``: serve until stopped."""

from __future__ import annotations

import argparse
import logging
import signal
import threading

from .server import PubSubEmulator


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m polyfn.local.pubsub",
        description="A local Pub/Sub emulator for google-cloud-pubsub (PUBSUB_EMULATOR_HOST).",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--port", type=int, default=8085, help="port to bind, 0 for any (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    with PubSubEmulator(args.host, args.port) as emulator:
        print(f"export PUBSUB_EMULATOR_HOST={emulator.address}", flush=True)
        done.wait()


if __name__ == "__main__":
    main()
