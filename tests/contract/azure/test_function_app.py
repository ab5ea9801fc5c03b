"""The generated FunctionApp, indexed the way the Python worker indexes it, compared with
what Azure expects of each trigger; its functions invoked the way the worker calls them.

Indexing: azure_functions_worker/loader.py ``index_function_app`` (finds the module's one
FunctionRegister, calls ``get_functions()`` once) and functions.py
``Registry.add_indexed_function`` (the function's parameters must be exactly its bindings
plus an optional ``context: azure.functions.Context``; each annotation must pass the
binding converter's ``check_input_type_annotation``; a ``$return`` binding's annotation its
``check_output_type_annotation``), Azure/azure-functions-python-worker at 7e6acf36
(4.34.0). ``index_like_the_worker`` below repeats those checks with the library's own
converters. Invocation: dispatcher.py ``_handle__invocation_request`` calls
``fi.func(**args)`` with the decoded trigger under its binding name and the worker's
``bindings.Context`` as ``context``, and fails a function without a ``$return`` binding
that returns a value (``WorkerContext`` below mirrors bindings/context.py).

Expected binding settings (function.json), per the binding references:

- HTTP: https://learn.microsoft.com/azure/azure-functions/functions-bindings-http-webhook-trigger
  (``httpTrigger``: authLevel, methods, route; output ``http`` named ``$return``) and, for
  the route template syntax (``{*path}`` catch-all), ASP.NET Core routing
  https://learn.microsoft.com/aspnet/core/fundamentals/routing#route-templates
- Queue Storage: https://learn.microsoft.com/azure/azure-functions/functions-bindings-storage-queue-trigger
  (``queueTrigger``: queueName, connection); host.json queues section:
  https://learn.microsoft.com/azure/azure-functions/functions-bindings-storage-queue#host-json
- Service Bus: https://learn.microsoft.com/azure/azure-functions/functions-bindings-service-bus-trigger
  (``serviceBusTrigger``: queueName or topicName + subscriptionName, connection,
  isSessionsEnabled, cardinality)
- Blob: https://learn.microsoft.com/azure/azure-functions/functions-bindings-storage-blob-trigger
  (``blobTrigger``: path with blob name patterns, connection, source)
- Event Grid: https://learn.microsoft.com/azure/azure-functions/functions-bindings-event-grid-trigger
  (``eventGridTrigger``: name only)
- Timer: https://learn.microsoft.com/azure/azure-functions/functions-bindings-timer
  (``timerTrigger``: schedule, six-field NCRONTAB)
- Cosmos DB (extension 4.x): https://learn.microsoft.com/azure/azure-functions/functions-bindings-cosmosdb-v2-trigger
  (``cosmosDBTrigger``: connection, databaseName, containerName, leaseContainerName,
  leaseContainerPrefix, maxItemsPerInvocation, startFromBeginning)
- Event Hubs: https://learn.microsoft.com/azure/azure-functions/functions-bindings-event-hubs-trigger
  (``eventHubTrigger``: eventHubName, connection, cardinality, consumerGroup)
- Retry policies: https://learn.microsoft.com/azure/azure-functions/functions-bindings-error-pages#retries
  (strategy fixed_delay / exponential_backoff, maxRetryCount, intervals ``hh:mm:ss``)

Objects handed to the functions: built with the azure.functions classes the converters
return (azure/functions/queue.py QueueMessage with the trigger metadata the converter
reads, blob.py InputStream, timer.py TimerRequest from the TimerInfo JSON in the timer
reference above, _eventgrid.py EventGridEvent and CloudEvent), or, for Service Bus and
Event Hubs, decoded by the library's converters from host payloads (the source modules'
``to_native``; their shapes' provenance is in tests/events/azure/PROVENANCE.md). The blob
event's subject and data follow https://learn.microsoft.com/azure/event-grid/event-schema-blob-storage

The library writes enum values by name (``"direction": "IN"``, ``"authLevel":
"ANONYMOUS"``, ``"cardinality": "MANY"``); the host reads them case-insensitively, so the
comparison ignores case for those keys.
"""

from __future__ import annotations

import importlib
import inspect
import json
import subprocess
import sys
import typing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest
from azure.functions import blob as azf_blob
from azure.functions import queue as azf_queue
from azure.functions import timer as azf_timer

from polyfn import (
    App,
    DefinitionError,
    HandlerError,
    HttpError,
    QueueMessage,
    TopicMessage,
    UnsupportedEventError,
)
from polyfn.adapters.azure import (
    AzureOptions,
    RetryPolicy,
    deployment_notes,
    function_app,
    host_json,
    to_ncrontab,
    worker,
)
from polyfn.adapters.azure.context import make_context
from polyfn.adapters.azure.functionapp import azure_route, binding_settings
from polyfn.outputs import Outputs
from polyfn.outputs.memory import MemoryDriver

ROOT = Path(__file__).resolve().parents[3]

# -- the worker's view ---------------------------------------------------------------------
_CASELESS = ("direction", "authLevel", "cardinality")


def _normalise(binding: dict[str, Any]) -> dict[str, Any]:
    out = dict(binding)
    for key in _CASELESS:
        if key in out:
            out[key] = str(out[key]).lower()
    if "methods" in out:
        out["methods"] = [str(m).upper() for m in out["methods"]]
    return out


