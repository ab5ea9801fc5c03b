"""The neutral path: events straight to ``polyfn.dispatch``, no provider in between.

Batch triggers (queues, streams, topics, change streams) run the whole receive with
``run_batch`` in the trigger's order mode; the others run one event per invocation with
``run_event``.
"""

from __future__ import annotations

import uuid
from typing import Any

from polyfn.app import App, Function
from polyfn.context import Context
from polyfn.dispatch import run_batch, run_event, run_http
from polyfn.events.http import HttpRequest, HttpResponse
from polyfn.outputs import Outputs

from .base import Failures, all_failed, from_outcome, run_singly
from .consumers import Consumer


class NeutralPath:
    provider: str | None = None

    def __init__(self, app: App, outputs: Outputs) -> None:
        self.app = app
        self.outputs = outputs

    def _context(self, fn: Function, invocation: str | None = None) -> Context:
        return Context(fn.name, invocation or str(uuid.uuid4()), "local", outputs=self.outputs)

    def invoke(self, c: Consumer, events: list[Any]) -> Any:
        fn = c.function
        ctx = self._context(fn, getattr(events[0], "id", None) if events else None)
        if c.trigger.BATCHED:
            return run_batch(fn, events, ctx, c.order)
        (event,) = events
        return run_event(fn, event, ctx)

    def deliver(self, c: Consumer, events: list[Any]) -> Failures:
        if c.trigger.BATCHED:
            try:
                outcome = self.invoke(c, events)
            except Exception as e:  # a batch handler that answered nonsense
                return all_failed(events, e)
            return from_outcome(outcome, c.order, c.function.batch)
        return run_singly(events, c.order, lambda e: self.invoke(c, [e]))

    def http(self, fn: Function, index: int, request: HttpRequest) -> HttpResponse:
        return run_http(fn, request, self._context(fn))
