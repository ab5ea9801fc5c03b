"""What the embedded broker raises."""

from __future__ import annotations

from polyfn.errors import PolyfnError


class BrokerError(PolyfnError):
    """Base of the broker's errors: a request the broker refuses."""


class StateDirLocked(BrokerError):
    """Another broker (another ``polyfn dev``) owns the state dir."""


class QueueNotFound(BrokerError):
    def __init__(self, queue: str) -> None:
        self.queue = queue
        super().__init__(f"queue {queue!r} is not declared")


class InvalidRequest(BrokerError):
    """Arguments the broker cannot accept (a FIFO send without a group id, ...)."""


class InvalidKey(InvalidRequest):
    """A bucket name or object key that would escape its folder or cannot be a file."""


class ObjectNotFound(BrokerError):
    def __init__(self, bucket: str, key: str) -> None:
        self.bucket = bucket
        self.key = key
        super().__init__(f"object {key!r} not found in bucket {bucket!r}")
