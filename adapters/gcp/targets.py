"""``targets(app)``: a polyfn app as functions-framework targets, one per polyfn function.

A user's ``main.py`` is::

    from polyfn.adapters.gcp import targets
    from myapp import app

    globals().update(targets(app))

and ``functions-framework --target process_order`` (or the deployed function's entry
point) serves one of them. Each target is a plain function named after the polyfn
function (a function's second and further triggers get ``_2``, ``_3``, ...), registered
with functions-framework's own ``@http`` / ``@cloud_event`` decorators, so the framework
knows its signature type without ``--signature-type``:

=========================  ====================================================================
polyfn trigger             target
=========================  ====================================================================
``http``                   HTTP function; the route is matched against the request path (a
                           Google HTTP function gets every path under its URL): 404 when it
                           does not match, 405 for another method
``queue``, ``stream``      CloudEvent function on ``messagePublished`` of the topic named after
                           the queue (Eventarc Pub/Sub trigger, or a push subscription)
``topic``                  the same on the topic; the attribute filter runs in the target (and
                           is listed as the subscription filter to deploy)
``storage``                CloudEvent function on ``google.cloud.storage.object.v1.*`` (one
                           Eventarc trigger per event type; bucket, kinds, prefix and suffix
                           are checked in the target)
``change``                 CloudEvent function on Firestore ``document.v1.written`` of
                           ``{collection}/{docId}``
``schedule``               CloudEvent function on the Pub/Sub topic a Cloud Scheduler job
                           publishes to, or an HTTP function the job POSTs to
                           (``GcpOptions(scheduler="http")``)
``event``                  CloudEvent function on any Eventarc event (source and type are
                           checked in the target)
(none: a workflow task)    HTTP function a Cloud Workflows ``http.post`` calls (deployed
                           without public access: the workflow calls it with OIDC auth)
=========================  ====================================================================

Workflow tasks. A function without a trigger (``polyfn.workflow.local.task``) is a task of
the app's workflows (``plan(app, tasks=True)`` lists it, ``targets(app)`` serves it): a
POST's JSON body is the handler's input and its JSON result is the answer (200,
``application/json``). A raised exception answers 500 with ``{"error": <the exception's
class name>, "message": ...}``: Workflows raises an ``HttpError`` whose ``body`` is the
parsed JSON, and polyfn.workflow.gcp_workflows' retry predicates and catchers match
``e.body.error`` against the ASL error names (as Step Functions matches Lambda's
``errorType``). A body that is not JSON answers 400. Sources:
https://cloud.google.com/workflows/docs/http-requests (a JSON response body is parsed),
https://cloud.google.com/workflows/docs/reference/syntax/catching-errors (HttpError's
``code``, ``headers``, ``body``).

With ``GcpOptions(event_signature="background")`` event triggers are legacy background
functions ``(data, context)`` instead (Cloud Functions 1st gen).

Verdicts. A CloudEvent function acks by returning and nacks by raising: functions-framework
answers 200, or 500 for an exception, and Eventarc (or a push subscription) retries a
non-2xx answer with back-off — for Cloud Functions only when the function is deployed with
retries (``--retry``) — until the subscription's dead-letter policy moves the message to its
dead-letter topic after ``maxDeliveryAttempts`` (deploy it with the queue's
``max_deliveries``; Pub/Sub counts them, polyfn does not drop a message itself). A
malformed event raises too (MalformedEventError naming gcp, the source and the field), so
it is dead-lettered the same way, never lost. A push subscription's body (``{"message",
"subscription", "deliveryAttempt"}``) posted to a queue or topic target is read whole (the
framework's own conversion would drop the subscription, ordering key and delivery
attempt); Pub/Sub acks 102, 200, 201, 202 and 204 and retries anything else, which is what
the framework answers. An event a target's filter does not want is acked and skipped.
A ``batch=True`` handler receives a list of one message (Pub/Sub delivers one per
invocation).
"""

from __future__ import annotations

import functools
import importlib
import json
import logging
import re
from collections.abc import Callable
from types import ModuleType
from typing import Any

