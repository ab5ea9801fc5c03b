"""polyfn: write a serverless function once, run it on any cloud.

Importing polyfn is cheap: names are loaded on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "App": "polyfn.app",
    "Function": "polyfn.app",
    "Context": "polyfn.context",
    "TraceContext": "polyfn.context",
    "BatchResult": "polyfn.results",
    "HttpError": "polyfn.results",
    "Retry": "polyfn.results",
    "PolyfnError": "polyfn.errors",
    "EventError": "polyfn.errors",
    "MalformedEventError": "polyfn.errors",
    "UnsupportedEventError": "polyfn.errors",
    "DefinitionError": "polyfn.errors",
    "HandlerError": "polyfn.errors",
    "NoRouteError": "polyfn.errors",
    "ChangeEvent": "polyfn.events",
    "CloudEvent": "polyfn.events",
    "Headers": "polyfn.events",
    "HttpRequest": "polyfn.events",
    "HttpResponse": "polyfn.events",
    "QueryParams": "polyfn.events",
    "QueueMessage": "polyfn.events",
    "ScheduleEvent": "polyfn.events",
    "StorageEvent": "polyfn.events",
    "TopicMessage": "polyfn.events",
    "Outputs": "polyfn.outputs",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from polyfn.app import App, Function
    from polyfn.context import Context, TraceContext
    from polyfn.errors import (
        DefinitionError,
        EventError,
        HandlerError,
        MalformedEventError,
        NoRouteError,
        PolyfnError,
        UnsupportedEventError,
    )
    from polyfn.events import (
        ChangeEvent,
        CloudEvent,
        Headers,
        HttpRequest,
        HttpResponse,
        QueryParams,
        QueueMessage,
        ScheduleEvent,
        StorageEvent,
        TopicMessage,
    )
    from polyfn.outputs import Outputs
    from polyfn.results import BatchResult, HttpError, Retry


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'polyfn' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
