"""Every Azure trigger translation against every host payload in tests/events/azure:
decoded by the library's binding converter as the worker does, translated, rendered back
with ``to_host`` and decoded again, the neutral events must not change.

Per-trigger values are checked in test_source_*.py; provenance in
tests/events/azure/PROVENANCE.md.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest
from azure.functions import meta
from azure_host_payloads import EVENTS, decode, invocation, native

from polyfn import MalformedEventError
from polyfn.adapters.azure.host import HostInvocation
from polyfn.adapters.azure.sources import (
    blob,
    cosmosdb,
    eventgrid,
    eventhub,
    http,
    queue,
    servicebus,
    timer,
)
from polyfn.events.change import ChangeEvent
from polyfn.events.cloudevent import CloudEvent
from polyfn.events.http import HttpRequest
from polyfn.events.messages import QueueMessage, TopicMessage
from polyfn.events.schedule import ScheduleEvent
from polyfn.events.storage import StorageEvent

MODULES = {
    "http": (http, "azure:http", "http", "httpTrigger"),
    "queue": (queue, "azure:queue", "queue", "queueTrigger"),
    "servicebus": (servicebus, "azure:servicebus", "queue", "serviceBusTrigger"),
    "blob": (blob, "azure:blob", "storage", "blobTrigger"),
    "eventgrid": (eventgrid, "azure:eventgrid", "cloudevent", "eventGridTrigger"),
    "timer": (timer, "azure:timer", "schedule", "timerTrigger"),
    "cosmosdb": (cosmosdb, "azure:cosmosdb", "change", "cosmosDBTrigger"),
    "eventhub": (eventhub, "azure:eventhub", "queue", "eventHubTrigger"),
}
# Payloads that are malformed on purpose (see their test files).
MALFORMED = {"eventhub__worker__iot_many_without_sequence.json"}
# Timer payloads whose scheduled time is the invocation time rather than native data.
INVOCATION_TIMED = {"timer__host__no_monitor.json"}
PAYLOADS = sorted(p for p in EVENTS.glob("*.json") if p.name not in MALFORMED)


def module_of(path: Path) -> Any:
    return MODULES[path.name.split("__")[0]][0]


def as_list(x: Any) -> list[Any]:
    return x if isinstance(x, list) else [x]


def state(events: Any) -> list[dict[str, Any]]:
    return [e.to_dict() for e in as_list(events)]


@pytest.fixture(autouse=True)
def _app_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERS_QUEUE", "orders-prod")
    monkeypatch.setenv("HUB_NAME", "telemetry")
    monkeypatch.setenv("NIGHTLY_SCHEDULE", "0 0 2 * * *")


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_protocol(name: str) -> None:
    module, source, kind, binding = MODULES[name]
    assert (source, kind, binding) == (module.EVENT_SOURCE, module.KIND, module.BINDING)
    for fn in ("from_native", "to_native", "to_host"):
        assert callable(getattr(module, fn))
    # The trigger type is one the library has a converter for.
    assert meta.get_binding_registry().get(binding) is not None


def test_every_trigger_has_payloads() -> None:
    assert {p.name.split("__")[0] for p in PAYLOADS} == set(MODULES)


@pytest.mark.parametrize("path", PAYLOADS, ids=lambda p: p.name)
def test_payload_round_trips_through_the_host_shape(path: Path) -> None:
    module = module_of(path)
    obj, binding = native(path)
    events = module.from_native(obj, binding)
    for e in as_list(events):
        assert e.provider == "azure"
        assert e.event_source == module.EVENT_SOURCE
    # The native object is the converter's, untouched.
    if isinstance(events, list) and module is not cosmosdb:
        assert [e.native for e in events] == list(obj)
    elif not isinstance(events, list):
        assert events.native is obj

    inv = module.to_host(events, binding)
    assert isinstance(inv, HostInvocation)
    again = module.from_native(decode(inv, binding), binding)
    before, after = state(events), state(again)
    if path.name in INVOCATION_TIMED:
        for b, a in zip(before, after, strict=True):
            b["extensions"].pop("schedule_status", None)
            a["extensions"].pop("schedule_status", None)
    assert after == before

    # to_native is the same decode.
    rendered = module.to_native(events, binding)
    assert state(module.from_native(rendered, binding)) == state(again)


# Directory events are not object events: test_source_eventgrid.py covers their refusal.
OBJECT_EVENTS = [
    p
    for p in sorted(EVENTS.glob("eventgrid__*.json"))
    if not p.name.startswith("eventgrid__docs__directory")
]


@pytest.mark.parametrize("path", OBJECT_EVENTS, ids=lambda p: p.name)
def test_storage_events_round_trip(path: Path) -> None:
    obj, binding = native(path)
    event = eventgrid.storage_event(obj, binding)
    again = eventgrid.storage_event(eventgrid.to_native(event, binding), binding)
    assert again.to_dict() == event.to_dict()


LOCAL_EVENTS: dict[str, Any] = {
    "queue": QueueMessage(
        "m-1",
        b"hello",
        delivery_count=2,
        queue="orders",
        enqueued_at=datetime(2024, 5, 1, tzinfo=UTC),
    ),
    "servicebus": QueueMessage(
        "m-1",
        b"hello",
        attributes={"kind": "order"},
        delivery_count=3,
        queue="orders",
        group_id="s-1",
        enqueued_at=datetime(2024, 5, 1, 8, 0, 0, 250000, tzinfo=UTC),
    ),
    "eventhub": QueueMessage(
        "17",
        b'{"t":1}',
        attributes={"unit": "C"},
        queue="telemetry",
        group_id="device-1",
        enqueued_at=datetime(2024, 5, 1, tzinfo=UTC),
    ),
    "blob": StorageEvent(
        "uploads", "a/b.txt", size=3, etag="0x1", time=datetime(2024, 5, 1, tzinfo=UTC)
    ),
    "eventgrid": CloudEvent(
        "e-1",
        "/my/source",
        "com.example.thing",
        {"a": 1},
        subject="thing/1",
        time=datetime(2024, 5, 1, tzinfo=UTC),
        datacontenttype="application/json",
    ),
    "timer": ScheduleEvent("0 */5 * * * *", datetime(2024, 5, 1, 10, 5, tzinfo=UTC)),
    "cosmosdb": ChangeEvent(
        "doc-1",
        "items",
        "modify",
        keys={"id": "doc-1"},
        new={"id": "doc-1", "n": 1},
        sequence="5",
        time=datetime(2024, 5, 1, tzinfo=UTC),
    ),
    "http": HttpRequest(
        "POST",
        "/api/orders/7",
        route="/orders/{id}",
        path_params={"id": "7"},
        query=[("a", "1"), ("a", "2")],
        headers={"content-type": "application/json"},
        cookies={"s": "1"},
        body=b"{}",
        client_ip="198.51.100.4",
    ),
}
BINDINGS = {
    "queue": {"type": "queueTrigger", "name": "msg", "queueName": "orders"},
    "servicebus": {"type": "serviceBusTrigger", "name": "msg", "queueName": "orders"},
    "eventhub": {"type": "eventHubTrigger", "name": "event", "eventHubName": "telemetry"},
    "blob": {"type": "blobTrigger", "name": "blob", "path": "uploads/{name}"},
    "eventgrid": {"type": "eventGridTrigger", "name": "event"},
    "timer": {"type": "timerTrigger", "name": "timer", "schedule": "0 */5 * * * *"},
    "cosmosdb": {"type": "cosmosDBTrigger", "name": "docs", "containerName": "items"},
    "http": {"type": "httpTrigger", "name": "req", "route": "orders/{id}"},
}


@pytest.mark.parametrize("name", sorted(LOCAL_EVENTS))
def test_events_from_elsewhere_render_as_azure_delivers_them(name: str) -> None:
    module = MODULES[name][0]
    event, binding = LOCAL_EVENTS[name], BINDINGS[name]
    obj = module.to_native(event, binding)
    back = module.from_native(obj, binding)
    back = back[0] if isinstance(back, list) else back
    assert back.provider == "azure"
    if name == "http":
        # Azure carries cookies and the client address in headers: the request gains them.
        extra = {k: v for k, v in back.headers.items() if k not in event.headers}
        assert extra == {"cookie": "s=1", "x-forwarded-for": "198.51.100.4"}
        got, want = back.values(), event.values()
        assert got.pop("headers") != want.pop("headers")
        assert got == want
        return
    assert back == event  # the neutral fields survive


@pytest.mark.parametrize("name", sorted(MODULES))
def test_a_wrong_native_object_names_the_trigger_parameter(name: str) -> None:
    module = MODULES[name][0]
    wrong: Any = func.HttpResponse("x") if name != "http" else func.QueueMessage(id="1")
    with pytest.raises(MalformedEventError) as err:
        module.from_native(wrong, {"name": "param"})
    assert (err.value.provider, err.value.source, err.value.field) == (
        "azure",
        module.EVENT_SOURCE,
        "param",
    )


def test_invocations_load_with_their_binding() -> None:
    inv, binding = invocation("queue__host__message.json")
    assert binding["type"] == "queueTrigger"
    assert inv.data.type == "string"
    assert set(inv.trigger_metadata) >= {"Id", "DequeueCount", "PopReceipt"}


def test_topic_messages_are_topic_messages() -> None:
    obj, binding = native("servicebus__host__topic.json")
    assert isinstance(servicebus.from_native(obj, binding), TopicMessage)
