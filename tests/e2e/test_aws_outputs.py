"""The boto3 output drivers against moto's server: SQS, SNS, S3 and EventBridge."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from polyfn import CloudEvent, Context
from polyfn.adapters.aws.outputs import AwsDriver
from polyfn.outputs import Outputs
from polyfn.testing import without_trace

from .conftest import OBSERVER_QUEUE, ORDERS_QUEUE, RECEIPTS_BUCKET

pytestmark = pytest.mark.e2e


@pytest.fixture
def ctx(aws, monkeypatch) -> Context:
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws.endpoint)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    return Context("f", "inv", "aws", outputs=Outputs(AwsDriver(session=aws.session)))


def test_send_resolves_queue_names_and_keeps_attributes(aws, ctx):
    mid = ctx.outputs.send(ORDERS_QUEUE, {"id": "o-1"}, attributes={"kind": "order"})
    (msg,) = aws.receive(aws.orders_queue_url, 1)
    assert msg["MessageId"] == mid
    assert json.loads(msg["Body"]) == {"id": "o-1"}
    assert msg["MessageAttributes"]["kind"]["StringValue"] == "order"
    # A queue URL passes through unchanged.
    ctx.outputs.send(aws.orders_queue_url, "plain text")
    assert [m["Body"] for m in aws.receive(aws.orders_queue_url, 1)] == ["plain text"]


def test_send_to_fifo_queue_keeps_group_and_deduplication(aws, ctx):
    url = aws.client("sqs").create_queue(QueueName="work.fifo", Attributes={"FifoQueue": "true"})[
        "QueueUrl"
    ]
    ctx.outputs.send("work.fifo", "a", group_id="g1", deduplication_id="d1")
    ctx.outputs.send("work.fifo", "a again", group_id="g1", deduplication_id="d1")  # deduplicated
    msgs = aws.receive(url, 2, wait_seconds=1)
    assert [m["Body"] for m in msgs] == ["a"]
    assert msgs[0]["Attributes"]["MessageGroupId"] == "g1"


def test_publish_resolves_topic_names_in_the_account(aws, ctx):
    mid = ctx.outputs.publish("order-events", {"n": 1}, attributes={"event": "x"}, subject="s")
    (msg,) = aws.receive(aws.observer_queue_url, 1)
    envelope = json.loads(msg["Body"])  # SNS → SQS delivers the notification JSON
    assert envelope["MessageId"] == mid
    assert envelope["TopicArn"] == aws.topic_arn
    assert (envelope["Subject"], json.loads(envelope["Message"])) == ("s", {"n": 1})
    assert envelope["MessageAttributes"]["event"]["Value"] == "x"


def test_put_stores_the_object_with_type_and_metadata(aws, ctx):
    ctx.outputs.put(
        RECEIPTS_BUCKET,
        "r/1.json",
        {"total": 3},
        content_type="application/json",
        metadata={"order": "o-1"},
    )
    obj = aws.client("s3").get_object(Bucket=RECEIPTS_BUCKET, Key="r/1.json")
    assert json.loads(obj["Body"].read()) == {"total": 3}
    assert obj["ContentType"] == "application/json"
    assert without_trace(obj["Metadata"]) == {"order": "o-1"}


def test_emit_puts_the_event_on_the_bus(aws, ctx):
    events = aws.client("events")
    sqs = aws.client("sqs")
    observer_arn = sqs.get_queue_attributes(
        QueueUrl=aws.observer_queue_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    events.put_rule(Name="placed", EventPattern=json.dumps({"source": ["shop.orders"]}))
    events.put_targets(Rule="placed", Targets=[{"Id": "q", "Arn": observer_arn}])
    event = CloudEvent(
        "e-1",
        "shop.orders",
        "OrderPlaced",
        {"id": "o-1"},
        time=datetime(2026, 11, 27, 12, 0, tzinfo=UTC),
        extensions={"resources": ["arn:aws:shop:::order/o-1"]},
    )
    event_id = ctx.outputs.emit(event)
    (msg,) = aws.receive(aws.observer_queue_url, 1)
    delivered = json.loads(msg["Body"])
    assert delivered["id"] == event_id
    assert (delivered["source"], delivered["detail-type"]) == ("shop.orders", "OrderPlaced")
    assert delivered["detail"] == {"id": "o-1"}
    assert delivered["resources"] == ["arn:aws:shop:::order/o-1"]
    assert OBSERVER_QUEUE in aws.observer_queue_url


def test_neutral_names_resolve_through_the_descriptors_environment(aws, ctx, monkeypatch):
    """The SAM/serverless templates pass each declared output's physical name as
    POLYFN_<KIND>_<NAME> (polyfn.naming): CloudFormation names the queue, not the app."""
    monkeypatch.setenv("POLYFN_QUEUE_NEW_ORDERS", aws.orders_queue_url)
    monkeypatch.setenv("POLYFN_TOPIC_ORDER_NEWS", aws.topic_arn)
    monkeypatch.setenv("POLYFN_BUCKET_RECEIPT_FILES", RECEIPTS_BUCKET)
    ctx.outputs.send("new-orders", "o-9")
    assert [m["Body"] for m in aws.receive(aws.orders_queue_url, 1)] == ["o-9"]
    ctx.outputs.publish("order-news", "n-9")
    (msg,) = aws.receive(aws.observer_queue_url, 1)
    assert json.loads(msg["Body"])["Message"] == "n-9"
    ctx.outputs.put("receipt-files", "r/9.json", {"total": 9})
    obj = aws.client("s3").get_object(Bucket=RECEIPTS_BUCKET, Key="r/9.json")
    assert json.loads(obj["Body"].read()) == {"total": 9}
    assert ctx.outputs.get("receipt-files", "r/9.json") == b'{"total":9}'


def test_w3c_trace_context_round_trips_through_the_x_ray_header():
    from polyfn.observe.trace import w3c_to_xray, xray_to_trace

    parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    header = w3c_to_xray(parent)
    assert header == "Root=1-4bf92f35-77b34da6a3ce929d0e0e4736;Parent=00f067aa0ba902b7;Sampled=1"
    assert xray_to_trace(header).traceparent == parent
    assert w3c_to_xray("nonsense") is None
