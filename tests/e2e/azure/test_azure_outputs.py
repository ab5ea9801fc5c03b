"""The Azure SDK output drivers: Queue Storage and Blob Storage against Azurite; Service Bus
and Event Grid, which have no emulator here, through recording clients injected into the
driver (the SDK message objects the driver builds are checked field by field; nothing is
sent to a live Service Bus namespace or Event Grid topic).

How the queue trigger sees a message (``_host_delivery``), with provenance:

- The Functions queue trigger (Microsoft.Azure.WebJobs.Extensions.Storage.Queues 5.x)
  base64-decodes each message before the function sees it unless host.json sets
  ``extensions.queues.messageEncoding`` to ``"none"`` (the extension's QueueTriggerAttribute
  documentation and its 5.0.0-beta.2 changelog, Azure/azure-sdk-for-net).
- The host hands the worker the decoded message as a string (``TypedData.string``), or
  bytes for ``dataType: binary``; trigger metadata goes through the host's
  ``ToRpc``: strings (Id, PopReceipt, QueueTrigger) as ``string``, everything else
  (DequeueCount, a long; the DateTimeOffset times) as Newtonsoft JSON, i.e. ``"1"`` and
  ``"\\"2026-01-01T00:00:00+00:00\\""`` (Azure/azure-functions-host,
  src/WebJobs.Script.Grpc/MessageExtensions/GrpcMessageConversionExtensions.cs at
  8d5406c1, ``ToRpc`` / ``ToRpcDefault``). The worker turns each TypedData into a
  ``meta.Datum`` of the same type (azure-functions-python-worker,
  azure_functions_worker/bindings/datumdef.py at 7e6acf36) and calls the library's
  ``QueueMessageInConverter.decode`` (azure-functions-python-library,
  azure/functions/queue.py; its tests/test_queue.py at 2e8ba4b5 uses the same field names).
"""

from __future__ import annotations

import base64
import json
import logging
import subprocess
import sys
import threading
from datetime import UTC, datetime
from typing import Any

import azure.functions as func
import pytest
from azure.functions import meta
from azure.functions.queue import QueueMessageInConverter

from polyfn import CloudEvent, Context
from polyfn.adapters.azure.options import AzureOptions
from polyfn.adapters.azure.outputs import AzureDriver, AzureOutputError, OutputTargetNotFound
from polyfn.errors import PolyfnError
from polyfn.outputs import Outputs, user_attributes

from .conftest import Azurite

pytestmark = pytest.mark.e2e


