"""Invoking a FunctionApp the way the Functions host and the Python worker do.

The host sends the worker the trigger payload and trigger metadata as typed values
(``Datum``); the worker decodes them with the binding's converter from azure.functions,
then calls the function with the decoded object and a ``Context``. This module does the
same on one machine, so tests and the local runtime exercise exactly the code that runs
in Azure: the converters, polyfn's wrappers and its translations.
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

from .host import HostInvocation

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


@dataclass(slots=True)
class IndexedFunction:
    """One function as the worker indexed it."""

    name: str
    call: Any
    trigger: dict[str, Any]
    bindings: list[dict[str, Any]]

    @property
    def trigger_param(self) -> str:
        return self.trigger["name"]


class Worker:
    """Indexes a FunctionApp once (``get_functions()``, each function's binding JSON)
    and invokes its functions with host payloads or neutral events."""

    def __init__(self, app: func.FunctionApp) -> None:
        self.functions: dict[str, IndexedFunction] = {}
        for fn in app.get_functions():
            bindings = json.loads(fn.get_function_json())["bindings"]
            trigger = next(b for b in bindings if b["type"].endswith("Trigger"))
            name = fn.get_function_name()
            self.functions[name] = IndexedFunction(name, fn.get_user_function(), trigger, bindings)

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
        return fn.call(**{fn.trigger_param: obj, "context": context or WorkerContext(name)})
