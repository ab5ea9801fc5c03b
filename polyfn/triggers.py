"""Trigger definitions: what makes a function run. Plain data, checked when declared."""

from __future__ import annotations

from typing import Any, ClassVar

from polyfn.errors import DefinitionError
from polyfn.events.storage import STORAGE_KINDS

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY")


def _require(ok: bool, trigger: str, field: str, reason: str) -> None:
    if not ok:
        raise DefinitionError(f"{trigger} trigger: {field}: {reason}")


def _positive(value: int, trigger: str, field: str) -> None:
    _require(isinstance(value, int) and value > 0, trigger, field, "must be a positive integer")


class Trigger:
    """Base of the trigger specs: immutable records of their declared fields.

    Written by hand rather than as dataclasses: building dataclasses costs milliseconds
    at import, and importing polyfn is part of every cold start.
    """

    __slots__ = ()
    KIND: ClassVar[str] = ""
    # Batch triggers deliver records; the others one event per invocation.
    BATCHED: ClassVar[bool] = False
    FIELDS: ClassVar[tuple[str, ...]] = ()
    DEFAULTS: ClassVar[dict[str, Any]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        names = self.FIELDS
        if len(args) > len(names):
            raise TypeError(f"{type(self).__name__} takes at most {len(names)} arguments")
        values = dict(zip(names, args, strict=False))
        for key, value in kwargs.items():
            if key not in names or key in values:
                raise TypeError(f"{type(self).__name__}: unexpected or repeated argument {key!r}")
            values[key] = value
        for name in names:
            if name in values:
                value = values[name]
            elif name in self.DEFAULTS:
                value = self.DEFAULTS[name]
            else:
                raise TypeError(f"{type(self).__name__}: missing argument {name!r}")
            object.__setattr__(self, name, value)
        self.__post_init__()

    def __post_init__(self) -> None:
        pass

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def _key(self) -> tuple[Any, ...]:
        return tuple(getattr(self, n) for n in self.FIELDS)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._key() == other._key()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), repr(self._key())))

    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.FIELDS)
        return f"{type(self).__name__}({shown})"


class HttpTrigger(Trigger):
    KIND: ClassVar[str] = "http"
    FIELDS: ClassVar[tuple[str, ...]] = ("methods", "route", "auth")
    __slots__ = FIELDS
    DEFAULTS: ClassVar[dict[str, Any]] = {"auth": "anonymous"}
    methods: tuple[str, ...]
    route: str
    auth: str

    def __post_init__(self) -> None:
        for m in self.methods:
            _require(m in HTTP_METHODS, "http", "method", f"{m!r} is not one of {HTTP_METHODS}")
        _require(self.route.startswith("/"), "http", "route", f"{self.route!r} must start with /")
        from polyfn.routing import compile_route

        compile_route(self.route)  # raises DefinitionError on a bad template


class QueueTrigger(Trigger):
    KIND: ClassVar[str] = "queue"
    BATCHED: ClassVar[bool] = True
    FIELDS: ClassVar[tuple[str, ...]] = (
        "name",
        "batch_size",
        "fifo",
        "max_deliveries",
        "visibility_timeout",
    )
    __slots__ = FIELDS
    DEFAULTS: ClassVar[dict[str, Any]] = {
        "batch_size": 10,
        "fifo": False,
        "max_deliveries": None,
        "visibility_timeout": None,
    }
    name: str
    batch_size: int
    fifo: bool
    max_deliveries: int | None
    visibility_timeout: int | None

    def __post_init__(self) -> None:
        _require(bool(self.name), "queue", "name", "must not be empty")
        _positive(self.batch_size, "queue", "batch_size")


class StreamTrigger(Trigger):
    """An ordered log (Kinesis, Event Hubs): records are QueueMessages, kept in order."""

    KIND: ClassVar[str] = "stream"
    BATCHED: ClassVar[bool] = True
    FIELDS: ClassVar[tuple[str, ...]] = ("name", "batch_size", "start")
    __slots__ = FIELDS
    DEFAULTS: ClassVar[dict[str, Any]] = {"batch_size": 100, "start": "latest"}
    name: str
    batch_size: int
    start: str

    def __post_init__(self) -> None:
        _require(bool(self.name), "stream", "name", "must not be empty")
        _positive(self.batch_size, "stream", "batch_size")
        _require(self.start in ("latest", "oldest"), "stream", "start", "latest or oldest")


class TopicTrigger(Trigger):
    KIND: ClassVar[str] = "topic"
    BATCHED: ClassVar[bool] = True
    FIELDS: ClassVar[tuple[str, ...]] = ("name", "filter")
    __slots__ = FIELDS
    DEFAULTS: ClassVar[dict[str, Any]] = {"filter": None}
    name: str
    filter: dict[str, object] | None

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


class StorageTrigger(Trigger):
    KIND: ClassVar[str] = "storage"
    FIELDS: ClassVar[tuple[str, ...]] = ("bucket", "events", "prefix", "suffix")
    __slots__ = FIELDS
    DEFAULTS: ClassVar[dict[str, Any]] = {"events": ("created",), "prefix": None, "suffix": None}
    bucket: str
    events: tuple[str, ...]
    prefix: str | None
    suffix: str | None

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


def check_schedule(expression: str) -> None:
    """Accept ``rate(N unit)``, AWS ``cron(m h dom mon dow year)``, five-field cron or a
    macro; field values are checked too (see polyfn.schedules)."""
    from polyfn.schedules import parse  # only apps with schedules pay for it

    parse(expression)


class ScheduleTrigger(Trigger):
    KIND: ClassVar[str] = "schedule"
    FIELDS: ClassVar[tuple[str, ...]] = ("expression", "timezone")
    __slots__ = FIELDS
    DEFAULTS: ClassVar[dict[str, Any]] = {"timezone": "UTC"}
    expression: str
    timezone: str

    def __post_init__(self) -> None:
        check_schedule(self.expression)


class ChangeTrigger(Trigger):
    KIND: ClassVar[str] = "change"
    BATCHED: ClassVar[bool] = True
    FIELDS: ClassVar[tuple[str, ...]] = ("source", "batch_size", "start")
    __slots__ = FIELDS
    DEFAULTS: ClassVar[dict[str, Any]] = {"batch_size": 100, "start": "latest"}
    source: str
    batch_size: int
    start: str

    def __post_init__(self) -> None:
        _require(bool(self.source), "change", "source", "must not be empty")
        _positive(self.batch_size, "change", "batch_size")


class EventTrigger(Trigger):
    KIND: ClassVar[str] = "event"
    FIELDS: ClassVar[tuple[str, ...]] = ("source", "type", "bus")
    __slots__ = FIELDS
    DEFAULTS: ClassVar[dict[str, Any]] = {"source": None, "type": None, "bus": "default"}
    source: str | None
    type: str | None
    bus: str

    def accepts(self, source: str, type: str) -> bool:
        return (self.source is None or self.source == source) and (
            self.type is None or self.type == type
        )
