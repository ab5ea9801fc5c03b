"""Declared outputs as Azure output bindings: the binding JSON the worker indexes, the
``Out`` parameters it passes, and what the host receives once the function returned.

Expected binding settings (function.json), per Microsoft's binding references:

- Queue Storage output: https://learn.microsoft.com/azure/azure-functions/functions-bindings-storage-queue-output
  (``queue``: direction out, name, queueName, connection; ``func.Out[typing.List[str]]``
  writes several messages)
- Service Bus output: https://learn.microsoft.com/azure/azure-functions/functions-bindings-service-bus-output
  (``serviceBus``: queueName or topicName, connection; Python sets ``func.Out[str]``)
- Event Grid output: https://learn.microsoft.com/azure/azure-functions/functions-bindings-event-grid-output
  (``eventGrid``: topicEndpointUri and topicKeySetting, the names of app settings)
- Blob output: https://learn.microsoft.com/azure/azure-functions/functions-bindings-storage-blob-output
  (``path`` names one blob, with binding expressions from trigger data: no binding for a
  key chosen at run time, so declared buckets stay on the SDK driver)
- Binding names: azure-functions-host src/WebJobs.Script/Utility.cs
  ``BindingNameValidationRegex`` (a letter, then letters and digits; 128 at most)

The worker (Azure/azure-functions-python-worker at 7e6acf36, 4.34.0): functions.py
``Registry.validate_function_params`` (an ``out`` binding's parameter is ``Out[T]``; ``T``
checked by the binding's converter, or by the generic binding when ``T`` is str/bytes and
the binding has no implicit output); dispatcher.py passes ``bindings.Out()`` (out.py) per
output binding and, after a successful call, encodes each one set
(``to_outgoing_param_binding``; generic.py and datumdef.py: a list goes as ``json``). A
failed call sends no output data. ``worker.check_function`` / ``worker.Out`` /
``worker.encode_output`` repeat that.

The host (Azure/azure-functions-host at 89dc438d): GrpcMessageConversionExtensions.cs
``ToObject`` parses ``json`` with ``DateParseHandling.None``; FunctionBinding.cs
``ReadAsEnumerable`` + ``BindAsyncCollectorAsync<byte[]>`` add one message per array
element (a string element as its text, UTF-8) and re-parse a plain string that looks like
JSON (an array string would become several messages, an object is re-indented): that is
why the adapter always sets a list of strings. ``byte[]`` is the collector type because
azure-webjobs-sdk AsyncCollectorBindingProvider.cs ``GetDefaultType`` prefers ``byte[]``,
then JObject, then string. Storage queue outputs base64-encode messages as host.json
``queues.messageEncoding`` says, as the trigger decodes them (azure-sdk-for-net
Microsoft.Azure.WebJobs.Extensions.Storage.Queues CHANGELOG, 5.0.0-beta.2). Event Grid:
azure-sdk-for-net Microsoft.Azure.WebJobs.Extensions.EventGrid
OutputBinding/EventGridAsyncCollector.cs parses each item as an Event Grid event, else as
a CloudEvent (byte[] items since https://github.com/Azure/azure-sdk-for-net/pull/25813,
fixing issue #25810).
``worker.host_messages`` repeats that.
"""

from __future__ import annotations

import base64
import inspect
import json
import logging
import typing
import uuid
from datetime import UTC, datetime
from typing import Any

import azure.functions as func
import pytest
from azure.functions import meta

from polyfn import App, DefinitionError, HandlerError, HttpError, PolyfnError, QueueMessage
from polyfn.adapters.azure import AzureOptions, function_app, host_json, plan
from polyfn.adapters.azure.bindings_out import cloudevent_json
from polyfn.adapters.azure.outputs import AzureOutputError
from polyfn.adapters.azure.worker import (
    Out,
    Worker,
    WorkerContext,
    check_function,
    encode_output,
    host_messages,
)
from polyfn.context import TraceContext
from polyfn.events import CloudEvent, HttpRequest
from polyfn.outputs import Outputs, user_attributes
from polyfn.outputs.memory import MemoryDriver
from samples.orders.app import app as orders

STORAGE = "AzureWebJobsStorage"
SB = "ServiceBusConnection"
ORDER = {"id": "o-1", "items": [{"sku": "apple", "price": 3, "qty": 2}]}