def index_like_the_worker(fa: func.FunctionApp) -> dict[str, dict[str, Any]]:
    """Each function's function.json and user function, after the worker's checks."""
    registry = func.get_binding_registry()
    out = {}
    for fn in fa.get_functions():  # the worker calls it once
        name = fn.get_function_name()
        user = fn.get_user_function()
        inspect.getfile(user)  # the worker reads the function's directory from it
        params = dict(inspect.signature(user).parameters)
        hints = typing.get_type_hints(user)
        bindings = {b.name: b for b in fn.get_bindings()}
        bound = {n: b for n, b in bindings.items() if n != "$return"}
        if "context" in params and "context" not in bound:
            assert hints["context"].__name__ == "Context", name
            params.pop("context")
        assert set(params) == set(bound), name
        for param in params:
            if typing.get_origin(hints[param]) is func.Out:
                continue  # output bindings: worker.check_function below, and
                # test_output_bindings.py
            converter = registry.get(bound[param].type)
            assert converter is not None, (name, bound[param].type)
            assert converter.check_input_type_annotation(hints[param]), (name, param)
        if "$return" in bindings:
            out_converter = registry.get(bindings["$return"].type)
            assert out_converter.check_output_type_annotation(hints["return"]), name
        doc = json.loads(fn.get_function_json())
        worker.check_function(name, user, doc["bindings"])
        out[name] = {
            "bindings": [_normalise(b) for b in doc["bindings"]],
            "retry": fn.get_settings_dict("retry_policy"),
            "call": user,
        }
    return out


class _Trace:
    def __init__(self, traceparent: str, tracestate: str) -> None:
        self.trace_parent = traceparent
        self.trace_state = tracestate
        self.attributes: dict[str, str] = {}


def WorkerContext(function_name: str, invocation_id: str = "0f7d4a62-inv") -> Any:
    """What the worker passes as ``context`` (azure_functions_worker/bindings/context.py)."""
    return worker.WorkerContext(
        function_name,
        invocation_id,
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "k=v",
    )


def invoke(indexed: dict[str, Any], name: str, obj: Any) -> Any:
    """Call an indexed function the way the worker does."""
    param = "req" if indexed[name]["bindings"][0]["type"] == "httpTrigger" else "event"
    return indexed[name]["call"](**{param: obj, "context": WorkerContext(name)})


def source(name: str) -> Any:
    """A source module of the adapter."""
    return importlib.import_module(f"polyfn.adapters.azure.sources.{name}")


# -- the sample -----------------------------------------------------------------------------
ORDERS = {
    "create_order": [
        {
            "type": "httpTrigger",
            "direction": "in",
            "name": "req",
            "methods": ["POST"],
            "authLevel": "anonymous",
            "route": "orders",
        },
        {"type": "http", "direction": "out", "name": "$return"},
        # @app.outputs(queues=["orders"]): test_output_bindings.py
        {
            "type": "queue",
            "direction": "out",
            "name": "queueOrders",
            "queueName": "orders",
            "connection": "AzureWebJobsStorage",
        },
    ],
    "get_order": [
        {
            "type": "httpTrigger",
            "direction": "in",
            "name": "req",
            "methods": ["GET"],
            "authLevel": "anonymous",
            "route": "orders/{id}",
        },
        {"type": "http", "direction": "out", "name": "$return"},
    ],
    "process_order": [
        {
            "type": "queueTrigger",
            "direction": "in",
            "name": "event",
            "queueName": "orders",
            "connection": "AzureWebJobsStorage",
        },
        # @app.outputs(buckets=["receipts"], topics=["order-events"]): no blob binding
        {
            "type": "serviceBus",
            "direction": "out",
            "name": "topicOrderEvents",
            "topicName": "order-events",
            "connection": "ServiceBusConnection",
        },
    ],
    "notify": [
        {
            "type": "serviceBusTrigger",
            "direction": "in",
            "name": "event",
            "topicName": "order-events",
            "subscriptionName": "notify",
            "connection": "ServiceBusConnection",
        }
    ],
    "index_receipt": [
        {
            "type": "blobTrigger",
            "direction": "in",
            "name": "event",
            "path": "receipts/receipts/{name}.json",
            "connection": "AzureWebJobsStorage",
        }
    ],
    "nightly_report": [
        {"type": "timerTrigger", "direction": "in", "name": "event", "schedule": "0 0 2 * * *"}
    ],
}


def _load_sample_module() -> Any:
    sys.modules.pop("samples.orders.function_app", None)
    return importlib.import_module("samples.orders.function_app")


def test_the_sample_function_app_is_two_lines_and_indexes():
    module = _load_sample_module()
    source_lines = [
        line
        for line in inspect.getsource(module).splitlines()
        if line.strip() and not line.startswith(('"""', "Deploy")) and "FunctionApp" not in line
    ]
    assert len(source_lines) == 2, source_lines
    # The worker takes the module's one FunctionRegister, whatever its name.
    registers = [v for v in vars(module).values() if isinstance(v, func.FunctionRegister)]
    assert registers == [module.app]
    indexed = index_like_the_worker(module.app)
    assert {n: v["bindings"] for n, v in indexed.items()} == ORDERS


def test_sample_host_json():
    from samples.orders.app import app

    assert host_json(app) == {
        "version": "2.0",
        "extensionBundle": {
            "id": "Microsoft.Azure.Functions.ExtensionBundle",
            "version": "[4.*, 5.0.0)",
        },
        "extensions": {
            "http": {"routePrefix": ""},
            # batch_size=10, max_deliveries=3 of process_order
            "queues": {"batchSize": 10, "maxDequeueCount": 3, "messageEncoding": "base64"},
        },
    }
    notes = deployment_notes(app)
    assert notes == [
        "notify: Service Bus topic 'order-events', subscription 'notify', SQL filter rule "
        "matching {'event': 'order-processed'}"
    ]


