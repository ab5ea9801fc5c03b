"""Trigger definitions: what makes a function run. Plain data, checked when declared."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from polyfn.errors import DefinitionError
from polyfn.events.storage import STORAGE_KINDS

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY")


def _require(ok: bool, trigger: str, field: str, reason: str) -> None:
    if not ok:
        raise DefinitionError(f"{trigger} trigger: {field}: {reason}")


def _positive(value: int, trigger: str, field: str) -> None:
    _require(isinstance(value, int) and value > 0, trigger, field, "must be a positive integer")


@dataclass(frozen=True, slots=True)
class Trigger:
    KIND: ClassVar[str] = ""
    # Batch triggers deliver records; the others one event per invocation.
    BATCHED: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class HttpTrigger(Trigger):
    KIND: ClassVar[str] = "http"
    methods: tuple[str, ...]
    route: str
    auth: str = "anonymous"

    def __post_init__(self) -> None:
        for m in self.methods:
            _require(m in HTTP_METHODS, "http", "method", f"{m!r} is not one of {HTTP_METHODS}")
        _require(self.route.startswith("/"), "http", "route", f"{self.route!r} must start with /")
        from polyfn.routing import compile_route

        compile_route(self.route)  # raises DefinitionError on a bad template


@dataclass(frozen=True, slots=True)
class QueueTrigger(Trigger):
    KIND: ClassVar[str] = "queue"
    BATCHED: ClassVar[bool] = True
    name: str
    batch_size: int = 10
    fifo: bool = False
    max_deliveries: int | None = None
    visibility_timeout: int | None = None

    def __post_init__(self) -> None:
        _require(bool(self.name), "queue", "name", "must not be empty")
        _positive(self.batch_size, "queue", "batch_size")


@dataclass(frozen=True, slots=True)
class StreamTrigger(Trigger):
    """An ordered log (Kinesis, Event Hubs): records are QueueMessages, kept in order."""

    KIND: ClassVar[str] = "stream"
    BATCHED: ClassVar[bool] = True
    name: str
    batch_size: int = 100
    start: str = "latest"

    def __post_init__(self) -> None:
        _require(bool(self.name), "stream", "name", "must not be empty")
        _positive(self.batch_size, "stream", "batch_size")
        _require(self.start in ("latest", "oldest"), "stream", "start", "latest or oldest")


@dataclass(frozen=True, slots=True)
class TopicTrigger(Trigger):
    KIND: ClassVar[str] = "topic"
    BATCHED: ClassVar[bool] = True
    name: str
    filter: dict[str, object] | None = None

    def __post_init__(self) -> None:
        _require(bool(self.name), "topic", "name", "must not be empty")
        _require(
            self.filter is None or isinstance(self.filter, dict),
            "topic",
            "filter",
            "must be a dict of attribute name to value(s)",
        )

    def accepts(self, attributes: dict[str, object]) -> bool:
        """Attribute filter: every named attribute must equal one of the listed values."""
        if not self.filter:
            return True
        for name, wanted in self.filter.items():
            allowed = wanted if isinstance(wanted, list | tuple | set) else (wanted,)
            if attributes.get(name) not in allowed:
                return False
        return True


@dataclass(frozen=True, slots=True)
class StorageTrigger(Trigger):
    KIND: ClassVar[str] = "storage"
    bucket: str
    events: tuple[str, ...] = ("created",)
    prefix: str | None = None
    suffix: str | None = None

    def __post_init__(self) -> None:
        _require(bool(self.bucket), "storage", "bucket", "must not be empty")
        for e in self.events:
            _require(e in STORAGE_KINDS, "storage", "events", f"{e!r} not in {STORAGE_KINDS}")

    def accepts(self, bucket: str, key: str, kind: str) -> bool:
        return (
            bucket == self.bucket
            and kind in self.events
            and (self.prefix is None or key.startswith(self.prefix))
            and (self.suffix is None or key.endswith(self.suffix))
        )


_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_CRON_FIELD = re.compile(r"^[\w*?,/#LW-]+$")
_MACROS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")


def check_schedule(expression: str) -> None:
    """Accept ``rate(N unit)``, AWS ``cron(m h dom mon dow year)``, five-field cron or a macro."""
    expr = expression.strip()
    if expr in _MACROS:
        return
    rate = _RATE.match(expr)
    if rate:
        n, unit = int(rate.group(1)), rate.group(2)
        _require(n > 0, "schedule", "expression", "rate must be positive")
        _require(
            (n == 1) == (not unit.endswith("s")),
            "schedule",
            "expression",
            f"{expr!r}: use '1 {unit.rstrip('s')}' or 'N {unit.rstrip('s')}s'",
        )
        return
    body, want = (expr[5:-1], 6) if expr.startswith("cron(") and expr.endswith(")") else (expr, 5)
    parts = body.split()
    _require(
        len(parts) == want and all(_CRON_FIELD.match(p) for p in parts),
        "schedule",
        "expression",
        f"{expression!r} is not rate(...), cron(6 fields), 5-field cron or an @macro",
    )


@dataclass(frozen=True, slots=True)
class ScheduleTrigger(Trigger):
    KIND: ClassVar[str] = "schedule"
    expression: str
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        check_schedule(self.expression)


@dataclass(frozen=True, slots=True)
class ChangeTrigger(Trigger):
    KIND: ClassVar[str] = "change"
    BATCHED: ClassVar[bool] = True
    source: str
    batch_size: int = 100
    start: str = "latest"

    def __post_init__(self) -> None:
        _require(bool(self.source), "change", "source", "must not be empty")
        _positive(self.batch_size, "change", "batch_size")


@dataclass(frozen=True, slots=True)
class EventTrigger(Trigger):
    KIND: ClassVar[str] = "event"
    source: str | None = None
    type: str | None = None
    bus: str = "default"

    def accepts(self, source: str, type: str) -> bool:
        return (self.source is None or self.source == source) and (
            self.type is None or self.type == type
        )
