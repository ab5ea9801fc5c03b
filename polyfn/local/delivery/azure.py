"""The Azure path: each delivery run as the Functions host and the Python worker run it.

The app becomes the FunctionApp ``function_app(app, outputs=...)`` (one Azure function per
trigger, named as the adapter names them); ``Worker.invoke`` renders each neutral event as
the host's payload, decodes it with azure-functions' converter and calls the indexed
function. Output bindings the function set are handed to the broker's driver after it
succeeded, as the host delivers them; other outputs go through ``outputs``.

Verdicts follow the host: a Storage queue, Service Bus message (cardinality one), blob,
timer or Event Grid event is one invocation, which fails by raising; Event Hubs, Cosmos DB
and Service Bus ``cardinality many`` get the receive as one list, failing or succeeding
as a whole. The blob trigger gets the object's content, as the host reads it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

from polyfn.app import App, Function
from polyfn.events.http import HttpRequest, HttpResponse
from polyfn.outputs import OutputDriver, Outputs

from .base import Failures, all_failed, run_singly
from .consumers import Consumer

log = logging.getLogger("polyfn.local")

Content = Callable[[str, str], bytes | None]


class AzurePath:
    provider: str | None = "azure"

    def __init__(
        self,
        app: App,
        outputs: Outputs,
        deliver: OutputDriver,
        *,
        options: Any = None,
        content: Content | None = None,
    ) -> None:
        from polyfn.adapters.azure import plan

        self.source = app
        self.options = options
        self.outputs = outputs
        self.deliver_to = deliver
        self.content = content
        # (function, trigger index) → the Azure function: plan() lists them in the order
        # of each function's triggers.
        self.specs: dict[tuple[str, int], Any] = {}
        counts: dict[str, int] = {}
        for spec in plan(app, options):
            i = counts.get(spec.function.name, 0)
            counts[spec.function.name] = i + 1
            self.specs[(spec.function.name, i)] = spec
        # A Worker keeps the last invocation's outputs on itself, and a FunctionApp can
        # be indexed once: each invocation borrows a Worker (with its own FunctionApp)
        # that no other thread uses meanwhile.
        self._idle: list[Any] = [self._new_worker()]  # built (and checked) now
        self._lock = threading.Lock()

    def _new_worker(self) -> Any:
        from polyfn.adapters.azure import function_app
        from polyfn.adapters.azure.worker import Worker

        fa = function_app(self.source, self.options, outputs=self.outputs)
        return Worker(fa, deliver=self.deliver_to)

    @contextlib.contextmanager
    def _worker(self) -> Iterator[Any]:
        with self._lock:
            worker = self._idle.pop() if self._idle else None
        if worker is None:  # every Worker is busy: one more
            worker = self._new_worker()
        try:
            yield worker
        finally:
            with self._lock:
                self._idle.append(worker)

    def _spec(self, fn: Function, index: int) -> Any:
        return self.specs[(fn.name, index)]

    def invoke(self, c: Consumer, events: list[Any]) -> Any:
        spec = self._spec(c.function, c.index)
        with self._worker() as worker:
            if spec.many:
                return worker.invoke(spec.name, list(events))
            (event,) = events
            if spec.kind == "blob" and self.content is not None:
                return worker.invoke(spec.name, self._with_content(worker, spec.name, event))
            return worker.invoke(spec.name, event)

    def _with_content(self, worker: Any, name: str, event: Any) -> Any:
        from azure.functions import meta

        invocation = worker.render(name, event)
        data = self.content(event.bucket, event.key)  # type: ignore[misc]
        if data is not None:
            invocation.data = meta.Datum(data, "bytes")
        return invocation

    def deliver(self, c: Consumer, events: list[Any]) -> Failures:
        if self._spec(c.function, c.index).many:
            try:
                self.invoke(c, events)
            except Exception as e:  # the batch fails as a whole; its retry runs it all
                return all_failed(events, e)
            return {}
        return run_singly(events, c.order, lambda e: self.invoke(c, [e]))

    def http(self, fn: Function, index: int, request: HttpRequest) -> HttpResponse:
        from polyfn.adapters.azure import response_from_native

        spec = self._spec(fn, index)
        try:
            with self._worker() as worker:
                answer = worker.invoke(spec.name, request)
        except Exception:  # the host answers a failed invocation 500
            log.exception(
                "function %r [azure] failed on %s %s", fn.name, request.method, request.path
            )
            return HttpResponse(status=500)
        return response_from_native(answer)