# -- every trigger -------------------------------------------------------------------------
SEEN: list[tuple[str, Any, Any]] = []


def build_app() -> App:
    app = App("every")

    @app.get("/items/{id}")
    def get_item(req, ctx):
        SEEN.append(("get_item", req, ctx))
        if req.path_params["id"] == "missing":
            raise HttpError(404, "no such item")
        if req.path_params["id"] == "boom":
            raise RuntimeError("boom")
        return {"id": req.path_params["id"], "q": req.query.get("q")}

    @app.http("ANY", "/files/{path+}", auth="function")
    def files(req, ctx):
        SEEN.append(("files", req, ctx))
        return {"path": req.path_params["path"]}

    @app.http(["GET", "HEAD"], "/")
    def home(req):
        SEEN.append(("home", req, None))
        return "ok"

    @app.queue("jobs", batch_size=40, max_deliveries=4, visibility_timeout=30)
    def job(msg, ctx):
        SEEN.append(("job", msg, ctx))
        if msg.body == b"fail":
            raise ValueError("bad job")
        return "ignored"  # results of non-HTTP functions are dropped (no $return binding)

    @app.queue("ordered", fifo=True)
    def ordered(msg, ctx):
        SEEN.append(("ordered", msg, ctx))

    @app.queue("bulk", batch=True, batch_size=50)
    def bulk(msgs, ctx):
        SEEN.append(("bulk", msgs, ctx))
        return [m.id for m in msgs if m.body == b"fail"]

    @app.topic("events", filter={"kind": ["a", "b"]})
    def on_event(msg, ctx):
        SEEN.append(("on_event", msg, ctx))

    @app.storage("uploads", prefix="in/", suffix=".csv")
    def uploaded(ev, ctx):
        SEEN.append(("uploaded", ev, ctx))

    @app.storage("uploads", events=["deleted"], prefix="in/")
    def removed(ev, ctx):
        SEEN.append(("removed", ev, ctx))

    @app.event(source="/shop", type="order.paid")
    def paid(ev, ctx):
        SEEN.append(("paid", ev, ctx))

    @app.schedule("rate(5 minutes)")
    def tick(ev, ctx):
        SEEN.append(("tick", ev, ctx))

    @app.schedule("cron(0 12 ? * MON-FRI *)")
    @app.schedule("@daily")
    def noon(ev, ctx):
        SEEN.append(("noon", ev, ctx))

    @app.stream("clicks", batch_size=64, start="oldest")
    def clicks(msg, ctx):
        SEEN.append(("clicks", msg, ctx))
        if msg.body == b"fail":
            raise ValueError("bad click")

    @app.change("shop/orders", batch_size=20)
    def changes(ev, ctx):
        SEEN.append(("changes", ev, ctx))
        if (ev.new or {}).get("fail"):
            raise ValueError("bad change")

    return app


def _in(type_: str, **settings: Any) -> dict[str, Any]:
    return {"type": type_, "direction": "in", "name": "event", **settings}


def _http(route: str, methods: list[str] | None, auth: str = "anonymous") -> list[dict]:
    trigger = {"type": "httpTrigger", "direction": "in", "name": "req", "authLevel": auth}
    if methods is not None:
        trigger["methods"] = methods
    trigger["route"] = route
    return [trigger, {"type": "http", "direction": "out", "name": "$return"}]


SB = "ServiceBusConnection"
STORAGE = "AzureWebJobsStorage"
EVERY = {
    "get_item": _http("items/{id}", ["GET"]),
    "files": _http("files/{*path}", None, "function"),
    "home": _http("{polyfnroot:maxlength(0)?}", ["GET", "HEAD"]),
    "job": [_in("queueTrigger", queueName="jobs", connection=STORAGE)],
    "ordered": [
        _in("serviceBusTrigger", queueName="ordered", connection=SB, isSessionsEnabled=True)
    ],
    "bulk": [_in("queueTrigger", queueName="bulk", connection=STORAGE)],
    "on_event": [
        _in("serviceBusTrigger", topicName="events", subscriptionName="on_event", connection=SB)
    ],
    "uploaded": [_in("blobTrigger", path="uploads/in/{name}.csv", connection=STORAGE)],
    "removed": [_in("eventGridTrigger")],
    "paid": [_in("eventGridTrigger")],
    "tick": [_in("timerTrigger", schedule="0 */5 * * * *")],
    "noon": [_in("timerTrigger", schedule="0 0 0 * * *")],  # decorators apply bottom-up
    "noon_2": [_in("timerTrigger", schedule="0 0 12 * * 1-5")],
    "clicks": [
        _in(
            "eventHubTrigger",
            eventHubName="clicks",
            connection="EventHubConnection",
            cardinality="many",
        )
    ],
    "changes": [
        _in(
            "cosmosDBTrigger",
            connection="CosmosDBConnection",
            databaseName="shop",
            containerName="orders",
            leaseContainerName="leases",
            leaseContainerPrefix="changes",
            maxItemsPerInvocation=20,
        )
    ],
}
STREAM_RETRY = {
    "setting_name": "retry_policy",
    "strategy": "exponential_backoff",
    "max_retry_count": "5",
    "minimum_interval": "00:00:04",
    "maximum_interval": "00:15:00",
}


@pytest.fixture
def indexed() -> dict[str, Any]:
    SEEN.clear()
    driver = MemoryDriver()
    return index_like_the_worker(function_app(build_app(), outputs=Outputs(driver)))