from polyfn.app import App, Function
from polyfn.dispatch import run_batch, run_event, run_http, run_task
from polyfn.errors import DefinitionError, HandlerError, MalformedEventError
from polyfn.events.http import HttpResponse
from polyfn.observe import from_env as observe_from_env
from polyfn.outputs import LazyDriver, Outputs
from polyfn.routing import compile_route, match_route
from polyfn.triggers import (
    ChangeTrigger,
    EventTrigger,
    HttpTrigger,
    QueueTrigger,
    ScheduleTrigger,
    StorageTrigger,
    StreamTrigger,
    TopicTrigger,
    Trigger,
)

from . import context as gcp_context
from .options import GcpOptions
from .sources import _common as c

log = logging.getLogger("polyfn")

# Cloud Functions names: a letter, then letters, digits, "_" and "-" (63 at most).
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,62}$")
HTTP = "http"
TASK = "task"  # the kind of a workflow task's target
CLOUDEVENT = "cloudevent"
BACKGROUND = "event"  # functions-framework's name of the legacy signature
_SOURCES: dict[str, ModuleType] = {}


def _source(name: str) -> ModuleType:
    """A source module, imported on its first event (cold starts load only the ones
    used) and then kept: an import statement per event costs about half a microsecond."""
    module = _SOURCES.get(name)
    if module is None:
        module = _SOURCES[name] = importlib.import_module(f"{__package__}.sources.{name}")
    return module


class GcpFunction:
    """One functions-framework target of the app: its signature type and what the
    deployment must wire to it (``settings``: trigger, event types, filters, schedule)."""

    __slots__ = ("function", "kind", "name", "settings", "signature", "trigger")

    def __init__(
        self,
        name: str,
        function: Function,
        trigger: Trigger | None,
        kind: str,
        signature: str,
        settings: dict[str, Any],
    ) -> None:
        self.name = name
        self.function = function
        self.trigger = trigger
        self.kind = kind
        """The source the target reads: http, pubsub, storage, firestore, scheduler,
        eventarc, or task (a workflow task: no trigger)."""
        self.signature = signature
        self.settings = settings

    def __repr__(self) -> str:
        return f"GcpFunction({self.name!r}, {self.kind!r}, {self.signature!r}, {self.settings!r})"


def _fail(name: str, trigger: Trigger, field: str, reason: str) -> DefinitionError:
    return DefinitionError(f"gcp function {name!r}: {trigger.KIND} trigger: {field}: {reason}")


def plan(app: App, options: GcpOptions | None = None, *, tasks: bool = False) -> list[GcpFunction]:
    """The targets of ``app``, checked: DefinitionError names provider gcp, the function,
    the trigger and the field of anything Google Cloud cannot express. ``tasks``: the
    functions without a trigger (workflow tasks) too, as private HTTP targets."""
    options = options or GcpOptions()
    out: list[GcpFunction] = []
    taken = set(app.functions)
    for fn in app.functions.values():
        for i, trigger in enumerate(fn.triggers):
            name = fn.name if i == 0 else f"{fn.name}_{i + 1}"
            if not _NAME.match(name):
                raise DefinitionError(
                    f"gcp function {name!r}: name: Cloud Functions names are a letter, then "
                    "letters, digits, _ and - (63 at most): pass name= to the trigger"
                )
            if i > 0 and name in taken:
                raise DefinitionError(
                    f"gcp function {name!r}: name: function {fn.name!r}'s trigger {i + 1} "
                    f"would be named like the function {name!r}: rename one of them"
                )
            taken.add(name)
            out.append(_translate(name, fn, trigger, options))
    if tasks:
        for fn in app.functions.values():
            if fn.triggers:
                continue
            if not _NAME.match(fn.name):
                raise DefinitionError(
                    f"gcp function {fn.name!r}: name: Cloud Functions names are a letter, then "
                    "letters, digits, _ and - (63 at most): pass a name to task()"
                )
            settings = {"trigger": "http", "allow_unauthenticated": False, "task": True}
            out.append(GcpFunction(fn.name, fn, None, TASK, HTTP, settings))
    return out


