"""Invoking a FunctionApp the way the Functions host and the Python worker do.

The host sends the worker the trigger payload and trigger metadata as typed values
(``Datum``); the worker decodes them with the binding's converter from azure.functions,
then calls the function with the decoded object, a ``Context`` and one ``Out`` per output
binding. This module does the same on one machine, so tests and the local runtime
exercise exactly the code that runs in Azure: the converters, polyfn's wrappers and its
translations.

Output bindings (Azure/azure-functions-python-worker at 7e6acf36, 4.34.0):
functions.py ``Registry.validate_function_params`` checks each parameter against its
binding: an ``out`` binding's annotation must be ``Out[T]``, and ``T`` must pass the
output check of the binding's converter, or, when ``T`` is ``str`` or ``bytes`` and the
binding has no implicit output, of the worker's generic binding; dispatcher.py
``_handle__invocation_request`` passes a fresh ``bindings.Out`` per output binding, and
after the function returned sends the host each one that was set (unset ones, and every
one of a failed invocation, send nothing), encoded by the same binding
(``bindings.to_outgoing_param_binding`` → ``get_datum`` → ``encode``; datumdef.py
``datum_as_proto`` turns the generic binding's ``list`` and ``dict`` into ``json``).
:func:`host_messages` then does what the host does with one output value
(azure-functions-host, src/WebJobs.Script.Grpc/MessageExtensions/
GrpcMessageConversionExtensions.cs ``ToObject``; src/WebJobs.Script/Binding/
FunctionBinding.cs ``ReadAsEnumerable`` and ``BindAsyncCollectorAsync<byte[]>``).
"""

from __future__ import annotations

import importlib
import json
import threading
import uuid
from dataclasses import dataclass
from typing import Any

import azure.functions as func
from azure.functions import meta

from polyfn.events._base import NeutralEvent
from polyfn.outputs import OutputDriver

from .host import HostInvocation
from .options import AzureOptions, resolve

# trigger binding type → translation module under polyfn.adapters.azure.sources
SOURCES: dict[str, str] = {
    "httpTrigger": "http",
    "queueTrigger": "queue",
    "serviceBusTrigger": "servicebus",
    "blobTrigger": "blob",
    "eventGridTrigger": "eventgrid",
    "timerTrigger": "timer",
    "cosmosDBTrigger": "cosmosdb",
    "eventHubTrigger": "eventhub",
}


class _TraceContext:
    __slots__ = ("attributes", "trace_parent", "trace_state")

    def __init__(self, trace_parent: str, trace_state: str = "") -> None:
        self.trace_parent = trace_parent
        self.trace_state = trace_state
        self.attributes: dict[str, str] = {}


class _RetryContext:
    retry_count = 0
    max_retry_count = 0
    exception = None


class WorkerContext(func.Context):
    """The ``context`` the worker passes (as its bindings/context.py builds it)."""

    def __init__(
        self,
        function_name: str,
        invocation_id: str | None = None,
        traceparent: str | None = None,
        tracestate: str = "",
    ) -> None:
        self._name = function_name
        self._id = invocation_id or str(uuid.uuid4())
        if traceparent is None:
            traceparent = f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01"
        self._trace = _TraceContext(traceparent, tracestate)

    @property
    def invocation_id(self) -> str:
        return self._id

    @property
    def thread_local_storage(self) -> Any:
        return threading.local()

    @property
    def function_name(self) -> str:
        return self._name

    @property
    def function_directory(self) -> str:
        return "/home/site/wwwroot"

    @property
    def trace_context(self) -> Any:
        return self._trace

    @property
    def retry_context(self) -> Any:
        return _RetryContext()


class Out:
    """What the worker passes for each output binding (azure_functions_worker/bindings/
    out.py): a holder the function sets (``set``), read by the worker after it returned."""

    __slots__ = ("_value",)

    def __init__(self) -> None:
        self._value: Any = None

    def set(self, val: Any) -> None:
        self._value = val

    def get(self) -> Any:
        return self._value


class FunctionLoadError(ValueError):
    """A function the worker would refuse to load (its FunctionLoadError)."""


@dataclass(slots=True)
class IndexedFunction:
    """One function as the worker indexed it; ``outputs`` are its output bindings by
    name (not ``$return``), ``out_types`` the ``T`` of each ``Out[T]`` parameter."""

    name: str
    call: Any
    trigger: dict[str, Any]
    bindings: list[dict[str, Any]]
    outputs: dict[str, dict[str, Any]]
    out_types: dict[str, Any]

    @property
    def trigger_param(self) -> str:
        return self.trigger["name"]


def _has_implicit_output(binding_type: str) -> bool:
    converter = meta.get_binding_registry().get(binding_type)
    return bool(getattr(converter, "has_implicit_output", lambda: False)())


def _generic(binding_type: str, pytype: Any) -> bool:
    """The worker binds a ``str`` or ``bytes`` parameter through its generic binding
    unless the binding type has an implicit output."""
    return pytype in (str, bytes) and not _has_implicit_output(binding_type)