def _lower(binding: dict[str, Any]) -> dict[str, Any]:
    # The library writes enum values by name ("OUT"); the host reads them caselessly.
    return {**binding, "direction": binding["direction"].lower()}


def _post(body: Any) -> HttpRequest:
    return HttpRequest(
        "POST", "/orders", body=json.dumps(body), headers={"content-type": "application/json"}
    )


def _datum(worker: Worker, function: str, out: str) -> meta.Datum:
    return worker.encode(function, out, worker.last_outputs[out])


# -- the sample ------------------------------------------------------------------------------
def test_sample_output_bindings_as_indexed():
    worker = Worker(function_app(orders))
    outputs = {n: [_lower(b) for b in f.outputs.values()] for n, f in worker.functions.items()}
    assert outputs == {
        "create_order": [
            {
                "type": "queue",
                "direction": "out",
                "name": "queueOrders",
                "queueName": "orders",
                "connection": STORAGE,
            }
        ],
        # buckets=["receipts"] has no binding: put() goes through the SDK
        "process_order": [
            {
                "type": "serviceBus",
                "direction": "out",
                "name": "topicOrderEvents",
                "topicName": "order-events",
                "connection": SB,
            }
        ],
        "get_order": [],
        "notify": [],
        "index_receipt": [],
        "nightly_report": [],
    }
    # The trigger (and the HTTP $return) come first, as in a hand-written function.json.
    assert [b["name"] for b in worker.function("create_order").bindings] == [
        "req",
        "$return",
        "queueOrders",
    ]


def test_sample_wrappers_take_the_out_parameters_the_worker_checks():
    fa = function_app(orders)
    by_name = {f.get_function_name(): f for f in fa.get_functions()}
    create = by_name["create_order"].get_user_function()
    assert list(inspect.signature(create).parameters) == ["req", "context", "queueOrders"]
    hints = typing.get_type_hints(create)
    assert hints["queueOrders"] == func.Out[typing.List[str]]  # noqa: UP006
    assert hints["return"] is func.HttpResponse
    process = by_name["process_order"].get_user_function()
    assert typing.get_type_hints(process)["topicOrderEvents"] == func.Out[str]
    assert inspect.getfile(process).endswith("functionapp.py")  # the worker reads it
    for name, fn in by_name.items():
        bindings = json.loads(fn.get_function_json())["bindings"]
        check_function(name, fn.get_user_function(), bindings)
    # A function without declared outputs keeps the plain two-parameter wrapper.
    get_order = by_name["get_order"].get_user_function()
    assert not hasattr(get_order, "__signature__")
    assert list(inspect.signature(get_order).parameters) == ["req", "context"]


def test_create_order_queues_through_the_binding_after_it_returned(caplog):
    sdk = MemoryDriver()
    worker = Worker(function_app(orders, outputs=Outputs(sdk)))
    with caplog.at_level(logging.WARNING):
        resp = worker.invoke("create_order", _post(ORDER))
    assert resp.status_code == 200
    uuid.UUID(json.loads(resp.get_body())["queued_as"])  # polyfn's id: the binding has none
    assert sdk.sent == []  # nothing through the SDK
    (body,) = worker.last_outputs["queueOrders"]
    assert json.loads(body) == ORDER
    # Storage queues have no attributes: the sample's attributes={"kind": ...} are dropped,
    # with a warning, as the SDK driver does.
    assert "['kind'] cannot be sent and were dropped" in caplog.text

    datum = _datum(worker, "create_order", "queueOrders")
    # The worker encodes Out[List[str]] with the queue converter (type "queue").
    assert datum == meta.get_binding_registry().get("queue").encode(
        [body],
        expected_type=typing.List[str],  # noqa: UP006
    )
    assert datum.type == "json"
    assert host_messages(datum) == [body.encode("utf-8")]


