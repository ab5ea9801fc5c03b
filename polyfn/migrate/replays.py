"""Replaying captured native events of one cloud on another.

Each native event is translated by the source cloud's adapter (``from_native``), routed
in the app (``App.route``), and run through the target cloud's real inbound path — the
same runners as ``polyfn invoke`` (polyfn/local/invoke: the Lambda handler, the Azure
worker and host payloads, functions-framework targets inside their Flask request; or
``none``, the neutral dispatcher). A record-based event (an SQS batch, an S3
notification) gives one neutral event per record; the records routed to the same
function run as one batch.

Native forms read per source:

- ``aws``: the Lambda event (a JSON object);
- ``gcp``: a CloudEvent in structured JSON, a legacy background event, a Pub/Sub push
  body, or the HTTP request as ``polyfn events render --as gcp`` prints it
  (``{"method", "path", "headers", "body"}``);
- ``azure``: the host's invocation as ``polyfn events render --as azure`` prints it
  (``{"binding", "data", "triggerMetadata"}``, TypedData in protobuf JSON).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from polyfn.app import App, Function
from polyfn.errors import NoRouteError, PolyfnError
from polyfn.triggers import Trigger

SOURCES = ("aws", "azure", "gcp")
TARGETS = ("aws", "azure", "gcp", "none")
# Neutral event kind → the trigger kinds that deliver it.
_TRIGGER_KINDS = {
    "http": ("http",),
    "queue": ("queue", "stream"),
    "topic": ("topic",),
    "storage": ("storage",),
    "schedule": ("schedule",),
    "change": ("change",),
    "cloudevent": ("event",),
}


@dataclass(slots=True)
class ReplayResult:
    """One replayed invocation: which captured event (``index``, from 0), the function
    it ran, the neutral ids it carried, how it ran (``via``) and its verdict."""

    index: int
    function: str | None
    target: str
    ids: list[str] = field(default_factory=list)
    via: str = ""
    result: Any = None
    errors: list[str] = field(default_factory=list)
    outputs: list[Any] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "function": self.function,
            "as": self.target,
            "via": self.via,
            "ids": self.ids,
            "ok": self.ok,
            "result": self.result,
            "errors": self.errors,
            "outputs": self.outputs,
        }


def replay(
    app: App,
    native_events: Iterable[Any],
    *,
    source: str,
    target: str,
    function: str | None = None,
) -> list[ReplayResult]:
    """Run each captured ``source`` event on ``target``; one result per invocation (a
    captured event routed to several functions gives several). A bad or unroutable
    event gives a failed result; the others still run."""
    if source not in SOURCES:
        raise ValueError(f"replay: source {source!r}: one of {', '.join(SOURCES)}")
    if target not in TARGETS:
        raise ValueError(f"replay: target {target!r}: one of {', '.join(TARGETS)}")
    fixed = app.function(function) if function is not None else None
    results: list[ReplayResult] = []
    for index, native in enumerate(native_events):
        try:
            groups = _routed(app, fixed, source, native)
        except (PolyfnError, ValueError, TypeError) as e:
            results.append(ReplayResult(index, None, target, errors=[_describe(e)]))
            continue
        for fn, trigger, events in groups:
            results.append(_run(app, fn, trigger, events, index, target))
    return results


# -- native → neutral, routed ----------------------------------------------------------
def neutral_events(source: str, native: Any, kind: str | None = None) -> list[Any]:
    """The neutral events of one captured native event of ``source``."""
    if source == "aws":
        from polyfn.adapters.aws import from_native

        parsed = from_native(native)
    elif source == "gcp":
        parsed = _from_gcp(native, kind)
    else:
        parsed = _from_azure(native)
    return parsed if isinstance(parsed, list) else [parsed]


def _from_gcp(native: Any, kind: str | None) -> Any:
    from polyfn.adapters.gcp import from_native

    if isinstance(native, dict) and "headers" in native and "method" in native:
        return from_native(_flask_request(native), kind)
    return from_native(native, kind)


def _flask_request(captured: dict[str, Any]) -> Any:
    from flask import Request
    from werkzeug.test import EnvironBuilder

    from polyfn.local.invoke.native.gcp import parse_request

    method, path, headers, body = parse_request(captured)
    builder = EnvironBuilder(path=path, method=method, headers=headers, data=body)
    try:
        return Request(builder.get_environ())
    finally:
        builder.close()


def _from_azure(native: Any) -> Any:
    from azure.functions import meta

    from polyfn.adapters.azure import from_native
    from polyfn.local.invoke.native.azure_typed import host_invocation

    binding = native.get("binding") if isinstance(native, dict) else None
    if not isinstance(binding, dict) or "type" not in binding:
        raise ValueError(
            'an Azure captured event is {"binding": {"type": ...}, "data": ..., '
            '"triggerMetadata": ...}, as `polyfn events render --as azure` prints it'
        )
    inv = host_invocation(native)
    converter = meta.get_binding_registry().get(binding["type"])
    if converter is None:
        raise ValueError(f"azure: no converter for the trigger type {binding['type']!r}")
    obj = converter.decode(inv.data, trigger_metadata=inv.trigger_metadata)
    return from_native(obj, binding)


def _routed(
    app: App, fixed: Function | None, source: str, native: Any
) -> list[tuple[Function, Trigger, list[Any]]]:
    """(function, trigger, events) per function the event's records go to, in order."""
    # A Pub/Sub message is a queue message, a topic message or a schedule: whichever the
    # app consumes (Google's payload does not tell).
    kinds: tuple[str | None, ...] = (None,)
    if source == "gcp" and _is_pubsub(native):
        kinds = ("queue", "topic", "schedule")
    error: Exception | None = None
    for kind in kinds:
        events = neutral_events(source, native, kind)
        try:
            return _group(app, fixed, events)
        except NoRouteError as e:
            error = error or e
    assert error is not None
    raise error