def check_function(name: str, call: Any, bindings: list[dict[str, Any]]) -> dict[str, Any]:
    """The worker's load-time checks of a function's parameters against its bindings;
    returns each output parameter's ``T``."""
    import inspect
    import typing

    params = dict(inspect.signature(call).parameters)
    hints = typing.get_type_hints(call)
    bound = {b["name"]: b for b in bindings if b["name"] != "$return"}
    if "context" in params and "context" not in bound:
        params.pop("context")
        ctx = hints.get("context")
        if ctx is not None and getattr(ctx, "__name__", None) != "Context":
            raise FunctionLoadError(
                f"{name}: context is annotated {ctx!r}, not azure.functions.Context"
            )
    if set(params) != set(bound):
        raise FunctionLoadError(
            f"{name}: parameters {sorted(params)} are not the bindings {sorted(bound)}"
        )
    registry = meta.get_binding_registry()
    out_types: dict[str, Any] = {}
    for param, binding in bound.items():
        anno = hints.get(param)
        is_out = typing.get_origin(anno) is func.Out or anno is func.Out
        if (binding["direction"].lower() == "out") != is_out:
            raise FunctionLoadError(f"{name}: {param}: Out annotation and binding direction differ")
        if anno is None:
            continue
        pytype = typing.get_args(anno)[0] if is_out else anno
        kind = "generic" if _generic(binding["type"], pytype) else binding["type"]
        if is_out:
            out_types[param] = pytype
            if kind == "generic":
                ok = isinstance(pytype, type) and issubclass(pytype, str | bytes | bytearray)
            else:
                ok = registry.get(kind).check_output_type_annotation(pytype)
        elif kind == "generic":
            ok = isinstance(pytype, type) and issubclass(pytype, str | bytes)
        else:
            ok = registry.get(kind).check_input_type_annotation(pytype)
        if not ok:
            raise FunctionLoadError(
                f"{name}: type of {param} binding {binding['type']!r} does not match its "
                f"Python annotation {pytype!r}"
            )
    return out_types


def encode_output(binding_type: str, pytype: Any, value: Any) -> meta.Datum:
    """An output value as the worker sends it to the host (the ``TypedData`` as a Datum):
    through the binding's converter, or the worker's generic binding."""
    if not _generic(binding_type, pytype):
        return meta.get_binding_registry().get(binding_type).encode(value, expected_type=pytype)
    if isinstance(value, str):
        return meta.Datum(value, "string")
    if isinstance(value, bytes | bytearray):
        return meta.Datum(bytes(value), "bytes")
    if isinstance(value, list | dict):  # TypedData has neither: the worker sends JSON
        return meta.Datum(json.dumps(value), "json")
    raise NotImplementedError(f"the worker's generic binding cannot send {type(value)!r}")


def _looks_like_json(text: str) -> bool:
    t = text.strip()
    return (t.startswith("{") and t.endswith("}")) or (t.startswith("[") and t.endswith("]"))


def host_messages(datum: meta.Datum) -> list[bytes]:
    """What the host adds to an output binding's collector (``IAsyncCollector<byte[]>``,
    the first default type of queue, Service Bus and Event Grid outputs) for one value:
    bytes as they are; JSON (and a string that looks like JSON) parsed, one message per
    element of an array; a string element as its text, anything else as JSON text (the
    host's Newtonsoft ``ToString()`` indents it, which this does not imitate)."""
    if datum.type == "bytes":
        return [datum.value]
    if datum.type == "json" or (datum.type == "string" and _looks_like_json(datum.value)):
        parsed = json.loads(datum.value)
        items = parsed if isinstance(parsed, list) else [parsed]
        return [
            (i if isinstance(i, str) else json.dumps(i, ensure_ascii=False)).encode("utf-8")
            for i in items
        ]
    if datum.type == "string":
        return [datum.value.encode("utf-8")]
    raise NotImplementedError(f"output datum of type {datum.type!r}")