def test_every_trigger_indexes_as_azure_expects(indexed):
    assert {n: v["bindings"] for n, v in indexed.items()} == EVERY


def test_retry_policies_on_streams_and_change_feeds_only(indexed):
    retries = {n: v["retry"] for n, v in indexed.items() if v["retry"]}
    assert retries == {"clicks": STREAM_RETRY, "changes": STREAM_RETRY}


def test_options_change_services_names_and_policies():
    options = AzureOptions(
        queue_service="servicebus",
        storage_connection="Storage",
        service_bus_connection="Bus",
        event_hub_connection="Hub",
        event_hub_consumer_group="polyfn",
        cosmos_connection="Cosmos",
        cosmos_database="%CosmosDatabase%",
        cosmos_create_leases=True,
        subscription="app-{function}",
        auth_level="admin",
        blob_source="EventGrid",
        stream_retry=RetryPolicy("fixed_delay", max_retry_count=-1, delay_interval=10),
        schedule_retry=RetryPolicy(max_retry_count=2, minimum_interval=1, maximum_interval=60),
    )
    app = App("opts")
    app.get("/a", name="page")(lambda req: None)
    app.queue("%JobsQueue%", name="jobs")(lambda msg: None)
    app.queue("%JobsQueue%", batch=True, name="many_jobs")(lambda msgs: None)
    app.topic("t", batch=True, name="topic_batch")(lambda msgs: None)
    app.storage("%Container%", name="blobs")(lambda ev: None)
    app.stream("s", name="stream")(lambda m: None)
    app.change("orders", start="oldest", name="feed")(lambda ev: None)
    app.schedule("@hourly", name="hourly")(lambda ev: None)
    indexed = index_like_the_worker(function_app(app, options))
    got = {n: v["bindings"][0] for n, v in indexed.items()}
    assert got["page"]["authLevel"] == "admin"
    assert got["jobs"] == _in("serviceBusTrigger", queueName="%JobsQueue%", connection="Bus")
    assert got["many_jobs"] == _in(
        "serviceBusTrigger", queueName="%JobsQueue%", connection="Bus", cardinality="many"
    )
    assert got["topic_batch"] == _in(
        "serviceBusTrigger",
        topicName="t",
        subscriptionName="app-topic_batch",
        connection="Bus",
        cardinality="many",
    )
    assert got["blobs"] == _in(
        "blobTrigger", path="%Container%/{name}", connection="Storage", source="EventGrid"
    )
    assert got["stream"] == _in(
        "eventHubTrigger",
        eventHubName="s",
        connection="Hub",
        cardinality="many",
        consumerGroup="polyfn",
    )
    assert got["feed"] == _in(
        "cosmosDBTrigger",
        connection="Cosmos",
        databaseName="%CosmosDatabase%",
        containerName="orders",
        leaseContainerName="leases",
        leaseContainerPrefix="feed",
        createLeaseContainerIfNotExists=True,
        maxItemsPerInvocation=100,
        startFromBeginning=True,
    )
    assert indexed["stream"]["retry"] == {
        "setting_name": "retry_policy",
        "strategy": "fixed_delay",
        "max_retry_count": "-1",
        "delay_interval": "00:00:10",
    }
    assert indexed["hourly"]["retry"]["strategy"] == "exponential_backoff"
    assert indexed["hourly"]["retry"]["max_retry_count"] == "2"


def test_binding_settings_are_plain_json():
    trigger = func.decorators.servicebus.ServiceBusTopicTrigger(
        name="event",
        connection="C",
        topic_name="t",
        subscription_name="s",
        cardinality=func.Cardinality.MANY,
    )
    assert binding_settings(trigger) == {
        "type": "serviceBusTrigger",
        "direction": "in",
        "name": "event",
        "connection": "C",
        "topicName": "t",
        "subscriptionName": "s",
        "cardinality": "many",
    }


# -- NCRONTAB --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("neutral", "ncrontab"),
    [
        ("rate(1 minute)", "0 * * * * *"),
        ("rate(5 minutes)", "0 */5 * * * *"),
        ("rate(15 minutes)", "0 */15 * * * *"),
        ("rate(1 hour)", "0 0 * * * *"),
        ("rate(2 hours)", "0 0 */2 * * *"),
        ("rate(1 day)", "0 0 0 * * *"),
        ("rate(7 days)", "0 0 0 * * 0"),
        ("cron(0 12 * * ? *)", "0 0 12 * * *"),
        ("cron(0/15 9-17 ? * MON-FRI *)", "0 */15 9-17 * * 1-5"),
        ("cron(30 6 1 JAN,JUL ? *)", "0 30 6 1 1,7 *"),
        ("cron(0 8 ? * SUN,SAT *)", "0 0 8 * * 0,6"),
        ("*/5 * * * *", "0 */5 * * * *"),
        ("0 9 * * 7", "0 0 9 * * 0"),
        ("0 0 1 * *", "0 0 0 1 * *"),
        ("@hourly", "0 0 * * * *"),
        ("@daily", "0 0 0 * * *"),
        ("@weekly", "0 0 0 * * 0"),
        ("@monthly", "0 0 0 1 * *"),
        ("@yearly", "0 0 0 1 1 *"),
    ],
)
def test_ncrontab(neutral, ncrontab):
    assert to_ncrontab(neutral, "f") == ncrontab


