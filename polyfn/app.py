"""The App: a registry of functions and the triggers that run them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from polyfn.errors import DefinitionError, NoRouteError
from polyfn.events._base import NeutralEvent
from polyfn.routing import match_route
from polyfn.triggers import (
    ChangeTrigger,
    EventTrigger,
    HttpTrigger,
    QueueTrigger,
    ScheduleTrigger,
    StorageTrigger,
    StreamTrigger,
    TopicTrigger,
    Trigger,
)

F = TypeVar("F", bound=Callable[..., Any])

if TYPE_CHECKING:  # loaded by App.store on first use
    from polyfn.patterns.backends import StoreHandle


_OUTPUTS_ATTR = "__polyfn_outputs__"
_REQUIRES_ATTR = "__polyfn_requires__"


class DeclaredOutputs:
    """The queues, topics, buckets and event buses a function writes to.

    Declaring them is optional: ``ctx.outputs`` reaches any target. A declaration lets
    an adapter bind what the platform can bind ahead of time (Azure output bindings,
    delivered by the host after the function succeeds) and lets deployment descriptors
    grant access.
    """

    __slots__ = ("buckets", "buses", "queues", "topics")

    def __init__(
        self,
        queues: Iterable[str] = (),
        topics: Iterable[str] = (),
        buckets: Iterable[str] = (),
        buses: Iterable[str] = (),
    ) -> None:
        self.queues = tuple(queues)
        self.topics = tuple(topics)
        self.buckets = tuple(buckets)
        self.buses = tuple(buses)
        for kind in self.__slots__:
            for target in getattr(self, kind):
                if not isinstance(target, str) or not target:
                    raise DefinitionError(f"outputs: {kind}: {target!r} is not a name")

    def __bool__(self) -> bool:
        return bool(self.queues or self.topics or self.buckets or self.buses)

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__ if getattr(self, k))
        return f"DeclaredOutputs({shown})"


class Function:
    """One user function: its handler and the triggers bound to it."""

    __slots__ = (
        "batch",
        "handler",
        "is_async",
        "name",
        "outputs",
        "requires",
        "takes_context",
        "triggers",
    )

    def __init__(
        self,
        name: str,
        handler: Callable[..., Any],
        triggers: list[Trigger] | None = None,
        batch: bool = False,
        takes_context: bool = True,
        is_async: bool = False,
    ) -> None:
        self.name = name
        self.handler = handler
        self.triggers: list[Trigger] = triggers if triggers is not None else []
        self.batch = batch
        """True when the handler takes the whole batch (a list) instead of one record."""
        self.takes_context = takes_context
        self.is_async = is_async
        self.outputs = DeclaredOutputs()
        self.requires: Any = None
        """What the function relies on (polyfn.capabilities.Requirements; see
        App.requires), or None."""
        """The outputs the function declared it writes to (see App.outputs)."""

    def __repr__(self) -> str:
        return f"Function({self.name!r}, triggers={self.triggers!r}, batch={self.batch})"

    @property
    def trigger(self) -> Trigger:
        """The first (usually the only) trigger."""
        return self.triggers[0]

    def trigger_of(self, kind: str) -> Trigger | None:
        return next((t for t in self.triggers if kind == t.KIND), None)


_VARARGS = 0x04  # CO_VARARGS
_COROUTINE = 0x80  # CO_COROUTINE


def _takes_context(handler: Callable[..., Any]) -> bool:
    """Whether the handler takes (event, ctx) or just (event)."""
    code = getattr(handler, "__code__", None)
    if code is not None:  # a plain function: read its code object (inspect costs ms at import)
        positional = code.co_argcount - (1 if hasattr(handler, "__self__") else 0)
        varargs = bool(code.co_flags & _VARARGS)
    else:
        import inspect

        params = [
            p
            for p in inspect.signature(handler).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
        ]
        varargs = any(p.kind == p.VAR_POSITIONAL for p in params)
        positional = len(params) - varargs
    if positional == 0 and not varargs:
        name = getattr(handler, "__qualname__", repr(handler))
        raise DefinitionError(f"handler {name}: must take the event")
    return positional >= 2 or varargs


def _is_async(handler: Callable[..., Any]) -> bool:
    code = getattr(handler, "__code__", None)
    if code is not None:
        return bool(code.co_flags & _COROUTINE)
    call = getattr(handler, "__call__", None)  # noqa: B004 - callable objects
    code = getattr(call, "__code__", None)
    return bool(code is not None and code.co_flags & _COROUTINE)


class App:
    """A polyfn application: declare functions with the trigger decorators.

    >>> app = App("shop")
    >>> @app.http("GET", "/orders/{id}")
    ... def get_order(req, ctx): ...
    """

    def __init__(self, name: str) -> None:
        if not name:
            raise DefinitionError("App: name must not be empty")
        self.name = name
        self.functions: dict[str, Function] = {}
        self._by_handler: dict[int, Function] = {}
        self.stores: dict[str, StoreHandle] = {}
        """The state stores the app declared (App.store), by logical name."""

    # -- registration ------------------------------------------------------------------
    def _register(self, trigger: Trigger, name: str | None, batch: bool) -> Callable[[F], F]:
        if batch and not trigger.BATCHED:
            raise DefinitionError(f"{trigger.KIND} trigger: batch: only batch triggers take it")

        def decorate(handler: F) -> F:
            fn = self._by_handler.get(id(handler))
            if fn is None:
                fn = self.add_function(handler, name, batch=batch)
            elif fn.batch != batch:
                raise DefinitionError(
                    f"function {fn.name!r}: batch= must be the same on every trigger"
                )
            fn.triggers.append(trigger)
            return handler

        return decorate

    def add_function(
        self, handler: Callable[..., Any], name: str | None = None, *, batch: bool = False
    ) -> Function:
        """Register ``handler`` as a function with no trigger yet (the trigger decorators
        add them; workflow tasks have none). What ``outputs``/``requires`` declared on
        the handler before is picked up."""
        fname = name or handler.__name__
        if fname in self.functions:
            raise DefinitionError(f"app {self.name!r}: function {fname!r} is declared twice")
        fn = Function(
            fname,
            handler,
            batch=batch,
            takes_context=_takes_context(handler),
            is_async=_is_async(handler),
        )
        fn.outputs = getattr(handler, _OUTPUTS_ATTR, fn.outputs)
        fn.requires = getattr(handler, _REQUIRES_ATTR, None)
        self.functions[fname] = fn
        self._by_handler[id(handler)] = fn
        return fn

    def http(
        self,
        method: str | Iterable[str] = "GET",
        route: str = "/",
        *,
        auth: str = "anonymous",
        name: str | None = None,
    ) -> Callable[[F], F]:
        """An HTTP endpoint. ``route`` may hold ``{param}`` and a greedy ``{param+}``."""
        methods = (method,) if isinstance(method, str) else tuple(method)
        trigger = HttpTrigger(tuple(m.upper() for m in methods), route, auth)
        return self._register(trigger, name, False)

    def get(self, route: str, **kw: Any) -> Callable[[F], F]:
        return self.http("GET", route, **kw)

    def post(self, route: str, **kw: Any) -> Callable[[F], F]:
        return self.http("POST", route, **kw)

    def put(self, route: str, **kw: Any) -> Callable[[F], F]:
        return self.http("PUT", route, **kw)

    def delete(self, route: str, **kw: Any) -> Callable[[F], F]:
        return self.http("DELETE", route, **kw)

    def queue(
        self,
        queue: str,
        *,
        batch_size: int = 10,
        batch: bool = False,
        fifo: bool = False,
        max_deliveries: int | None = None,
        visibility_timeout: int | None = None,
        name: str | None = None,
    ) -> Callable[[F], F]:
        """Messages from a queue; the handler gets one QueueMessage (or, with
        ``batch=True``, the list) and a failed message is retried alone."""
        trigger = QueueTrigger(queue, batch_size, fifo, max_deliveries, visibility_timeout)
        return self._register(trigger, name, batch)

    def stream(
        self,
        stream: str,
        *,
        batch_size: int = 100,
        batch: bool = False,
        start: str = "latest",
        name: str | None = None,
    ) -> Callable[[F], F]:
        """Records of an ordered stream (Kinesis, Event Hubs) as QueueMessages."""
        return self._register(StreamTrigger(stream, batch_size, start), name, batch)

    def topic(
        self,
        topic: str,
        *,
        filter: dict[str, Any] | None = None,
        batch: bool = False,
        name: str | None = None,
    ) -> Callable[[F], F]:
        """Messages published to a topic; ``filter`` matches message attributes."""
        return self._register(TopicTrigger(topic, filter), name, batch)

    def storage(
        self,
        bucket: str,
        *,
        events: Iterable[str] = ("created",),
        prefix: str | None = None,
        suffix: str | None = None,
        name: str | None = None,
    ) -> Callable[[F], F]:
        """Object events in a bucket: created, deleted, archived, restored, metadata_updated."""
        trigger = StorageTrigger(bucket, tuple(events), prefix, suffix)
        return self._register(trigger, name, False)

    def schedule(
        self, expression: str, *, timezone: str = "UTC", name: str | None = None
    ) -> Callable[[F], F]:
        """``rate(5 minutes)``, ``cron(0 12 * * ? *)``, ``0 12 * * *`` or ``@daily``."""
        return self._register(ScheduleTrigger(expression, timezone), name, False)

    def change(
        self,
        source: str,
        *,
        batch_size: int = 100,
        batch: bool = False,
        start: str = "latest",
        name: str | None = None,
    ) -> Callable[[F], F]:
        """Changes to a table or collection (DynamoDB Streams, Cosmos DB, Firestore)."""
        return self._register(ChangeTrigger(source, batch_size, start), name, batch)

    def event(
        self,
        *,
        source: str | None = None,
        type: str | None = None,
        bus: str = "default",
        name: str | None = None,
    ) -> Callable[[F], F]:
        """Events from an event bus (EventBridge, Event Grid, Eventarc) as CloudEvents."""
        return self._register(EventTrigger(source, type, bus), name, False)

    def outputs(
        self,
        *,
        queues: Iterable[str] = (),
        topics: Iterable[str] = (),
        buckets: Iterable[str] = (),
        buses: Iterable[str] = (),
    ) -> Callable[[F], F]:
        """Declare what the function writes to through ``ctx.outputs`` (optional): the
        queues it sends to, topics it publishes to, buckets it puts into and event buses
        it emits to. Stack it with the trigger decorators, in any order."""
        return self._declare(
            "outputs", _OUTPUTS_ATTR, DeclaredOutputs(queues, topics, buckets, buses)
        )

    def requires(
        self,
        *,
        partial_batch: bool = False,
        ordered: bool = False,
        exactly_once_output: bool = False,
        max_payload: int | None = None,
        max_duration: float | None = None,
    ) -> Callable[[F], F]:
        """Declare what the function relies on from the platform (optional): a failed
        record retried alone, ordered delivery, outputs delivered only after success, the
        largest event body (bytes) and the longest run (seconds). ``polyfn check --for P``
        fails when P cannot honour them (polyfn.capabilities). Stack it with the trigger
        decorators, in any order."""
        from polyfn.capabilities import Requirements  # apps that declare nothing skip it

        declared = Requirements(
            partial_batch=partial_batch,
            ordered=ordered,
            exactly_once_output=exactly_once_output,
            max_payload=max_payload,
            max_duration=max_duration,
        )
        return self._declare("requires", _REQUIRES_ATTR, declared)

    def _declare(self, field: str, attr: str, declared: Any) -> Callable[[F], F]:
        """A decorator setting ``field`` of the handler's Function to ``declared``, before
        or after the trigger decorators (which pick ``attr`` up from the handler)."""

        def decorate(handler: F) -> F:
            fn = self._by_handler.get(id(handler))
            if fn is not None:
                setattr(fn, field, declared)
            else:  # the trigger decorator runs later and picks it up
                setattr(handler, attr, declared)
            return handler

        return decorate

    def store(self, name: str, *, ttl: float | None = None) -> StoreHandle:
        """Declare a state store (for idempotency, the circuit breaker, your own state):
        a StateStore whose backend fits where the app runs (memory, SQLite, DynamoDB,
        Azure Table storage, Firestore; see polyfn.patterns.backends). ``ttl``: seconds an
        entry lives when written without an expiry. The same name gives the same handle."""
        # One name works as a DynamoDB table, a Firestore collection and an env var suffix.
        valid = isinstance(name, str) and name[:1].isalnum()
        if not valid or not all(c.isascii() and (c.isalnum() or c in "-_.") for c in name):
            raise DefinitionError(
                f"app {self.name!r}: store name {name!r}: use letters, digits, '-', '_' "
                "and '.', starting with a letter or digit"
            )
        if ttl is not None and not ttl > 0:
            raise DefinitionError(f"app {self.name!r}: store {name!r}: ttl must be > 0")
        handle = self.stores.get(name)
        if handle is None:
            from polyfn.patterns.backends import StoreHandle

            handle = self.stores[name] = StoreHandle(name, ttl=ttl)
        elif ttl is not None and ttl != handle.ttl:
            raise DefinitionError(
                f"app {self.name!r}: store {name!r} is already declared with ttl={handle.ttl}"
            )
        return handle

    # -- lookup ------------------------------------------------------------------------
    def function(self, name: str) -> Function:
        try:
            return self.functions[name]
        except KeyError:
            known = ", ".join(sorted(self.functions)) or "none"
            raise DefinitionError(
                f"app {self.name!r} has no function {name!r} (it has: {known})"
            ) from None

    def route(self, event: NeutralEvent) -> tuple[Function, Trigger]:
        """The function (and trigger) bound to a neutral event."""
        for fn in self.functions.values():
            for trigger in fn.triggers:
                if _binds(trigger, event, fn.name):
                    return fn, trigger
        raise NoRouteError(event.provider, event.event_source, _describe(event))

    def __repr__(self) -> str:
        return f"App({self.name!r}, functions={list(self.functions)})"


def _binds(trigger: Trigger, event: Any, function_name: str) -> bool:
    kind = event.KIND
    if isinstance(trigger, HttpTrigger):
        if kind != "http" or not ("ANY" in trigger.methods or event.method in trigger.methods):
            return False
        # The gateway's own route (API Gateway resource, HTTP API route key) may be a
        # catch-all such as /{proxy+}: then the path decides.
        return event.route == trigger.route or match_route(trigger.route, event.path) is not None
    if isinstance(trigger, QueueTrigger | StreamTrigger):
        return kind == "queue" and event.queue == trigger.name
    if isinstance(trigger, TopicTrigger):
        return kind == "topic" and event.topic == trigger.name
    if isinstance(trigger, StorageTrigger):
        return kind == "storage" and trigger.accepts(event.bucket, event.key, event.kind)
    if isinstance(trigger, ChangeTrigger):
        return kind == "change" and event.source == trigger.source
    if isinstance(trigger, EventTrigger):
        return kind == "cloudevent" and trigger.accepts(event.source, event.type)
    if isinstance(trigger, ScheduleTrigger):
        # Deployed schedules are rules named after the function (``app-function``).
        return kind == "schedule" and (
            event.schedule == trigger.expression
            or event.schedule == function_name
            or event.schedule.endswith("-" + function_name)
        )
    return False


def _describe(event: Any) -> str:
    kind = event.KIND
    detail = {
        "http": lambda: f"{event.method} {event.path}",
        "queue": lambda: f"queue {event.queue!r}",
        "topic": lambda: f"topic {event.topic!r}",
        "storage": lambda: f"{event.kind} {event.bucket}/{event.key}",
        "change": lambda: f"change source {event.source!r}",
        "cloudevent": lambda: f"event source={event.source!r} type={event.type!r}",
        "schedule": lambda: f"schedule {event.schedule!r}",
    }.get(kind)
    return detail() if detail else kind
