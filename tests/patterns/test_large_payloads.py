"""Claim check (polyfn.patterns.claim_check): large bodies through a bucket, referenced by
the CloudEvents ``dataref`` extension
(https://github.com/cloudevents/spec/blob/main/cloudevents/extensions/dataref.md).

Round trips on the local runtime under each provider's adapter, and the drivers' ``get``
against the real services' emulators: S3 on moto's server, Blob Storage on Azurite, Cloud
Storage on gcp-storage-emulator (each with the official SDK client).

Limits relied on: SQS 256 KiB default maximum message size
(https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html),
Queue Storage 64 KiB as stored, base64 by default
(https://learn.microsoft.com/en-us/azure/storage/queues/storage-queues-introduction),
Pub/Sub 10 MB (https://cloud.google.com/pubsub/quotas).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from polyfn import App
from polyfn.context import Context
from polyfn.events.cloudevent import CloudEvent
from polyfn.events.messages import QueueMessage
from polyfn.outputs import Outputs
from polyfn.outputs.memory import MemoryDriver
from polyfn.patterns import (
    large_payload_outputs,
    offload_large_payloads,
    resolve_large_payloads,
)
from polyfn.patterns.claim_check import (
    DATAREF,
    SCHEMES,
    ClaimCheckError,
    dataref_uri,
    limit,
    parse_dataref,
    resolved,
)
from tests.e2e.azure.conftest import Azurite, azurite  # noqa: F401 - the session fixture
from tests.e2e.conftest import moto_endpoint  # noqa: F401 - the session fixture
from tests.e2e.gcp.conftest import storage_emulator  # noqa: F401 - the session fixture

BUCKET = "payloads"
RECEIVED: list[Any] = []
PAYLOAD: dict[str, Any] = {}


@pytest.fixture
def polyfn_app() -> App:
    RECEIVED.clear()
    app = App("claims")

    @app.queue("produce")
    @offload_large_payloads(BUCKET, threshold=4096)
    def produce(msg: Any, ctx: Any) -> None:
        what = msg.text
        body = PAYLOAD["body"]
        if what == "send":
            ctx.outputs.send("big", body, attributes={"kind": "blob"})
        elif what == "publish":
            ctx.outputs.publish("news", body, attributes={"kind": "blob"})
        elif what == "emit":
            ctx.outputs.emit(CloudEvent(str(uuid.uuid4()), "claims", "claims.big", PAYLOAD["data"]))

    @app.queue("produce-default")
    @offload_large_payloads(BUCKET)  # the provider's own limit
    def produce_default(msg: Any, ctx: Any) -> None:
        ctx.outputs.send("big", PAYLOAD["body"])

    @app.queue("big")
    @resolve_large_payloads
    def consume(msg: Any) -> None:
        RECEIVED.append(("queue", msg.body, dict(msg.attributes)))

    @app.topic("news")
    @resolve_large_payloads
    def listen(msg: Any, ctx: Any) -> None:
        RECEIVED.append(("topic", msg.body, dict(msg.attributes)))

    @app.event(source="claims", type="claims.big")
    @resolve_large_payloads
    def on_event(event: Any) -> None:
        RECEIVED.append(("event", event.data, dict(event.extensions)))

    return app


def _key(data: bytes) -> str:
    return f"polyfn-payloads/{hashlib.sha256(data).hexdigest()}"


@pytest.mark.polyfn_providers
@pytest.mark.parametrize("kind", ["send", "publish"])
def test_large_message_round_trip_preserves_the_bytes(polyfn: Any, kind: str) -> None:
    body = os.urandom(300 * 1024)  # binary, and over every service's limit but Pub/Sub's
    PAYLOAD["body"] = body
    polyfn.send("produce", kind)
    polyfn.idle()
    ((where, got, attributes),) = RECEIVED
    assert where == ("queue" if kind == "send" else "topic")
    assert got == body
    assert DATAREF not in attributes
    if polyfn.provider != "azure" or kind == "publish":  # Queue Storage has no attributes
        assert attributes["kind"] == "blob"
    assert polyfn.objects(BUCKET) == {_key(body): body}
    # What travelled was the small stub, the reference in the dataref attribute.
    (message,) = polyfn.sent("big") if kind == "send" else polyfn.published("news")
    assert len(message.body) < 300
    stub = json.loads(message.body)
    assert stub["size"] == len(body) and stub["sha256"] == hashlib.sha256(body).hexdigest()
    # On a provider's path the reference is in that provider's form (the local runtime
    # stands in for its object store).
    scheme = SCHEMES[polyfn.provider or "local"]
    assert message.attributes[DATAREF] == stub["dataref"] == f"{scheme}://{BUCKET}/{_key(body)}"


@pytest.mark.polyfn_providers
def test_large_cloudevent_round_trip(polyfn: Any) -> None:
    data = {"rows": [{"n": i, "text": "é" * 20} for i in range(400)]}
    PAYLOAD["data"] = data
    polyfn.send("produce", "emit")
    polyfn.idle()
    ((where, got, extensions),) = RECEIVED
    assert where == "event" and got == data
    scheme = SCHEMES[polyfn.provider or "local"]
    assert extensions[DATAREF].startswith(f"{scheme}://{BUCKET}/polyfn-payloads/")
    (emitted,) = polyfn.emitted("claims")
    assert emitted.extensions[DATAREF] == extensions[DATAREF]
    assert emitted.data["size"] == len(
        json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    )


@pytest.mark.polyfn_providers
def test_small_payload_is_untouched(polyfn: Any) -> None:
    PAYLOAD["body"] = b'{"small": true}'
    polyfn.send("produce", "send")
    polyfn.idle()
    ((_, got, attributes),) = RECEIVED
    assert got == b'{"small": true}'
    assert DATAREF not in attributes
    (message,) = polyfn.sent("big")
    assert message.body == b'{"small": true}' and DATAREF not in message.attributes
    assert polyfn.objects(BUCKET) == {}


@pytest.mark.polyfn_providers
def test_default_threshold_is_the_providers_limit(polyfn: Any) -> None:
    """100 KiB: over Queue Storage's limit (Azure), under SQS's and Pub/Sub's."""
    body = b"x" * (100 * 1024)
    PAYLOAD["body"] = body
    polyfn.send("produce-default", "go")
    polyfn.idle()
    ((_, got, _),) = RECEIVED
    assert got == body
    offloaded = polyfn.objects(BUCKET) != {}
    assert offloaded == (polyfn.provider == "azure")