@pytest.mark.parametrize(
    ("neutral", "field"),
    [
        ("rate(7 minutes)", "rate"),
        ("rate(90 minutes)", "rate"),
        ("rate(5 hours)", "rate"),
        ("rate(2 days)", "rate"),
        ("cron(0 10 L * ? *)", "day-of-month"),
        ("cron(0 10 15W * ? *)", "day-of-month"),
        ("cron(0 10 ? * 6L *)", "day-of-week"),
        ("cron(0 10 ? * MON#2 *)", "day-of-week"),
        ("cron(0 10 * * ? 2030)", "year"),
        ("0 0 1 * 1", "day-of-week"),  # cron: 1st or Monday; NCRONTAB would need both
    ],
)
def test_ncrontab_refuses_what_it_cannot_say(neutral, field):
    with pytest.raises(DefinitionError) as info:
        to_ncrontab(neutral, "report")
    message = str(info.value)
    assert message.startswith(f"azure function 'report': schedule trigger: {field}: ")
    assert repr(neutral) in message


@pytest.mark.parametrize(
    ("rate", "timespan"),
    [
        ("rate(7 minutes)", "00:07:00"),
        ("rate(5 hours)", "05:00:00"),
        ("rate(2 days)", "2.00:00:00"),
    ],
)
def test_timespan_schedules_for_app_service_plans(rate, timespan):
    assert to_ncrontab(rate, "f", timespan=True) == timespan
    assert to_ncrontab("rate(5 minutes)", "f", timespan=True) == "0 */5 * * * *"


# -- definition errors -----------------------------------------------------------------------
def _definition_error(declare: Any, options: AzureOptions | None = None) -> str:
    app = App("bad")
    declare(app)
    with pytest.raises(DefinitionError) as info:
        function_app(app, options)
    return str(info.value)


@pytest.mark.parametrize(
    ("declare", "options", "message"),
    [
        (
            lambda a: a.schedule("rate(7 minutes)", name="every7")(lambda e: None),
            None,
            "azure function 'every7': schedule trigger: rate: ",
        ),
        (
            lambda a: a.schedule("0 3 * * *", timezone="Europe/Paris", name="paris")(
                lambda e: None
            ),
            None,
            "azure function 'paris': schedule trigger: timezone: 'Europe/Paris': Azure runs "
            "every timer of an app in one time zone, the WEBSITE_TIME_ZONE app setting",
        ),
        (
            lambda a: a.get("/a/{rest+}/b", name="mid")(lambda r: None),
            None,
            "azure function 'mid': http trigger: route: '/a/{rest+}/b': a greedy parameter",
        ),
        (
            lambda a: a.http("GET", "/x", auth="iam", name="iam")(lambda r: None),
            None,
            "azure function 'iam': http trigger: auth: 'iam'",
        ),
        (
            lambda a: a.change("orders", name="feed")(lambda e: None),
            None,
            "azure function 'feed': change trigger: source: 'orders': name the Cosmos DB database",
        ),
        (
            lambda a: a.change("db/orders", start="trim_horizon", name="feed")(lambda e: None),
            None,
            "azure function 'feed': change trigger: start",
        ),
        (
            lambda a: a.queue("q", name="_private")(lambda m: None),
            None,
            "azure function '_private': name: Azure function names",
        ),
    ],
)
def test_definition_errors_name_azure_the_function_and_the_field(declare, options, message):
    assert message in _definition_error(declare, options)


def test_a_matching_time_zone_is_accepted():
    app = App("tz")
    app.schedule("0 3 * * *", timezone="Europe/Paris", name="paris")(lambda e: None)
    fa = function_app(app, AzureOptions(time_zone="Europe/Paris"))
    assert index_like_the_worker(fa)["paris"]["bindings"][0]["schedule"] == "0 0 3 * * *"
    notes = deployment_notes(app, AzureOptions(time_zone="Europe/Paris"))
    assert notes == ["app setting WEBSITE_TIME_ZONE='Europe/Paris'"]


def test_suffixed_names_do_not_collide():
    app = App("names")

    @app.queue("a")
    @app.queue("b")
    def f(m):
        pass

    app.queue("c", name="f_2")(lambda m: None)
    with pytest.raises(DefinitionError, match=r"'f_2'.*rename one of them"):
        function_app(app)


def test_bad_options_are_definition_errors():
    with pytest.raises(DefinitionError, match="queue_service"):
        AzureOptions(queue_service="sqs")  # type: ignore[arg-type]
    with pytest.raises(DefinitionError, match="auth_level"):
        AzureOptions(auth_level="iam")
    with pytest.raises(DefinitionError, match="delay_interval"):
        RetryPolicy("fixed_delay")


@pytest.mark.parametrize(
    ("route", "azure"),
    [
        ("/orders", "orders"),
        ("/orders/{id}", "orders/{id}"),
        ("/files/{path+}", "files/{*path}"),
        ("/a/{x}/b/{y}", "a/{x}/b/{y}"),
        ("/", "{polyfnroot:maxlength(0)?}"),
    ],
)
def test_routes(route, azure):
    assert azure_route(route) == azure


# -- host.json -------------------------------------------------------------------------------
def test_host_json_maps_trigger_options():
    app = build_app()
    assert host_json(app, AzureOptions(function_timeout=600, route_prefix="api")) == {
        "version": "2.0",
        "extensionBundle": {
            "id": "Microsoft.Azure.Functions.ExtensionBundle",
            "version": "[4.*, 5.0.0)",
        },
        "functionTimeout": "00:10:00",
        "extensions": {
            "http": {"routePrefix": "api"},
            "queues": {
                "batchSize": 32,  # 40 and 50 asked, Azure takes at most 32
                "maxDequeueCount": 4,
                "visibilityTimeout": "00:00:30",
                "messageEncoding": "base64",
            },
            "eventHubs": {"maxEventBatchSize": 64, "initialOffsetOptions": {"type": "fromStart"}},
        },
    }


