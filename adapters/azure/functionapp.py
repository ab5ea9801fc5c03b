"""``function_app(app)``: a polyfn app as an ``azure.functions.FunctionApp`` (Python v2
programming model), one Azure function per polyfn function and trigger.

A user's ``function_app.py`` is two lines (the worker indexes the module-level FunctionApp)::

    from polyfn.adapters.azure import function_app

    app = function_app("myapp:app")  # or function_app(my_app), the App itself

Each trigger becomes the matching Azure trigger; the Azure function is named after the
polyfn function (a function's second and further triggers get ``_2``, ``_3``, ...):

============================  =====================================================
polyfn trigger                Azure trigger
============================  =====================================================
``http``                      HTTP (route ``/orders/{id}`` → ``orders/{id}``, greedy
                              ``{path+}`` → ``{*path}``, methods, auth level)
``queue``                     Queue Storage, or Service Bus (``queue_service``); FIFO
                              queues: Service Bus with sessions
``topic``                     Service Bus topic subscription (the filter: see below)
``storage`` (only created)    Blob trigger, path ``container/{prefix}{name}{suffix}``
                              (new and overwritten blobs, like S3's ObjectCreated)
``storage`` (other events)    Event Grid trigger on the account's blob events
``event``                     Event Grid trigger (Event Grid and CloudEvents schemas)
``schedule``                  Timer (six-field NCRONTAB, see ncrontab.py)
``stream``                    Event Hubs, cardinality many
``change``                    Cosmos DB change feed
============================  =====================================================

Verdicts. Single-message triggers (Storage and Service Bus queues, topics, blobs) run the
handler once per message; a failure raises, so the host retries that message alone and
after ``maxDequeueCount`` (Storage, host.json) or ``MaxDeliveryCount`` (Service Bus, set on
the queue) moves it to the poison queue / dead-letter queue. A malformed message raises too
and is dead-lettered the same way, never dropped.

Batches. Event Hubs and Cosmos DB deliver batches in order and have no per-record
verdict: the records run in order, the first failure stops the batch and fails the
invocation, and the function's retry policy (``AzureOptions.stream_retry``: exponential
back-off, 5 retries by default) re-runs the *whole* batch. What degrades, compared with
AWS's per-record verdicts: records before the failure run again on every retry (handlers
must be idempotent), and once the retries are spent the host checkpoints past the batch
and the failed records are not delivered again (log them, or set ``max_retry_count=-1``
to block the partition until they succeed, as Kinesis does by default). Service Bus
batches (``batch=True`` handlers on Service Bus queues and topics, cardinality many) are
settled as a whole: a failure (or a failed id returned by the handler) abandons every
message of the batch, and each is redelivered (its delivery count rising) until it
dead-letters. On Storage queues, which Azure delivers one message per invocation, a
``batch=True`` handler receives a list of one.

Outputs. ``ctx.outputs`` reaches any target through the Azure SDKs (outputs.py). The
targets a function declares (``@app.outputs``) become output bindings of its Azure
functions where Azure can bind them: queues → Storage queue (or, with
``queue_service="servicebus"``, Service Bus queue) outputs, topics → Service Bus topic
outputs, event buses → Event Grid outputs. Declared buckets get no binding: a blob output
binding writes one blob whose path is fixed in function.json (or made of trigger data),
while ``put(bucket, key)`` chooses the key at run time, so ``put`` stays on the SDK
driver; so do queues the app reads as FIFO (Service Bus sessions: every send needs a
session id). What the handler sends to a binding is handed to it only when the handler
succeeded (the host then delivers it; a failed invocation delivers nothing); what a
binding cannot carry (binary bodies, group or de-duplication ids, delays, Service Bus
attributes and subjects) goes through the SDK at the call. bindings_out.py has the rules.
``function_app(app, outputs=...)`` replaces the SDK drivers, not the bindings.

Workflows. When the app registered workflows (``polyfn.workflow.local.workflow``) and
azure-functions-durable is installed, the FunctionApp is a ``DFApp`` with an orchestrator,
activities and an HTTP starter per workflow (workflows.py). Without the package the
workflows are left out, with a warning.

Filters. A topic's attribute filter is applied here, before the handler (messages that do
not match are completed and not handled); deploy it as a SQL filter rule on the
subscription too, so they are not delivered at all. Storage prefixes and suffixes are in
the blob path; Event Grid storage events and ``event(source=, type=)`` are filtered here by
container, key, kind, source and type (deploy the matching Event Grid subscription filters
as well).
"""

