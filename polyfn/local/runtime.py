"""The local runtime: an app's triggers live on this machine, in-process.

    from polyfn.local.clock import VirtualClock
    from polyfn.local.runtime import LocalRuntime

    with LocalRuntime(app, provider="aws", clock=VirtualClock()) as rt:
        rt.http(HttpRequest("POST", "/orders", body=b'{"items": [1]}'))
        rt.wait_idle(5)  # the queue, the bucket and the topic have run their functions

On :meth:`LocalRuntime.start` the app's triggers are wired to an embedded
:class:`~polyfn.local.broker.Broker` (see :mod:`.delivery.consumers` for which queue feeds
which trigger) and one thread per consumer takes its queue's messages as they become
deliverable (woken by the broker, never polling), builds the neutral events, and runs them
through the delivery path: the neutral one (``provider=None``: ``polyfn.dispatch``), or
provider P's adapter with every delivery rendered as P's native payload (see
:mod:`.delivery`). The verdicts come back per message: successes are acked, failures
nacked, so they are retried with backoff and dead-lettered after the queue's max
deliveries. One more thread moves the broker's outbox (storage, change, schedule and bus
events) into the queues of the functions that want them. Handler outputs go to the broker
through :class:`~polyfn.local.broker.LocalDriver`, so functions chain as in the cloud.

Time is the clock's: with a :class:`~polyfn.local.clock.VirtualClock`, :meth:`advance`
moves it (a daily schedule fires in milliseconds) and :meth:`settle` jumps it over
retry backoffs until nothing is pending.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from polyfn.app import App, Function
from polyfn.errors import DefinitionError, HandlerError
from polyfn.events.cloudevent import CloudEvent
from polyfn.events.http import HttpRequest, HttpResponse
from polyfn.local.broker import Broker, LocalDriver, Message, ObjectNotFound
from polyfn.local.broker.changes import JsonObject
from polyfn.local.clock import Clock, RealClock, VirtualClock, to_time
from polyfn.outputs import Outputs
from polyfn.routing import match_route
from polyfn.triggers import EventTrigger, HttpTrigger, StorageTrigger, StreamTrigger

from .delivery import PROVIDERS, DeliveryPath, make_path
from .delivery.base import Failure, Failures, all_failed, describe, from_outcome
from .delivery.consumers import EVENT_KINDS, Consumer, declare, neutral_event, plan, route

log = logging.getLogger("polyfn.local")

STOP_TIMEOUT = 10.0  # real seconds stop() lets running deliveries finish
OUTBOX_BATCH = 100
STREAM_GROUP = "default"  # the partition key of a stream record sent without one


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """One delivery (one receive of a consumer), for listeners (``on_delivery``)."""

    function: str
    trigger: str
    """The trigger kind: queue, stream, topic, storage, change, schedule, event."""
    provider: str
    """``aws``, ``azure``, ``gcp`` or ``neutral``."""
    queue: str
    ids: tuple[str, ...]
    """The broker message ids delivered."""
    failed: dict[str, str] = field(default_factory=dict)
    """Message id → why it failed."""
    dead_lettered: dict[str, str] = field(default_factory=dict)
    """Message id → the dead-letter queue it moved to."""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed


MAX_EXECUTIONS = 100  # workflow executions a runtime remembers


@dataclass
class Execution:
    """One workflow execution a runtime ran (``status``: RUNNING, SUCCEEDED or FAILED)."""

    name: str
    id: str
    status: str = "RUNNING"
    input: Any = None
    output: Any = None
    error: str | None = None
    cause: str | None = None
    started: datetime | None = None
    stopped: datetime | None = None

    @property
    def arn(self) -> str:
        return f"arn:polyfn:local:execution:{self.name}:{self.id}"

    def to_json(self) -> dict[str, Any]:
        return {
            "executionArn": self.arn,
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "output": self.output,
            "error": self.error,
            "cause": self.cause,
            "started": self.started.isoformat() if self.started else None,
            "stopped": self.stopped.isoformat() if self.stopped else None,
        }


class _WorkflowClock:
    """The runtime's clock as the workflow interpreter wants it (``now``, ``sleep``): on a
    VirtualClock a Wait or a Retry's interval advances the runtime's time (due messages and
    schedules fire), on the real clock it sleeps."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def now(self) -> datetime:
        return self.clock.now()

    def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        if isinstance(self.clock, VirtualClock):
            self.clock.advance(seconds)
        else:
            self.clock.sleep_until(self.clock.time() + seconds)


