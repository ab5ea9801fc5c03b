"""Declared outputs as Azure output bindings: which bindings a function gets, and the
per-invocation driver that hands the bindings what the handler sent.

A function's declared outputs (``@app.outputs(queues=, topics=, buses=)``) become output
bindings of each of its Azure functions:

=====================================  ====================================================
declared                               output binding (function.json)
=====================================  ====================================================
queue (``queue_service="storage"``)    ``queue``: queueName, connection (storage)
queue (``queue_service="servicebus"``) ``serviceBus``: queueName, connection (Service Bus)
queue the app reads as FIFO            none: every send needs a session id (SDK)
topic                                  ``serviceBus``: topicName, connection
bus (``"default"``: the default bus)   ``eventGrid``: topicEndpointUri and topicKeySetting,
                                       the app settings AzureDriver reads (default bus:
                                       ``EventGridTopicEndpoint`` / ``EventGridTopicKey``;
                                       bus ``X``: ``XEndpoint`` / ``XKey``)
bucket                                 none: a blob output binding writes one fixed path
                                       (or a path from trigger data), ``put`` names the
                                       key at run time (SDK)
=====================================  ====================================================

Names are written as declared (``%Setting%`` passes through; the host resolves it); a call
matches a binding by the name as written or as resolved from the app settings. The
binding (and parameter) names are ``queue<Name>``, ``topic<Name>``, ``bus<Name>``: letters
and digits only, as the host requires of binding names.

Delivery. The Azure host writes output bindings after the function returns, and only when
it succeeded. So calls to a declared target are collected and handed to the bindings
(``func.Out.set``) only after the handler succeeded: an event handler that raised (the
invocation fails and is retried) or an HTTP handler that raised (answered 400/500)
delivers nothing, like Azure itself. A batch invocation (Event Hubs, Cosmos DB, Service
Bus ``cardinality many``) succeeds or fails as a whole: either everything its records sent
is delivered, or (a record failed, the batch is retried) nothing is.

What a binding carries. Each binding is handed a list of strings (one message or event
each; the host adds each element to the binding's collector, byte for byte). So a binding
carries UTF-8 text bodies; everything else goes to the SDK driver *at once*, exactly as a
call to an undeclared target does (so it is delivered even if the handler fails later, and
in no particular order with the binding's messages):

- a binary (non UTF-8) body;
- a group id, a de-duplication id or a delay (no binding sets sessions, message ids or a
  visibility delay);
- attributes or a subject on a Service Bus queue or topic (the binding's body-only
  messages have no application properties nor subject). Attributes on a Storage queue:
  Queue Storage has no attributes either way, so the body goes through the binding and
  the attributes are dropped with a warning (once per queue), or refused with
  ``AzureOptions(queue_attributes="error")``, as AzureDriver does.

Ids. A binding tells the function no message id: ``send`` and ``publish`` return an id
polyfn generates (the service assigns its own to the message); ``emit`` returns the
event's id, which the event keeps.
"""

from __future__ import annotations

import logging
import os
import re
import typing
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import azure.functions as func

from polyfn.app import Function
from polyfn.errors import DefinitionError, PolyfnError
from polyfn.events._base import json_bytes
from polyfn.events.cloudevent import CloudEvent
from polyfn.outputs import user_attributes

from .attributes import QueueAttributes
from .options import AzureOptions, resolve

log = logging.getLogger("polyfn.adapters.azure.outputs")

# As outputs.STORAGE_QUEUE_MAX: a Storage queue message is at most 64 KiB as stored.
_STORAGE_QUEUE_MAX = 64 * 1024
# Binding names are a letter, then letters and digits, 128 at most (azure-functions-host,
# Utility.BindingNameValidationRegex): a target's name contributes its words.
_WORD = re.compile(r"[A-Za-z0-9]+")
_CE_EXTENSION = re.compile(r"^[a-z0-9]+$")
_CE_KNOWN = frozenset(
    ("specversion", "id", "source", "type", "time", "subject", "datacontenttype", "dataschema")
)
# The annotations the worker checks each Out parameter against: the queue and Event Grid
# converters take a list of strings; a Service Bus parameter must be ``Out[str]`` (its
# converter's check rejects generics), which the worker then encodes with its generic
# binding, a list as JSON (azure_functions_worker/functions.py, bindings/generic.py).
_LIST = typing.List[str]  # noqa: UP006 - the converters check typing generics
_ANNOTATIONS: dict[str, Any] = {
    "queue": func.Out[_LIST],
    "servicebus_queue": func.Out[str],
    "servicebus_topic": func.Out[str],
    "eventgrid": func.Out[_LIST],
}


