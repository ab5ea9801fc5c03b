"""``Harness``: the local runtime with what a test needs on top — blocking waits that
fail the test with a reason, durations as text, one-line HTTP calls and accessors that
read what the functions produced."""

from __future__ import annotations

import json as jsonlib
import os
import time
from datetime import datetime
from typing import Any

from polyfn.app import App
from polyfn.events.cloudevent import CloudEvent
from polyfn.events.http import HttpRequest, HttpResponse
from polyfn.events.messages import QueueMessage, TopicMessage
from polyfn.local.broker import QueueNotFound
from polyfn.local.clock import Clock, VirtualClock
from polyfn.local.runtime import DeliveryReport, LocalRuntime

from .durations import Duration, seconds
from .errors import HandlerFailed, NotIdle
from .factories import NO_JSON, http_request
from .recording import Recorder, RecordingDriver

WAIT = 10.0  # real seconds idle() and settle() wait before failing the test


class Harness(LocalRuntime):
    """A :class:`~polyfn.local.runtime.LocalRuntime` for tests (what the ``polyfn``
    fixture gives). Everything of LocalRuntime works; on top:

    - ``idle()`` / ``settle()`` raise (an AssertionError) instead of returning False, and
      by default fail the test when a function failed since the last wait
      (``check=False`` when failures are the point);
    - ``advance("1d")`` also takes a timedelta or text;
    - ``http("POST", "/orders", json={...})``;
    - ``workflow(name, input)``: run one of the app's workflows, get its ExecutionResult;
    - ``sent(queue)``, ``published(topic)``, ``emitted()``: every message produced while
      the test ran (by functions or by the test), consumed or not; ``pending(queue)``,
      ``dead_letters(queue)``, ``objects(bucket)``: what the broker holds now;
      ``deliveries`` / ``failures``: every delivery's report.
    """

    def __init__(
        self,
        app: App | str,
        *,
        provider: str | None = None,
        state_dir: str | os.PathLike[str] | None = None,
        clock: Clock | None = None,
        options: Any = None,
        event_max_deliveries: int | None = 3,
    ) -> None:
        super().__init__(
            app,
            provider=provider,
            state_dir=state_dir,
            clock=clock if clock is not None else VirtualClock(),
            options=options,
            event_max_deliveries=event_max_deliveries,
        )
        self.recorder = Recorder()
        self._recording: RecordingDriver | None = None
        self._reports: list[DeliveryReport] = []
        self._checked = 0  # failures already reported or allowed
        self.on_delivery(lambda report: self.recorder.add(self._reports, report))

    @property
    def driver(self) -> Any:
        # Every output (the functions' and the test's) goes through the recorder.
        inner = super().driver
        if self._recording is None or self._recording.inner is not inner:
            self._recording = RecordingDriver(inner, self.recorder, self.clock.now)
        return self._recording

    # -- time ---------------------------------------------------------------------------------
    @property
    def now(self) -> datetime:
        return self.clock.now()

    def advance(self, by: Duration) -> datetime:  # type: ignore[override]
        """Move the virtual clock by ``by`` (seconds, a timedelta, or ``"1d"``, ``"2h30m"``):
        due schedules fire, backoffs end. Returns the new time; :meth:`idle` waits for
        what it set off."""
        return super().advance(seconds(by))

    # -- waiting ------------------------------------------------------------------------------
    def idle(self, timeout: float | None = WAIT, *, check: bool = True) -> bool:  # type: ignore[override]
        """Wait until nothing is pending; True. Raises :class:`NotIdle` after ``timeout``
        real seconds, or at once when only the virtual clock could make progress (a retry
        backing off: use :meth:`settle`); with ``check``, raises :class:`HandlerFailed`
        if a function failed since the last wait."""
        deadline = None if timeout is None else time.monotonic() + timeout

        def left() -> float | None:
            return None if deadline is None else max(0.0, deadline - time.monotonic())

        while True:
            if not self.wait_quiet(left()):
                raise NotIdle(f"not idle after {timeout} s: {self.describe_pending()}")
            if self.wait_idle(0):
                break
            if not self.wait_quiet(0):
                continue  # looking ticked the broker: a due schedule set work off
            if check:
                self.check()
            if isinstance(self.clock, VirtualClock):
                raise NotIdle(
                    "waiting for the virtual clock (a retry's backoff or a delay): call "
                    f"settle() or advance(...); {self.describe_pending()}"
                )
            if self.wait_idle(left()):
                break
            raise NotIdle(f"not idle after {timeout} s: {self.describe_pending()}")
        if check:
            self.check()
        else:  # the failures so far were expected: a later check reports newer ones only
            self._checked = len(self.failures)
        return True

    def settle(  # type: ignore[override]
        self,
        timeout: float | None = WAIT,
        max_advance: Duration | None = None,
        *,
        check: bool = True,
    ) -> bool:
        """Run until idle, jumping the virtual clock over retry backoffs and delays, so
        retries and dead-lettering happen at once; True. Raises :class:`NotIdle` if that
        takes more than ``timeout`` real seconds or ``max_advance`` of virtual time; with
        ``check``, raises :class:`HandlerFailed` if a function failed (pass
        ``check=False`` to test failures and dead letters)."""
        limit = None if max_advance is None else seconds(max_advance)
        done = super().settle(timeout, limit)
        if check:
            self.check()
        else:  # the failures so far were expected: a later check reports newer ones only
            self._checked = len(self.failures)
        if not done:
            raise NotIdle(f"did not settle: {self.describe_pending()}")
        return True

    @property
    def deliveries(self) -> list[DeliveryReport]:
        """Every delivery so far, in order."""
        return self.recorder.read(self._reports)

    @property
    def failures(self) -> list[DeliveryReport]:
        """The deliveries in which a function failed."""
        return [r for r in self.deliveries if not r.ok]

    def check(self) -> None:
        """Raise :class:`HandlerFailed` naming each function that failed since the last
        check; later checks report only newer failures."""
        failures = self.failures
        new, self._checked = failures[self._checked :], len(failures)
        if new:
            lines = [_describe_failure(r) for r in new]
            raise HandlerFailed(
                f"{len(new)} {'delivery' if len(new) == 1 else 'deliveries'} failed "
                "(pass check=False to allow failures):\n  " + "\n  ".join(lines)
            )

    def describe_pending(self) -> str:
        """What the consumed queues hold, for error messages."""
        parts = []
        for c in self.consumers:
            stats = self.broker.stats(c.queue)
            if stats.total:
                parts.append(
                    f"{c.queue!r} ({c.function.name}): {stats.visible} visible, "
                    f"{stats.in_flight} in flight, {stats.delayed} delayed"
                )
        return "; ".join(parts) or "no message queued (a delivery is still running?)"

    # -- HTTP -----------------------------------------------------------------------------------
    def http(  # type: ignore[override]
        self,
        method: str | HttpRequest = "GET",
        path: str = "/",
        *,
        json: Any = NO_JSON,
        body: bytes | str = b"",
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        function: str | None = None,
    ) -> HttpResponse:
        """Call the app's HTTP routes: ``http("POST", "/orders", json={...})`` (or an
        HttpRequest, as LocalRuntime takes). Returns the HttpResponse (``.status``,
        ``.json()``, ``.text``, ``.headers``)."""
        if isinstance(method, HttpRequest):
            return super().http(method, function=function)
        request = http_request(method, path, json=json, body=body, headers=headers, query=query)
        return super().http(request, function=function)

    # -- what the functions produced ------------------------------------------------------------
    # -- workflows ----------------------------------------------------------------------------
    def workflow(self, name: str, input: Any = None) -> Any:
        """Run the app's workflow ``name`` (registered with
        ``polyfn.workflow.local.workflow``) on ``input`` and return its ExecutionResult
        (``status``, ``output``, ``error``, ``cause``). Retry intervals and Wait states move
        the virtual clock; what its Tasks send or publish lands in the broker (see
        ``sent`` / ``published``; ``idle()`` lets the triggered functions run)."""
        return self.start_workflow(name, input)

    def sent(self, queue: str | None = None) -> list[QueueMessage]:
        """Every message sent (to ``queue``, or to any queue) while the test ran."""
        return [m for m in self.recorder.read(self.recorder.sent) if queue in (None, m.queue)]

    def published(self, topic: str | None = None) -> list[TopicMessage]:
        """Every message published (to ``topic``, or to any topic) while the test ran,
        whether or not a subscription took it."""
        got = self.recorder.read(self.recorder.published)
        return [m for m in got if topic in (None, m.topic)]

    def emitted(self, source: str | None = None) -> list[CloudEvent]:
        """Every CloudEvent emitted on an event bus (from ``source``)."""
        got = self.recorder.read(self.recorder.emitted)
        return [e for e in got if source in (None, e.source)]

    def pending(self, queue: str) -> list[QueueMessage]:
        """The messages ``queue`` holds now (not yet acknowledged)."""
        return [m.queue_message() for m in self.broker.peek(queue, limit=1_000_000)]

    def dead_letters(self, queue: str) -> list[QueueMessage]:
        """The messages that failed their last delivery from ``queue``: its dead-letter
        queue's content (``<queue>-dlq`` unless it was declared with another)."""
        try:
            dlq = self.broker.queue_config(queue).dead_letter or f"{queue}-dlq"
        except QueueNotFound:
            return []
        return self.pending(dlq)

    def objects(self, bucket: str, prefix: str = "") -> dict[str, bytes]:
        """The objects of ``bucket`` (under ``prefix``) now: key → content."""
        return {
            info.key: self.broker.get(bucket, info.key).data
            for info in self.broker.list(bucket, prefix)
        }

    def object_json(self, bucket: str, key: str) -> Any:
        """The JSON content of one object (raises ObjectNotFound)."""
        return jsonlib.loads(self.broker.get(bucket, key).data)

    def deliveries_of(self, function: str) -> list[DeliveryReport]:
        return [r for r in self.deliveries if r.function == function]

    def ran(self, function: str) -> bool:
        """Whether ``function`` had a successful delivery."""
        return any(r.ok for r in self.deliveries_of(function))


def _describe_failure(report: DeliveryReport) -> str:
    reasons = "; ".join(dict.fromkeys(report.failed.values()))
    dead = (
        f" -> dead-lettered to {sorted(set(report.dead_lettered.values()))}"
        if (report.dead_lettered)
        else ""
    )
    return (
        f"function {report.function!r} [{report.provider}] failed on a {report.trigger} "
        f"message from {report.queue!r}: {reasons}{dead}"
    )
