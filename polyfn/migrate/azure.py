"""``from_azure``: an Azure Functions Python function (v1 or v2 model) as a polyfn handler.

The function keeps its Azure signature: ``main(req: func.HttpRequest) -> func.HttpResponse``,
``main(msg: func.QueueMessage)``, ``func.ServiceBusMessage``, ``func.InputStream``,
``func.TimerRequest``, ``func.EventGridEvent``, ``func.EventHubEvent``,
``func.DocumentList``..., with an optional ``context`` parameter. The neutral event is
rendered as the object the Python worker would hand it (``polyfn.adapters.azure.to_native``:
the host's payload decoded by azure-functions' own converter), and an HTTP answer
(``func.HttpResponse`` or ``str``) becomes a neutral HttpResponse.

The trigger binding is, in order: ``binding=`` (``"queueTrigger"``, ``"servicebus"``, or
the function.json settings as a dict), the trigger of a v2 ``FunctionBuilder`` (what
``@app.queue_trigger(...)`` returns), the annotation of the trigger parameter, else the
usual trigger of the event's kind (HTTP → httpTrigger, queue → queueTrigger, topic →
Service Bus topic, storage → blobTrigger, schedule → timerTrigger, change →
cosmosDBTrigger, event → eventGridTrigger). Settings the event knows are filled in
(queue, topic, Event Hub, container names).

``func.Out`` parameters get the worker's holder; what the function sets is delivered after
it returned, as the host delivers output bindings (nothing when it raised), to the targets
given by ``outputs={"param": "queue:NAME" | "topic:NAME"}`` through ``ctx.outputs``.
Exceptions propagate (the host's retry, then the poison / dead-letter queue).
Worker conventions: https://learn.microsoft.com/azure/azure-functions/functions-reference-python
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import typing
from collections.abc import Callable, Mapping
from typing import Any

from polyfn.context import Context
from polyfn.results import BatchResult

log = logging.getLogger("polyfn")

# Short names → trigger binding types.
_ALIASES = {
    "http": "httpTrigger",
    "queue": "queueTrigger",
    "servicebus": "serviceBusTrigger",
    "blob": "blobTrigger",
    "eventgrid": "eventGridTrigger",
    "timer": "timerTrigger",
    "cosmosdb": "cosmosDBTrigger",
    "eventhub": "eventHubTrigger",
}
_FOR_KIND = {
    "http": "httpTrigger",
    "queue": "queueTrigger",
    "topic": "serviceBusTrigger",
    "storage": "blobTrigger",
    "schedule": "timerTrigger",
    "change": "cosmosDBTrigger",
    "cloudevent": "eventGridTrigger",
}
# azure.functions class name → trigger type (names: azure.functions need not be imported).
_FOR_CLASS = {
    "HttpRequest": "httpTrigger",
    "QueueMessage": "queueTrigger",
    "ServiceBusMessage": "serviceBusTrigger",
    "InputStream": "blobTrigger",
    "EventGridEvent": "eventGridTrigger",
    "CloudEvent": "eventGridTrigger",
    "TimerRequest": "timerTrigger",
    "DocumentList": "cosmosDBTrigger",
    "EventHubEvent": "eventHubTrigger",
}
_MANY_BY_NATURE = frozenset({"cosmosDBTrigger"})


class _Shape:
    """What the worker would know of the function: its parameters and trigger."""

    def __init__(self, function: Any, binding: str | Mapping[str, Any] | None) -> None:
        declared: dict[str, Any] = {}
        builder = getattr(function, "_function", None)
        if builder is not None and hasattr(builder, "get_user_function"):  # v2 FunctionBuilder
            trigger = builder.get_trigger()
            if trigger is not None:
                declared = {k: v for k, v in trigger.get_dict_repr().items() if k != "direction"}
            function = builder.get_user_function()
        self.call = function
        self.is_async = inspect.iscoroutinefunction(function)
        params = inspect.signature(function).parameters
        try:
            hints = typing.get_type_hints(function)
        except Exception:  # unresolvable annotations: go by names and the event's kind
            hints = {}
        self.takes_context = "context" in params
        self.outs = [p for p in params if p != "context" and _is_out(hints.get(p))]
        rest = [p for p in params if p != "context" and p not in self.outs]
        if not rest:
            raise TypeError(f"from_azure: {function!r} takes no trigger parameter")
        self.param = str(declared.get("name") or rest[0])
        anno = hints.get(self.param)
        self.many = typing.get_origin(anno) in (list, typing.List)  # noqa: UP006
        if self.many:
            anno = typing.get_args(anno)[0] if typing.get_args(anno) else None
        if isinstance(binding, Mapping):
            declared = dict(binding)
        elif isinstance(binding, str):
            declared = {**declared, "type": _ALIASES.get(binding, binding)}
        self.binding = declared
        self.annotated = _FOR_CLASS.get(getattr(anno, "__name__", ""))

    def binding_for(self, event: Any, count: int) -> dict[str, Any]:
        settings = dict(self.binding)
        kind = event.KIND
        settings.setdefault("type", self.annotated or _FOR_KIND[kind])
        settings.setdefault("name", self.param)
        settings.setdefault("direction", "in")
        btype = settings["type"]
        if btype in ("queueTrigger", "serviceBusTrigger") and kind == "queue":
            settings.setdefault("queueName", event.queue or "queue")
        elif btype == "serviceBusTrigger" and kind == "topic":
            settings.setdefault("topicName", event.topic)
            settings.setdefault("subscriptionName", "polyfn")
        elif btype == "eventHubTrigger":
            settings.setdefault("eventHubName", event.queue or "events")
        elif btype == "blobTrigger":
            settings.setdefault("path", f"{event.bucket}/{{name}}")
        elif btype == "cosmosDBTrigger":
            database, _, container = str(event.source).rpartition("/")
            settings.setdefault("databaseName", database or "database")
            settings.setdefault("containerName", container)
        if (self.many or count > 1) and btype not in _MANY_BY_NATURE:
            settings.setdefault("cardinality", "many")
        return settings


def _is_out(anno: Any) -> bool:
    origin = typing.get_origin(anno) or anno
    return getattr(origin, "__name__", "") == "Out" and "azure" in getattr(origin, "__module__", "")


def from_azure(
    function: Callable[..., Any] | Any,
    *,
    binding: str | Mapping[str, Any] | None = None,
    outputs: Mapping[str, str] | None = None,
) -> Callable[[Any, Context], Any]:
    """The polyfn handler running Azure function ``function``::

    app.queue("orders")(from_azure(function_app_module.process_order))
    app.post("/orders")(from_azure(main, binding="httpTrigger"))
    """
    shape = _Shape(function, binding)
    targets = dict(outputs or {})
    for param in shape.outs:
        if param not in targets:
            raise TypeError(
                f"from_azure: output binding {param!r}: say where it goes, e.g. "
                f"outputs={{{param!r}: 'queue:NAME'}} (or 'topic:NAME')"
            )
    name = getattr(shape.call, "__name__", "function")

    def azure_bridge(event: Any, ctx: Context) -> Any:
        return _invoke(shape, targets, event, ctx)

    azure_bridge.__name__ = azure_bridge.__qualname__ = name
    azure_bridge.__doc__ = shape.call.__doc__
    azure_bridge.__wrapped__ = shape.call  # type: ignore[attr-defined]
    return azure_bridge


def _invoke(shape: _Shape, targets: dict[str, str], event: Any, ctx: Context) -> Any:
    if isinstance(event, list):
        if not event:
            return BatchResult()
        if shape.many or shape.binding.get("type") in _MANY_BY_NATURE:
            _call(shape, targets, event, ctx)  # Azure has no partial failure: all or none
            return BatchResult()
        failed = []
        for record in event:  # the host invokes a one-message function per message
            try:
                _call(shape, targets, record, ctx)
            except Exception as e:
                log.error("Azure function failed on %s: %s", record.id, e, exc_info=e)
                failed.append(record.id)
        return BatchResult(failed)
    if shape.many:
        _call(shape, targets, [event], ctx)
        return None
    return _call(shape, targets, event, ctx)


def _call(shape: _Shape, targets: dict[str, str], event: Any, ctx: Context) -> Any:
    from polyfn.adapters.azure import response_from_native, to_native

    first = event[0] if isinstance(event, list) else event
    settings = shape.binding_for(first, len(event) if isinstance(event, list) else 1)
    native = to_native(event, settings)
    kwargs: dict[str, Any] = {shape.param: native}
    if shape.takes_context:
        from polyfn.adapters.azure.worker import WorkerContext

        kwargs["context"] = WorkerContext(ctx.function_name, ctx.invocation_id, ctx.traceparent)
    from polyfn.adapters.azure.worker import Out  # the worker's holder for func.Out

    outs = {p: Out() for p in shape.outs}
    result = shape.call(**kwargs, **outs)
    if shape.is_async:
        result = asyncio.run(result)
    for param, holder in outs.items():  # delivered only after success, as the host does
        if holder.get() is not None:
            _deliver(ctx, param, targets[param], holder.get())
    if first.KIND == "http":
        if result is None:
            from polyfn.events.http import HttpResponse

            return HttpResponse(b"", 204)
        return response_from_native(result)
    return result


def _deliver(ctx: Context, param: str, target: str, value: Any) -> None:
    kind, _, name = target.partition(":")
    if kind not in ("queue", "topic") or not name:
        raise ValueError(
            f"from_azure: outputs[{param!r}] = {target!r}: 'queue:NAME' or 'topic:NAME'"
        )
    values = value if isinstance(value, list) else [value]
    for body in values:
        if kind == "queue":
            ctx.outputs.send(name, body)
        else:
            ctx.outputs.publish(name, body)