class Worker:
    """Indexes a FunctionApp once (``get_functions()``, each function's binding JSON,
    the worker's checks of its parameters) and invokes its functions with host payloads
    or neutral events.

    After a successful invocation ``last_outputs`` holds what the function set on its
    output bindings ({binding name: value}); with ``deliver``, each message is then
    handed to that driver as the host would deliver it (queue → ``send``, Service Bus
    queue → ``send``, topic → ``publish``, Event Grid → ``emit``), so a local run chains
    functions through their output bindings."""

    def __init__(self, app: func.FunctionApp, *, deliver: OutputDriver | None = None) -> None:
        self.functions: dict[str, IndexedFunction] = {}
        self.deliver = deliver
        self.last_outputs: dict[str, Any] = {}
        for fn in app.get_functions():
            bindings = json.loads(fn.get_function_json())["bindings"]
            trigger = next(b for b in bindings if b["type"].endswith("Trigger"))
            name = fn.get_function_name()
            call = fn.get_user_function()
            out_types = check_function(name, call, bindings)
            outputs = {
                b["name"]: b
                for b in bindings
                if b["direction"].lower() == "out" and b["name"] != "$return"
            }
            self.functions[name] = IndexedFunction(
                name, call, trigger, bindings, outputs, out_types
            )

    def function(self, name: str) -> IndexedFunction:
        try:
            return self.functions[name]
        except KeyError:
            known = ", ".join(sorted(self.functions))
            raise KeyError(f"no Azure function {name!r} (indexed: {known})") from None

    def render(self, name: str, event: NeutralEvent | list[Any]) -> HostInvocation:
        """What the host would send function ``name`` for a neutral event (or list)."""
        trigger = self.function(name).trigger
        module = importlib.import_module(f"{__package__}.sources.{SOURCES[trigger['type']]}")
        return module.to_host(event, trigger)

    def invoke(
        self,
        name: str,
        payload: NeutralEvent | list[Any] | HostInvocation,
        *,
        context: WorkerContext | None = None,
    ) -> Any:
        """Decode ``payload`` with the trigger's converter, as the worker does, and call
        the function; a neutral event is first rendered as the host would send it."""
        fn = self.function(name)
        inv = payload if isinstance(payload, HostInvocation) else self.render(name, payload)
        converter = meta.get_binding_registry().get(fn.trigger["type"])
        obj = converter.decode(inv.data, trigger_metadata=inv.trigger_metadata)
        outs = {out: Out() for out in fn.outputs}
        self.last_outputs = {}
        if context is None:
            context = WorkerContext(name, traceparent=_host_trace(obj, fn.trigger))
        result = fn.call(**{fn.trigger_param: obj, "context": context}, **outs)
        self.last_outputs = {k: o.get() for k, o in outs.items() if o.get() is not None}
        if self.deliver is not None:
            trace = context.trace_context.trace_parent
            for out, value in self.last_outputs.items():
                self._deliver(fn.outputs[out], self.encode(name, out, value), trace)
        return result

    def encode(self, name: str, out: str, value: Any) -> meta.Datum:
        """``value`` set on output binding ``out`` of function ``name``, as the worker
        sends it to the host."""
        fn = self.function(name)
        return encode_output(fn.outputs[out]["type"], fn.out_types.get(out), value)

    def _deliver(self, binding: dict[str, Any], datum: meta.Datum, trace: str) -> None:
        """Hand one output value's messages to ``self.deliver``, as the host would: Service
        Bus messages carry the invocation's trace as ``Diagnostic-Id`` (the host's
        Service Bus SDK stamps its current activity, azure/servicebus/_common/tracing.py);
        Queue Storage messages carry nothing."""
        driver = self.deliver
        assert driver is not None
        kind = binding["type"]
        traced = {"Diagnostic-Id": trace} if kind == "serviceBus" else {}
        for body in host_messages(datum):
            if kind == "queue" or (kind == "serviceBus" and "queueName" in binding):
                driver.send(resolve(binding["queueName"]), body, traced, None, None, 0)
            elif kind == "serviceBus":
                driver.publish(resolve(binding["topicName"]), body, traced, None)
            elif kind == "eventGrid":
                driver.emit(_cloud_event(body), _bus(binding.get("topicEndpointUri", "")))
            else:
                raise NotImplementedError(f"delivering a {kind!r} output binding")


def _host_trace(obj: Any, trigger: dict[str, Any]) -> str | None:
    """The trace the host gives an invocation: a span under the trace the (first)
    message carries, as the host's activity continues a Service Bus message's
    Diagnostic-Id; None (a new trace) when it carries none (Queue Storage never does)."""
    from polyfn.observe.trace import child_of, trace_of

    from . import from_native

    try:
        event = from_native(obj, trigger)
    except Exception:  # what the function cannot read either carries no trace
        return None
    first = event[0] if isinstance(event, list) and event else event
    parent = trace_of(first)
    return None if parent is None else child_of(parent).traceparent


def _bus(endpoint_setting: str) -> str | None:
    """The polyfn bus of an Event Grid output binding, from its endpoint setting (the
    default bus's ``EventGridTopicEndpoint``, bus X's ``XEndpoint``)."""
    if endpoint_setting == AzureOptions().event_grid_endpoint_setting:
        return None
    return endpoint_setting.removesuffix("Endpoint")


def _cloud_event(body: bytes) -> Any:
    """An event the Event Grid output binding sends, as the Event Grid trigger would
    hand it to a function (the library's converter, then the adapter's translation)."""
    from .sources import eventgrid

    inv = HostInvocation(meta.Datum(body.decode("utf-8"), "json"))
    return eventgrid.from_native(
        meta.get_binding_registry().get("eventGridTrigger").decode(inv.data, trigger_metadata={})
    )
