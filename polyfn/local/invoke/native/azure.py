"""Azure: what the Functions host sends the Python worker, as JSON.

The host sends each invocation over gRPC (the Azure Functions language worker protocol,
``FunctionRpc.proto``): the trigger's value (``InvocationRequest.input_data[].data``) and
its ``trigger_metadata``, each a ``TypedData``. The JSON here is that, in protobuf's JSON
mapping, beside the trigger binding from function.json::

    {"binding": {"type": "queueTrigger", "name": "event", "queueName": "orders", ...},
     "data": {"string": "hello"},
     "triggerMetadata": {"DequeueCount": {"json": "1"}, "Id": {"string": "..."}, ...}}

(``TypedData``: see azure_typed.py.) polyfn renders it with the adapter's own host
rendering (``Worker.render``) and reads it back into the ``Datum`` values the worker
hands azure-functions' converters (``invoke --native``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from polyfn.app import App
from polyfn.errors import PolyfnError
from polyfn.events import NeutralEvent
from polyfn.local.invoke import InvokeError
from polyfn.local.invoke.native.azure_typed import host_json

# The command line's kind → the Azure sources (--source) that deliver it, default first.
SOURCES: dict[str, tuple[str, ...]] = {
    "http": ("http",),
    "queue": ("queue", "servicebus", "eventhub"),
    "topic": ("servicebus",),
    "storage": ("blob", "eventgrid"),
    "schedule": ("timer",),
    "change": ("cosmosdb",),
    "event": ("eventgrid",),
}
# Triggers that hand the function a list (cardinality many).
_MANY_TYPES = ("cosmosDBTrigger",)
_NAME = "render"


def import_adapter() -> Any:
    try:
        import polyfn.adapters.azure as azure
    except ImportError as e:
        raise InvokeError(
            f"the Azure adapter needs azure-functions ({e}): pip install 'polyfn[azure]'"
        ) from None
    return azure


def is_many(binding: dict[str, Any]) -> bool:
    return str(binding.get("cardinality", "")).lower() == "many" or binding["type"] in _MANY_TYPES


# -- neutral → host JSON -----------------------------------------------------------------
def render(
    kind: str, events: NeutralEvent | list[NeutralEvent], source: str | None = None
) -> dict[str, Any]:
    """The host's invocation of a function triggered by ``source`` (default: the kind's
    usual trigger) for the event(s), with that trigger's binding."""
    import_adapter()
    from polyfn.adapters.azure.worker import Worker

    batch = events if isinstance(events, list) else [events]
    allowed = SOURCES[kind]
    if source is None:
        source = "eventgrid" if kind == "storage" and batch[0].kind != "created" else allowed[0]  # type: ignore[attr-defined]
    if source not in allowed:
        raise InvokeError(
            f"--source {source!r}: Azure delivers {kind} events through {', '.join(allowed)}"
        )
    app, options = _one_function_app(kind, source, batch)
    with quiet_indexing():
        worker = Worker(_function_app(app, options))
    binding = worker.function(_NAME).trigger
    if is_many(binding):
        payload: Any = batch
    elif len(batch) > 1:
        raise InvokeError(
            f"Azure's {binding['type']} delivers one {kind} event per invocation; give one"
        )
    else:
        payload = batch[0]
    try:
        inv = worker.render(_NAME, payload)
    except (PolyfnError, ValueError) as e:
        raise InvokeError(f"Azure {binding['type']}: {e}") from None
    return host_json(inv, binding)


def _one_function_app(kind: str, source: str, batch: list[Any]) -> tuple[App, Any]:
    """An app of one function whose trigger receives these events, so that the adapter
    itself chooses the binding (name, settings) and the rendering."""
    from polyfn.adapters.azure import AzureOptions

    first = batch[0]
    app = App("polyfn-events")
    options: dict[str, Any] = {}
    many = len(batch) > 1
    try:
        if kind == "http":
            try:
                declare = app.http(first.method, first.route or first.path, name=_NAME)
            except PolyfnError:  # a path that is no route template: match any path
                declare = app.http(first.method, "/{path+}", name=_NAME)
        elif kind == "queue" and source == "eventhub":
            declare = app.stream(first.queue or "events", name=_NAME)
        elif kind == "queue":
            fifo = source == "servicebus" and first.group_id is not None
            if source == "servicebus":
                options["queue_service"] = "servicebus"
            declare = app.queue(first.queue or "queue", fifo=fifo, batch=many, name=_NAME)
        elif kind == "topic":
            declare = app.topic(first.topic, batch=many, name=_NAME)
        elif kind == "storage":
            events = ["created"] if source == "blob" else sorted({first.kind, "deleted"})
            if source == "blob" and first.kind != "created":
                raise InvokeError(
                    f"a blob trigger fires on created blobs only, not {first.kind!r}: "
                    "use --source eventgrid"
                )
            declare = app.storage(first.bucket, events=events, name=_NAME)
        elif kind == "schedule":
            declare = app.schedule(first.schedule, name=_NAME)
        elif kind == "change":
            if "/" not in first.source:
                options["cosmos_database"] = "database"
            declare = app.change(first.source, batch=True, name=_NAME)
        else:
            declare = app.event(source=first.source, type=first.type, name=_NAME)
    except PolyfnError as e:
        raise InvokeError(f"Azure {source} trigger for this {kind} event: {e}") from None
    declare(_noop)
    return app, AzureOptions(**options)


def _noop(event: Any, ctx: Any) -> None:
    return None


def _function_app(app: App, options: Any) -> Any:
    from polyfn.adapters.azure import function_app
    from polyfn.outputs import Outputs
    from polyfn.outputs.memory import MemoryDriver

    try:
        return function_app(app, options, outputs=Outputs(MemoryDriver()))
    except PolyfnError as e:
        raise InvokeError(str(e)) from None


@contextlib.contextmanager
def quiet_indexing() -> Iterator[None]:
    """azure-functions warns on the root logger, when it indexes an app without HTTP
    functions, that it has no auth level: true, and noise in a rendering."""
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)