# -- pieces -----------------------------------------------------------------------------------
def test_dataref_forms() -> None:
    assert dataref_uri("aws", "b", "k/1") == "s3://b/k/1"
    assert dataref_uri("gcp", "b", "k") == "gs://b/k"
    assert dataref_uri("azure", "c", "a b") == "az://c/a%20b"
    assert dataref_uri(None, "b", "k") == "polyfn://b/k"
    for uri in ("s3://b/k/1", "gs://b/k/1", "az://b/k/1", "polyfn://b/k/1"):
        assert parse_dataref(uri) == ("b", "k/1")
    assert parse_dataref("https://acct.blob.core.windows.net/c/a%20b") == ("c", "a b")
    with pytest.raises(ValueError):
        parse_dataref("ftp://x/y")
    assert limit("azure", "send") < limit("aws", "send") < limit("gcp", "send")


def _memory_ctx(provider: str = "local") -> tuple[Context, MemoryDriver]:
    driver = MemoryDriver()
    return Context("f", "i", provider, outputs=Outputs(driver)), driver


def test_wrapped_outputs_keep_ids_and_options() -> None:
    ctx, driver = _memory_ctx()
    out = large_payload_outputs(ctx.outputs, BUCKET, threshold=10, provider="aws")
    out.send("q", b"0123456789abc", attributes={"a": "1"}, group_id="g", deduplication_id="d")
    put, sent = driver.sent
    assert put.kind == "put" and put.body == b"0123456789abc"
    assert sent.options["group_id"] == "g" and sent.options["deduplication_id"] == "d"
    assert sent.options["attributes"]["a"] == "1"
    assert sent.options["attributes"][DATAREF].startswith("s3://payloads/polyfn-payloads/")


def test_the_handler_gets_the_real_context_with_offloading_outputs() -> None:
    ctx, driver = _memory_ctx()
    real = ctx.outputs
    seen: list[Any] = []

    @offload_large_payloads(BUCKET, threshold=4)
    def handler(msg: Any, c: Any) -> None:
        seen.append((c, c.outputs))
        c.outputs.send("q", b"more than four bytes")
        if msg.body == b"boom":
            raise RuntimeError("boom")

    handler(QueueMessage("m", b"ok"), ctx)
    ((got, outputs),) = seen
    assert got is ctx and isinstance(got, Context)  # no proxy: the invocation's Context
    assert outputs is not real and ctx.outputs is real  # swapped for the call, restored
    put, sent = driver.sent
    assert put.kind == "put" and sent.options["attributes"][DATAREF].startswith("polyfn://")
    with pytest.raises(RuntimeError, match="boom"):
        handler(QueueMessage("m", b"boom"), ctx)
    assert ctx.outputs is real  # restored after a failure too


async def _async_produce(msg: Any, c: Any) -> bool:
    return isinstance(c, Context) and c.outputs.limit("send") == 4


def test_async_handlers_get_the_real_context_too() -> None:
    import asyncio

    ctx, _ = _memory_ctx()
    real = ctx.outputs
    handler = offload_large_payloads(BUCKET, threshold=4)(_async_produce)
    assert asyncio.run(handler(QueueMessage("m", b"x"), ctx)) is True
    assert ctx.outputs is real


