"""``PubSubEmulator``: the broker, its push dispatcher and a gRPC server on loopback."""

from __future__ import annotations

from concurrent import futures
from typing import Any

import grpc

from .broker import Broker
from .push import PushDispatcher
from .service import PubSubService

# Each StreamingPull and each waiting Pull holds a server thread for as long as it lasts.
MAX_WORKERS = 64
STOP_GRACE = 0.5
STOP_TIMEOUT = 5.0


class PubSubEmulator:
    """A Pub/Sub emulator for google-cloud-pubsub: point ``PUBSUB_EMULATOR_HOST`` at
    ``address``. ``port=0`` picks a free port. Use as a context manager, or call
    ``start()`` and ``stop()``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.broker: Broker | None = None
        self._server: Any = None
        self._push: PushDispatcher | None = None

    @property
    def address(self) -> str:
        """``host:port`` as PUBSUB_EMULATOR_HOST wants it."""
        if self._server is None:
            raise RuntimeError("the Pub/Sub emulator is not started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def start(self) -> PubSubEmulator:
        if self._server is not None:
            return self
        broker = Broker()
        push = PushDispatcher(broker)
        server = grpc.server(
            futures.ThreadPoolExecutor(MAX_WORKERS, thread_name_prefix="pubsub-rpc"),
            options=[
                ("grpc.max_receive_message_length", -1),
                ("grpc.max_send_message_length", -1),
                # A fixed port already in use must fail, not be shared with its owner.
                ("grpc.so_reuseport", 0),
            ],
        )
        server.add_generic_rpc_handlers(PubSubService(broker).handlers())
        host = f"[{self.host}]" if ":" in self.host else self.host
        try:
            port = server.add_insecure_port(f"{host}:{self.port}")
        except RuntimeError as e:
            raise OSError(f"pubsub emulator: cannot bind {host}:{self.port}: {e}") from e
        if port == 0:
            raise OSError(f"pubsub emulator: cannot bind {host}:{self.port}")
        broker.start()
        server.start()
        self.port, self.broker, self._push, self._server = port, broker, push, server
        return self

    def stop(self) -> None:
        """Stop serving: open calls are cancelled, streams end, push workers stop."""
        server, broker, push = self._server, self.broker, self._push
        if server is None:
            return
        self._server = None
        stopped = server.stop(STOP_GRACE)
        assert broker is not None and push is not None
        broker.close()
        stopped.wait(STOP_TIMEOUT)
        push.join(STOP_TIMEOUT)

    def __enter__(self) -> PubSubEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
