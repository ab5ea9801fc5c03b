"""What a delivery path implements, and the verdict helpers the paths share.

A path runs the events of one receive (``deliver``) and says which of them failed, by
index, with why; the runtime acks the others and nacks those (retry with backoff, dead
letter after the queue's max deliveries). ``invoke`` is one invocation as the provider
makes it, returning what the function returned (the native answer) and raising what it
raised: ``polyfn invoke`` and tests show it as it is. ``http`` answers one request.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, Protocol

from polyfn.app import Function
from polyfn.dispatch import BY_GROUP, IN_ORDER
from polyfn.errors import HandlerError
from polyfn.events.http import HttpRequest, HttpResponse

from .consumers import Consumer


class Failure(NamedTuple):
    reason: str
    """Why, in one line (kept as the message's last error and dead-letter reason)."""
    error: BaseException | None = None
    """The exception, when nobody logged its traceback yet (the runtime does)."""


Failures = dict[int, Failure]
"""Index of a failed event in the delivered list → its failure."""

SKIPPED = "not run: an earlier message of its group failed"
SKIPPED_IN_ORDER = "not run: an earlier record of the batch failed"


class DeliveryPath(Protocol):
    provider: str | None
    """``"aws"``, ``"azure"``, ``"gcp"``, or None for the neutral path."""

    def deliver(self, c: Consumer, events: list[Any]) -> Failures:
        """Run the events of one receive as the provider would; the failed ones."""
        ...

    def invoke(self, c: Consumer, events: list[Any]) -> Any:
        """One invocation (``events``: as many as the provider hands one), its answer."""
        ...

    def http(self, fn: Function, index: int, request: HttpRequest) -> HttpResponse:
        """Answer a request routed to trigger ``index`` of ``fn``."""
        ...


def describe(error: BaseException) -> str:
    """Why a delivery failed, in one line: the handler's own exception when wrapped."""
    cause = error.cause if isinstance(error, HandlerError) else error
    text = str(cause)
    return f"{type(cause).__name__}: {text}" if text else type(cause).__name__


def run_singly(events: Sequence[Any], order: str, call: Callable[[Any], Any]) -> Failures:
    """One invocation per event (Azure Storage queues, Pub/Sub, SNS, ...). A failure holds
    back the rest of its group (``BY_GROUP``) or of the batch (``IN_ORDER``): those are
    not run and are reported failed, so that redelivery keeps the order."""
    failed: Failures = {}
    blocked: set[str | None] = set()
    stop = False
    for i, event in enumerate(events):
        group = getattr(event, "group_id", None) if order == BY_GROUP else None
        if stop:
            failed[i] = Failure(SKIPPED_IN_ORDER)
            continue
        if order == BY_GROUP and group is not None and group in blocked:
            failed[i] = Failure(SKIPPED)
            continue
        try:
            call(event)
        except Exception as e:
            failed[i] = Failure(describe(e), e)
            if order == IN_ORDER:
                stop = True
            elif order == BY_GROUP:
                blocked.add(group)
    return failed


def all_failed(events: Sequence[Any], error: BaseException) -> Failures:
    """Every event failed (the invocation raised); the error is logged once."""
    return {i: Failure(describe(error), error if i == 0 else None) for i in range(len(events))}


def from_outcome(outcome: Any, order: str, batch: bool = False) -> Failures:
    """A ``BatchOutcome`` as failures (``run_batch`` logged the errors): a record without
    an error was skipped to keep the order, or (``batch``: a whole-batch handler)
    reported failed by the handler."""
    if batch:
        skipped = "reported failed by the batch handler"
    else:
        skipped = SKIPPED_IN_ORDER if order == IN_ORDER else SKIPPED
    return {
        f.index: Failure(describe(f.error) if f.error is not None else skipped)
        for f in outcome.failures
    }
