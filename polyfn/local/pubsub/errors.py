"""The one error the emulator's state raises: a gRPC status code name and a message."""

from __future__ import annotations


class BrokerError(Exception):
    """A request the service would refuse; ``code`` names a ``grpc.StatusCode``."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")
