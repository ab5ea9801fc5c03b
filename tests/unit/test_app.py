"""The App model: declaring functions and triggers, and routing neutral events to them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from polyfn import (
    App,
    ChangeEvent,
    CloudEvent,
    DefinitionError,
    HttpRequest,
    NoRouteError,
    QueueMessage,
    ScheduleEvent,
    StorageEvent,
    TopicMessage,
)
from polyfn.loader import load_app


def _app() -> App:
    app = App("shop")

    @app.get("/orders/{id}")
    def get_order(req, ctx): ...

    @app.http(["PUT", "PATCH"], "/files/{path+}")
    def put_file(req): ...

    @app.queue("orders", batch_size=5)
    def process(msg, ctx): ...

    @app.topic("events", filter={"kind": ["a", "b"]})
    def on_event(msg, ctx): ...

    @app.storage("uploads", events=["created", "deleted"], prefix="img/", suffix=".png")
    def on_upload(ev, ctx): ...

    @app.schedule("rate(5 minutes)")
    def tick(ev, ctx): ...

    @app.change("users")
    def on_user(ch, ctx): ...

    @app.event(source="shop.orders", type="OrderPlaced")
    def on_placed(ev, ctx): ...

    return app


def test_functions_are_registered_with_their_triggers():
    app = _app()
    assert list(app.functions) == [
        "get_order",
        "put_file",
        "process",
        "on_event",
        "on_upload",
        "tick",
        "on_user",
        "on_placed",
    ]
    assert app.function("process").trigger.batch_size == 5
    assert app.function("put_file").trigger.methods == ("PUT", "PATCH")
    assert app.function("get_order").takes_context
    assert not app.function("put_file").takes_context


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (HttpRequest("GET", "/orders/42"), "get_order"),
        (HttpRequest("PATCH", "/files/a/b/c.txt"), "put_file"),
        (QueueMessage("1", "x", queue="orders"), "process"),
        (TopicMessage("1", "events", "x"), "on_event"),
        (StorageEvent("uploads", "img/a.png", "deleted"), "on_upload"),
        (ScheduleEvent("shop-tick", datetime(2026, 1, 1, tzinfo=UTC)), "tick"),
        (ChangeEvent("1", "users", "insert"), "on_user"),
        (CloudEvent("1", "shop.orders", "OrderPlaced"), "on_placed"),
    ],
)
def test_route_finds_the_bound_function(event, expected):
    assert _app().route(event)[0].name == expected


@pytest.mark.parametrize(
    "event",
    [
        HttpRequest("POST", "/orders/42"),
        HttpRequest("GET", "/orders/42/items"),
        QueueMessage("1", "x", queue="other"),
        StorageEvent("uploads", "img/a.jpg"),
        StorageEvent("uploads", "doc/a.png"),
        CloudEvent("1", "shop.orders", "OrderShipped"),
    ],
)
def test_unbound_events_raise_no_route(event):
    with pytest.raises(NoRouteError) as info:
        _app().route(event)
    assert "local" in str(info.value)


@pytest.mark.parametrize(
    ("declare", "message"),
    [
        (lambda a: a.http("FETCH", "/x"), "http trigger: method"),
        (lambda a: a.http("GET", "x"), "http trigger: route"),
        (lambda a: a.http("GET", "/x/{id"), "malformed parameter"),
        (lambda a: a.queue(""), "queue trigger: name"),
        (lambda a: a.queue("q", batch_size=0), "queue trigger: batch_size"),
        (lambda a: a.storage("b", events=["made"]), "storage trigger: events"),
        (lambda a: a.schedule("every day"), "schedule trigger: expression"),
        (lambda a: a.schedule("rate(1 minutes)"), "schedule trigger: expression"),
        (lambda a: a.schedule("cron(0 12 * * ?)"), "schedule trigger: expression"),
    ],
)
def test_bad_definitions_name_the_trigger_and_field(declare, message):
    with pytest.raises(DefinitionError, match=message):
        declare(App("x"))


@pytest.mark.parametrize(
    "expr", ["rate(1 minute)", "rate(10 hours)", "cron(0 12 * * ? *)", "*/5 * * * *", "@daily"]
)
def test_good_schedules(expr):
    App("x").schedule(expr)(lambda e: None)


def test_duplicate_names_and_mixed_batch_modes_are_rejected():
    app = App("x")

    @app.get("/a")
    def f(req): ...

    with pytest.raises(DefinitionError, match="declared twice"):
        app.get("/b", name="f")(lambda r: None)
    with pytest.raises(DefinitionError, match="batch= must be the same"):
        app.queue("q", batch=True)(app.queue("p")(lambda m: None))
    with pytest.raises(DefinitionError, match="has no function 'g'"):
        app.function("g")


def test_stacked_triggers_share_one_function():
    app = App("x")

    @app.queue("a")
    @app.queue("b")
    def work(msg, ctx): ...

    fn = app.function("work")
    assert [t.name for t in fn.triggers] == ["b", "a"]
    assert app.route(QueueMessage("1", queue="a"))[0] is fn


def test_handler_must_take_the_event():
    with pytest.raises(DefinitionError, match="must take the event"):
        App("x").get("/")(lambda: None)


def test_load_app(tmp_path, monkeypatch):
    (tmp_path / "myapp.py").write_text("from polyfn import App\napp = App('m')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert load_app("myapp:app").name == "m"
    assert load_app("myapp").name == "m"
    with pytest.raises(DefinitionError, match="not a polyfn App"):
        load_app("myapp:App")
    with pytest.raises(DefinitionError, match="cannot import"):
        load_app("nope_missing:app")


def test_catch_all_gateway_routes_fall_back_to_the_path():
    app = _app()
    req = HttpRequest("GET", "/orders/7", route="/{proxy+}", path_params={"proxy": "orders/7"})
    assert app.route(req)[0].name == "get_order"


def test_outputs_are_declared_in_either_order():
    app = App("x")

    @app.outputs(queues=["orders"], buckets=["receipts"])
    @app.post("/orders")
    def create(req, ctx): ...

    @app.queue("orders")
    @app.outputs(topics=["order-events"], buses=["default"])
    def process(msg, ctx): ...

    @app.get("/plain")
    def plain(req): ...

    assert app.function("create").outputs.queues == ("orders",)
    assert app.function("create").outputs.buckets == ("receipts",)
    assert app.function("process").outputs.topics == ("order-events",)
    assert app.function("process").outputs.buses == ("default",)
    assert not app.function("plain").outputs
    with pytest.raises(DefinitionError, match="outputs: queues"):
        app.outputs(queues=[""])