def test_the_sample_chains_through_its_output_bindings():
    sdk = MemoryDriver()
    worker = Worker(function_app(orders, outputs=Outputs(sdk)), deliver=sdk)
    worker.invoke("create_order", _post(ORDER))
    (queued,) = sdk.sent
    assert (queued.kind, queued.target, json.loads(queued.body)) == ("send", "orders", ORDER)
    assert queued.options["attributes"] == {}  # the host's queue message has none
    sdk.sent.clear()

    worker.invoke("process_order", QueueMessage("m-1", queued.body, queue="orders"))
    # The publish carries attributes and a subject, which the Service Bus output binding
    # cannot: it went through the SDK, as the put (buckets have no binding) did.
    assert worker.last_outputs == {}
    assert [(s.kind, s.target) for s in sdk.sent] == [
        ("put", "receipts/receipts/o-1.json"),
        ("publish", "order-events"),
    ]
    options = sdk.sent[1].options
    # What polyfn sends carries the sending span's trace context (polyfn.observe.trace).
    assert TraceContext.parse(options["attributes"].pop("traceparent")) is not None
    assert options == {
        "attributes": {"event": "order-processed"},
        "subject": "order processed",
    }


# -- delivery only after success ------------------------------------------------------------
def _app() -> tuple[App, list[str]]:
    app = App("outs")
    ids: list[str] = []

    @app.post("/send")
    @app.outputs(queues=["jobs"], topics=["events"], buses=["default", "audit"])
    def send(req, ctx):
        spec = req.json()
        for body in spec.get("jobs", []):
            ids.append(ctx.outputs.send("jobs", body))
        for body in spec.get("events", []):
            ids.append(ctx.outputs.publish("events", body))
        if spec.get("elsewhere"):
            ids.append(ctx.outputs.send("elsewhere", "x"))
        if spec.get("fail") == "http":
            raise HttpError(409, "conflict")
        if spec.get("fail") == "crash":
            raise RuntimeError("boom")
        return {"ok": True}

    @app.queue("work")
    @app.outputs(queues=["jobs"])
    def work(msg, ctx):
        ctx.outputs.send("jobs", msg.body)
        ctx.outputs.send("elsewhere", msg.body)
        if msg.body == b"fail":
            raise ValueError("bad work")

    @app.stream("clicks")
    @app.outputs(topics=["events"])
    def clicks(msg, ctx):
        ctx.outputs.publish("events", msg.body)
        if msg.body == b"fail":
            raise ValueError("bad click")

    return app, ids


def test_http_outputs_only_when_the_handler_returned():
    sdk = MemoryDriver()
    app, ids = _app()
    worker = Worker(function_app(app, outputs=Outputs(sdk)))
    resp = worker.invoke("send", _post({"jobs": ["a", {"n": 1}], "events": ["e"]}))
    assert resp.status_code == 200
    assert worker.last_outputs == {"queueJobs": ["a", '{"n":1}'], "topicEvents": ["e"]}
    assert len(set(ids)) == 3

    for fail, status in (("http", 409), ("crash", 500)):
        resp = worker.invoke("send", _post({"jobs": ["a"], "elsewhere": True, "fail": fail}))
        assert resp.status_code == status
        assert worker.last_outputs == {}  # the invocation answered, but delivers nothing
    # An undeclared target went through the SDK at once, failure or not.
    assert [(s.kind, s.target) for s in sdk.sent] == [("send", "elsewhere")] * 2


def test_a_failed_invocation_sets_no_out_parameter():
    sdk = MemoryDriver()
    app, _ = _app()
    worker = Worker(function_app(app, outputs=Outputs(sdk)))
    fn = worker.function("work")
    inv = worker.render("work", QueueMessage("m-1", "fail", queue="work"))
    obj = (
        meta.get_binding_registry()
        .get("queueTrigger")
        .decode(inv.data, trigger_metadata=inv.trigger_metadata)
    )
    out = Out()
    with pytest.raises(HandlerError, match="bad work"):
        fn.call(event=obj, context=WorkerContext("work"), queueJobs=out)
    assert out.get() is None  # the worker would send the host no output data anyway
    assert [s.target for s in sdk.sent] == ["elsewhere"]

    worker.invoke("work", QueueMessage("m-2", "ok", queue="work"))
    assert worker.last_outputs == {"queueJobs": ["ok"]}


def test_a_batch_delivers_all_or_nothing():
    app, _ = _app()
    worker = Worker(function_app(app, outputs=Outputs(MemoryDriver())))
    good = [QueueMessage(str(i), f"c{i}", queue="clicks") for i in range(3)]
    worker.invoke("clicks", good)
    assert worker.last_outputs == {"topicEvents": ["c0", "c1", "c2"]}
    datum = _datum(worker, "clicks", "topicEvents")
    assert datum.type == "json"  # Out[str] set to a list: the worker's generic binding
    assert host_messages(datum) == [b"c0", b"c1", b"c2"]

    # A failed record fails the invocation: the records before it are not delivered either
    # (the batch is retried and they run again).
    bad = [good[0], QueueMessage("9", "fail", queue="clicks"), good[2]]
    with pytest.raises(HandlerError, match="bad click"):
        worker.invoke("clicks", bad)
    assert worker.last_outputs == {}