def _translate(name: str, fn: Function, t: Trigger, options: GcpOptions) -> GcpFunction:
    events = CLOUDEVENT if options.event_signature == "cloudevent" else BACKGROUND
    settings: dict[str, Any]
    if isinstance(t, HttpTrigger):
        settings = {"trigger": "http", "route": t.route, "methods": list(t.methods)}
        if t.auth != "anonymous":
            settings["allow_unauthenticated"] = False
        return GcpFunction(name, fn, t, "http", HTTP, settings)
    if isinstance(t, QueueTrigger | StreamTrigger):
        settings = {"trigger": "topic", "topic": t.name}
        if isinstance(t, QueueTrigger):
            if t.max_deliveries is not None:
                # Pub/Sub's dead-letter policy counts 5 to 100 attempts: the nearest one.
                attempts = min(100, max(5, t.max_deliveries))
                settings["max_delivery_attempts"] = attempts
                if attempts != t.max_deliveries:
                    settings["notes"] = [
                        f"max_deliveries={t.max_deliveries}: Pub/Sub dead-letters after 5 to "
                        f"100 attempts; deployed as {attempts}"
                    ]
            if t.fifo:
                settings["message_ordering"] = True
        else:
            settings["message_ordering"] = True  # a stream keeps each ordering key's order
        return GcpFunction(name, fn, t, "pubsub", events, settings)
    if isinstance(t, TopicTrigger):
        settings = {"trigger": "topic", "topic": t.name}
        if t.filter:
            settings["subscription_filter"] = subscription_filter(t.filter)
        return GcpFunction(name, fn, t, "pubsub", events, settings)
    if isinstance(t, StorageTrigger):
        from .sources.storage import TYPES

        missing = [e for e in t.events if e not in TYPES]
        if missing:
            raise _fail(name, t, "events", f"Cloud Storage has no {missing[0]!r} event")
        settings = {
            "trigger": "bucket",
            "bucket": t.bucket,
            "event_types": [TYPES[e] for e in t.events],  # type: ignore[index]
        }
        return GcpFunction(name, fn, t, "storage", events, settings)
    if isinstance(t, ChangeTrigger):
        compile_route("/" + t.source)  # a collection path, {wildcards} allowed
        settings = {
            "trigger": "firestore",
            "event_types": ["google.cloud.firestore.document.v1.written"],
            "document": f"{t.source}/{{docId}}",
            "database": "(default)",
        }
        return GcpFunction(name, fn, t, "firestore", events, settings)
    if isinstance(t, ScheduleTrigger):
        settings = {
            "trigger": "scheduler",
            "schedule": unix_cron(t.expression, name),
            "time_zone": t.timezone if t.timezone != "UTC" else (options.time_zone or "Etc/UTC"),
        }
        if options.scheduler == "http":
            settings["target"] = "http"
            return GcpFunction(name, fn, t, "scheduler", HTTP, settings)
        settings["target"] = "pubsub"
        settings["topic"] = name
        return GcpFunction(name, fn, t, "scheduler", events, settings)
    if isinstance(t, EventTrigger):
        filters = {k: v for k, v in (("type", t.type), ("source", t.source)) if v is not None}
        settings = {"trigger": "eventarc", "event_filters": filters, "channel": t.bus}
        return GcpFunction(name, fn, t, "eventarc", events, settings)
    raise _fail(name, t, "kind", "the Google Cloud adapter has no trigger for it")


def unix_cron(expression: str, function: str = "?") -> str:
    """The Cloud Scheduler (unix-cron) schedule of a neutral expression."""
    from polyfn.schedules import Rate, ScheduleError, parse

    try:
        schedule = parse(expression)
        if isinstance(schedule, Rate):
            schedule = schedule.to_cron(expression)
        return schedule.to_cron5(expression)
    except ScheduleError as e:
        raise DefinitionError(
            f"gcp function {function!r}: schedule trigger: {e.field}: {expression!r}: {e.reason}"
        ) from None


def subscription_filter(attributes: dict[str, Any]) -> str:
    """A topic trigger's attribute filter in Pub/Sub's filter syntax."""
    parts = []
    for key, wanted in attributes.items():
        values = wanted if isinstance(wanted, list | tuple | set) else (wanted,)
        alternatives = [f"attributes.{key} = {_quote(v)}" for v in values]
        parts.append(
            alternatives[0] if len(alternatives) == 1 else "(" + " OR ".join(alternatives) + ")"
        )
    return " AND ".join(parts)


def _quote(value: Any) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