def test_host_json_service_bus_batches():
    app = App("sb")
    app.queue("q", batch=True, batch_size=200, fifo=True, name="sessions")(lambda m: None)
    assert host_json(app)["extensions"]["serviceBus"] == {"maxMessageBatchSize": 200}


@pytest.mark.parametrize(
    ("declare", "message"),
    [
        (
            lambda a: (
                a.queue("a", batch_size=5, name="one")(lambda m: None),
                a.queue("b", batch_size=8, name="two")(lambda m: None),
            ),
            "azure host.json: extensions.queues.batchSize: function 'one' asks for 5 "
            "(batch_size=5) and function 'two' for 8 (batch_size=8)",
        ),
        (
            lambda a: (
                a.queue("a", max_deliveries=3, name="one")(lambda m: None),
                a.queue("b", max_deliveries=5, name="two")(lambda m: None),
            ),
            "extensions.queues.maxDequeueCount: function 'one' asks for 3",
        ),
        (
            lambda a: (
                a.stream("a", start="latest", name="one")(lambda m: None),
                a.stream("b", start="oldest", name="two")(lambda m: None),
            ),
            "extensions.eventHubs.initialOffsetOptions: function 'one'",
        ),
    ],
)
def test_host_json_conflicts_name_both_functions(declare, message):
    app = App("conflict")
    declare(app)
    with pytest.raises(DefinitionError) as info:
        host_json(app)
    assert message in str(info.value)


# -- the neutral context ----------------------------------------------------------------------
def test_context_from_the_worker_context(monkeypatch):
    monkeypatch.setenv("REGION_NAME", "West Europe")
    outputs = Outputs(MemoryDriver())
    ctx = make_context("job", WorkerContext("job_2", "inv-7"), outputs, timeout=300)
    assert (ctx.function_name, ctx.invocation_id, ctx.provider) == ("job", "inv-7", "azure")
    assert ctx.region == "West Europe"
    assert ctx.trace is not None
    assert ctx.trace.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert ctx.trace.sampled and ctx.trace.tracestate == "k=v"
    assert 299 < ctx.remaining_time() <= 300
    assert ctx.native.function_name == "job_2"
    no_deadline = make_context("job", WorkerContext("job"), outputs)
    assert no_deadline.deadline is None