@pytest.fixture
def storage(azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> Azurite:
    """Azurite's connection string in the app setting the driver reads by default."""
    monkeypatch.setenv("AzureWebJobsStorage", azurite.connection_string)
    return azurite


def outputs(driver: AzureDriver) -> Any:
    return Context("f", "inv", "azure", outputs=Outputs(driver)).outputs


def receive_raw(azurite: Azurite, queue: str) -> Any:
    """The next message as stored: no decode policy, so ``content`` is the raw text."""
    (msg,) = azurite.queue_service().get_queue_client(queue).receive_messages(max_messages=1)
    return msg


def _json_time(value: datetime) -> meta.Datum:
    # Newtonsoft writes a DateTimeOffset as an ISO 8601 string with its offset.
    return meta.Datum(json.dumps(value.astimezone(UTC).isoformat()), "json")


def _host_delivery(raw: Any, data_type: str = "string") -> func.QueueMessage:
    """What the worker's function receives for ``raw`` under messageEncoding base64."""
    decoded = base64.b64decode(raw.content, validate=True)  # the host decodes first
    text = decoded.decode("utf-8") if data_type == "string" else None
    data = meta.Datum(text, "string") if data_type == "string" else meta.Datum(decoded, "bytes")
    trigger_metadata = {
        "Id": meta.Datum(raw.id, "string"),
        "PopReceipt": meta.Datum(raw.pop_receipt, "string"),
        "DequeueCount": meta.Datum(json.dumps(raw.dequeue_count), "json"),
        "InsertionTime": _json_time(raw.inserted_on),
        "ExpirationTime": _json_time(raw.expires_on),
        "NextVisibleTime": _json_time(raw.next_visible_on),
        "QueueTrigger": meta.Datum(decoded.decode("utf-8", "replace"), "string"),
    }
    return QueueMessageInConverter.decode(data, trigger_metadata=trigger_metadata)


# -- Queue Storage ------------------------------------------------------------------------------
def test_send_base64_encodes_and_the_queue_trigger_decodes_it(storage: Azurite) -> None:
    queue = storage.new_queue()
    mid = outputs(AzureDriver()).send(queue, {"id": "o-1", "items": [1]})
    raw = receive_raw(storage, queue)
    assert raw.id == mid
    assert base64.b64decode(raw.content) == b'{"id":"o-1","items":[1]}'
    delivered = _host_delivery(raw)
    assert delivered.id == mid
    assert delivered.get_json() == {"id": "o-1", "items": [1]}
    assert delivered.dequeue_count == 1
    assert delivered.pop_receipt == raw.pop_receipt
    assert delivered.insertion_time == raw.inserted_on
    assert delivered.expiration_time == raw.expires_on
    # ... and the polyfn handler behind that function sees the message that was sent.
    from polyfn.adapters.azure.sources import queue as queue_source

    event = queue_source.from_native(delivered, {"queueName": queue})
    assert (event.id, event.queue, event.delivery_count) == (mid, queue, 1)
    assert event.json() == {"id": "o-1", "items": [1]}
    assert event.attributes == {}


def test_binary_bodies_survive_for_a_binary_trigger(storage: Azurite) -> None:
    queue = storage.new_queue()
    body = bytes(range(256))
    outputs(AzureDriver()).send(queue, body)
    raw = receive_raw(storage, queue)
    assert base64.b64decode(raw.content) == body
    assert _host_delivery(raw, data_type="bytes").get_body() == body


def test_message_encoding_none_sends_the_text_as_is(storage: Azurite) -> None:
    queue = storage.new_queue()
    driver = AzureDriver(AzureOptions(queue_message_encoding="none"))
    outputs(driver).send(queue, "plain <text> & more")
    assert receive_raw(storage, queue).content == "plain <text> & more"
    with pytest.raises(AzureOutputError, match="binary body needs"):
        driver.send(queue, b"\xff\xfe", {}, None, None, 0)


def test_setting_references_resolve_from_app_settings(storage, monkeypatch) -> None:
    queue = storage.new_queue()
    monkeypatch.setenv("OrdersQueue", queue)
    mid = outputs(AzureDriver()).send("%OrdersQueue%", "x")
    assert receive_raw(storage, queue).id == mid


def test_delay_hides_the_message_until_due(storage: Azurite) -> None:
    queue = storage.new_queue()
    outputs(AzureDriver()).send(queue, "later", delay_seconds=60)
    client = storage.queue_service().get_queue_client(queue)
    assert client.get_queue_properties().approximate_message_count == 1
    assert list(client.receive_messages(max_messages=1)) == []


def test_attributes_are_dropped_with_one_warning_per_queue(storage, caplog) -> None:
    queue = storage.new_queue()
    out = outputs(AzureDriver())
    with caplog.at_level(logging.WARNING, logger="polyfn.adapters.azure.outputs"):
        out.send(queue, "a", attributes={"kind": "order"})
        out.send(queue, "b", attributes={"kind": "order"})
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1
    assert queue in warnings[0] and "['kind']" in warnings[0] and "dropped" in warnings[0]
    client = storage.queue_service().get_queue_client(queue)
    bodies = [base64.b64decode(m.content) for m in client.receive_messages(max_messages=5)]
    assert sorted(bodies) == [b"a", b"b"]


def test_attributes_can_be_refused_instead(storage: Azurite) -> None:
    queue = storage.new_queue()
    out = outputs(AzureDriver(queue_attributes="error"))
    with pytest.raises(AzureOutputError) as e:
        out.send(queue, "a", attributes={"kind": "order"})
    assert (e.value.provider, e.value.service, e.value.resource) == (
        "azure",
        "storage queue",
        queue,
    )
    assert "no attributes" in str(e.value)
    client = storage.queue_service().get_queue_client(queue)
    assert client.get_queue_properties().approximate_message_count == 0
    out.send(queue, "no attributes is fine")


def test_a_missing_queue_is_a_clear_error_and_is_not_created(storage: Azurite) -> None:
    with pytest.raises(OutputTargetNotFound) as e:
        outputs(AzureDriver()).send("no-such-queue", "x")
    err = e.value
    assert (err.provider, err.service, err.resource) == ("azure", "storage queue", "no-such-queue")
    assert str(err).startswith("azure storage queue 'no-such-queue': queue does not exist")
    names = [q.name for q in storage.queue_service().list_queues()]
    assert "no-such-queue" not in names


def test_oversized_messages_are_refused_before_sending(storage: Azurite) -> None:
    queue = storage.new_queue()
    with pytest.raises(AzureOutputError, match="64 KiB"):
        outputs(AzureDriver()).send(queue, b"x" * 49_153)  # 65,540 bytes once base64-encoded
    outputs(AzureDriver()).send(queue, b"x" * 49_152)  # exactly 64 KiB encoded


def test_a_missing_connection_setting_names_it(monkeypatch) -> None:
    monkeypatch.delenv("AzureWebJobsStorage", raising=False)
    with pytest.raises(AzureOutputError, match="'AzureWebJobsStorage'") as e:
        outputs(AzureDriver()).send("orders", "x")
    assert (e.value.provider, e.value.service) == ("azure", "storage queue")


def test_clients_are_built_once_across_threads(storage, monkeypatch) -> None:
    from azure.storage.queue import QueueServiceClient

    built: list[str] = []
    real = QueueServiceClient.from_connection_string

    def counting(conn: str, **kw: Any) -> Any:
        built.append(conn)
        return real(conn, **kw)

    queue = storage.new_queue()
    monkeypatch.setattr(QueueServiceClient, "from_connection_string", counting)
    driver = AzureDriver()
    barrier = threading.Barrier(8)

    def send(i: int) -> None:
        barrier.wait()
        driver.send(queue, str(i).encode(), {}, None, None, 0)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(built) == 1
    client = storage.queue_service().get_queue_client(queue)
    assert client.get_queue_properties().approximate_message_count == 8


# -- Blob Storage -------------------------------------------------------------------------------
def test_put_stores_the_blob_with_type_and_metadata(storage: Azurite) -> None:
    container = storage.new_container()
    etag = outputs(AzureDriver()).put(
        container,
        "receipts/o-1.json",
        {"total": 3},
        content_type="application/json",
        metadata={"order": "o-1"},
    )
    blob = storage.blob_service().get_blob_client(container, "receipts/o-1.json")
    assert json.loads(blob.download_blob().readall()) == {"total": 3}
    props = blob.get_blob_properties()
    assert props.content_settings.content_type == "application/json"
    assert user_attributes(props.metadata) == {"order": "o-1"}  # + the sender's traceparent
    assert etag == props.etag  # Azurite keeps no versions: the etag identifies the write


def test_put_overwrites_like_a_new_object_version(storage: Azurite) -> None:
    container = storage.new_container()
    out = outputs(AzureDriver())
    first = out.put(container, "k", b"one")
    second = out.put(container, "k", b"two")
    assert first != second
    blob = storage.blob_service().get_blob_client(container, "k")
    assert blob.download_blob().readall() == b"two"


def test_put_to_a_missing_container_is_a_clear_error(storage: Azurite) -> None:
    with pytest.raises(OutputTargetNotFound) as e:
        outputs(AzureDriver()).put("no-such-container", "k", b"x")
    err = e.value
    assert (err.provider, err.service, err.resource) == (
        "azure",
        "blob storage",
        "no-such-container",
    )
    assert "container does not exist" in str(err)
    names = [c.name for c in storage.blob_service().list_containers()]
    assert "no-such-container" not in names


def test_metadata_names_azure_cannot_store_are_refused(storage: Azurite) -> None:
    container = storage.new_container()
    with pytest.raises(AzureOutputError, match=r"\['order-id'\]"):
        outputs(AzureDriver()).put(container, "k", b"x", metadata={"order-id": "1"})


# -- Service Bus (recording client) -------------------------------------------------------------
class RecordingSender:
    def __init__(self, kind: str, name: str, fail: BaseException | None = None) -> None:
        self.kind, self.name, self.fail = kind, name, fail
        self.sent: list[Any] = []
        self.closed = False

    def send_messages(self, message: Any) -> None:
        if self.fail is not None:
            raise self.fail
        self.sent.append(message)

    def close(self) -> None:
        self.closed = True


class RecordingServiceBus:
    """Stands in for azure.servicebus.ServiceBusClient: hands out recording senders."""

    def __init__(self, missing: tuple[str, ...] = ()) -> None:
        self.senders: list[RecordingSender] = []
        self.missing = missing

    def _sender(self, kind: str, name: str) -> RecordingSender:
        from azure.servicebus.exceptions import MessagingEntityNotFoundError

        fail = (
            MessagingEntityNotFoundError(message=f"{name} not found")
            if name in self.missing
            else None
        )
        sender = RecordingSender(kind, name, fail)
        self.senders.append(sender)
        return sender

    def get_queue_sender(self, queue_name: str) -> RecordingSender:
        return self._sender("queue", queue_name)

    def get_topic_sender(self, topic_name: str) -> RecordingSender:
        return self._sender("topic", topic_name)

    def close(self) -> None:
        pass


def _body(message: Any) -> bytes:
    return b"".join(message.body)


def test_service_bus_queue_messages_carry_every_option() -> None:
    from azure.servicebus import ServiceBusMessage

    bus = RecordingServiceBus()
    driver = AzureDriver(AzureOptions(queue_service="servicebus"), clients={"servicebus": bus})
    before = datetime.now(UTC)
    mid = outputs(driver).send(
        "orders",
        {"id": "o-1"},
        attributes={"kind": "order"},
        group_id="customer-7",
        deduplication_id="o-1",
        delay_seconds=30,
    )
    (sender,) = bus.senders
    assert (sender.kind, sender.name) == ("queue", "orders")
    (msg,) = sender.sent
    assert isinstance(msg, ServiceBusMessage)
    assert _body(msg) == b'{"id":"o-1"}'
    assert msg.session_id == "customer-7"
    assert msg.message_id == mid == "o-1"
    assert user_attributes(msg.application_properties) == {"kind": "order"}
    assert msg.subject is None
    delay = (msg.scheduled_enqueue_time_utc - before).total_seconds()
    assert 30 <= delay < 35


def test_service_bus_plain_messages_get_a_fresh_id_and_reuse_the_sender() -> None:
    bus = RecordingServiceBus()
    driver = AzureDriver(AzureOptions(queue_service="servicebus"), clients={"servicebus": bus})
    first = driver.send("orders", b"a", {}, None, None, 0)
    second = driver.send("orders", b"b", {}, None, None, 0)
    (sender,) = bus.senders  # one AMQP link per entity, kept
    assert [m.message_id for m in sender.sent] == [first, second]
    assert first != second
    msg = sender.sent[0]
    assert msg.session_id is None
    assert msg.application_properties is None
    assert msg.scheduled_enqueue_time_utc is None
    driver.close()
    assert sender.closed


def test_group_ids_go_to_service_bus_even_when_queues_are_storage_queues() -> None:
    bus = RecordingServiceBus()
    driver = AzureDriver(clients={"servicebus": bus})  # queue_service="storage"
    driver.send("work", b"a", {}, "g1", None, 0)
    driver.send("work", b"b", {}, None, "d1", 0)
    (sender,) = bus.senders
    first, second = sender.sent
    assert (sender.kind, sender.name, first.session_id) == ("queue", "work", "g1")
    assert (second.session_id, second.message_id) == (None, "d1")


def test_publish_goes_to_a_service_bus_topic_with_subject_and_properties() -> None:
    from azure.servicebus import ServiceBusMessage

    bus = RecordingServiceBus()
    mid = outputs(AzureDriver(clients={"servicebus": bus})).publish(
        "order-events", {"n": 1}, attributes={"event": "order-processed"}, subject="processed"
    )
    (sender,) = bus.senders
    assert (sender.kind, sender.name) == ("topic", "order-events")
    (msg,) = sender.sent
    assert isinstance(msg, ServiceBusMessage)
    assert _body(msg) == b'{"n":1}'
    assert msg.subject == "processed"
    assert user_attributes(msg.application_properties) == {"event": "order-processed"}
    assert msg.message_id == mid


def test_a_missing_service_bus_entity_is_a_clear_error() -> None:
    bus = RecordingServiceBus(missing=("gone",))
    driver = AzureDriver(clients={"servicebus": bus})
    with pytest.raises(OutputTargetNotFound) as e:
        driver.publish("gone", b"x", {}, None)
    assert (e.value.provider, e.value.service, e.value.resource) == (
        "azure",
        "service bus topic",
        "gone",
    )
    with pytest.raises(OutputTargetNotFound):
        driver.publish("gone", b"x", {}, None)
    assert len(bus.senders) == 2  # the dead link was closed, not kept
    assert bus.senders[0].closed


def test_service_bus_connection_comes_from_its_app_setting(monkeypatch) -> None:
    from azure.servicebus import ServiceBusClient

    monkeypatch.delenv("ServiceBusConnection", raising=False)
    with pytest.raises(AzureOutputError, match="'ServiceBusConnection'"):
        AzureDriver().publish("t", b"x", {}, None)
    monkeypatch.setenv(
        "ServiceBusConnection",
        "Endpoint=sb://polyfn-test.servicebus.windows.net/;SharedAccessKeyName=send;"
        "SharedAccessKey=c2VjcmV0",
    )
    client = AzureDriver()._client("servicebus")  # building opens no connection
    assert isinstance(client, ServiceBusClient)
    assert client.fully_qualified_namespace == "polyfn-test.servicebus.windows.net"


# -- Event Grid (recording client) --------------------------------------------------------------
class RecordingEventGrid:
    def __init__(self) -> None:
        self.sent: list[Any] = []

    def send(self, events: Any) -> None:
        self.sent.append(events)


def test_emit_publishes_the_neutral_event_as_a_cloud_event() -> None:
    from azure.core.messaging import CloudEvent as AzureCloudEvent

    grid = RecordingEventGrid()
    event = CloudEvent(
        "e-1",
        "/shop/orders",
        "shop.order.placed",
        {"id": "o-1"},
        subject="orders/o-1",
        time=datetime(2026, 11, 27, 12, 0, tzinfo=UTC),
        datacontenttype="application/json",
        dataschema="https://example.com/order.json",
        extensions={"tenant": "acme"},
    )
    assert outputs(AzureDriver(clients={"eventgrid": grid})).emit(event) == "e-1"
    (native,) = grid.sent
    assert isinstance(native, AzureCloudEvent)
    assert (native.id, native.source, native.type, native.specversion) == (
        "e-1",
        "/shop/orders",
        "shop.order.placed",
        "1.0",
    )
    assert native.subject == "orders/o-1"
    assert native.time == datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    assert native.datacontenttype == "application/json"
    assert native.dataschema == "https://example.com/order.json"
    assert native.data == {"id": "o-1"}
    assert user_attributes(native.extensions) == {"tenant": "acme"}


def test_emit_keeps_an_absent_time_absent_and_uses_the_named_bus() -> None:
    grid, other = RecordingEventGrid(), RecordingEventGrid()
    driver = AzureDriver(clients={"eventgrid": grid, "eventgrid:Audit": other})
    driver.emit(CloudEvent("e-2", "s", "t"), "Audit")
    assert grid.sent == []
    (native,) = other.sent
    assert native.time is None and native.extensions is None and native.data is None


def test_extension_names_cloudevents_forbids_are_refused() -> None:
    grid = RecordingEventGrid()
    event = CloudEvent("e-3", "s", "t", extensions={"aws.account": "1"})
    with pytest.raises(AzureOutputError, match=r"aws\.account") as e:
        AzureDriver(clients={"eventgrid": grid}).emit(event, None)
    assert (e.value.provider, e.value.service) == ("azure", "event grid topic")
    assert grid.sent == []


def test_event_grid_client_comes_from_the_endpoint_and_key_settings(monkeypatch) -> None:
    from azure.eventgrid import EventGridPublisherClient

    monkeypatch.delenv("EventGridTopicKey", raising=False)
    monkeypatch.setenv(
        "EventGridTopicEndpoint", "https://t.westeurope-1.eventgrid.azure.net/api/events"
    )
    with pytest.raises(AzureOutputError, match="'EventGridTopicKey'"):
        AzureDriver().emit(CloudEvent("e", "s", "t"), None)
    monkeypatch.setenv("EventGridTopicKey", "a2V5")
    assert isinstance(AzureDriver()._client("eventgrid"), EventGridPublisherClient)
    monkeypatch.setenv("AuditEndpoint", "https://a.westeurope-1.eventgrid.azure.net/api/events")
    monkeypatch.setenv("AuditKey", "a2V5")
    assert isinstance(AzureDriver()._client("eventgrid", "Audit"), EventGridPublisherClient)


def test_missing_azure_eventgrid_package_is_named(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "azure.eventgrid", None)  # import now raises ImportError
    with pytest.raises(PolyfnError, match="azure-eventgrid package"):
        AzureDriver().emit(CloudEvent("e", "s", "t"), None)


# -- cold start ---------------------------------------------------------------------------------
def test_importing_the_driver_loads_no_azure_sdk() -> None:
    code = (
        "import sys; from polyfn.adapters.azure.outputs import AzureDriver; AzureDriver(); "
        "print(sorted(m for m in sys.modules if m.startswith('azure')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    # azure.functions may be loaded by the adapter package (the worker has it anyway).
    sdk = [m for m in json.loads(out.replace("'", '"')) if not m.startswith("azure.functions")]
    assert sdk in ([], ["azure"])


# -- identity-based connections -----------------------------------------------------------------
class FakeTokenCredential:
    def get_token(self, *scopes: str, **kw: Any) -> Any:
        raise AssertionError("building a client must not ask for a token")


def test_identity_based_connections_use_the_setting_prefix(monkeypatch) -> None:
    monkeypatch.delenv("AzureWebJobsStorage", raising=False)
    monkeypatch.delenv("ServiceBusConnection", raising=False)
    monkeypatch.setenv("AzureWebJobsStorage__accountName", "polyfnacct")
    monkeypatch.setenv("AzureWebJobsStorage__blobServiceUri", "https://blobs.example.net")
    monkeypatch.setenv("ServiceBusConnection__fullyQualifiedNamespace", "ns.servicebus.windows.net")
    credential = FakeTokenCredential()
    driver = AzureDriver(credential=credential)
    queues = driver._client("queue")
    assert queues.url.startswith("https://polyfnacct.queue.core.windows.net")
    assert queues.credential is credential
    assert driver._client("blob").url.startswith("https://blobs.example.net")
    assert driver._client("servicebus").fully_qualified_namespace == "ns.servicebus.windows.net"


def test_identity_based_connections_without_azure_identity_say_so(monkeypatch) -> None:
    monkeypatch.delenv("AzureWebJobsStorage", raising=False)
    monkeypatch.setenv("AzureWebJobsStorage__accountName", "polyfnacct")
    monkeypatch.setitem(sys.modules, "azure.identity", None)
    with pytest.raises(PolyfnError, match="azure-identity package"):
        AzureDriver().send("orders", b"x", {}, None, None, 0)