# -- the targets -------------------------------------------------------------------------
def targets(
    app: App | str, options: GcpOptions | None = None, *, outputs: Outputs | None = None
) -> dict[str, Callable[..., Any]]:
    """One functions-framework target per polyfn function (and trigger), by name, each
    registered with its signature type. ``app`` is an App or ``"module:attribute"``;
    ``outputs`` replaces the Google Cloud client drivers (tests)."""
    if isinstance(app, str):
        from polyfn.loader import load_app

        app = load_app(app)
    options = options or GcpOptions()
    observe_from_env("gcp")
    port = (
        outputs
        if outputs is not None
        else Outputs(LazyDriver(functools.partial(_client_driver, options)))
    )
    return {
        spec.name: _target(spec, _Invoker(spec, options, port))
        for spec in plan(app, options, tasks=True)
    }


def _target(spec: GcpFunction, invoker: _Invoker) -> Callable[..., Any]:
    import functions_framework  # the runtime that serves the targets has it loaded already

    if spec.signature == HTTP:

        def gcp_http(request: Any) -> Any:
            return invoker.http(request)

        wrapper: Any = gcp_http
    elif spec.signature == CLOUDEVENT:

        def gcp_cloud_event(cloud_event: Any) -> None:
            invoker.event(cloud_event)

        wrapper = gcp_cloud_event
    else:

        def gcp_background(data: Any, context: Any) -> None:
            invoker.event((data, context))

        wrapper = gcp_background
    wrapper.__name__ = wrapper.__qualname__ = spec.name
    role = "workflow task" if spec.trigger is None else repr(spec.trigger)
    wrapper.__doc__ = f"polyfn function {spec.function.name!r} ({role})"
    if spec.signature == HTTP:
        return functions_framework.http(wrapper)
    if spec.signature == CLOUDEVENT:
        return functions_framework.cloud_event(wrapper)
    # No decorator for background functions: the registry the decorators write to.
    from functions_framework import _function_registry

    _function_registry.REGISTRY_MAP[spec.name] = _function_registry.BACKGROUNDEVENT_SIGNATURE_TYPE
    return wrapper