def test_out_parameters_must_be_passed():
    app, _ = _app()
    fn = Worker(function_app(app)).function("work")
    inv = Worker(function_app(app)).render("work", QueueMessage("m-1", "x", queue="work"))
    obj = (
        meta.get_binding_registry()
        .get("queueTrigger")
        .decode(inv.data, trigger_metadata=inv.trigger_metadata)
    )
    with pytest.raises(PolyfnError, match=r"output binding parameter\(s\) \['queueJobs'\]"):
        fn.call(event=obj, context=WorkerContext("work"))


# -- what each binding carries -------------------------------------------------------------
def _one(options: AzureOptions | None = None, **declared: Any) -> tuple[Worker, MemoryDriver]:
    """An app of one queue-triggered function with ``declared`` outputs whose handler
    runs the ``(method, args, kwargs)`` calls in the message body."""
    app = App("one")

    @app.queue("in")
    @app.outputs(**declared)
    def handler(msg, ctx):
        for method, args, kwargs in json.loads(msg.body):
            if method == "emit":
                args = [CloudEvent(**args[0]), *args[1:]]
            if method in ("send", "publish", "put") and isinstance(args[-1], dict):
                args[-1] = base64.b64decode(args[-1]["b64"])
            getattr(ctx.outputs, method)(*args, **kwargs)

    sdk = MemoryDriver()
    return Worker(function_app(app, options, outputs=Outputs(sdk))), sdk


def _run(worker: Worker, *calls: tuple[str, list[Any], dict[str, Any]]) -> None:
    worker.invoke("handler", QueueMessage("m", json.dumps(calls), queue="in"))


def test_storage_queue_binding_carries_text_the_sdk_the_rest():
    worker, sdk = _one(queues=["jobs"])
    binary = {"b64": base64.b64encode(b"\xff\x00").decode()}
    _run(
        worker,
        ("send", ["jobs", "plain"], {}),
        ("send", ["jobs", '["looks", "like", "json"]'], {}),
        ("send", ["jobs", binary], {}),
        ("send", ["jobs", "later"], {"delay_seconds": 30}),
        ("send", ["jobs", "grouped"], {"group_id": "g"}),
        ("send", ["jobs", "dedup"], {"deduplication_id": "d"}),
    )
    (values,) = worker.last_outputs.values()
    assert values == ["plain", '["looks", "like", "json"]']
    # A list keeps a JSON-looking body one message, byte for byte.
    assert host_messages(_datum(worker, "handler", "queueJobs")) == [
        b"plain",
        b'["looks", "like", "json"]',
    ]
    assert [(s.body, s.options["delay_seconds"], s.options["group_id"]) for s in sdk.sent] == [
        (b"\xff\x00", 0, None),
        (b"later", 30, None),
        (b"grouped", 0, "g"),
        (b"dedup", 0, None),
    ]


def test_storage_queue_attributes_warn_once_or_refuse(caplog):
    worker, sdk = _one(queues=["jobs"])
    with caplog.at_level(logging.WARNING):
        _run(worker, *[("send", ["jobs", "a"], {"attributes": {"k": "v"}})] * 2)
    assert worker.last_outputs == {"queueJobs": ["a", "a"]}
    assert caplog.text.count("cannot be sent and were dropped") == 1
    assert sdk.sent == []

    worker, _ = _one(AzureOptions(queue_attributes="error"), queues=["jobs"])
    with pytest.raises(HandlerError) as info:
        _run(worker, ("send", ["jobs", "a"], {"attributes": {"k": "v"}}))
    assert isinstance(info.value.__cause__, AzureOutputError)
    assert "no attributes" in str(info.value.__cause__)


def test_storage_queue_size_limit_counts_the_base64_the_host_adds():
    worker, _ = _one(queues=["jobs"])
    _run(worker, ("send", ["jobs", "x" * 49152], {}))  # 64 KiB once base64-encoded
    with pytest.raises(HandlerError, match="64 KiB"):
        _run(worker, ("send", ["jobs", "x" * 49153], {}))
    worker, _ = _one(AzureOptions(queue_message_encoding="none"), queues=["jobs"])
    _run(worker, ("send", ["jobs", "x" * 65536], {}))


