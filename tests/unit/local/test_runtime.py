"""The local runtime, in-process, on a virtual clock: every trigger kind delivered through
the neutral path and through each provider's adapter (``provider=`` aws, azure, gcp), with
verdicts mapped back to acks, retries and dead letters.

Deterministic: nothing sleeps; tests wait for idleness (``wait_idle`` / ``settle``, with
real-time timeouts) and move the virtual clock by hand.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from polyfn import App, CloudEvent, HttpRequest, QueueMessage, StorageEvent
from polyfn.errors import HandlerError
from polyfn.local.clock import RealClock, VirtualClock
from polyfn.local.runtime import DeliveryReport, InvocationFailed, LocalRuntime

START = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
PROVIDERS = [None, "aws", "azure", "gcp"]
WAIT = 5.0  # real seconds any wait may take before the test fails


class Seen:
    """What the handlers saw, by name (appended from the delivery threads)."""

    def __init__(self) -> None:
        self.calls: dict[str, list[Any]] = defaultdict(list)
        self.lock = threading.Lock()

    def add(self, name: str, value: Any) -> None:
        with self.lock:
            self.calls[name].append(value)

    def __getitem__(self, name: str) -> list[Any]:
        with self.lock:
            return list(self.calls[name])


def kinds_app(seen: Seen) -> App:
    """One function per trigger kind, each recording what it got."""
    app = App("kinds")
    failed_once: set[int] = set()

    @app.post("/jobs")
    def post_job(req: HttpRequest, ctx: Any) -> dict:
        job = req.json()
        ctx.outputs.send("jobs", job)
        ctx.outputs.send("audit", {"posted": job["id"]})  # a queue nobody reads
        return {"queued": job["id"]}

    @app.queue("jobs", batch_size=5, max_deliveries=3)
    def job(msg: QueueMessage, ctx: Any) -> None:
        body = msg.json()
        seen.add("job", (body["id"], msg.delivery_count))
        if body.get("fail"):
            raise ValueError(f"job {body['id']} failed")

    @app.queue("ordered", fifo=True, max_deliveries=5)
    def ordered(msg: QueueMessage, ctx: Any) -> None:
        n = msg.json()["n"]
        seen.add("ordered", n)
        if n == 1 and n not in failed_once:
            failed_once.add(n)
            raise RuntimeError("the head fails once")

    @app.stream("clicks", batch_size=10)
    def click(msg: QueueMessage, ctx: Any) -> None:
        seen.add("click", msg.text)

    @app.topic("news", filter={"kind": "big"})
    def news(msg: Any, ctx: Any) -> None:
        seen.add("news", (msg.topic, msg.text))

    @app.storage("files", events=["created"], prefix="in/")
    def uploaded(event: StorageEvent, ctx: Any) -> None:
        content = event.native.read() if event.provider == "azure" else None
        seen.add("uploaded", (event.kind, event.bucket, event.key, event.size, content))

    @app.storage("files", events=["deleted"])
    def removed(event: StorageEvent, ctx: Any) -> None:
        seen.add("removed", (event.kind, event.key))

    @app.schedule("@daily")
    def daily(event: Any, ctx: Any) -> None:
        seen.add("daily", (event.schedule, event.scheduled_time))

    @app.change("orders")
    def order_changed(change: Any, ctx: Any) -> None:
        seen.add("change", (change.operation, change.source, change.new))

    @app.event(source="shop", type="order.created")
    def created(event: CloudEvent, ctx: Any) -> None:
        seen.add("event", (event.source, event.type, event.data))

    return app


@pytest.fixture
def seen() -> Seen:
    return Seen()


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(START)


@pytest.fixture
def run(clock: VirtualClock) -> Iterator[Callable[..., LocalRuntime]]:
    """``run(app, provider)``: a started runtime on the virtual clock, stopped afterwards."""
    started: list[LocalRuntime] = []

    def start(app: App | str, provider: str | None = None, **kw: Any) -> LocalRuntime:
        kw.setdefault("clock", clock)
        if provider == "azure":  # Cosmos DB names a container inside a database
            from polyfn.adapters.azure import AzureOptions

            kw.setdefault("options", AzureOptions(cosmos_database="shop"))
        rt = LocalRuntime(app, provider=provider, **kw).start()
        started.append(rt)
        return rt

    yield start
    for rt in started:
        rt.stop()


def post(rt: LocalRuntime, path: str, body: Any) -> Any:
    return rt.http(
        HttpRequest(
            "POST", path, body=json.dumps(body), headers={"content-type": "application/json"}
        )
    )


# -- the orders sample --------------------------------------------------------------------------
@pytest.mark.parametrize("provider", PROVIDERS)
def test_orders_sample_flows_from_http_to_queue_storage_and_topic(run, provider):
    rt = run("samples.orders.app:app", provider)
    reports: list[DeliveryReport] = []
    rt.on_delivery(reports.append)

    order = {"id": "o-1", "items": [{"sku": "apple", "price": 3, "qty": 2}]}
    resp = post(rt, "/orders", order)
    assert resp.status == 200 and json.loads(resp.body)["id"] == "o-1"
    assert rt.wait_idle(WAIT)

    stored = rt.broker.get("receipts", "receipts/o-1.json")
    assert json.loads(stored.data) == {"order": "o-1", "total": 6, "message": ANY_ID}
    assert stored.info.content_type == "application/json"
    ran = {(r.function, r.trigger) for r in reports if r.ok}
    assert ran == {("process_order", "queue"), ("index_receipt", "storage"), ("notify", "topic")}
    assert all(r.provider == (provider or "neutral") for r in reports)

    got = rt.http(HttpRequest("GET", "/orders/o-1", query={"verbose": "1"}))
    assert (got.status, json.loads(got.body)) == (200, {"id": "o-1", "verbose": True})
    assert rt.http(HttpRequest("GET", "/nowhere")).status == 404
    not_allowed = rt.http(HttpRequest("DELETE", "/orders"))
    assert not_allowed.status == 405 and not_allowed.headers["allow"] == "POST"
    assert post(rt, "/orders", {"id": "o-2"}).status == 400  # HttpError from the handler


class _AnyId:
    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and len(other) > 0


ANY_ID = _AnyId()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_orders_failing_three_times_lands_in_the_dead_letter_queue(run, provider):
    rt = run("samples.orders.app:app", provider)
    reports: list[DeliveryReport] = []
    rt.on_delivery(reports.append)
    rt.send("orders", {"id": "o-9", "items": []})
    assert rt.settle(WAIT)  # jumps the clock over each retry's backoff

    # max_deliveries=3; Pub/Sub's dead-letter policy takes 5 attempts at least.
    attempts = 5 if provider == "gcp" else 3
    (dead,) = rt.broker.peek("orders-dlq")
    assert json.loads(dead.body) == {"id": "o-9", "items": []}
    assert dead.dead_letter_source == "orders"
    assert dead.dead_letter_reason.startswith(f"failed {attempts} of {attempts} deliveries")
    failures = [r for r in reports if r.function == "process_order" and r.failed]
    assert len(failures) == attempts
    assert failures[-1].dead_lettered == {dead.id: "orders-dlq"}
    assert rt.broker.stats("orders").total == 0


@pytest.mark.parametrize("provider", PROVIDERS)
def test_orders_nightly_report_fires_once_when_the_clock_moves_a_day(run, provider):
    rt = run("samples.orders.app:app", provider)
    reports: list[DeliveryReport] = []
    rt.on_delivery(reports.append)
    began = time.perf_counter()
    rt.advance(86400)
    assert rt.wait_idle(WAIT)
    elapsed = time.perf_counter() - began
    assert [(r.function, r.ok) for r in reports] == [("nightly_report", True)]
    assert elapsed < 1.0, f"a day of virtual time took {elapsed * 1000:.0f} ms"


# -- every trigger kind ---------------------------------------------------------------------------
@pytest.mark.parametrize("provider", PROVIDERS)
def test_http_handler_outputs_land_in_the_broker_and_feed_the_queue(run, seen, provider):
    rt = run(kinds_app(seen), provider)
    resp = post(rt, "/jobs", {"id": "j-1"})
    assert (resp.status, json.loads(resp.body)) == (200, {"queued": "j-1"})
    assert rt.wait_idle(WAIT)
    assert seen["job"] == [("j-1", 1)]
    (audit,) = rt.broker.peek("audit")
    assert json.loads(audit.body) == {"posted": "j-1"}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_message_failing_three_times_is_dead_lettered(run, seen, provider):
    rt = run(kinds_app(seen), provider)
    rt.send("jobs", {"id": "bad", "fail": True})
    rt.send("jobs", {"id": "good"})
    assert rt.settle(WAIT)
    bad = [count for job, count in seen["job"] if job == "bad"]
    if provider == "gcp":  # a CloudEvent delivery does not carry Pub/Sub's attempt count
        assert len(bad) == 5  # max_deliveries=3, run as Pub/Sub's minimum of 5 attempts
    else:
        assert bad == [1, 2, 3]
    assert [job for job, _ in seen["job"]].count("good") == 1
    (dead,) = rt.broker.peek("jobs-dlq")
    assert json.loads(dead.body)["id"] == "bad"
    assert "job bad failed" in dead.last_error or provider == "aws"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_fifo_group_keeps_its_order_when_the_head_fails(run, seen, provider):
    rt = run(kinds_app(seen), provider)
    for n in (1, 2, 3):
        rt.send("ordered", {"n": n}, group_id="g")
    rt.send("ordered", {"n": 10}, group_id="other")
    assert rt.settle(WAIT)
    in_group = [n for n in seen["ordered"] if n < 10]
    assert in_group == [1, 1, 2, 3]  # 2 and 3 never ran before 1 succeeded
    assert seen["ordered"].count(10) == 1
    assert rt.broker.peek("ordered-dlq") == []


@pytest.mark.parametrize("provider", PROVIDERS)
def test_stream_records_arrive_in_order(run, seen, provider):
    rt = run(kinds_app(seen), provider)
    for i in range(5):
        rt.send("clicks", f"click-{i}")
    assert rt.wait_idle(WAIT)
    assert seen["click"] == [f"click-{i}" for i in range(5)]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_topic_subscription_filters_by_attribute(run, seen, provider):
    rt = run(kinds_app(seen), provider)
    rt.publish("news", "small news", attributes={"kind": "small"})
    rt.publish("news", "big news", attributes={"kind": "big"})
    assert rt.wait_idle(WAIT)
    assert seen["news"] == [("news", "big news")]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_storage_put_and_delete_raise_events(run, seen, provider):
    rt = run(kinds_app(seen), provider)
    rt.put("files", "in/a.txt", b"hello")
    rt.put("files", "elsewhere/b.txt", b"not under in/")
    assert rt.wait_idle(WAIT)
    content = b"hello" if provider == "azure" else None  # the blob trigger reads the blob
    assert seen["uploaded"] == [("created", "files", "in/a.txt", 5, content)]
    assert rt.delete("files", "in/a.txt")
    assert rt.wait_idle(WAIT)
    assert seen["removed"] == [("deleted", "in/a.txt")]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_daily_schedule_fires_once_per_virtual_day_in_milliseconds(run, seen, clock, provider):
    rt = run(kinds_app(seen), provider)
    began = time.perf_counter()
    rt.advance(86400)
    assert rt.wait_idle(WAIT)
    elapsed = time.perf_counter() - began
    midnight = datetime(2024, 1, 2, tzinfo=UTC)
    assert seen["daily"] == [("@daily", midnight)]
    assert elapsed < 1.0, f"a day of virtual time took {elapsed * 1000:.0f} ms"
    rt.advance(2 * 86400)
    assert rt.wait_idle(WAIT)
    assert [t for _, t in seen["daily"]] == [midnight + timedelta(days=d) for d in range(3)]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_table_writes_reach_the_change_handler(run, seen, provider):
    rt = run(kinds_app(seen), provider)
    rt.table_put("orders", {"id": "o-1"}, {"total": 5})
    rt.table_put("orders", {"id": "o-1"}, {"total": 7})
    assert rt.wait_idle(WAIT)
    got = seen["change"]
    # Cosmos DB's change feed does not tell inserts from updates: every change is "modify".
    first = "modify" if provider == "azure" else "insert"
    assert [op for op, _, _ in got] == [first, "modify"]
    assert all(source == "orders" for _, source, _ in got)
    assert [new["total"] for _, _, new in got] == [5, 7]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_event_bus_emit_reaches_the_event_handler(run, seen, provider):
    rt = run(kinds_app(seen), provider)
    rt.emit(CloudEvent("", "shop", "order.created", {"order": "o-1"}))
    rt.emit(CloudEvent("", "shop", "order.cancelled", {"order": "o-2"}))
    assert rt.wait_idle(WAIT)
    assert seen["event"] == [("shop", "order.created", {"order": "o-1"})]


@pytest.mark.parametrize(("declared", "attempts"), [(1, 5), (7, 7), (150, 100), (None, None)])
def test_gcp_runs_a_queues_max_deliveries_as_pub_sub_bounds_them(run, declared, attempts):
    """Pub/Sub's dead-letter policy takes 5 to 100 delivery attempts
    (https://cloud.google.com/pubsub/docs/handling-failures#dead_letter_topic); the plan
    deploys the nearest, and ``--as gcp`` dead-letters after as many."""
    app = App("bounded")
    calls: list[str] = []

    @app.queue("work", max_deliveries=declared)
    def work(msg: QueueMessage) -> None:
        calls.append(msg.id)
        raise ValueError("always")

    neutral = run(app, None)
    assert neutral.broker.queue_config("work").max_deliveries == declared
    neutral.stop()
    rt = run(app, "gcp")
    assert rt.broker.queue_config("work").max_deliveries == attempts
    if attempts is None:
        return
    calls.clear()
    rt.send("work", "x")
    assert rt.settle(WAIT)
    assert len(calls) == attempts
    (dead,) = rt.broker.peek("work-dlq")
    assert dead.dead_letter_reason.startswith(f"failed {attempts} of {attempts} deliveries")


# -- the runtime's own API ------------------------------------------------------------------------
# invoke() on a batch trigger behaves the same under every provider (it used to return each
# provider's own answer: SQS's batchItemFailures, a BatchOutcome, or raise on Azure and
# Google, so a test written once could not check a verdict on all of them).
@pytest.mark.parametrize("provider", PROVIDERS)
def test_invoke_returns_none_when_the_batch_succeeded(run, seen, provider):
    rt = run(kinds_app(seen), provider)
    result = rt.invoke("job", QueueMessage("m-1", json.dumps({"id": "direct"}), queue="jobs"))
    assert result is None
    assert seen["job"] == [("direct", 1)]
    response = rt.invoke("post_job", HttpRequest("POST", "/jobs", body=b'{"id": "x"}'))
    assert response.status == 200


@pytest.mark.parametrize("provider", PROVIDERS)
def test_invoke_raises_naming_the_failed_records_under_every_provider(run, seen, provider):
    rt = run(kinds_app(seen), provider)
    bad = QueueMessage("m-1", json.dumps({"id": "bad", "fail": True}), queue="jobs")
    with pytest.raises(HandlerError, match=r"failed records: \['m-1'\]") as err:
        rt.invoke("job", bad)
    assert isinstance(err.value, InvocationFailed)
    assert (err.value.function, err.value.failed_ids) == ("job", ["m-1"])
    assert err.value.provider == (provider or "local")
    if provider != "aws":  # SQS's batchItemFailures answer carries ids only
        assert isinstance(err.value.cause, ValueError)
        assert "job bad failed" in str(err.value)
    rt.invoke("uploaded", StorageEvent("files", "in/x", "created", size=1))
    assert seen["uploaded"][-1][:4] == ("created", "files", "in/x", 1)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_invoke_names_only_the_records_that_failed(run, seen, provider):
    app = App("partial")

    @app.queue("work", batch_size=5)
    def work(msg: QueueMessage) -> None:
        if msg.text == "bad":
            raise ValueError("bad record")

    rt = run(app, provider)
    msgs = [QueueMessage(i, t, queue="work") for i, t in (("a", "ok"), ("b", "bad"))]
    # Azure Storage queues and Pub/Sub: one invocation per message, as the queue runs them.
    with pytest.raises(InvocationFailed) as err:
        rt.invoke("work", msgs)
    assert err.value.failed_ids == ["b"]
    assert list(err.value.reasons) == ["b"]


def test_reload_runs_the_new_code_and_keeps_the_broker(run, seen):
    first = App("v1")

    @first.queue("work")
    def handle(msg: QueueMessage) -> None:
        seen.add("v1", msg.text)

    rt = run(first)
    rt.send("work", "a")
    assert rt.wait_idle(WAIT)
    rt.send("later", "kept")  # no consumer yet: it waits in the broker

    second = App("v2")

    @second.queue("work", name="handle")
    def handle2(msg: QueueMessage) -> None:
        seen.add("v2", msg.text)

    @second.queue("later")
    def later(msg: QueueMessage) -> None:
        seen.add("later", msg.text)

    rt.reload(second)
    rt.send("work", "b")
    assert rt.wait_idle(WAIT)
    assert (seen["v1"], seen["v2"], seen["later"]) == (["a"], ["b"], ["kept"])


def test_state_dir_keeps_messages_across_restarts(tmp_path: Path, clock, seen):
    state = tmp_path / "state"
    idle_app = App("idle")
    with LocalRuntime(idle_app, state_dir=state, clock=clock) as rt:
        rt.send("jobs", {"id": "queued-while-down"})
    with LocalRuntime(kinds_app(seen), state_dir=state, clock=clock) as rt:
        assert rt.wait_idle(WAIT)
    assert seen["job"] == [("queued-while-down", 1)]


@pytest.mark.parametrize(
    "options", [{"scheduler": "http"}, {"event_signature": "background"}], ids=["http", "bg"]
)
def test_gcp_http_scheduler_and_background_functions(run, seen, options):
    from polyfn.adapters.gcp import GcpOptions

    rt = run(kinds_app(seen), "gcp", options=GcpOptions(**options))
    rt.advance(86400)
    rt.put("files", "in/a.txt", b"hello")
    assert rt.wait_idle(WAIT)
    assert seen["daily"] == [("@daily", datetime(2024, 1, 2, tzinfo=UTC))]
    assert seen["uploaded"] == [("created", "files", "in/a.txt", 5, None)]


def test_stop_and_start_again_on_a_state_dir(tmp_path: Path, clock, seen):
    rt = LocalRuntime(kinds_app(seen), state_dir=tmp_path / "state", clock=clock).start()
    rt.stop()
    rt.stop()  # twice is harmless
    rt.start()
    try:
        rt.send("jobs", {"id": "after restart"})
        assert rt.wait_idle(WAIT)
    finally:
        rt.stop()
    assert seen["job"] == [("after restart", 1)]


def test_idle_waits_report_timeouts_and_the_real_clock_does_not_move(run, seen):
    rt = run(kinds_app(seen))
    rt.send("jobs", {"id": "bad", "fail": True})
    assert rt.wait_quiet(WAIT)
    assert not rt.is_idle()  # the failed message waits for its backoff
    assert not rt.wait_idle(0.05)
    assert rt.settle(WAIT)
    assert rt.is_idle()
    real = LocalRuntime(App("real"), clock=RealClock())
    with pytest.raises(TypeError):
        real.advance(1)
    with pytest.raises(ValueError):
        LocalRuntime(App("x"), provider="oracle")


def test_consumers_name_their_queues(run, seen):
    rt = run(kinds_app(seen))
    assert rt.queue_of("job") == "jobs"
    assert rt.queue_of("click") == "clicks"
    assert rt.queue_of("news") == "polyfn.news.topic"
    assert rt.queue_of("daily") == "polyfn.daily.schedule"
    names = {s.name for s in rt.broker.schedules()}
    assert names == {"kinds-daily"}
    assert rt.broker.queue_config("ordered").fifo
    assert rt.broker.queue_config("polyfn.order_changed.change").fifo
    assert rt.broker.queue_config("jobs").max_deliveries == 3
    assert rt.broker.queue_config("polyfn.news.topic").max_deliveries == 3


def test_a_failing_listener_does_not_stop_deliveries(run, seen):
    rt = run(kinds_app(seen))

    def broken(report: DeliveryReport) -> None:
        raise RuntimeError("listener bug")

    rt.on_delivery(broken)
    rt.send("jobs", {"id": "a"})
    rt.send("jobs", {"id": "b"})
    assert rt.wait_idle(WAIT)
    assert sorted(job for job, _ in seen["job"]) == ["a", "b"]


def test_declared_stores_live_in_the_state_dir_on_the_runtime_clock(tmp_path: Path) -> None:
    """``app.store(...)`` under the local runtime: a table of stores.db in the state dir,
    kept across restarts; expiry read from the runtime's (virtual) clock."""
    app = App("stores")
    users = app.store("users", ttl=60)

    @app.post("/users/{id}")
    def put_user(req: HttpRequest, ctx: Any) -> dict:
        created = users.put_if_absent(req.path_params["id"], req.json())
        return {"created": created}

    clock = VirtualClock(START)
    with LocalRuntime(app, state_dir=tmp_path, clock=clock) as rt:
        body = b'{"name": "Ada"}'
        assert rt.http(HttpRequest("POST", "/users/u-1", body=body)).json() == {"created": True}
        assert rt.http(HttpRequest("POST", "/users/u-1", body=body)).json() == {"created": False}
    assert (tmp_path / "stores.db").exists()
    with LocalRuntime(app, state_dir=tmp_path, clock=clock) as rt:
        assert users.get("u-1").value == {"name": "Ada"}  # kept across a restart
        clock.advance(61)  # the declared ttl passes on the virtual clock
        assert users.get("u-1") is None
        assert rt.http(HttpRequest("POST", "/users/u-1", body=b"{}")).json() == {"created": True}