class LocalRuntime:
    """``app`` (an App, or ``"module:attribute"``) with every trigger live on an embedded
    broker. ``provider``: None (neutral), ``"aws"``, ``"azure"`` or ``"gcp"``: the adapter
    every delivery and HTTP request goes through. ``state_dir``: the broker's folder
    (None: a temporary one, removed on stop). ``clock``: RealClock by default, or a
    VirtualClock tests move. ``options``: the adapter's options (``AzureOptions``,
    ``GcpOptions``). ``event_max_deliveries``: deliveries of a topic, stream, storage,
    change, schedule or bus event before it is dead-lettered (queues use their own
    ``max_deliveries``). A context manager: ``start()`` on entry, ``stop()`` on exit."""

    def __init__(
        self,
        app: App | str,
        *,
        provider: str | None = None,
        state_dir: str | os.PathLike[str] | None = None,
        clock: Clock | None = None,
        options: Any = None,
        event_max_deliveries: int | None = 3,
    ) -> None:
        if provider not in PROVIDERS:
            raise ValueError(f"provider {provider!r}: one of aws, azure, gcp, or None (neutral)")
        if isinstance(app, str):
            from polyfn.loader import load_app

            app = load_app(app)
        self.app = app
        self.provider = provider
        self.state_dir = state_dir
        self.clock: Clock = clock or RealClock()
        self.options = options
        self.event_max_deliveries = event_max_deliveries
        self._broker: Broker | None = None
        self._driver: LocalDriver | None = None
        self._path: DeliveryPath | None = None
        self._consumers: dict[tuple[str, str], Consumer] = {}
        self._threads: dict[Any, threading.Thread] = {}
        self._listeners: list[Callable[[DeliveryReport], None]] = []
        # Guards the fields above and counts the threads busy receiving or delivering;
        # notified whenever one finishes.
        self._state = threading.Condition()
        self._busy = 0
        self._stopping = False
        self._executions: deque[Execution] = deque(maxlen=MAX_EXECUTIONS)

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> LocalRuntime:
        """Open the broker, wire the app's triggers and start the delivery threads (again
        after :meth:`stop`: on a ``state_dir``, what the broker held is still there)."""
        if self._broker is not None and not self._broker.closed:
            raise RuntimeError("the runtime is started already")
        self._stopping = False
        self._threads = {}
        self._consumers = {}
        broker = Broker(self.state_dir, self.clock)
        try:
            self._broker = broker
            self._driver = LocalDriver(broker)
            self._install(self.app)
        except BaseException:
            self._broker = None
            broker.close()
            raise
        self._spawn("outbox", self._forward_outbox, "polyfn-outbox")
        return self

    def stop(self) -> None:
        """Let running deliveries finish (up to STOP_TIMEOUT seconds), stop the threads and
        close the broker."""
        broker = self._broker
        if broker is None or broker.closed:
            return
        deadline = time.monotonic() + STOP_TIMEOUT
        with self._state:
            self._stopping = True
            while self._busy and (left := deadline - time.monotonic()) > 0:
                self._state.wait(left)
            threads = list(self._threads.values())
        broker.close()  # wakes every thread waiting on it
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join(max(0.1, deadline - time.monotonic()))

    def __enter__(self) -> LocalRuntime:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reload(self, app: App | str) -> None:
        """Run ``app`` (a new version of the app) from now on, keeping the broker's state:
        the next delivery runs the new code. New triggers are wired, removed ones stop
        consuming (their queues keep their messages); deliveries already running finish
        with the old code. Raises (and keeps the old app) if the new one cannot be wired
        (a DefinitionError of the adapter, say)."""
        if isinstance(app, str):
            from polyfn.loader import load_app

            app = load_app(app)
        self._install(app)

    def _install(self, app: App) -> None:
        self._bind_stores(app)
        consumers = plan(app)
        path = make_path(
            self.provider, app, self.driver, options=self.options, content=self._content
        )
        # A path may run a queue's max deliveries as its provider bounds them (gcp).
        declare(
            self.broker, consumers, self.event_max_deliveries, getattr(path, "max_deliveries", None)
        )
        with self._state:
            self.app = app
            self._path = path
            self._consumers = {c.key: c for c in consumers}
            new = [c for c in consumers if c.key not in self._threads]
            for c in new:
                self._spawn(c.key, self._consume, f"polyfn-{c.function.name}-{c.kind}")

    def _bind_stores(self, app: App) -> None:
        """The stores the app declares (``app.store``) live beside the broker: a table each
        in ``stores.db`` of the state dir (shared by polyfn dev's processes), else in
        memory; on the runtime's clock, so expiries follow a virtual clock. A store the
        app chose itself (``handle.use(...)``) is kept."""
        stores = getattr(app, "stores", None)
        if not stores:
            return
        from polyfn.patterns.store import MemoryStore, SqliteStore

        for handle in stores.values():
            current = handle._backend
            if current is not None and not getattr(current, "_polyfn_local", False):
                continue
            if self.state_dir is None:
                store: Any = MemoryStore(self.clock)
            else:
                path = Path(self.state_dir) / "stores.db"
                path.parent.mkdir(parents=True, exist_ok=True)
                store = SqliteStore(path, clock=self.clock, table=handle.resource_name("sqlite"))
            store._polyfn_local = True
            handle.use(store)

    def _spawn(self, key: Any, target: Callable[..., None], name: str) -> None:
        thread = threading.Thread(target=target, args=(key,), name=name, daemon=True)
        with self._state:
            self._threads[key] = thread
        thread.start()

    # -- properties -------------------------------------------------------------------------
    @property
    def broker(self) -> Broker:
        if self._broker is None:
            raise RuntimeError("the runtime is not started")
        return self._broker

    @property
    def driver(self) -> LocalDriver:
        if self._driver is None:
            raise RuntimeError("the runtime is not started")
        return self._driver

    @property
    def outputs(self) -> Outputs:
        """Send, publish, put and emit into the broker, as handlers do."""
        return Outputs(self.driver)

    @property
    def consumers(self) -> list[Consumer]:
        """Each event trigger of the app and the broker queue that feeds it."""
        with self._state:
            return list(self._consumers.values())

    def queue_of(self, function: str, kind: str | None = None) -> str:
        """The broker queue feeding ``function`` (its ``kind`` trigger); its dead letters
        are in ``<queue>-dlq``."""
        for c in self.consumers:
            if c.function.name == function and kind in (None, c.kind):
                return c.queue
        raise DefinitionError(f"function {function!r} has no {kind or 'event'} trigger")

    def on_delivery(self, listener: Callable[[DeliveryReport], None]) -> None:
        """Call ``listener`` after every delivery (from the delivery thread)."""
        self._listeners.append(listener)

    # -- delivery threads -------------------------------------------------------------------
    def _enter(self, key: Any) -> tuple[Consumer | None, DeliveryPath | None]:
        """Mark a thread busy and give it its consumer and the current path; (None, None)
        when it should end (stopping, or its trigger is gone after a reload)."""
        with self._state:
            consumer = self._consumers.get(key) if key != "outbox" else None
            if self._stopping or (key != "outbox" and consumer is None):
                if self._threads.get(key) is threading.current_thread():
                    del self._threads[key]
                return None, None
            self._busy += 1
            return consumer, self._path

    def _leave(self) -> None:
        with self._state:
            self._busy -= 1
            self._state.notify_all()

    @contextlib.contextmanager
    def _running(self) -> Iterator[tuple[App, DeliveryPath]]:
        """A synchronous call (HTTP, invoke) counts as busy: idleness waits for what its
        handler sends. Gives the app and its path, of one version (reloads swap both)."""
        with self._state:
            app, path = self.app, self._path
            if path is None:
                raise RuntimeError("the runtime is not started")
            self._busy += 1
        try:
            yield app, path
        finally:
            self._leave()

    def _consume(self, key: tuple[str, str]) -> None:
        broker = self.broker
        while True:
            c, path = self._enter(key)
            if c is None or path is None:
                return
            leases: list[Message] = []
            try:
                leases = broker.receive(c.queue, c.batch_size)
                if leases:
                    self._deliver(c, path, leases)
            except Exception:
                if not (self._stopping or broker.closed):
                    log.exception("delivery loop of %r stopped", c)
                return
            finally:
                self._leave()
            if not leases and not broker.wait_visible(c.queue):
                return  # the broker closed

    def _forward_outbox(self, key: str) -> None:
        broker = self.broker
        while True:
            _, path = self._enter(key)
            if path is None:
                return
            events = []
            try:
                consumers = self.consumers
                events = broker.next_events(limit=OUTBOX_BATCH)
                for event in events:
                    targets = route(consumers, event)
                    if not targets:
                        log.debug("%s event %s: no function takes it", event.kind, event.event_id)
                    broker.forward_event(event, targets)
            except Exception:
                if not (self._stopping or broker.closed):
                    log.exception("the outbox loop stopped")
                return
            finally:
                self._leave()
            if not events and not broker.wait_events():
                return  # the broker closed

    def _deliver(self, c: Consumer, path: DeliveryPath, leases: list[Message]) -> None:
        fn = c.function.name
        provider = path.provider or "neutral"
        built: list[tuple[int, Any]] = []
        failed: Failures = {}
        for i, lease in enumerate(leases):
            try:
                built.append((i, neutral_event(c, lease)))
            except Exception as e:  # a message that is no event of this trigger
                failed[i] = Failure(describe(e), e)
        started = time.perf_counter()
        if built:
            events = [e for _, e in built]
            try:
                verdict = path.deliver(c, events)
            except Exception as e:  # the path itself failed (rendering, say): all retried
                verdict = all_failed(events, e)
            for j, failure in verdict.items():
                failed[built[j][0]] = failure
        seconds = time.perf_counter() - started
        config = self.broker.queue_config(c.queue)
        limit = config.max_deliveries
        reasons: dict[str, str] = {}
        dead_letters: dict[str, str] = {}
        for i, lease in enumerate(leases):
            failure = failed.get(i)
            if failure is None:
                self.broker.ack(lease.receipt)  # type: ignore[arg-type]
                continue
            why = reasons[lease.id] = failure.reason
            self.broker.nack(lease.receipt, error=why)  # type: ignore[arg-type]
            dead = limit is not None and lease.delivery_count >= limit
            if dead:
                dead_letters[lease.id] = config.dead_letter or f"{c.queue}-dlq"
            log.warning(
                "function %r [%s] failed on %s message %s from %r (delivery %d%s): %s%s",
                fn,
                provider,
                c.kind,
                lease.id,
                c.queue,
                lease.delivery_count,
                f" of {limit}" if limit is not None else "",
                why,
                f"; moved to dead-letter queue {dead_letters[lease.id]!r}" if dead else "",
                exc_info=_exc_info(failure.error),
            )
        ids = tuple(m.id for m in leases)
        self._report(
            DeliveryReport(fn, c.kind, provider, c.queue, ids, reasons, dead_letters, seconds)
        )

    def _report(self, report: DeliveryReport) -> None:
        for listener in list(self._listeners):
            try:
                listener(report)
            except Exception:
                log.exception("delivery listener %r failed", listener)

    def _content(self, bucket: str, key: str) -> bytes | None:
        try:
            return self.broker.get(bucket, key).data
        except ObjectNotFound:
            return None

    # -- synchronous calls ------------------------------------------------------------------
    def invoke(self, function: str, event: Any) -> Any:
        """Deliver ``event`` (a neutral event, or a list for a batch trigger) to
        ``function`` through the runtime's path, now, in this thread. The message is not
        queued: no retry, no dead letter.

        The same under every provider (and the neutral path):

        - a request returns the HttpResponse;
        - a batch trigger (queue, stream, topic, change) returns None when every record
          succeeded, and raises :class:`InvocationFailed` (a HandlerError) naming the
          failed record ids when any failed — however the provider reports it (SQS's
          ``batchItemFailures``, a BatchOutcome, a raised invocation). The verdict is the
          one the queue would act on: an Azure batch fails as a whole, a Kinesis record
          fails the ones after it;
        - any other trigger returns what the invocation returned (the native answer on a
          provider path, the handler's result on the neutral one), and a failure raises.
        """
        events = list(event) if isinstance(event, list | tuple) else [event]
        if not events:
            raise ValueError("invoke: no event")
        if events[0].KIND == "http":
            return self.http(events[0], function=function)
        with self._running() as (app, path):
            c = _consumer_for(app, app.function(function), events[0])
            if not c.trigger.BATCHED:
                return path.invoke(c, events)
            failures = _batch_verdict(c, path, events)
        if failures:
            raise InvocationFailed.of(c, path.provider, events, failures)
        return None

    # -- workflows --------------------------------------------------------------------------
    def workflows(self) -> dict[str, Any]:
        """The app's workflows (registered with ``polyfn.workflow.local.workflow``)."""
        from polyfn.workflow.local import workflows

        return workflows(self.app)

    def start_workflow(self, name: str, input: Any = None, *, wait: bool = True) -> Any:
        """Run the app's workflow ``name`` on ``input`` with the local ASL interpreter:
        its Tasks call the app's functions in this process, ``polyfn:send`` /
        ``polyfn:publish`` go into the broker (so queue and topic triggers fire), and Wait
        states and Retry intervals move the runtime's clock (a VirtualClock: instantly).
        Returns the ExecutionResult; ``wait=False``: runs in a thread and returns the
        :class:`Execution` at once (see :meth:`executions`). KeyError: no such workflow."""
        execution, go = self._workflow(name, input)
        if wait:
            return go()

        def background() -> None:
            with contextlib.suppress(Exception):  # recorded on the execution
                go()

        threading.Thread(target=background, name=f"polyfn-workflow-{name}", daemon=True).start()
        return execution

    def run_workflow(self, name: str, input: Any = None) -> Execution:
        """Run the workflow ``name`` to its end and return its :class:`Execution` (an
        error of the definition or the interpreter fails the execution, it does not
        raise). KeyError: no such workflow."""
        execution, go = self._workflow(name, input)
        with contextlib.suppress(Exception):
            go()
        return execution

    def _workflow(self, name: str, input: Any) -> tuple[Execution, Callable[[], Any]]:
        from polyfn.workflow.local import run

        definition = self.workflows().get(name)
        if definition is None:
            raise KeyError(f"app {self.app.name!r} has no workflow {name!r}")
        driver = self.driver  # fails now when the runtime is not started
        execution = Execution(name, uuid.uuid4().hex[:12], input=input, started=self.clock.now())
        with self._state:
            self._executions.append(execution)

        def go() -> Any:
            try:
                result = run(
                    definition, input, self.app, outputs=driver, clock=_WorkflowClock(self.clock)
                )
            except Exception as e:  # a definition or runtime error: the execution fails
                execution.error, execution.cause = type(e).__name__, str(e)
                execution.status, execution.stopped = "FAILED", self.clock.now()
                raise
            execution.output, execution.error = result.output, result.error
            execution.cause = result.cause
            execution.status, execution.stopped = result.status, self.clock.now()
            return result

        return execution, go

    def executions(self) -> list[Execution]:
        """The workflow executions run lately (the last MAX_EXECUTIONS), oldest first."""
        with self._state:
            return list(self._executions)

    def http(self, request: HttpRequest, *, function: str | None = None) -> HttpResponse:
        """Answer ``request`` through the runtime's path (``function``: only that
        function's routes): 404 when no route matches the path, 405 when none allows the
        method."""
        with self._running() as (app, path):
            found = _route(app, request, function)
            if isinstance(found, HttpResponse):
                return found
            fn, index, params = found
            trigger: HttpTrigger = fn.triggers[index]  # type: ignore[assignment]
            request.route = trigger.route
            request.path_params = params
            return path.http(fn, index, request)

    # -- producing ---------------------------------------------------------------------------
    def send(
        self,
        queue: str,
        body: Any,
        *,
        attributes: dict[str, str] | None = None,
        group_id: str | None = None,
        deduplication_id: str | None = None,
        delay_seconds: int = 0,
    ) -> str:
        """Queue a message (body: bytes, text or JSON), as ``ctx.outputs.send`` does; a
        record for a stream trigger gets partition key ``"default"`` unless given one."""
        if group_id is None and any(
            isinstance(c.trigger, StreamTrigger) and c.queue == queue for c in self.consumers
        ):
            group_id = STREAM_GROUP
        return self.outputs.send(
            queue,
            body,
            attributes=attributes,
            group_id=group_id,
            deduplication_id=deduplication_id,
            delay_seconds=delay_seconds,
        )

    def publish(
        self,
        topic: str,
        body: Any,
        *,
        attributes: dict[str, str] | None = None,
        subject: str | None = None,
    ) -> str:
        return self.outputs.publish(topic, body, attributes=attributes, subject=subject)

    def put(
        self,
        bucket: str,
        key: str,
        data: Any,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> str | None:
        """Store an object (raising its storage event); returns its version."""
        return self.outputs.put(bucket, key, data, content_type=content_type, metadata=metadata)

    def delete(self, bucket: str, key: str) -> bool:
        """Delete an object (raising its ``deleted`` event); False if there was none."""
        return self.broker.delete(bucket, key)

    def emit(self, event: CloudEvent, *, bus: str | None = None) -> str:
        return self.outputs.emit(event, bus=bus)

    def table_put(self, source: str, keys: JsonObject, item: JsonObject) -> Any:
        """Write an item to a local table (raising its change event)."""
        return self.broker.table_put(source, keys, item)

    def table_delete(self, source: str, keys: JsonObject) -> Any:
        return self.broker.table_delete(source, keys)

    # -- waiting and time ----------------------------------------------------------------------
    def _queues(self) -> list[str]:
        return list(dict.fromkeys(c.queue for c in self.consumers))

    def is_idle(self) -> bool:
        """Nothing pending now: the outbox and every consumed queue are empty (no message
        visible, in flight, delayed or backing off) and no delivery is running."""
        with self._state:
            if self._busy:
                return False
        return self.broker.idle(self._queues())

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until :meth:`is_idle` (True) or ``timeout`` real seconds (False). Under a
        virtual clock a failed message waits for its backoff until the clock moves: see
        :meth:`settle`."""
        deadline = None if timeout is None else time.monotonic() + timeout

        def left() -> float | None:
            return None if deadline is None else max(0.0, deadline - time.monotonic())

        while True:
            if not self.broker.wait_idle(left(), self._queues()):
                return False
            with self._state:
                while self._busy:
                    remaining = left()
                    if remaining == 0:
                        return False
                    self._state.wait(remaining)
            if self.is_idle():
                return True

    def idle(self, timeout: float | None = 10.0) -> bool:
        """:meth:`wait_idle` with a default timeout (what ``GET /_polyfn/idle`` answers)."""
        return self.wait_idle(timeout)

    def _quiet(self) -> bool:
        # Called with self._state held: no delivery thread can start a receive meanwhile,
        # so "none busy and nothing deliverable" cannot change under the probes.
        if self._busy:
            return False
        broker = self.broker
        return not broker.wait_visible(self._queues(), 0) and not broker.wait_events(None, 0)

    def wait_quiet(self, timeout: float | None = None) -> bool:
        """Block until nothing can happen without the clock moving: no delivery running,
        no message deliverable, no outbox event to forward (True), or ``timeout`` real
        seconds (False). Messages may still wait for a backoff, a delay or a lease."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._state:
            while not self._quiet():
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                # Deliveries notify when they end; a deliverable message wakes its thread.
                self._state.wait(remaining)
            return True

    def _virtual(self) -> VirtualClock:
        if not isinstance(self.clock, VirtualClock):
            raise TypeError("the runtime runs on the real clock: only a VirtualClock moves")
        return self.clock

    def advance(self, seconds: float) -> datetime:
        """Move the virtual clock forward (due schedules fire, backoffs end); returns the
        new time."""
        return self._virtual().advance(seconds)

    def settle(self, timeout: float | None = 10.0, max_advance: float | None = None) -> bool:
        """Under a virtual clock: run until idle, moving the clock to each time a waiting
        message becomes deliverable (a retry's backoff, a delay, an expired lease), so
        that retries and dead-lettering happen at once. False after ``timeout`` real
        seconds, or if idleness would need the clock moved more than ``max_advance``
        seconds (a message that fails forever with no dead letter never settles)."""
        clock = self._virtual()
        deadline = None if timeout is None else time.monotonic() + timeout
        moved = 0.0
        while True:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not self.wait_quiet(remaining):
                return False
            if self.is_idle():
                return True
            due = self._next_due()
            if due is None:
                return False  # nothing will change by time alone
            step = max(0.0, due - clock.time())
            if max_advance is not None and moved + step > max_advance:
                return False
            moved += step
            clock.set(max(due, clock.time()))

    def _next_due(self) -> float | None:
        """The earliest time a message of a consumed queue becomes deliverable."""
        now = self.clock.time()
        due: float | None = None
        for queue in self._queues():
            for message in self.broker.peek(queue, limit=1_000_000):
                t = to_time(message.visible_at)
                if t > now and (due is None or t < due):
                    due = t
        return due


class InvocationFailed(HandlerError):
    """A batch trigger's :meth:`LocalRuntime.invoke` in which records failed.
    ``failed_ids`` names them (in delivery order), ``reasons`` says why each; ``cause`` is
    the handler's own exception where the provider's answer carries it (on AWS the
    ``batchItemFailures`` answer has only ids: the exception is in the log, as on
    Lambda)."""

    def __init__(
        self,
        function: str,
        provider: str,
        source: str,
        cause: BaseException,
        failed_ids: list[str],
        reasons: dict[str, str],
    ) -> None:
        super().__init__(function, provider, source, cause)
        self.failed_ids = failed_ids
        self.reasons = reasons
        self.args = (f"{self.args[0]} (failed records: {failed_ids})",)

    @classmethod
    def of(
        cls, c: Consumer, provider: str | None, events: list[Any], failures: Failures
    ) -> InvocationFailed:
        order = sorted(failures)
        ids = [str(events[i].id) for i in order]
        reasons = {str(events[i].id): failures[i].reason for i in order}
        first = next((failures[i].error for i in order if failures[i].error), None)
        if isinstance(first, HandlerError):  # the adapter's: it names the native source
            return cls(first.function, first.provider, first.source, first.cause, ids, reasons)
        if first is None:
            first = RuntimeError(failures[order[0]].reason)
        return cls(
            c.function.name, provider or "local", _source(c, provider, events), first, ids, reasons
        )


def _source(c: Consumer, provider: str | None, events: list[Any]) -> str:
    if provider == "aws":
        from .delivery.aws import SOURCES

        return f"aws:{SOURCES[c.kind]}"
    return str(getattr(events[0], "event_source", c.kind))


def _batch_verdict(c: Consumer, path: DeliveryPath, events: list[Any]) -> Failures:
    """The failed records of one invocation of a batch trigger, as the queue would see
    them (the path's own verdict); on the neutral path, with each record's exception."""
    if path.provider is not None:
        return path.deliver(c, events)
    try:
        outcome = path.invoke(c, events)
    except Exception as e:  # a batch handler that answered nonsense
        return all_failed(events, e)
    failures = from_outcome(outcome, c.order, c.function.batch)
    for f in outcome.failures:  # run_batch logged them; the caller gets them too
        if f.error is not None:
            failures[f.index] = Failure(failures[f.index].reason, f.error)
    return failures


def _exc_info(error: BaseException | None) -> Any:
    """The handler's own exception (what a HandlerError wraps) for a log record."""
    if error is None:
        return None
    cause = error.cause if isinstance(error, HandlerError) else error
    return (type(cause), cause, cause.__traceback__)


def _consumer_for(app: App, fn: Function, event: Any) -> Consumer:
    """The consumer of ``fn``'s trigger that takes ``event``."""
    kind = event.KIND
    candidates = [c for c in plan(app) if c.function is fn and EVENT_KINDS[c.kind] == kind]
    for c in candidates:  # the trigger that takes it, when several could
        t = c.trigger
        if isinstance(t, StorageTrigger) and not t.accepts(event.bucket, event.key, event.kind):
            continue
        if isinstance(t, EventTrigger) and not t.accepts(event.source, event.type):
            continue
        return c
    if candidates:
        return candidates[0]
    raise DefinitionError(f"function {fn.name!r} has no trigger for {kind} events")


def _route(
    app: App, request: HttpRequest, function: str | None
) -> tuple[Function, int, dict[str, str]] | HttpResponse:
    """The function and HTTP trigger (index) a request goes to, with its path parameters;
    else the 404 or 405 answer."""
    allowed: list[str] = []
    functions = [app.function(function)] if function else list(app.functions.values())
    for fn in functions:
        for index, t in enumerate(fn.triggers):
            if not isinstance(t, HttpTrigger):
                continue
            params = match_route(t.route, request.path)
            if params is None:
                continue
            if "ANY" in t.methods or request.method in t.methods:
                return fn, index, params
            allowed.extend(t.methods)
    if allowed:
        resp = HttpResponse.from_json({"error": "method not allowed"}, 405)
        resp.headers["allow"] = ", ".join(dict.fromkeys(allowed))
        return resp
    return HttpResponse.from_json({"error": "not found"}, 404)