def test_building_and_indexing_imports_no_azure_sdk():
    # Cold start: the worker indexes the app before any invocation; no SDK client (or
    # source module) may load until a function runs or sends.
    code = (
        "import sys, samples.orders.function_app as m; m.app.get_functions();"
        "bad = [n for n in sys.modules if n.startswith(('azure.storage', 'azure.servicebus',"
        " 'azure.eventgrid', 'polyfn.adapters.azure.sources.'))]; print(bad)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "[]"


# -- invocations -----------------------------------------------------------------------------
def _request(method: str, url: str, route_params: dict[str, str], **kw: Any) -> func.HttpRequest:
    return func.HttpRequest(
        method,
        url,
        headers=kw.get("headers", {"accept": "application/json"}),
        params=kw.get("params", {}),
        route_params=route_params,
        body=kw.get("body", b""),
    )


def test_http_invocation(indexed):
    source("http")
    resp = invoke(
        indexed,
        "get_item",
        _request(
            "GET", "https://app.azurewebsites.net/items/42?q=x", {"id": "42"}, params={"q": "x"}
        ),
    )
    assert isinstance(resp, func.HttpResponse)
    assert resp.status_code == 200
    assert json.loads(resp.get_body()) == {"id": "42", "q": "x"}
    assert resp.headers["content-type"].startswith("application/json")
    _, req, ctx = SEEN[-1]
    assert (req.provider, req.method, req.path, req.path_params) == (
        "azure",
        "GET",
        "/items/42",
        {"id": "42"},
    )
    assert (ctx.function_name, ctx.invocation_id, ctx.provider) == (
        "get_item",
        "0f7d4a62-inv",
        "azure",
    )
    assert ctx.trace.parent_id == "00f067aa0ba902b7"


def test_http_errors_become_responses(indexed):
    source("http")
    url = "https://app.azurewebsites.net/items/"
    missing = invoke(indexed, "get_item", _request("GET", url + "missing", {"id": "missing"}))
    assert missing.status_code == 404
    assert json.loads(missing.get_body()) == {"error": "no such item"}
    boom = invoke(indexed, "get_item", _request("GET", url + "boom", {"id": "boom"}))
    assert boom.status_code == 500


def test_http_greedy_and_root_routes(indexed):
    source("http")
    resp = invoke(
        indexed,
        "files",
        _request("PUT", "https://app.azurewebsites.net/files/a/b.txt", {"path": "a/b.txt"}),
    )
    assert json.loads(resp.get_body()) == {"path": "a/b.txt"}
    home = invoke(indexed, "home", _request("GET", "https://app.azurewebsites.net/", {}))
    assert home.status_code == 200
    assert (SEEN[-1][1].route, SEEN[-1][1].path_params) == ("/", {})


def _queue_message(body: bytes, id: str = "5a7e-1") -> func.QueueMessage:
    return azf_queue.QueueMessage(  # the converter's type, with the trigger metadata
        id=id,
        body=body,
        dequeue_count=2,
        insertion_time=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        pop_receipt="AgAAAAMAAAAAAAAA",
    )


def test_queue_message_runs_and_returns_nothing(indexed):
    source("queue")
    assert invoke(indexed, "job", _queue_message(b'{"n": 1}')) is None
    _, msg, ctx = SEEN[-1]
    assert isinstance(msg, QueueMessage)
    assert (msg.id, msg.queue, msg.delivery_count, msg.json()) == ("5a7e-1", "jobs", 2, {"n": 1})
    assert ctx.function_name == "job"


def test_queue_failure_raises_so_azure_retries_that_message(indexed):
    source("queue")
    with pytest.raises(HandlerError) as info:
        invoke(indexed, "job", _queue_message(b"fail"))
    assert info.value.provider == "azure"
    assert info.value.source == "azure:queue"
    assert isinstance(info.value.cause, ValueError)


def test_storage_queue_batch_handler_gets_a_list_of_one(indexed):
    source("queue")
    invoke(indexed, "bulk", _queue_message(b"ok", "m1"))
    assert [m.id for m in SEEN[-1][1]] == ["m1"]
    with pytest.raises(HandlerError, match="m2"):
        invoke(indexed, "bulk", _queue_message(b"fail", "m2"))


def test_topic_filter_applies_before_the_handler(indexed):
    sb = source("servicebus")
    binding = {"type": "serviceBusTrigger", "topicName": "events", "subscriptionName": "on_event"}

    def message(kind: str) -> Any:
        neutral = TopicMessage(
            f"id-{kind}",
            "events",
            b"{}",
            attributes={"kind": kind},
            published_at=datetime(2026, 1, 2, tzinfo=UTC),
        )
        return sb.to_native(neutral, binding)

    invoke(indexed, "on_event", message("a"))
    assert SEEN[-1][0] == "on_event"
    assert SEEN[-1][1].topic == "events"
    assert SEEN[-1][1].attributes["kind"] == "a"
    SEEN.clear()
    assert invoke(indexed, "on_event", message("z")) is None
    assert SEEN == []


def test_event_hubs_batch_stops_at_the_first_failure(indexed):
    eh = source("eventhub")
    binding = {"type": "eventHubTrigger", "eventHubName": "clicks", "cardinality": "many"}
    records = [
        QueueMessage(str(seq), body, group_id="p", enqueued_at=datetime(2026, 1, 2, tzinfo=UTC))
        for seq, body in ((1, b"ok"), (2, b"fail"), (3, b"ok"))
    ]
    events = eh.to_native(records, binding)
    assert isinstance(events, list) and len(events) == 3
    with pytest.raises(HandlerError) as info:
        invoke(indexed, "clicks", events)
    assert info.value.source == "azure:eventhub"
    assert [m.id for _, m, _ in SEEN] == ["1", "2"]  # 3 did not run: the retry re-runs all
    SEEN.clear()
    invoke(indexed, "clicks", eh.to_native(records[:1], binding))
    assert [m.id for _, m, _ in SEEN] == ["1"]


def test_blob_trigger_gives_the_storage_event(indexed):
    source("blob")
    stream = azf_blob.InputStream(
        data=b"a,b\n",
        name="uploads/in/report.csv",
        uri="https://acct.blob.core.windows.net/uploads/in/report.csv",
        length=4,
    )
    invoke(indexed, "uploaded", stream)
    _, ev, _ = SEEN[-1]
    assert (ev.provider, ev.bucket, ev.key, ev.kind) == (
        "azure",
        "uploads",
        "in/report.csv",
        "created",
    )


def test_cosmos_change_feed_batch_stops_at_the_first_failure(indexed):
    source("cosmosdb")
    docs = func.DocumentList(
        [
            func.Document.from_dict({"id": "a", "_lsn": 1, "_ts": 1767312000}),
            func.Document.from_dict({"id": "b", "_lsn": 2, "_ts": 1767312001, "fail": True}),
            func.Document.from_dict({"id": "c", "_lsn": 3, "_ts": 1767312002}),
        ]
    )
    with pytest.raises(HandlerError):
        invoke(indexed, "changes", docs)
    assert [ev.id for _, ev, _ in SEEN] == ["a", "b"]  # c did not run: the retry re-runs all
    assert {ev.source for _, ev, _ in SEEN} == {"orders"}


def test_timer_invocation(indexed):
    source("timer")
    timer = azf_timer.TimerRequest(
        past_due=False,
        schedule_status={
            "Last": "2026-01-02T11:55:00+00:00",
            "Next": "2026-01-02T12:05:00+00:00",
            "LastUpdated": "2026-01-02T12:00:00+00:00",
        },
        schedule={"AdjustForDST": True},
    )
    assert invoke(indexed, "tick", timer) is None
    assert SEEN[-1][0] == "tick"


def test_event_grid_event_filtered_by_source_and_type(indexed):
    source("eventgrid")
    event = func.EventGridEvent(
        id="e1",
        data={"order": 1},
        topic="/shop",
        subject="orders/1",
        event_type="order.paid",
        event_time=datetime(2026, 1, 2, tzinfo=UTC),
        data_version="1.0",
    )
    invoke(indexed, "paid", event)
    assert [s[0] for s in SEEN] == ["paid"]


def test_event_grid_blob_events_reach_storage_functions(indexed):
    source("eventgrid")
    deleted = func.EventGridEvent(
        id="e2",
        data={
            "api": "DeleteBlob",
            "url": "https://acct.blob.core.windows.net/uploads/in/old.csv",
            "contentType": "text/csv",
            "blobType": "BlockBlob",
        },
        topic="/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/acct",
        subject="/blobServices/default/containers/uploads/blobs/in/old.csv",
        event_type="Microsoft.Storage.BlobDeleted",
        event_time=datetime(2026, 1, 2, tzinfo=UTC),
        data_version="",
    )
    invoke(indexed, "removed", deleted)
    _, ev, _ = SEEN[-1]
    assert (ev.bucket, ev.key, ev.kind) == ("uploads", "in/old.csv", "deleted")


def _blob_event(event_type: str, subject: str) -> func.EventGridEvent:
    return func.EventGridEvent(
        id="e3",
        data={"api": "PutBlob", "url": "https://acct.blob.core.windows.net/x"},
        topic="/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/acct",
        subject=subject,
        event_type=event_type,
        event_time=datetime(2026, 1, 2, tzinfo=UTC),
        data_version="",
    )


def test_event_grid_storage_events_the_trigger_does_not_want_are_skipped(indexed, caplog):
    source("eventgrid")
    # A creation (the function wants deletions), another prefix, another container:
    for event_type, subject in (
        ("Microsoft.Storage.BlobCreated", "/blobServices/default/containers/uploads/blobs/in/a"),
        ("Microsoft.Storage.BlobDeleted", "/blobServices/default/containers/uploads/blobs/out/a"),
        ("Microsoft.Storage.BlobDeleted", "/blobServices/default/containers/other/blobs/in/a"),
    ):
        assert invoke(indexed, "removed", _blob_event(event_type, subject)) is None
    assert SEEN == []
    # Not an object event at all: acknowledged with a warning, not retried for ever.
    directory = _blob_event(
        "Microsoft.Storage.DirectoryCreated", "/blobServices/default/containers/uploads/blobs/in"
    )
    with caplog.at_level("WARNING", logger="polyfn"):
        assert invoke(indexed, "removed", directory) is None
    assert SEEN == []
    assert "removed" in caplog.text and "ignored an Event Grid event" in caplog.text


def test_event_grid_cloudevents_schema_and_type_filter(indexed):
    source("eventgrid")

    def cloud(type_: str) -> func.CloudEvent:
        return func.CloudEvent(
            id="c1",
            source="/shop",
            type=type_,
            specversion="1.0",
            data={"order": 1},
            time=datetime(2026, 1, 2, tzinfo=UTC),
            tenant="t1",
        )

    invoke(indexed, "paid", cloud("order.paid"))
    _, ev, _ = SEEN[-1]
    assert (ev.source, ev.type, ev.data, ev.extensions.get("tenant")) == (
        "/shop",
        "order.paid",
        {"order": 1},
        "t1",
    )
    SEEN.clear()
    invoke(indexed, "paid", cloud("order.shipped"))
    assert SEEN == []


def test_fifo_queue_is_a_service_bus_session(indexed):
    sb = source("servicebus")
    binding = {"type": "serviceBusTrigger", "queueName": "ordered", "isSessionsEnabled": True}
    native = sb.to_native(
        QueueMessage(
            "m-1", b"first", group_id="customer-7", enqueued_at=datetime(2026, 1, 2, tzinfo=UTC)
        ),
        binding,
    )
    invoke(indexed, "ordered", native)
    _, msg, _ = SEEN[-1]
    assert (msg.id, msg.queue, msg.group_id, msg.body) == ("m-1", "ordered", "customer-7", b"first")


def test_service_bus_batches_fail_as_a_whole():
    sb = source("servicebus")
    app = App("sbbatch")
    seen: list[list[str]] = []

    @app.queue("work", batch=True, batch_size=20)
    def work(msgs):
        seen.append([m.id for m in msgs])
        return [m.id for m in msgs if m.body == b"fail"]

    indexed = index_like_the_worker(function_app(app, AzureOptions(queue_service="servicebus")))
    assert indexed["work"]["bindings"][0]["cardinality"] == "many"
    binding = {"type": "serviceBusTrigger", "queueName": "work", "cardinality": "many"}
    when = datetime(2026, 1, 2, tzinfo=UTC)
    batch = [QueueMessage(i, b, enqueued_at=when) for i, b in (("a", b"ok"), ("b", b"fail"))]
    natives = sb.to_native(batch, binding)
    assert isinstance(natives, list) and len(natives) == 2
    with pytest.raises(HandlerError, match=r"\['b'\] reported failed"):
        invoke(indexed, "work", natives)
    assert seen == [["a", "b"]]
    invoke(indexed, "work", sb.to_native(batch[:1], binding))
    assert seen[-1] == ["a"]


def test_from_native_and_to_native_dispatch_on_the_azure_types():
    from polyfn.adapters.azure import from_native, to_native

    msg = from_native(_queue_message(b"hi"), {"type": "queueTrigger", "queueName": "jobs"})
    assert (msg.event_source, msg.queue, msg.body) == ("azure:queue", "jobs", b"hi")
    by_type = from_native(_queue_message(b"hi"))
    assert by_type.event_source == "azure:queue"
    back = to_native(msg, {"type": "queueTrigger", "queueName": "jobs"})
    assert isinstance(back, func.QueueMessage)
    assert (back.id, back.get_body(), back.dequeue_count) == ("5a7e-1", b"hi", 2)
    assert isinstance(to_native(msg), func.QueueMessage)  # chosen by event_source
    with pytest.raises(UnsupportedEventError, match=r"not an azure\.functions trigger type"):
        from_native(object())


def test_host_json_command(capsys):
    from polyfn.adapters.azure.hostjson import main

    assert main(["samples.orders.app:app"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["extensions"]["queues"]["maxDequeueCount"] == 3
    assert err.startswith("deploy: notify: Service Bus topic 'order-events'")
    assert main([]) == 2
