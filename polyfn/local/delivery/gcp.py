"""The Google Cloud path: each delivery run through the functions-framework targets of
``targets(app, outputs=...)``, as Eventarc or a push subscription delivers it.

Event targets get the ``cloudevents`` SDK event ``to_native(event, mode="cloudevent")``
renders (background targets, ``GcpOptions(event_signature="background")``, the legacy
``(data, context)``); one event per invocation, as Pub/Sub and Eventarc deliver them; a
raise nacks it (functions-framework answers 500), a return acks it. HTTP targets (HTTP
triggers, and schedules with ``GcpOptions(scheduler="http")``) get a Flask request built
from the neutral one inside a Flask request context, as functions-framework serves them;
their Flask response is translated back.

A queue's messages are dead-lettered after the attempts its Pub/Sub dead-letter policy
is deployed with: ``max_deliveries`` bounded to Pub/Sub's 5-100 (the plan's
``max_delivery_attempts``; see :meth:`GcpPath.max_deliveries`).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from typing import Any

from polyfn.app import App, Function
from polyfn.events.http import HttpRequest, HttpResponse
from polyfn.outputs import Outputs

from .base import Failures, run_singly
from .consumers import Consumer

log = logging.getLogger("polyfn.local")

HTTP = "http"
BACKGROUND = "event"  # functions-framework's name of the legacy signature


class GcpPath:
    provider: str | None = "gcp"

    def __init__(self, app: App, outputs: Outputs, *, options: Any = None) -> None:
        from flask import Flask

        from polyfn.adapters import gcp

        self._gcp = gcp
        self.targets = gcp.targets(app, options, outputs=outputs)
        self.specs: dict[tuple[str, int], Any] = {}
        counts: dict[str, int] = {}
        for spec in gcp.plan(app, options):
            i = counts.get(spec.function.name, 0)
            counts[spec.function.name] = i + 1
            self.specs[(spec.function.name, i)] = spec
        # functions-framework serves each target inside a Flask request context; the
        # targets read the current request (headers, trace) from it.
        self.flask = Flask("polyfn.local.gcp")

    def max_deliveries(self, c: Consumer) -> int | None:
        """Deliveries of queue ``c``'s messages before they are dead-lettered, as deployed:
        the plan's dead-letter policy, which Pub/Sub bounds to 5-100 attempts
        (https://cloud.google.com/pubsub/docs/handling-failures#dead_letter_topic), so
        ``max_deliveries=3`` runs 5 times here as in the cloud."""
        declared = getattr(c.trigger, "max_deliveries", None)
        spec = self.specs[(c.function.name, c.index)]
        attempts = spec.settings.get("max_delivery_attempts", declared)
        if attempts != declared:
            log.info(
                "function %r [gcp]: queue %r max_deliveries=%s runs as %s delivery attempts, "
                "Pub/Sub's bound",
                c.function.name,
                c.queue,
                declared,
                attempts,
            )
        return attempts

    def _target(self, fn: Function, index: int) -> tuple[Any, Callable[..., Any]]:
        spec = self.specs[(fn.name, index)]
        return spec, self.targets[spec.name]

    def invoke(self, c: Consumer, events: list[Any]) -> Any:
        (event,) = events
        spec, target = self._target(c.function, c.index)
        if c.kind == "schedule":
            # Cloud Scheduler's job (and the topic it publishes to) is named after the target.
            event = copy.copy(event)
            event.schedule = spec.settings.get("topic") or spec.name
            if spec.signature == HTTP:
                headers, body = self._gcp.to_native(event, via="http")
                return self._serve(target, _environ(headers, body)).get_data()
        if spec.signature == BACKGROUND:
            data, context = self._gcp.to_native(event, mode="background")
            return target(data, context)
        return target(self._gcp.to_native(event, mode="cloudevent"))

    def deliver(self, c: Consumer, events: list[Any]) -> Failures:
        return run_singly(events, c.order, lambda e: self.invoke(c, [e]))

    def _serve(self, target: Callable[..., Any], environ: dict[str, Any]) -> Any:
        """Call an HTTP target as functions-framework does; its Flask response. A raise
        propagates (functions-framework would answer 500)."""
        from flask import request

        with self.flask.request_context(environ):
            answer = target(request._get_current_object())  # type: ignore[attr-defined]
            return self.flask.make_response(answer)

    def http(self, fn: Function, index: int, request: HttpRequest) -> HttpResponse:
        from polyfn.adapters.gcp.sources.http import environ

        _, target = self._target(fn, index)
        try:
            answer = self._serve(target, environ(request))
        except Exception:  # functions-framework answers an uncaught exception 500
            log.exception(
                "function %r [gcp] failed on %s %s", fn.name, request.method, request.path
            )
            return HttpResponse(status=500)
        return self._gcp.response_from_native(answer)


def _environ(headers: dict[str, str], body: bytes) -> dict[str, Any]:
    from werkzeug.test import EnvironBuilder

    builder = EnvironBuilder(path="/", method="POST", headers=headers, data=body)
    try:
        return builder.get_environ()
    finally:
        builder.close()