class _Invoker:
    """Runs one target: native event in, the polyfn handler, the verdict out."""

    __slots__ = (
        "_pushed",
        "_source_name",
        "fn",
        "options",
        "outputs",
        "spec",
        "timeout",
        "trigger",
    )

    def __init__(self, spec: GcpFunction, options: GcpOptions, outputs: Outputs) -> None:
        self.spec = spec
        self.fn = spec.function
        self.trigger = spec.trigger
        self.options = options
        self.outputs = outputs
        self.timeout = options.timeout
        self._source_name = c.PROVIDER + ":" + spec.kind  # names the source in errors
        self._pushed = spec.kind in ("pubsub", "scheduler")  # may get a push body

    # -- HTTP functions ------------------------------------------------------------------
    def http(self, request: Any) -> Any:
        src = _source("http")
        if self.spec.kind == "scheduler":
            return self._scheduled(request)
        if self.spec.kind == TASK:
            return src.response(self._task(request))
        t: HttpTrigger = self.trigger  # type: ignore[assignment]
        params = match_route(t.route, request.path)
        if params is None:
            return src.response(HttpResponse.from_json({"error": "not found"}, 404))
        if "ANY" not in t.methods and request.method not in t.methods:
            resp = HttpResponse.from_json({"error": "method not allowed"}, 405)
            resp.headers["allow"] = ", ".join(t.methods)
            return src.response(resp)
        req = src.FlaskHttpRequest(request, t.route, params)
        ctx = gcp_context.http_context(self.fn.name, request, self.outputs, self.timeout)
        return src.response(run_http(self.fn, req, ctx))

    def _task(self, request: Any) -> HttpResponse:
        """A workflow task: JSON body in, JSON result out; a failure is a 500 naming the
        exception's class (what the workflow's retry and catch match)."""
        if request.method != "POST":
            resp = HttpResponse.from_json({"error": "method not allowed"}, 405)
            resp.headers["allow"] = "POST"
            return resp
        raw = request.get_data()
        try:
            data = json.loads(raw) if raw else None
        except ValueError as e:
            err = MalformedEventError("gcp", "gcp:workflow-task", "body", f"not JSON: {e}")
            return HttpResponse.from_json({"error": type(err).__name__, "message": str(err)}, 400)
        ctx = gcp_context.http_context(self.fn.name, request, self.outputs, self.timeout)
        try:
            result = run_task(self.fn, data, ctx, "gcp")
        except Exception as e:
            log.error(
                "function %r failed as a workflow task on gcp: %s: %s",
                self.fn.name,
                type(e).__name__,
                e,
                exc_info=True,
            )
            return HttpResponse.from_json({"error": type(e).__name__, "message": str(e)}, 500)
        return HttpResponse.from_json(result)

    def _scheduled(self, request: Any) -> Any:
        event = _source("scheduler").from_native(request, name=self.spec.name)
        event.schedule = self.trigger.expression  # type: ignore[attr-defined]
        ctx = gcp_context.http_context(self.fn.name, request, self.outputs, self.timeout)
        self._run(event, ctx)
        return "OK"  # 2xx: the job succeeded; a raise answers 500 and the job retries

    # -- event functions -------------------------------------------------------------------
    def event(self, native: Any) -> None:
        """One CloudEvent (or legacy event): return acks, raise nacks."""
        request = gcp_context.current_request()  # None outside a request
        headers = None if request is None else request.headers
        env = c.envelope(self._push_body(native, request, headers), self._source_name)
        event = self._neutral(env)
        if event is None:
            return
        ctx = gcp_context.event_context(
            self.fn.name, native, env.attrs, self.outputs, self.timeout, headers=headers
        )
        self._run(event, ctx)

    def _run(self, event: Any, ctx: Any) -> None:
        if self.fn.batch:
            outcome = run_batch(self.fn, [event], ctx)
            if outcome.failures:
                first = outcome.failures[0]
                cause = first.error or RuntimeError(f"message {first.id} reported failed")
                raise HandlerError(self.fn.name, "gcp", event.event_source, cause)
        else:
            run_event(self.fn, event, ctx)

    def _push_body(self, native: Any, request: Any, headers: Any) -> Any:
        """A push subscription's body, when functions-framework converted one: its own
        conversion keeps only data, attributes, messageId and publishTime."""
        if not self._pushed or request is None or isinstance(native, tuple):
            return native
        if headers.get("ce-specversion") is not None:
            return native
        if request.mimetype == c.STRUCTURED:
            return native
        body = request.get_json(silent=True)
        if isinstance(body, dict) and "subscription" in body and "message" in body:
            return body
        return native

    def _neutral(self, env: c.Envelope) -> Any:
        """The neutral event, or None when the trigger's filter does not want it."""
        kind, t = self.spec.kind, self.trigger
        event: Any
        if kind == "pubsub":
            pubsub = _source("pubsub")
            pubsub.check(env)
            if isinstance(t, TopicTrigger):
                msg = pubsub.PubsubTopicMessage(env, t.name)
                return msg if self._wanted(t.accepts(dict(msg.attributes)), env) else None
            return pubsub.PubsubQueueMessage(env, t.name)  # type: ignore[attr-defined]
        if kind == "storage":
            storage = _source("storage")
            storage.check(env)
            event = storage.GcsStorageEvent(env)
            s: StorageTrigger = t  # type: ignore[assignment]
            return (
                event if self._wanted(s.accepts(event.bucket, event.key, event.kind), env) else None
            )
        if kind == "firestore":
            firestore = _source("firestore")
            firestore.check(env)
            event = firestore.FirestoreChange(env)
            source: str = t.source  # type: ignore[attr-defined]
            ok = "{" not in source and event.source == source
            ok = ok or ("{" in source and match_route("/" + source, "/" + event.source) is not None)
            return event if self._wanted(ok, env) else None
        if kind == "scheduler":
            event = _source("scheduler").from_native(env, name=self.spec.name)
            event.schedule = t.expression  # type: ignore[attr-defined]  # as declared
            return event
        event = _source("eventarc").EventarcCloudEvent(env)
        e: EventTrigger = t  # type: ignore[assignment]
        return event if self._wanted(e.accepts(event.source, event.type), env) else None

    def _wanted(self, ok: bool, env: c.Envelope) -> bool:
        if not ok:
            log.info(
                "function %r: %s event %s not matched by %r, acked and skipped",
                self.spec.name,
                env.type,
                env.attrs.get("id"),
                self.trigger,
            )
        return ok


def _client_driver(options: GcpOptions) -> Any:
    """The Google client output driver (built on the first output by LazyDriver)."""
    from .outputs import GcpDriver

    return GcpDriver(project=options.project)