from __future__ import annotations

import functools
import importlib
import json
import logging
import re
import sys
import typing
from enum import Enum
from typing import Any

import azure.functions as func

from polyfn.app import App, Function
from polyfn.dispatch import IN_ORDER, call, run_batch, run_event, run_http
from polyfn.errors import DefinitionError, HandlerError, PolyfnError, UnsupportedEventError
from polyfn.events.http import as_response
from polyfn.observe import from_env as observe_from_env
from polyfn.outputs import LazyDriver, Outputs
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

from .context import make_context
from .ncrontab import to_ncrontab
from .options import AzureOptions, RetryPolicy, resolve

if typing.TYPE_CHECKING:
    from .bindings_out import BindingDriver, OutputBindings

log = logging.getLogger("polyfn")

# Azure function names: a letter, then letters, digits, "_" and "-" (128 at most).
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,127}$")
_ROUTE_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(\+?)\}")
# Azure has no empty route; an optional parameter that must be empty serves the root.
ROOT_ROUTE_PARAM = "polyfnroot"
_UTC = ("UTC", "Etc/UTC", "Etc/GMT", "GMT", "Coordinated Universal Time")

# The Azure binding each kind of Azure function is triggered by: the source module that
# translates its objects, and the Python annotation the worker checks the parameter
# against (azure_functions_worker.functions.Registry.validate_function_params).
_SOURCE = {
    "http": "http",
    "queue": "queue",
    "servicebus_queue": "servicebus",
    "servicebus_topic": "servicebus",
    "blob": "blob",
    "eventgrid_storage": "eventgrid",
    "eventgrid": "eventgrid",
    "timer": "timer",
    "cosmosdb": "cosmosdb",
    "eventhub": "eventhub",
}
_ANNOTATION: dict[str, Any] = {
    "http": func.HttpRequest,
    "queue": func.QueueMessage,
    "servicebus_queue": func.ServiceBusMessage,
    "servicebus_topic": func.ServiceBusMessage,
    "blob": func.InputStream,
    "eventgrid_storage": func.EventGridEvent,  # the converter yields CloudEvent too
    "eventgrid": func.EventGridEvent,
    "timer": func.TimerRequest,
    "cosmosdb": func.DocumentList,
    "eventhub": typing.List[func.EventHubEvent],  # noqa: UP006 - the worker's typing_inspect reads typing generics
}
_MANY: dict[str, Any] = {
    "servicebus_queue": typing.List[func.ServiceBusMessage],  # noqa: UP006
    "servicebus_topic": typing.List[func.ServiceBusMessage],  # noqa: UP006
}