def _is_pubsub(native: Any) -> bool:
    if not isinstance(native, dict):
        return False
    kind = str(native.get("type") or native.get("eventType") or "")
    context = native.get("context")
    if isinstance(context, dict):
        kind = str(context.get("eventType") or kind)
    return "pubsub" in kind or ("message" in native and "subscription" in native)


def _group(
    app: App, fixed: Function | None, events: list[Any]
) -> list[tuple[Function, Trigger, list[Any]]]:
    groups: list[tuple[Function, Trigger, list[Any]]] = []
    for event in events:
        fn, trigger = _route(app, fixed, event)
        if groups and groups[-1][0] is fn and groups[-1][1] is trigger:
            groups[-1][2].append(event)
        else:
            groups.append((fn, trigger, [event]))
    return groups


def _route(app: App, fixed: Function | None, event: Any) -> tuple[Function, Trigger]:
    if fixed is None:
        return app.route(event)
    try:
        fn, trigger = app.route(event)
    except NoRouteError:
        fn = None  # type: ignore[assignment]
    if fn is fixed:
        return fn, trigger
    wanted = _TRIGGER_KINDS.get(event.KIND, ())
    for candidate in fixed.triggers:
        if candidate.KIND in wanted:
            return fixed, candidate
    raise NoRouteError(event.provider, event.event_source, f"function {fixed.name!r}")


# -- running ---------------------------------------------------------------------------
def _run(
    app: App, fn: Function, trigger: Trigger, events: list[Any], index: int, target: str
) -> ReplayResult:
    from polyfn.local.invoke import Call, output_json, run

    out = ReplayResult(index, fn.name, target, ids=[_id(e) for e in events])
    call = Call(app, fn, trigger, fn.triggers.index(trigger))
    call.events = events if len(events) > 1 or trigger.BATCHED else events[0]
    try:
        outcome = run(target, call)
    except (PolyfnError, ValueError) as e:
        out.errors.append(_describe(e))
        return out
    out.via, out.result, out.errors = outcome.via, outcome.result, list(outcome.errors)
    out.outputs = [output_json(s) for s in call.driver.sent]
    return out


def _id(event: Any) -> str:
    try:
        return str(event.id)
    except Exception:  # an HTTP request has no id
        return f"{event.method} {event.path}" if event.KIND == "http" else "?"


def _describe(error: BaseException) -> str:
    if isinstance(error, PolyfnError):
        return str(error)
    return f"{type(error).__name__}: {error}"
