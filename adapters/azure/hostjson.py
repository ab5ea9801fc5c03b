"""``host_json(app)``: the host.json a polyfn function app needs, and ``deployment_notes``:
what Azure configures outside the code and host.json.

Azure sets several trigger options for the whole app in host.json rather than per
function; the neutral options map there:

- Storage queues (``extensions.queues``): ``batchSize`` ← ``queue(batch_size=)`` (Azure
  takes at most 32), ``maxDequeueCount`` ← ``max_deliveries`` (it also counts blob trigger
  retries before the poison queue), ``visibilityTimeout`` ← ``visibility_timeout`` (on
  Azure: the delay before a failed message is retried), ``messageEncoding`` (for queue
  triggers and queue output bindings alike).
- Service Bus (``extensions.serviceBus``): ``maxMessageBatchSize`` ← ``batch_size`` of
  ``batch=True`` queue and topic functions (the others get one message at a time).
  ``max_deliveries`` is the queue's own MaxDeliveryCount, set where the queue is created:
  see ``deployment_notes``.
- Event Hubs (``extensions.eventHubs``): ``maxEventBatchSize`` ← ``stream(batch_size=)``,
  ``initialOffsetOptions.type`` ← ``start`` (latest → fromEnd, oldest → fromStart).
- ``extensions.http.routePrefix`` ← ``AzureOptions.route_prefix``; ``functionTimeout`` ←
  ``AzureOptions.function_timeout``.

Two functions asking for different values of one app-wide setting cannot both be
honoured: that is a DefinitionError naming both.

``python -m polyfn.adapters.azure module:app`` prints the host.json of an app
(default options) and, on stderr, its deployment notes.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from polyfn.app import App
from polyfn.errors import DefinitionError
from polyfn.triggers import QueueTrigger, StreamTrigger, TopicTrigger

from .functionapp import AzureFunction, plan
from .options import AzureOptions, hhmmss

STORAGE_QUEUE_MAX_BATCH = 32


class _Settings:
    """One host.json section: remembers which function asked for each value."""

    def __init__(self, section: str) -> None:
        self.section = section
        self.values: dict[str, Any] = {}
        self.owners: dict[str, tuple[str, str]] = {}

    def set(self, key: str, value: Any, function: str, option: str) -> None:
        if key in self.values and self.values[key] != value:
            other, other_option = self.owners[key]
            raise DefinitionError(
                f"azure host.json: {self.section}.{key}: function {other!r} asks for "
                f"{self.values[key]!r} ({other_option}) and function {function!r} for "
                f"{value!r} ({option}); Azure applies one value to the whole app: make "
                "them equal, or deploy them as separate function apps"
            )
        self.values[key] = value
        self.owners[key] = (function, option)


def host_json(app: App, options: AzureOptions | None = None) -> dict[str, Any]:
    """host.json for ``function_app(app, options)``: write it next to function_app.py
    (``json.dump(host_json(app), f, indent=2)``)."""
    options = options or AzureOptions()
    functions = plan(app, options)
    queues = _Settings("extensions.queues")
    service_bus = _Settings("extensions.serviceBus")
    event_hubs = _Settings("extensions.eventHubs")
    for spec in functions:
        t = spec.trigger
        if spec.kind == "queue" and isinstance(t, QueueTrigger):
            _storage_queue(queues, spec, t)
        elif spec.kind in ("servicebus_queue", "servicebus_topic") and spec.many:
            assert isinstance(t, QueueTrigger | TopicTrigger)
            size = t.batch_size if isinstance(t, QueueTrigger) else None
            if size is not None:
                service_bus.set("maxMessageBatchSize", size, spec.name, f"batch_size={size}")
        elif spec.kind == "eventhub" and isinstance(t, StreamTrigger):
            event_hubs.set(
                "maxEventBatchSize", t.batch_size, spec.name, f"batch_size={t.batch_size}"
            )
            offset = {"type": "fromEnd" if t.start == "latest" else "fromStart"}
            event_hubs.set("initialOffsetOptions", offset, spec.name, f"start={t.start!r}")

    extensions: dict[str, Any] = {"http": {"routePrefix": options.route_prefix}}
    # Queue output bindings encode messages as host.json says, too (bindings_out.py).
    if queues.values or any(
        s.kind in ("queue", "blob")
        or any(b.kind == "queue" for b in (s.output_bindings.bindings if s.output_bindings else ()))
        for s in functions
    ):
        queues.values.setdefault("messageEncoding", options.queue_message_encoding)
        extensions["queues"] = queues.values
    if service_bus.values:
        extensions["serviceBus"] = service_bus.values
    if event_hubs.values:
        extensions["eventHubs"] = event_hubs.values
    out: dict[str, Any] = {
        "version": "2.0",
        "extensionBundle": {
            "id": "Microsoft.Azure.Functions.ExtensionBundle",
            "version": options.extension_bundle,
        },
        "extensions": extensions,
    }
    if options.function_timeout is not None:
        out["functionTimeout"] = hhmmss(options.function_timeout)
    return out


def _storage_queue(queues: _Settings, spec: AzureFunction, t: QueueTrigger) -> None:
    size = min(t.batch_size, STORAGE_QUEUE_MAX_BATCH)
    queues.set("batchSize", size, spec.name, f"batch_size={t.batch_size}")
    if t.max_deliveries is not None:
        queues.set(
            "maxDequeueCount", t.max_deliveries, spec.name, f"max_deliveries={t.max_deliveries}"
        )
    if t.visibility_timeout is not None:
        queues.set(
            "visibilityTimeout",
            hhmmss(t.visibility_timeout),
            spec.name,
            f"visibility_timeout={t.visibility_timeout}",
        )


def deployment_notes(app: App, options: AzureOptions | None = None) -> list[str]:
    """What the app needs that neither function_app.py nor host.json can declare: one line
    per item, for a deployment script or a reviewer."""
    options = options or AzureOptions()
    notes: list[str] = []
    zones = set()
    for spec in plan(app, options):
        t = spec.trigger
        if spec.kind == "servicebus_queue" and isinstance(t, QueueTrigger):
            sessions = " with sessions enabled" if t.fifo else ""
            deliveries = (
                f", MaxDeliveryCount={t.max_deliveries}" if t.max_deliveries is not None else ""
            )
            notes.append(f"{spec.name}: Service Bus queue {t.name!r}{sessions}{deliveries}")
        elif spec.kind == "servicebus_topic" and isinstance(t, TopicTrigger):
            rule = f", SQL filter rule matching {t.filter!r}" if t.filter else ""
            notes.append(
                f"{spec.name}: Service Bus topic {t.name!r}, subscription "
                f"{spec.settings['subscription_name']!r}{rule}"
            )
        elif spec.kind == "eventgrid_storage":
            notes.append(
                f"{spec.name}: Event Grid subscription on the storage account of container "
                f"{getattr(t, 'bucket', '?')!r} for {list(getattr(t, 'events', ()))} to this "
                "function (Event Grid trigger)"
            )
        elif spec.kind == "eventgrid":
            notes.append(f"{spec.name}: Event Grid subscription to this function")
        elif spec.kind == "timer":
            zones.add(options.time_zone)
        elif spec.kind == "cosmosdb" and not options.cosmos_create_leases:
            notes.append(
                f"{spec.name}: Cosmos DB lease container {options.cosmos_lease_container!r} "
                f"in database {spec.settings['database_name']!r}"
            )
    if zones - {"UTC"}:
        notes.append(f"app setting WEBSITE_TIME_ZONE={options.time_zone!r}")
    return notes


def main(argv: list[str] | None = None) -> int:
    from polyfn.loader import load_app

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m polyfn.adapters.azure package.module:app", file=sys.stderr)
        return 2
    app = load_app(args[0])
    print(json.dumps(host_json(app), indent=2))
    for note in deployment_notes(app):
        print(f"deploy: {note}", file=sys.stderr)
    return 0