def test_service_bus_queue_and_topic_bindings_carry_bodies_only():
    worker, sdk = _one(AzureOptions(queue_service="servicebus"), queues=["jobs"], topics=["ev"])
    assert [_lower(b) for b in worker.function("handler").outputs.values()] == [
        {"type": "serviceBus", "direction": "out", "name": "queueJobs", "queueName": "jobs",
         "connection": SB},
        {"type": "serviceBus", "direction": "out", "name": "topicEv", "topicName": "ev",
         "connection": SB},
    ]  # fmt: skip
    _run(
        worker,
        ("send", ["jobs", "q1"], {}),
        ("send", ["jobs", "q2"], {"attributes": {"k": "v"}}),
        ("publish", ["ev", "t1"], {}),
        ("publish", ["ev", "t2"], {"attributes": {"k": "v"}}),
        ("publish", ["ev", "t3"], {"subject": "s"}),
        ("publish", ["ev", "t4"], {}),
    )
    assert worker.last_outputs == {"queueJobs": ["q1"], "topicEv": ["t1", "t4"]}
    # Out[str]: the worker's generic binding (the Service Bus converter takes no list).
    datum = _datum(worker, "handler", "topicEv")
    assert datum == meta.Datum('["t1", "t4"]', "json")
    assert host_messages(datum) == [b"t1", b"t4"]
    sent = [(s.kind, s.body, user_attributes(s.options.get("attributes"))) for s in sdk.sent]
    assert sent == [
        ("send", b"q2", {"k": "v"}),
        ("publish", b"t2", {"k": "v"}),
        ("publish", b"t3", {}),
    ]
    with pytest.raises(NotImplementedError):  # what the converter would do with a list
        meta.get_binding_registry().get("serviceBus").encode(["t1"], expected_type=str)


def test_event_grid_binding_sends_cloudevents_json():
    worker, sdk = _one(buses=["default", "audit"])
    assert [_lower(b) for b in worker.function("handler").outputs.values()] == [
        {"type": "eventGrid", "direction": "out", "name": "busDefault",
         "topicEndpointUri": "EventGridTopicEndpoint", "topicKeySetting": "EventGridTopicKey"},
        {"type": "eventGrid", "direction": "out", "name": "busAudit",
         "topicEndpointUri": "auditEndpoint", "topicKeySetting": "auditKey"},
    ]  # fmt: skip
    event = {
        "id": "e-1",
        "source": "/shop",
        "type": "order.paid",
        "data": {"order": "o-1"},
        "subject": "o-1",
        "time": None,
        "extensions": {"tenant": "t1"},
    }
    _run(
        worker,
        ("emit", [event], {}),
        ("emit", [{**event, "id": "e-2"}], {"bus": "audit"}),
        ("emit", [{**event, "id": "e-3"}], {"bus": "default"}),
        ("emit", [{**event, "id": "e-4"}], {"bus": "elsewhere"}),
    )
    default = worker.last_outputs["busDefault"]
    assert [json.loads(e)["id"] for e in default] == ["e-1", "e-3"]
    first = json.loads(default[0])
    # The distributed tracing extension carries the emitting span's trace context.
    assert TraceContext.parse(first.pop("traceparent")) is not None
    assert first == {
        "specversion": "1.0",
        "id": "e-1",
        "source": "/shop",
        "type": "order.paid",
        "subject": "o-1",
        "tenant": "t1",
        "data": {"order": "o-1"},
    }
    assert [json.loads(e)["id"] for e in worker.last_outputs["busAudit"]] == ["e-2"]
    assert [(s.kind, s.target) for s in sdk.sent] == [("emit", "elsewhere")]
    # The Event Grid converter encodes the list; the host's Event Grid collector parses
    # each element (a CloudEvent: it is no Event Grid schema event).
    datum = _datum(worker, "handler", "busDefault")
    assert datum == meta.get_binding_registry().get("eventGrid").encode(
        default,
        expected_type=typing.List[str],  # noqa: UP006
    )
    assert [json.loads(m)["specversion"] for m in host_messages(datum)] == ["1.0", "1.0"]


