"""What the non-HTTP views and their translations share (the HTTP ones: see _http.py).

A view subclasses its neutral class *and* one of the mixins here: :class:`RecordView` for
one record of a ``Records`` batch (SQS, SNS, S3, Kinesis, DynamoDB), :class:`EventView`
for a whole event (EventBridge, schedules, S3 through EventBridge). The mixins hold no
state (``__slots__ = ()``): each view declares its own slots, ``event_source`` and its
typed ``native``, which is also where the field readers start.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from polyfn.dispatch import IN_ORDER
from polyfn.events._base import NeutralEvent
from polyfn.results import BatchOutcome

from .._fields import malformed, need, parse_iso

if TYPE_CHECKING:
    from .. import native_types

V = TypeVar("V")
E = TypeVar("E", bound=NeutralEvent)


class View:
    """Reads of the native dict whose errors name the field's dotted path."""

    __slots__ = ()
    provider = "aws"
    event_source: str
    native: Any
    _where: str  # where the view's dict sits in the event ("Records[3]"; "" for all of it)

    def _dotted(self, *path: str) -> str:
        return ".".join((self._where, *path)) if self._where else ".".join(path)

    def _at(self, *path: str) -> Any:
        """The value at ``path``, or a MalformedEventError naming it."""
        value = self.native
        where = self._where
        for key in path:
            value = need(value, key, self.event_source, where)
            where = f"{where}.{key}" if where else key
        return value

    def _string(self, *path: str) -> str:
        value = self._at(*path)
        if not isinstance(value, str):
            raise malformed(
                self.event_source,
                self._dotted(*path),
                f"expected a string, got {type(value).__name__}",
            )
        return value

    def _object(self, *path: str) -> dict[str, Any]:
        value = self._at(*path)
        if type(value) is not dict:
            raise malformed(
                self.event_source,
                self._dotted(*path),
                f"expected an object, got {type(value).__name__}",
            )
        return value

    def _optional(self, types: type | tuple[type, ...], *path: str) -> Any:
        """The value at ``path`` when present (None otherwise), of ``types`` (not bool)."""
        value = self._at(*path[:-1]).get(path[-1])
        if value is not None and (not isinstance(value, types) or isinstance(value, bool)):
            raise malformed(
                self.event_source, self._dotted(*path), f"unexpected {type(value).__name__}"
            )
        return value

    def _iso_time(self, *path: str) -> datetime:
        return parse_iso(self._string(*path), self.event_source, self._dotted(*path))

    def _epoch_seconds(self, *path: str) -> datetime | None:
        """An optional time in epoch seconds, in the object at ``path[:-1]``."""
        raw = self._object(*path[:-1]).get(path[-1])
        if raw is None:
            return None
        if type(raw) is not int and type(raw) is not float:
            raise malformed(self.event_source, self._dotted(*path), f"not epoch seconds: {raw!r}")
        try:
            return datetime.fromtimestamp(raw, UTC)
        except (OverflowError, OSError, ValueError):
            raise malformed(
                self.event_source, self._dotted(*path), f"not epoch seconds: {raw!r}"
            ) from None


class RecordView(View):
    """Mixin for the view of ``Records[index]``: the record in ``_r``, its index in ``_i``
    (declare both in the view's ``__slots__``)."""

    __slots__ = ()
    _r: Any
    _i: int

    def __init__(self, record: dict[str, Any], index: int) -> None:
        # The slots are the view's (a mixin's must be empty), hence the ignores.
        self._r = record  # type: ignore[misc]
        self._i = index  # type: ignore[misc]

    @property
    def _where(self) -> str:  # type: ignore[override]
        return f"Records[{self._i}]"

    def _need(self, key: str, mapping: Any = None, where: str = "") -> Any:
        """``mapping[key]`` (``mapping``: the record by default, found at ``where`` under
        it), or a MalformedEventError naming it."""
        return need(
            self._r if mapping is None else mapping,
            key,
            self.event_source,
            f"Records[{self._i}]{where}",
        )


class EventView(View):
    """Mixin for the view of a whole event, held in ``_e`` (declare it in ``__slots__``)."""

    __slots__ = ()
    _where = ""
    _e: Any

    def __init__(self, event: dict[str, Any]) -> None:
        self._e = event


# -- native → neutral ------------------------------------------------------------------
def record_views(
    view: Callable[[Any, int], V], event: Any, source: str, *, objects: bool = False
) -> list[V]:
    """A ``view`` of each record of ``event["Records"]``; ``objects``: check up front that
    every record is an object (stream batches are reported by position)."""
    records = need(event, "Records", source, "")
    if not isinstance(records, list):
        raise malformed(source, "Records", f"expected a list, got {type(records).__name__}")
    if objects:
        for i, r in enumerate(records):
            if type(r) is not dict:
                raise malformed(
                    source, f"Records[{i}]", f"expected an object, got {type(r).__name__}"
                )
    return [view(r, i) for i, r in enumerate(records)]


def event_view(view: Callable[[dict[str, Any]], V], event: Any, source: str) -> V:
    if not isinstance(event, dict):
        raise malformed(source, "(event)", f"expected an object, got {type(event).__name__}")
    return view(event)


# -- neutral → native ------------------------------------------------------------------
def as_list(events: E | Sequence[E]) -> Sequence[E]:
    """Translations take one event as well as a list."""
    return [events] if isinstance(events, NeutralEvent) else events


def only(events: E | Sequence[E]) -> E:
    """The one event of a source that delivers one event per invocation."""
    if isinstance(events, NeutralEvent):
        return events
    (event,) = events
    return event


def aws_extensions(event: NeutralEvent, event_source: str | None = None) -> dict[str, Any]:
    """A copy of ``event``'s extensions when they are AWS's (with ``event_source``: that
    source's); {} otherwise, for another provider's mean nothing here and AWS defaults
    are rendered instead."""
    if event.provider != "aws" or (event_source is not None and event.event_source != event_source):
        return {}
    return dict(event.extensions)


# -- stream sources (Kinesis, DynamoDB Streams) ----------------------------------------
def stream_order(event: dict[str, Any]) -> str:
    return IN_ORDER


def stream_batch_response(
    outcome: BatchOutcome, records: Sequence[V], identifier: Callable[[V, int], str]
) -> native_types.StreamBatchResponse:
    """Lambda's partial-batch answer for streams: the failed record's sequence number
    (``identifier(record, index)``).

    Lambda resumes the shard from the lowest reported sequence number, so the first failure
    alone says it all (the records after it were skipped to keep order).
    """
    if not outcome.failures:
        return {"batchItemFailures": []}
    index = min(f.index for f in outcome.failures)
    return {"batchItemFailures": [{"itemIdentifier": identifier(records[index], index)}]}
