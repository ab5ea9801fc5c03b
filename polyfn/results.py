"""What handlers return or raise to say how an event went."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


class Retry(Exception):
    """Raise from a per-record handler to have this record redelivered (reported failed)."""


class HttpError(Exception):
    """Raise from an HTTP handler to answer with ``status`` and a JSON ``{"error": ...}``."""

    def __init__(self, status: int, message: str = "", headers: dict[str, str] | None = None):
        self.status = status
        self.message = message
        self.headers = headers or {}
        super().__init__(f"{status} {message}".strip())


@dataclass(slots=True)
class BatchResult:
    """What a batch handler returns: the ids of the records that failed."""

    failed: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, value: Any) -> BatchResult:
        """Accept a BatchResult, None (all succeeded) or an iterable of failed ids."""
        if value is None:
            return cls()
        if isinstance(value, BatchResult):
            return value
        if isinstance(value, str) or not isinstance(value, Iterable):
            raise TypeError(
                "a batch handler returns None, a BatchResult or an iterable of failed ids, "
                f"not {type(value).__name__}"
            )
        return cls(list(value))


@dataclass(slots=True)
class RecordFailure:
    """One record that failed, with why (None when it was skipped to keep order)."""

    index: int
    id: str
    error: BaseException | None


@dataclass(slots=True)
class BatchOutcome:
    """How a batch went; adapters turn it into the provider's partial-failure answer."""

    size: int
    failures: list[RecordFailure] = field(default_factory=list)

    @property
    def failed_ids(self) -> list[str]:
        return [f.id for f in self.failures]

    @property
    def ok(self) -> bool:
        return not self.failures
