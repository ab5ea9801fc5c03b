"""Azure and Google Cloud, from their adapters' own planning: ``plan(app)`` returns one
deployable function per trigger, or raises DefinitionError naming what the provider
cannot express. Planned whole first; on an error, trigger by trigger, to say which."""

from __future__ import annotations

import json
from typing import Any

from polyfn.app import App, Function
from polyfn.cli.support import Cell
from polyfn.errors import DefinitionError

Cells = dict[tuple[str, int], Cell]


def cells(app: App, provider: str) -> tuple[Cells, list[str]]:
    """Each trigger's cell, and the problems of the app as a whole."""
    try:
        plan = _planner(provider)
    except ImportError as e:
        reason = (
            f"the {provider} adapter is not installed ({e.name}): pip install 'polyfn[{provider}]'"
        )
        every = {
            (fn.name, i): Cell(False, reason)
            for fn in app.functions.values()
            for i in range(len(fn.triggers))
        }
        return every, [reason]
    describe = _describer(provider)
    try:
        specs = plan(app)
    except DefinitionError as e:
        return _one_by_one(app, plan, describe, str(e))
    return {(s.function.name, _index(s)): Cell(True, describe(s)) for s in specs}, []


def _one_by_one(app: App, plan: Any, describe: Any, whole: str) -> tuple[Cells, list[str]]:
    out: Cells = {}
    for fn in app.functions.values():
        for i, trigger in enumerate(fn.triggers):
            name = fn.name if i == 0 else f"{fn.name}_{i + 1}"
            alone = App(app.name)
            copy = Function(name, fn.handler, [trigger], fn.batch, fn.takes_context, fn.is_async)
            copy.outputs = fn.outputs
            alone.functions[name] = copy
            try:
                (spec,) = plan(alone)
                out[(fn.name, i)] = Cell(True, describe(spec))
            except DefinitionError as e:
                out[(fn.name, i)] = Cell(False, _reason(str(e)))
    # Every trigger fine alone: the app's trouble lies between them (names, ...).
    problems = [] if any(not c.ok for c in out.values()) else [whole]
    return out, problems


def _reason(message: str) -> str:
    """``azure function 'x': schedule trigger: expression: ...`` without the function's
    name, which the table shows already."""
    head, sep, rest = message.partition(": ")
    return rest if sep and head.split(" ", 1)[-1].startswith("function ") else message


def _index(spec: Any) -> int:
    """Which of its function's triggers a planned function serves (``name_2`` → 1)."""
    return next(i for i, t in enumerate(spec.function.triggers) if t is spec.trigger)


def _planner(provider: str) -> Any:
    if provider == "azure":
        from polyfn.adapters.azure import plan
    else:
        from polyfn.adapters.gcp import plan
    return plan


def _describer(provider: str) -> Any:
    return _azure if provider == "azure" else _gcp


def _azure(spec: Any) -> str:
    s, kind = spec.settings, spec.kind
    if kind == "http":
        methods = ",".join(s["methods"]) if s.get("methods") else "any method"
        return f"HTTP trigger {methods} route {s['route']!r} (auth {s['auth_level']})"
    if kind == "queue":
        return f"Queue Storage queueTrigger {s['queue_name']}"
    if kind == "servicebus_queue":
        sessions = ", sessions" if s.get("is_sessions_enabled") else ""
        return f"Service Bus queue {s['queue_name']}{sessions}"
    if kind == "servicebus_topic":
        rule = getattr(spec.trigger, "filter", None)
        shown = f", filter rule {json.dumps(rule)}" if rule else ""
        return f"Service Bus topic {s['topic_name']} subscription {s['subscription_name']}{shown}"
    if kind == "blob":
        return f"Blob trigger {s['path']}"
    if kind == "eventgrid_storage":
        return f"Event Grid blob events ({', '.join(spec.trigger.events)})"
    if kind == "eventgrid":
        return "Event Grid trigger"
    if kind == "timer":
        return f'Timer NCRONTAB "{s["schedule"]}"'
    if kind == "eventhub":
        return f"Event Hubs {s['event_hub_name']} (cardinality many)"
    if kind == "cosmosdb":
        return f"Cosmos DB change feed {s['database_name']}/{s['container_name']}"
    return kind


def _gcp(spec: Any) -> str:
    s, kind = spec.settings, spec.kind
    notes = "; ".join(s.get("notes", ()))
    if kind == "http":
        text = f"HTTP function {','.join(s['methods'])} {s['route']}"
    elif kind == "pubsub":
        extra = []
        if s.get("subscription_filter"):
            extra.append(f"filter {s['subscription_filter']}")
        if s.get("max_delivery_attempts"):
            extra.append(f"dead letter after {s['max_delivery_attempts']} attempts")
        if s.get("message_ordering"):
            extra.append("ordering keys")
        shown = f" ({', '.join(extra)})" if extra else ""
        text = f"Pub/Sub messagePublished on topic {s['topic']}{shown}"
    elif kind == "storage":
        types = ", ".join(t.rsplit(".", 1)[-1] for t in s["event_types"])
        text = f"Cloud Storage {types} on bucket {s['bucket']}"
    elif kind == "firestore":
        text = f"Firestore document.v1.written on {s['document']}"
    elif kind == "scheduler":
        to = "HTTP POST" if s["target"] == "http" else f"Pub/Sub topic {s['topic']}"
        text = f'Cloud Scheduler "{s["schedule"]}" ({s["time_zone"]}) → {to}'
    elif kind == "eventarc":
        filters = " ".join(f"{k}={v}" for k, v in s["event_filters"].items()) or "any event"
        text = f"Eventarc {filters}"
    else:
        text = kind
    return f"{text}; {notes}" if notes else text