def test_a_tampered_object_is_refused() -> None:
    ctx, driver = _memory_ctx()
    large_payload_outputs(ctx.outputs, BUCKET, threshold=1).send("q", b"original")
    stub = driver.sent[-1]
    driver.put(BUCKET, _key(b"original"), b"tampered", None, {})
    msg = QueueMessage("m", stub.body, attributes=stub.options["attributes"])
    with pytest.raises(ClaimCheckError, match="does not match the sha256"):
        resolved(msg, ctx)


def test_a_missing_object_names_the_reference() -> None:
    ctx, _ = _memory_ctx()
    msg = QueueMessage("m", b"{}", attributes={DATAREF: "polyfn://payloads/gone"})
    with pytest.raises(ClaimCheckError) as e:
        resolved(msg, ctx)
    assert "local local:queue event: dataref 'polyfn://payloads/gone'" in str(e.value)


# -- the drivers' get, against the emulators ---------------------------------------------------
def _round_trip_through(outputs: Outputs, provider: str, bucket: str) -> None:
    """put/get bytes exactly, and a claim-check stub resolved through the same driver."""
    data = os.urandom(70 * 1024)
    outputs.put(bucket, "raw/obj.bin", data)
    assert outputs.get(bucket, "raw/obj.bin") == data
    memory = MemoryDriver()
    large_payload_outputs(
        Outputs(_Splice(memory, outputs.driver)), bucket, threshold=1024, provider=provider
    ).send("q", data)
    stub = memory.sent[-1]
    ctx = Context("f", "i", provider, outputs=outputs)
    # The stub body alone (as Queue Storage delivers it, without attributes) resolves too.
    for attributes in (stub.options["attributes"], {}):
        msg = QueueMessage("m", stub.body, attributes=attributes, provider=provider)
        assert resolved(msg, ctx).body == data


class _Splice:
    """Objects to the real driver, messages to memory."""

    def __init__(self, messages: MemoryDriver, objects: Any) -> None:
        self.messages = messages
        self.objects = objects

    def send(self, *args: Any) -> str:
        return self.messages.send(*args)

    def put(self, *args: Any) -> Any:
        return self.objects.put(*args)


@pytest.fixture
def s3(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Outputs]:  # noqa: F811
    boto3 = pytest.importorskip("boto3")
    from polyfn.adapters.aws.outputs import AwsDriver

    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    session = boto3.session.Session(
        region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    session.client("s3").create_bucket(Bucket="claims")
    yield Outputs(AwsDriver(session=session))


def test_aws_driver_get_on_moto_s3(s3: Outputs) -> None:
    _round_trip_through(s3, "aws", "claims")
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError, match="NoSuchKey"):
        s3.get("claims", "missing")


def test_azure_driver_get_on_azurite(
    azurite: Azurite,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from polyfn.adapters.azure.outputs import AzureDriver, OutputTargetNotFound

    monkeypatch.setenv("AzureWebJobsStorage", azurite.connection_string)
    container = azurite.new_container()
    out = Outputs(AzureDriver())
    _round_trip_through(out, "azure", container)
    with pytest.raises(OutputTargetNotFound, match="blob does not exist"):
        out.get(container, "missing")


def test_azure_queue_storage_round_trip_on_azurite(
    azurite: Azurite,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Queue Storage drops attributes: the stub body carries the reference."""
    from polyfn.adapters.azure.outputs import AzureDriver

    monkeypatch.setenv("AzureWebJobsStorage", azurite.connection_string)
    container, queue = azurite.new_container(), azurite.new_queue()
    out = Outputs(AzureDriver())
    body = os.urandom(200 * 1024)  # over the 64 KiB a Storage queue message may be
    large_payload_outputs(out, container, provider="azure").send(queue, body)
    (raw,) = azurite.queue_service().get_queue_client(queue).receive_messages(max_messages=1)
    msg = QueueMessage(raw.id, base64.b64decode(raw.content), provider="azure")
    got = resolved(msg, Context("f", "i", "azure", outputs=out))
    assert got.body == body and got.extensions[DATAREF].startswith(f"az://{container}/")


def test_gcp_driver_get_on_the_storage_emulator(
    storage_emulator: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    from polyfn.adapters.gcp.outputs import GcpDriver, OutputTargetNotFound

    monkeypatch.setenv("STORAGE_EMULATOR_HOST", storage_emulator)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "polyfn-e2e")
    client = storage.Client(project="polyfn-e2e", credentials=AnonymousCredentials())
    bucket = f"claims-{uuid.uuid4().hex[:8]}"
    client.create_bucket(bucket)
    driver = GcpDriver()
    try:
        out = Outputs(driver)
        _round_trip_through(out, "gcp", bucket)
        with pytest.raises(OutputTargetNotFound, match="object does not exist"):
            out.get(bucket, "missing")
    finally:
        driver.close()