class OutputBinding:
    """One output binding: its parameter name, what it writes to, and the decorator of
    ``azure.functions.FunctionApp`` that declares it, with its keyword arguments."""

    __slots__ = ("arg", "decorator", "kind", "settings", "target")

    def __init__(
        self, arg: str, kind: str, target: str, decorator: str, settings: dict[str, Any]
    ) -> None:
        self.arg = arg
        self.kind = kind
        self.target = target
        self.decorator = decorator
        self.settings = settings

    def __repr__(self) -> str:
        return f"OutputBinding({self.arg!r}, {self.kind!r}, {self.target!r})"

    @property
    def annotation(self) -> Any:
        return _ANNOTATIONS[self.kind]


class OutputBindings:
    """The output bindings of one polyfn function (shared by its Azure functions) and the
    lookups its per-invocation drivers route by."""

    __slots__ = (
        "bindings",
        "buses",
        "function",
        "options",
        "queues",
        "storage_attributes",
        "topics",
    )

    def __init__(
        self, fn: Function, options: AzureOptions, fifo_queues: Iterable[str] = ()
    ) -> None:
        self.function = fn.name
        self.options = options
        self.bindings: list[OutputBinding] = []
        self.queues: dict[str, OutputBinding] = {}
        self.topics: dict[str, OutputBinding] = {}
        self.buses: dict[str, OutputBinding] = {}
        self.storage_attributes = QueueAttributes(
            options.queue_attributes, " (output binding)", "AzureOptions(queue_attributes='error')"
        )
        """Checks what a Queue Storage binding is sent: it carries bodies only."""
        declared = fn.outputs
        fifo = set(fifo_queues)
        for queue in declared.queues:
            self._check(queue, "queues")
            if queue in fifo:
                continue  # a FIFO queue is a sessions queue: every send carries a session id
            if options.queue_service == "servicebus":
                kw = {"queue_name": queue, "connection": options.service_bus_connection}
                self._add(self.queues, queue, "servicebus_queue", "service_bus_queue_output", kw)
            else:
                kw = {"queue_name": queue, "connection": options.storage_connection}
                self._add(self.queues, queue, "queue", "queue_output", kw)
        for topic in declared.topics:
            self._check(topic, "topics")
            kw = {"topic_name": topic, "connection": options.service_bus_connection}
            self._add(self.topics, topic, "servicebus_topic", "service_bus_topic_output", kw)
        for bus in declared.buses:
            if bus == "default":
                endpoint, key = options.event_grid_endpoint_setting, options.event_grid_key_setting
            else:
                endpoint, key = f"{bus}Endpoint", f"{bus}Key"
            kw = {"topic_endpoint_uri": endpoint, "topic_key_setting": key}
            self._add(self.buses, bus, "eventgrid", "event_grid_output", kw)

    def __bool__(self) -> bool:
        return bool(self.bindings)

    def __repr__(self) -> str:
        return f"OutputBindings({self.function!r}, {self.bindings!r})"

    def _check(self, name: str, field: str) -> None:
        if "{" in name or "}" in name:
            raise DefinitionError(
                f"azure function {self.function!r}: outputs: {field}: {name!r}: braces are "
                "binding expressions in Azure binding settings; name the target literally "
                "or as %Setting%"
            )

    def _add(
        self,
        by_name: dict[str, OutputBinding],
        target: str,
        kind: str,
        decorator: str,
        settings: dict[str, Any],
    ) -> None:
        if target in by_name:
            return  # declared twice: one binding
        prefix = {"queue": "queue", "servicebus_queue": "queue", "eventgrid": "bus"}.get(
            kind, "topic"
        )
        words = "".join(w[:1].upper() + w[1:] for w in _WORD.findall(target))
        arg = (prefix + words)[:120]
        taken = {b.arg for b in self.bindings}
        n = 1
        while arg in taken:  # "order-events" and "order_events" both read OrderEvents
            n += 1
            arg = f"{(prefix + words)[:120]}{n}"
        binding = OutputBinding(arg, kind, target, decorator, settings)
        self.bindings.append(binding)
        by_name[target] = binding
        resolved = resolve(target)
        if resolved != target:  # a %Setting% name: calls may use what it resolves to
            by_name.setdefault(resolved, binding)

    def register(self, fa: func.FunctionApp, builder: Any) -> Any:
        """Add the bindings to a function being built (``FunctionBuilder``)."""
        for b in self.bindings:
            builder = getattr(fa, b.decorator)(arg_name=b.arg, **b.settings)(builder)
        return builder

    def driver(self, sdk: Any) -> BindingDriver:
        """The driver of one invocation; ``sdk`` takes what no binding carries."""
        return BindingDriver(self, sdk)

    def annotations(self) -> dict[str, Any]:
        """Each binding's parameter and the annotation the worker checks it against."""
        return {b.arg: b.annotation for b in self.bindings}