def test_cloudevent_json_round_trips_through_the_event_grid_trigger():
    sent = CloudEvent(
        "e-9",
        "/shop",
        "blob.stored",
        b"\x00\x01",
        time=datetime(2026, 1, 2, 3, 4, 5, 250000, tzinfo=UTC),
        datacontenttype="application/octet-stream",
        extensions={"tenant": "t1"},
    )
    text = cloudevent_json(sent)
    assert json.loads(text)["data_base64"] == "AAE="
    assert json.loads(text)["time"] == "2026-01-02T03:04:05.250000Z"
    emitted: list[tuple[CloudEvent, str | None]] = []

    class Delivered(MemoryDriver):
        def emit(self, event: CloudEvent, bus: str | None) -> str:
            emitted.append((event, bus))
            return event.id

    app = App("eg")

    @app.get("/")
    @app.outputs(buses=["default"])
    def emit(req, ctx):
        ctx.outputs.emit(sent)

    worker = Worker(function_app(app), deliver=Delivered())
    worker.invoke("emit", HttpRequest("GET", "/"))
    ((event, bus),) = emitted
    assert bus is None  # the default bus
    for field in ("id", "source", "type", "data", "time", "datacontenttype"):
        assert getattr(event, field) == getattr(sent, field), field
    assert event.extensions["tenant"] == "t1"

    with pytest.raises(AzureOutputError, match="Data"):
        cloudevent_json(CloudEvent("e", "/s", "t", extensions={"Data": 1}))


# -- planning -------------------------------------------------------------------------------
def test_binding_names_settings_and_what_gets_no_binding(monkeypatch):
    monkeypatch.setenv("JobsQueue", "jobs-prod")
    app = App("names")

    @app.queue("ordered", fifo=True)
    def consume(msg, ctx): ...

    @app.queue("in")
    @app.queue("in2")
    @app.outputs(
        queues=["%JobsQueue%", "ordered"],
        topics=["order-events", "order_events", "x"],
        buckets=["receipts"],
    )
    def produce(msg, ctx):
        ctx.outputs.send("jobs-prod", "resolved")
        ctx.outputs.send("%JobsQueue%", "as written")
        ctx.outputs.send("ordered", "fifo", group_id="g")

    sdk = MemoryDriver()
    worker = Worker(function_app(app, outputs=Outputs(sdk)))
    for name in ("produce", "produce_2"):  # every Azure function of the polyfn function
        outs = worker.function(name).outputs
        assert {n: b.get("queueName") or b.get("topicName") for n, b in outs.items()} == {
            "queueJobsQueue": "%JobsQueue%",  # the host resolves it
            "topicOrderEvents": "order-events",
            "topicOrderEvents2": "order_events",
            "topicX": "x",
        }
    worker.invoke("produce", QueueMessage("m", "x", queue="in2"))
    assert worker.last_outputs == {"queueJobsQueue": ["resolved", "as written"]}
    assert [(s.target, s.body) for s in sdk.sent] == [("ordered", b"fifo")]

    bad = App("bad")

    @bad.queue("in")
    @bad.outputs(queues=["jobs-{id}"])
    def braces(msg, ctx): ...

    with pytest.raises(DefinitionError, match=r"azure function 'braces': outputs: queues"):
        plan(bad)


def test_encode_output_follows_the_workers_choice_of_binding():
    # str/bytes annotations on a binding without implicit output: the generic binding.
    assert encode_output("serviceBus", str, "a") == meta.Datum("a", "string")
    assert encode_output("serviceBus", str, ["a"]) == meta.Datum('["a"]', "json")
    # A typed annotation: the binding's own converter.
    list_of_str = typing.List[str]  # noqa: UP006
    assert encode_output("queue", list_of_str, ["a"]) == meta.Datum('["a"]', "json")
    # What the host makes of a single string that looks like JSON: it re-parses it.
    assert host_messages(meta.Datum('["a", "b"]', "string")) == [b"a", b"b"]
    assert host_messages(meta.Datum(b"raw", "bytes")) == [b"raw"]


def test_host_json_sets_the_encoding_queue_output_bindings_use():
    app = App("http-only")

    @app.post("/jobs")
    @app.outputs(queues=["jobs"])
    def enqueue(req, ctx):
        ctx.outputs.send("jobs", req.body)

    options = AzureOptions(queue_message_encoding="none")
    assert host_json(app, options)["extensions"]["queues"] == {"messageEncoding": "none"}
