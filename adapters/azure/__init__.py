"""The Azure Functions adapter (Python v2 programming model).

- ``function_app(app, options)``: the ``azure.functions.FunctionApp`` the worker indexes;
  ``function_app.py`` is two lines;
- ``host_json(app, options)``: the host.json it needs; ``deployment_notes``: what the
  deployment must configure besides;
- ``AzureOptions``: which services back queues, connection setting names, ...;
- ``from_native(obj, binding)`` / ``to_native(event, binding)``: azure.functions objects ⇄
  neutral events, for tests and bridges.

Importing this module imports azure.functions (the worker has it loaded already), never an
Azure SDK client.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import ModuleType
from typing import Any

import azure.functions as func

from polyfn.errors import UnsupportedEventError

from .functionapp import AzureFunction, function_app, plan
from .hostjson import deployment_notes, host_json
from .ncrontab import to_ncrontab
from .options import AzureOptions, RetryPolicy

__all__ = [
    "AzureFunction",
    "AzureOptions",
    "RetryPolicy",
    "deployment_notes",
    "from_native",
    "function_app",
    "host_json",
    "plan",
    "response_from_native",
    "response_to_native",
    "to_native",
    "to_ncrontab",
]

# Trigger binding type → source module.
_BY_BINDING = {
    "httpTrigger": "http",
    "queueTrigger": "queue",
    "serviceBusTrigger": "servicebus",
    "blobTrigger": "blob",
    "eventGridTrigger": "eventgrid",
    "timerTrigger": "timer",
    "cosmosDBTrigger": "cosmosdb",
    "eventHubTrigger": "eventhub",
}
# azure.functions type → source module (DocumentList before list: it is one).
_BY_TYPE: tuple[tuple[type, str], ...] = (
    (func.HttpRequest, "http"),
    (func.QueueMessage, "queue"),
    (func.ServiceBusMessage, "servicebus"),
    (func.InputStream, "blob"),
    (func.EventGridEvent, "eventgrid"),
    (func.CloudEvent, "eventgrid"),
    (func.TimerRequest, "timer"),
    (func.DocumentList, "cosmosdb"),
    (func.EventHubEvent, "eventhub"),
)


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"{__name__}.sources.{name}")


def _source_of(obj: Any, binding: Mapping[str, Any] | None) -> ModuleType:
    if binding and binding.get("type") in _BY_BINDING:
        return _module(_BY_BINDING[binding["type"]])
    probe = obj[0] if isinstance(obj, list) and not isinstance(obj, func.DocumentList) else obj
    if isinstance(obj, list) and not isinstance(obj, func.DocumentList) and not obj:
        raise UnsupportedEventError(
            "azure", "?", "trigger", "an empty list: pass binding= to name the trigger"
        )
    for cls, name in _BY_TYPE:
        if isinstance(probe, cls):
            return _module(name)
    raise UnsupportedEventError(
        "azure", "?", "trigger", f"{type(probe).__name__} is not an azure.functions trigger type"
    )


def from_native(obj: Any, binding: Mapping[str, Any] | None = None) -> Any:
    """The neutral event (a list for batches: Event Hubs and Service Bus lists, Cosmos DB
    document lists) of an azure.functions trigger object. ``binding`` is the trigger's
    settings as in function.json (``{"type": "queueTrigger", "queueName": "orders", ...}``):
    the queue, topic or container names the objects do not carry themselves."""
    src = _source_of(obj, binding)
    return src.from_native(obj, dict(binding) if binding else {"type": src.BINDING})


def to_native(event: Any, binding: Mapping[str, Any] | None = None) -> Any:
    """The azure.functions object a function would have received for ``event`` (a neutral
    event, or a list of them for batch triggers). Without ``binding`` the event's own
    ``event_source`` (``"azure:queue"``) chooses the trigger."""
    if binding and binding.get("type") in _BY_BINDING:
        src = _module(_BY_BINDING[binding["type"]])
    else:
        first = event[0] if isinstance(event, list) and event else event
        source = getattr(first, "event_source", None)
        src = next(
            (
                m
                for m in map(_module, dict.fromkeys(_BY_BINDING.values()))
                if source in getattr(m, "EVENT_SOURCES", (m.EVENT_SOURCE,))
            ),
            None,
        )
        if src is None:
            raise UnsupportedEventError(
                "azure",
                str(source),
                "event_source",
                "not an Azure event source: pass binding= to name the trigger",
            )
    return src.to_native(event, dict(binding) if binding else {"type": src.BINDING})


def response_to_native(response: Any) -> func.HttpResponse:
    """A neutral HttpResponse as the ``func.HttpResponse`` the function returns."""
    return _module("http").response(response)


def response_from_native(response: func.HttpResponse) -> Any:
    """The neutral HttpResponse of a ``func.HttpResponse``."""
    return _module("http").response_from_native(response)