class AzureFunction:
    """One Azure function of the app: what ``function_app`` registers and ``host_json``
    reads. ``settings`` are the trigger decorator's keyword arguments. (A plain class: a
    dataclass costs a millisecond at import, on every cold start.)"""

    __slots__ = ("function", "kind", "name", "output_bindings", "retry", "settings", "trigger")

    def __init__(
        self,
        name: str,
        function: Function,
        trigger: Trigger,
        kind: str,
        settings: dict[str, Any] | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.name = name
        self.function = function
        self.trigger = trigger
        self.kind = kind
        self.settings: dict[str, Any] = settings if settings is not None else {}
        self.retry = retry
        self.output_bindings: OutputBindings | None = None
        """The function's declared outputs Azure binds (bindings_out.py), if any."""

    def __repr__(self) -> str:
        return f"AzureFunction({self.name!r}, {self.kind!r}, {self.settings!r})"

    @property
    def many(self) -> bool:
        """Cardinality many: the trigger hands the function a list."""
        return self.settings.get("cardinality") == "many" or self.kind in ("eventhub", "cosmosdb")


def plan(app: App, options: AzureOptions | None = None) -> list[AzureFunction]:
    """The Azure functions of ``app``, checked: DefinitionError names provider azure, the
    function, the trigger and the field of anything Azure cannot express."""
    options = options or AzureOptions()
    out: list[AzureFunction] = []
    taken = set(app.functions)
    fifo = [
        t.name
        for fn in app.functions.values()
        for t in fn.triggers
        if isinstance(t, QueueTrigger) and t.fifo
    ]
    for fn in app.functions.values():
        bound = _output_bindings(fn, options, fifo) if fn.outputs else None
        for i, trigger in enumerate(fn.triggers):
            name = fn.name if i == 0 else f"{fn.name}_{i + 1}"
            if not _NAME.match(name):
                raise DefinitionError(
                    f"azure function {name!r}: name: Azure function names are a letter, then "
                    "letters, digits, _ and - (128 at most): pass name= to the trigger"
                )
            if i > 0 and name in taken:
                raise DefinitionError(
                    f"azure function {name!r}: name: function {fn.name!r}'s trigger {i + 1} "
                    f"would be named like the function {name!r}: rename one of them"
                )
            taken.add(name)
            spec = _translate(name, fn, trigger, options)
            spec.output_bindings = bound
            out.append(spec)
    return out


def _output_bindings(fn: Function, options: AzureOptions, fifo: list[str]) -> OutputBindings | None:
    # Imported here: an app that declares no outputs never loads the module.
    from .bindings_out import OutputBindings

    return OutputBindings(fn, options, fifo) or None


def _fail(name: str, trigger: Trigger, field: str, reason: str) -> DefinitionError:
    return DefinitionError(f"azure function {name!r}: {trigger.KIND} trigger: {field}: {reason}")


def _translate(name: str, fn: Function, t: Trigger, options: AzureOptions) -> AzureFunction:
    if isinstance(t, HttpTrigger):
        return AzureFunction(name, fn, t, "http", _http(name, t, options))
    if isinstance(t, QueueTrigger):
        if t.fifo or options.queue_service == "servicebus":
            kw: dict[str, Any] = {
                "queue_name": t.name,
                "connection": options.service_bus_connection,
            }
            if t.fifo:
                kw["is_sessions_enabled"] = True  # the group id is the session id
            if fn.batch:
                kw["cardinality"] = "many"
            return AzureFunction(name, fn, t, "servicebus_queue", kw)
        kw = {"queue_name": t.name, "connection": options.storage_connection}
        return AzureFunction(name, fn, t, "queue", kw)
    if isinstance(t, TopicTrigger):
        kw = {
            "topic_name": t.name,
            "subscription_name": options.subscription.format(function=name),
            "connection": options.service_bus_connection,
        }
        if fn.batch:
            kw["cardinality"] = "many"
        return AzureFunction(name, fn, t, "servicebus_topic", kw)
    if isinstance(t, StorageTrigger):
        if set(t.events) == {"created"}:
            path = f"{t.bucket}/{_blob_literal(t.prefix)}{{name}}{_blob_literal(t.suffix)}"
            kw = {"path": path, "connection": options.storage_connection}
            if options.blob_source is not None:
                kw["source"] = options.blob_source
            return AzureFunction(name, fn, t, "blob", kw)
        return AzureFunction(name, fn, t, "eventgrid_storage", {})
    if isinstance(t, EventTrigger):
        return AzureFunction(name, fn, t, "eventgrid", {})
    if isinstance(t, ScheduleTrigger):
        if t.timezone != options.time_zone and not (
            t.timezone in _UTC and options.time_zone in _UTC
        ):
            raise _fail(
                name,
                t,
                "timezone",
                f"{t.timezone!r}: Azure runs every timer of an app in one time zone, the "
                f"WEBSITE_TIME_ZONE app setting (here {options.time_zone!r}); deploy with "
                f"WEBSITE_TIME_ZONE={t.timezone!r} and pass AzureOptions(time_zone="
                f"{t.timezone!r}), or write the schedule in {options.time_zone}",
            )
        schedule = to_ncrontab(t.expression, name, timespan=options.timespan_schedules)
        return AzureFunction(
            name, fn, t, "timer", {"schedule": schedule}, retry=options.schedule_retry
        )
    if isinstance(t, StreamTrigger):
        kw = {
            "event_hub_name": t.name,
            "connection": options.event_hub_connection,
            "cardinality": "many",
        }
        if options.event_hub_consumer_group is not None:
            kw["consumer_group"] = options.event_hub_consumer_group
        return AzureFunction(name, fn, t, "eventhub", kw, retry=options.stream_retry)
    if isinstance(t, ChangeTrigger):
        return AzureFunction(
            name, fn, t, "cosmosdb", _cosmos(name, t, options), retry=options.stream_retry
        )
    raise _fail(name, t, "kind", "the Azure adapter has no trigger for it")


def _http(name: str, t: HttpTrigger, options: AzureOptions) -> dict[str, Any]:
    auth = options.auth_level or t.auth
    if auth not in ("anonymous", "function", "admin"):
        raise _fail(name, t, "auth", f"{t.auth!r}: Azure knows anonymous, function and admin")
    return {
        "route": azure_route(t.route, name),
        "methods": None if "ANY" in t.methods else list(t.methods),
        "auth_level": auth,
    }


def azure_route(route: str, function: str = "?") -> str:
    """``/orders/{id}`` → ``orders/{id}``; ``/files/{path+}`` → ``files/{*path}``."""
    if route == "/":
        return f"{{{ROOT_ROUTE_PARAM}:maxlength(0)?}}"
    out = route[1:]
    for m in _ROUTE_PARAM.finditer(route):
        if m.group(2):
            if m.end() != len(route) or route[m.start() - 1] != "/":
                raise DefinitionError(
                    f"azure function {function!r}: http trigger: route: {route!r}: a greedy "
                    "parameter must be the whole last segment on Azure"
                )
            out = out.replace(m.group(0), f"{{*{m.group(1)}}}")
    return out


def _blob_literal(text: str | None) -> str:
    # Braces in a blob path are binding expressions; a literal brace is doubled.
    return "" if not text else text.replace("{", "{{").replace("}", "}}")


def _cosmos(name: str, t: ChangeTrigger, options: AzureOptions) -> dict[str, Any]:
    database, _, container = t.source.rpartition("/")
    database = database or options.cosmos_database or ""
    if not database or "/" in database or not container:
        raise _fail(
            name,
            t,
            "source",
            f"{t.source!r}: name the Cosmos DB database: change('database/container') or "
            "AzureOptions(cosmos_database=...)",
        )
    if t.start not in ("latest", "oldest"):
        raise _fail(name, t, "start", f"{t.start!r}: Cosmos DB starts at latest or oldest")
    kw: dict[str, Any] = {
        "connection": options.cosmos_connection,
        "database_name": database,
        "container_name": container,
        "lease_container_name": options.cosmos_lease_container,
        # Functions watching one container share the lease container: a prefix per
        # function keeps their leases apart (set from the start, so adding a second
        # function later does not reset the first one's position).
        "lease_container_prefix": name,
        "max_items_per_invocation": t.batch_size,
    }
    if options.cosmos_create_leases:
        kw["create_lease_container_if_not_exists"] = True
    if t.start == "oldest":
        kw["start_from_beginning"] = True
    return kw


# -- registration -------------------------------------------------------------------------
def function_app(
    app: App | str, options: AzureOptions | None = None, *, outputs: Outputs | None = None
) -> func.FunctionApp:
    """The ``azure.functions.FunctionApp`` running ``app`` (an App, or ``"module:attribute"``
    naming one). Assign it to a module-level name in ``function_app.py``: the worker indexes
    the one FunctionApp it finds there. ``outputs`` replaces the Azure SDK drivers: it
    receives every output no output binding carries (see bindings_out.py)."""
    if isinstance(app, str):
        from polyfn.loader import load_app

        app = load_app(app)
    options = options or AzureOptions()
    functions = plan(app, options)
    observe_from_env("azure")
    port = (
        outputs
        if outputs is not None
        else Outputs(LazyDriver(functools.partial(_sdk_driver, options)))
    )
    # Every HTTP trigger carries its own auth level; the app-wide one is Azure's default.
    level = func.AuthLevel[(options.auth_level or "function").upper()]
    flows = _workflows(app)
    if flows:
        from .workflows import new_app, register_workflows

        fa = new_app(level)
    else:
        fa = func.FunctionApp(http_auth_level=level)
    for spec in functions:
        _register(fa, spec, options, port)
    if flows:
        taken = {spec.name for spec in functions}
        auth = options.auth_level or "function"
        register_workflows(fa, app, flows, taken, port, options.function_timeout, auth)
    return fa


def _workflows(app: App) -> dict[str, Any]:
    """The app's workflows, when Durable Functions can run them."""
    if "polyfn.workflow.local" not in sys.modules:  # no workflow registered: no cost
        return {}
    from .workflows import app_workflows, durable_available

    flows = app_workflows(app)
    if flows and not durable_available():
        log.warning(
            "azure: app %r: workflows %s left out: install azure-functions-durable "
            "(polyfn[azure]) to run them on Durable Functions",
            app.name,
            sorted(flows),
        )
        return {}
    return flows


def _register(
    fa: func.FunctionApp, spec: AzureFunction, options: AzureOptions, outputs: Outputs
) -> None:
    invoker = _Invoker(spec, options, outputs)
    wrapper = _wrapper(spec, invoker)
    kw = spec.settings
    param = "req" if spec.kind == "http" else "event"
    kind = spec.kind
    if kind == "http":
        decorate = fa.route(trigger_arg_name=param, binding_arg_name="$return", **kw)
    elif kind == "queue":
        decorate = fa.queue_trigger(arg_name=param, **kw)
    elif kind == "servicebus_queue":
        decorate = fa.service_bus_queue_trigger(arg_name=param, **kw)
    elif kind == "servicebus_topic":
        decorate = fa.service_bus_topic_trigger(arg_name=param, **kw)
    elif kind == "blob":
        decorate = fa.blob_trigger(arg_name=param, **kw)
    elif kind in ("eventgrid", "eventgrid_storage"):
        decorate = fa.event_grid_trigger(arg_name=param, **kw)
    elif kind == "timer":
        decorate = fa.timer_trigger(arg_name=param, **kw)
    elif kind == "eventhub":
        decorate = fa.event_hub_message_trigger(arg_name=param, **kw)
    else:
        decorate = fa.cosmos_db_trigger(arg_name=param, **kw)
    builder = decorate(wrapper)
    if spec.output_bindings is not None:
        builder = spec.output_bindings.register(fa, builder)
    if spec.retry is not None:
        builder = fa.retry(**spec.retry.decorator_kwargs())(builder)
    # The trigger's settings as indexed (function.json), for the source modules.
    invoker.binding = binding_settings(builder._function.get_trigger())


def binding_settings(trigger: Any) -> dict[str, Any]:
    """A decorator Trigger's binding as plain JSON values (``"direction": "in"``)."""
    out: dict[str, Any] = {}
    for key, value in trigger.get_dict_repr().items():
        if key == "direction":
            value = value.name.lower() if isinstance(value, Enum) else str(value).lower()
        elif isinstance(value, Enum):
            value = value.value
        elif isinstance(value, list):
            value = [v.value if isinstance(v, Enum) else v for v in value]
        out[key] = value
    return json.loads(json.dumps(out))


def _wrapper(spec: AzureFunction, invoker: _Invoker) -> Any:
    """The Python function the worker calls: parameters named after the bindings and
    annotated with the types the worker checks; the context parameter is ``context``."""
    if spec.output_bindings is not None:
        return _wrapper_with_outputs(spec, invoker, spec.output_bindings)
    if spec.kind == "http":

        def azure_http(req: Any, context: Any) -> Any:
            return invoker.http(req, context)

        wrapper: Any = azure_http
        wrapper.__annotations__ = {
            "req": func.HttpRequest,
            "context": func.Context,
            "return": func.HttpResponse,
        }
    else:
        handle = invoker.many if spec.many else invoker.one

        def azure_function(event: Any, context: Any) -> None:
            handle(event, context)

        wrapper = azure_function
        annotation = _MANY.get(spec.kind) if spec.many else None
        wrapper.__annotations__ = {
            "event": annotation or _ANNOTATION[spec.kind],
            "context": func.Context,
            "return": None,
        }
    wrapper.__name__ = wrapper.__qualname__ = spec.name
    wrapper.__doc__ = f"polyfn function {spec.function.name!r} ({spec.trigger!r})"
    return wrapper


def _wrapper_with_outputs(spec: AzureFunction, invoker: _Invoker, bound: OutputBindings) -> Any:
    """The wrapper of a function with output bindings: the worker passes one ``Out`` per
    binding, by name. Which bindings depends on the function, so the wrapper takes them as
    keywords and states its parameters in ``__signature__`` and ``__annotations__``: the
    worker reads exactly those (inspect.signature, typing.get_type_hints), and checks them
    as it checks a hand-written function's."""
    import inspect  # loaded already: azure.functions' decorators use it

    if spec.kind == "http":

        def azure_http(req: Any, context: Any, **outs: Any) -> Any:
            return invoker.http(req, context, outs)

        wrapper: Any = azure_http
        annotations: dict[str, Any] = {"req": func.HttpRequest, "context": func.Context}
        returns: Any = func.HttpResponse
    else:
        handle = invoker.many if spec.many else invoker.one

        def azure_function(event: Any, context: Any, **outs: Any) -> None:
            handle(event, context, outs)

        wrapper = azure_function
        annotation = _MANY.get(spec.kind) if spec.many else None
        annotations = {"event": annotation or _ANNOTATION[spec.kind], "context": func.Context}
        returns = None
    annotations.update(bound.annotations())
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    wrapper.__signature__ = inspect.Signature(
        [inspect.Parameter(name, kind, annotation=a) for name, a in annotations.items()],
        return_annotation=returns,
    )
    wrapper.__annotations__ = {**annotations, "return": returns}
    wrapper.__name__ = wrapper.__qualname__ = spec.name
    wrapper.__doc__ = f"polyfn function {spec.function.name!r} ({spec.trigger!r})"
    return wrapper


def _tracked(fn: Function) -> Function:
    """``fn`` for HTTP invocations with output bindings: run_http answers a raised error
    itself, so the handler marks, on returning, that the outputs may be delivered."""

    def handler(request: Any, ctx: Any) -> Any:
        response = as_response(call(fn, request, ctx))
        ctx.outputs.driver.ok = True
        return response

    return Function(fn.name, handler, fn.triggers, fn.batch)


class _Invoker:
    """Runs one Azure function: native objects in, the polyfn handler, the verdict out.

    ``outs`` (functions with output bindings): the worker's ``Out`` parameters; what the
    handler sent to them is set only once it succeeded (bindings_out.py)."""

    __slots__ = (
        "binding",
        "bound",
        "fn",
        "http_fn",
        "options",
        "outputs",
        "root",
        "spec",
        "src",
        "timeout",
    )

    def __init__(self, spec: AzureFunction, options: AzureOptions, outputs: Outputs) -> None:
        self.spec = spec
        self.fn = spec.function
        self.options = options
        self.outputs = outputs
        self.timeout = options.function_timeout
        self.binding: dict[str, Any] = {}
        self.src: Any = None
        self.root = isinstance(spec.trigger, HttpTrigger) and spec.trigger.route == "/"
        self.bound = spec.output_bindings
        self.http_fn = _tracked(self.fn) if self.bound is not None else self.fn

    def _source(self) -> Any:
        # Source modules load on first invocation: indexing the app imports none of them.
        if self.src is None:
            self.src = importlib.import_module(f"{__package__}.sources.{_SOURCE[self.spec.kind]}")
        return self.src

    def _driver(self, outs: dict[str, Any]) -> BindingDriver:
        bound: Any = self.bound
        for b in bound.bindings:
            if b.arg not in outs:
                missing = [b.arg for b in bound.bindings if b.arg not in outs]
                raise PolyfnError(
                    f"azure function {self.spec.name!r}: output binding parameter(s) "
                    f"{missing} not passed (the worker passes one azure.functions.Out per "
                    "output binding)"
                )
        return bound.driver(self.outputs.driver)

    def http(self, req: Any, context: Any, outs: dict[str, Any] | None = None) -> Any:
        src = self.src or self._source()
        request = src.from_native(req, self.binding)
        if self.root:  # the stand-in parameter of the root route is no path parameter
            request.route = "/"
            request.path_params = {}
        if outs is None:
            ctx = make_context(self.fn.name, context, self.outputs, self.timeout)
            return src.response(run_http(self.fn, request, ctx))
        driver = self._driver(outs)
        ctx = make_context(self.fn.name, context, Outputs(driver), self.timeout)
        response = run_http(self.http_fn, request, ctx)
        if driver.ok:  # the handler returned: a raised HttpError or failure delivers nothing
            driver.deliver(outs)
        return src.response(response)

    def one(self, obj: Any, context: Any, outs: dict[str, Any] | None = None) -> None:
        """One message or event per invocation: a failure raises, so Azure retries it."""
        src = self.src or self._source()
        event = self._event(src, obj)
        if event is None:
            return
        driver = None if outs is None else self._driver(outs)
        port = self.outputs if driver is None else Outputs(driver)
        ctx = make_context(self.fn.name, context, port, self.timeout)
        if self.fn.batch:
            self._settle(run_batch(self.fn, [event], ctx), src)
        else:
            run_event(self.fn, event, ctx)
        if driver is not None:  # reached only when the handler succeeded
            driver.deliver(outs)  # type: ignore[arg-type]

    def many(self, obj: Any, context: Any, outs: dict[str, Any] | None = None) -> None:
        """A batch (Event Hubs, Cosmos DB, Service Bus cardinality many): in order, the
        first failure stops it and fails the invocation (the module docstring says what
        that means); output bindings get everything the records sent, or (a failure)
        nothing."""
        src = self.src or self._source()
        events = src.from_native(obj, self.binding)
        if not isinstance(events, list):
            # A payload in the single-message shape (the converter decodes by the
            # metadata it sees, not the binding's cardinality): still a batch of one.
            events = [events]
        if isinstance(self.spec.trigger, TopicTrigger):
            events = [e for e in events if self._wanted(e)]
        if not events:
            return
        driver = None if outs is None else self._driver(outs)
        port = self.outputs if driver is None else Outputs(driver)
        ctx = make_context(self.fn.name, context, port, self.timeout)
        self._settle(run_batch(self.fn, events, ctx, IN_ORDER), src)
        if driver is not None:
            driver.deliver(outs)  # type: ignore[arg-type]

    def _settle(self, outcome: Any, src: Any) -> None:
        if outcome.failures:
            first = outcome.failures[0]
            cause = first.error or RuntimeError(
                f"records {outcome.failed_ids} reported failed: the batch is retried as a whole"
            )
            raise HandlerError(self.fn.name, "azure", src.EVENT_SOURCE, cause)

    def _event(self, src: Any, obj: Any) -> Any:
        """The neutral event, or None when the trigger's filter does not want it."""
        kind = self.spec.kind
        if kind == "eventgrid_storage":
            try:
                event = src.storage_event(obj, self.binding)
            except UnsupportedEventError as e:
                log.warning("function %r: ignored an Event Grid event: %s", self.spec.name, e)
                return None
        else:
            event = src.from_native(obj, self.binding)
        if isinstance(self.spec.trigger, ScheduleTrigger):
            event.schedule = self.spec.trigger.expression  # as declared, on every provider
        return event if self._wanted(event) else None

    def _wanted(self, event: Any) -> bool:
        t = self.spec.trigger
        if isinstance(t, TopicTrigger):
            ok = t.accepts(event.attributes)
        elif isinstance(t, StorageTrigger):
            # The container may be a %Setting% reference; kinds, prefix and suffix are
            # the trigger's own rule.
            ok = event.bucket == resolve(t.bucket) and t.accepts(t.bucket, event.key, event.kind)
        elif isinstance(t, EventTrigger):
            ok = t.accepts(event.source, event.type)
        else:
            return True
        if not ok:
            log.debug("function %r: event not matched by %r, skipped", self.spec.name, t)
        return ok


def _sdk_driver(options: AzureOptions) -> Any:
    """The Azure SDK output driver (built on the first output by LazyDriver)."""
    from .outputs import AzureDriver

    return AzureDriver(options, queue_attributes=options.queue_attributes)