def _text(body: bytes) -> str | None:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _new_id() -> str:
    """A random (version 4) UUID, as text: ``str(uuid.uuid4())`` at half the cost."""
    b = bytearray(os.urandom(16))
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class BindingDriver:
    """The OutputDriver of one invocation of a function with output bindings: what goes to
    a binding is collected, and :meth:`deliver` hands it to the ``func.Out`` parameters once
    the handler succeeded; the rest goes to ``sdk``, the process-wide driver, at once."""

    __slots__ = ("_b", "_sdk", "_values", "ok")

    def __init__(self, bindings: OutputBindings, sdk: Any) -> None:
        self._b = bindings
        self._sdk = sdk
        self._values: dict[str, list[str]] = {}
        self.ok = False
        """Set when an HTTP handler returned (run_http answers a raised error itself)."""

    def _collect(self, binding: OutputBinding, value: str) -> None:
        values = self._values.get(binding.arg)
        if values is None:
            self._values[binding.arg] = [value]
        else:
            values.append(value)

    def deliver(self, outs: dict[str, Any]) -> None:
        """Hand each binding what was sent to it (bindings nothing was sent to stay unset:
        the worker sends the host nothing for them)."""
        for arg, values in self._values.items():
            outs[arg].set(values)

    # -- the OutputDriver protocol ------------------------------------------------------------
    def send(self, queue, body, attributes, group_id, deduplication_id, delay_seconds) -> str:  # type: ignore[no-untyped-def]
        b = self._b.queues.get(queue)
        # Bindings carry bodies only: polyfn's own attributes (trace context, idempotency
        # key) are left out there; the host's own trace (Diagnostic-Id) goes with the message.
        own = user_attributes(attributes)
        text = None
        if (
            b is not None
            and group_id is None
            and deduplication_id is None
            and not delay_seconds
            and not (own and b.kind == "servicebus_queue")
        ):
            text = _text(body)
        if text is None:  # no binding, or one that cannot carry this message
            return self._sdk.send(
                queue, body, attributes, group_id, deduplication_id, delay_seconds
            )
        if b.kind == "queue":  # type: ignore[union-attr]
            if own:
                self._b.storage_attributes(queue, own)
            self._check_storage_size(queue, body)
        self._collect(b, text)  # type: ignore[arg-type]
        return _new_id()

    def publish(self, topic, body, attributes, subject) -> str:  # type: ignore[no-untyped-def]
        b = self._b.topics.get(topic)
        own = user_attributes(attributes)
        text = _text(body) if b is not None and not own and subject is None else None
        if text is None:  # no binding, or one that cannot carry this message
            return self._sdk.publish(topic, body, attributes, subject)
        self._collect(b, text)  # type: ignore[arg-type]
        return _new_id()

    def put(self, bucket, key, data, content_type, metadata) -> str | None:  # type: ignore[no-untyped-def]
        return self._sdk.put(bucket, key, data, content_type, metadata)

    def emit(self, event: CloudEvent, bus: str | None) -> str:
        b = self._b.buses.get("default" if bus is None else bus)
        if b is None:
            return self._sdk.emit(event, bus)
        self._collect(b, cloudevent_json(event, bus or "default"))
        return event.id

    def _check_storage_size(self, queue: str, body: bytes) -> None:
        size = len(body)
        if self._b.options.queue_message_encoding == "base64":
            size = (size + 2) // 3 * 4  # the host base64-encodes the message
        if size > _STORAGE_QUEUE_MAX:
            from .outputs import AzureOutputError

            raise AzureOutputError(
                "storage queue",
                queue,
                f"message of {len(body)} bytes is over Queue Storage's 64 KiB limit once "
                "encoded; put the body in a blob and send its name",
            )


def _rfc3339(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def cloudevent_json(event: CloudEvent, bus: str = "default") -> str:
    """The event in the CloudEvents JSON format (structured mode), as the Event Grid output
    binding parses it (``CloudEvent.Parse``; binary data as ``data_base64``)."""
    body: dict[str, Any] = {
        "specversion": event.specversion,
        "id": event.id,
        "source": event.source,
        "type": event.type,
    }
    for name in ("subject", "datacontenttype", "dataschema"):
        value = getattr(event, name)
        if value is not None:
            body[name] = value
    if event.time is not None:
        body["time"] = _rfc3339(event.time)
    bad = [n for n in event.extensions if n in _CE_KNOWN or not _CE_EXTENSION.match(n)]
    if bad:
        from .outputs import AzureOutputError

        raise AzureOutputError(
            "event grid topic",
            bus,
            f"the event's extension names {sorted(bad)} are not CloudEvents extension "
            "attribute names (lower-case letters and digits)",
        )
    body.update(event.extensions)
    if isinstance(event.data, bytes | bytearray):
        import base64

        body["data_base64"] = base64.b64encode(event.data).decode("ascii")
    elif event.data is not None:
        body["data"] = event.data
    try:
        return json_bytes(body).decode("utf-8")
    except (TypeError, ValueError) as e:
        raise PolyfnError(
            f"azure event grid topic {bus!r}: event {event.id!r} is not JSON-serialisable: {e}"
        ) from e
