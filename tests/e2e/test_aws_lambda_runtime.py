"""The sample app as Lambda functions, end to end: each function runs in the official
runtime interface client (awslambdaric) against the Runtime API served by the test, with
``polyfn.adapters.aws.lambda_handler`` as the handler; its outputs go through boto3 to
moto's server, where the tests look for them.

Events are rendered from neutral events with ``to_native`` (or, for SQS, from the real
messages that moto holds), as API Gateway, SQS, SNS and S3 would deliver them.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from polyfn import HttpRequest, QueueMessage, StorageEvent, TopicMessage
from polyfn.adapters.aws import to_native
from polyfn.testing import without_trace

from .conftest import (
    ACCOUNT,
    EVENTS_TOPIC,
    ORDERS_QUEUE,
    PROBE_APP,
    RECEIPTS_BUCKET,
    REGION,
    MotoAws,
)

pytestmark = pytest.mark.e2e

ITEMS = [{"sku": "book", "price": 12.5, "qty": 2}, {"sku": "pen", "price": 1.25}]
TOTAL = 26.25


def http_event(method: str, path: str, body: Any = None, **kw: Any) -> dict[str, Any]:
    data = b"" if body is None else json.dumps(body).encode()
    headers = {"content-type": "application/json"} if body is not None else {}
    request = HttpRequest(method, path, body=data, headers=headers, **kw)
    return to_native(request, source="apigateway-v2")


def http_body(response: dict[str, Any]) -> Any:
    raw = response["body"]
    if response.get("isBase64Encoded"):
        raw = base64.b64decode(raw).decode()
    return json.loads(raw)


def sqs_event(received: list[dict[str, Any]]) -> dict[str, Any]:
    """The Lambda SQS event for messages received from moto, as the event source
    mapping would deliver them."""
    messages = [
        QueueMessage(
            m["MessageId"],
            m["Body"],
            attributes={k: v["StringValue"] for k, v in m.get("MessageAttributes", {}).items()},
            delivery_count=int(m["Attributes"]["ApproximateReceiveCount"]),
            enqueued_at=datetime.fromtimestamp(int(m["Attributes"]["SentTimestamp"]) / 1000, UTC),
            queue=ORDERS_QUEUE,
        )
        for m in received
    ]
    return to_native(messages, source="sqs")


# -- HTTP API (API Gateway v2) ------------------------------------------------------------------
def test_http_create_order_queues_it_in_sqs(lambda_function, aws: MotoAws) -> None:
    order = {"id": "order-http-1", "items": ITEMS}
    result = lambda_function("create_order").invoke(http_event("POST", "/orders", order))

    response = result.response
    assert response["statusCode"] == 200
    assert response["headers"]["content-type"] == "application/json"
    assert response["isBase64Encoded"] is False
    answer = http_body(response)
    assert answer["id"] == "order-http-1"

    [queued] = aws.receive(aws.orders_queue_url, 1)
    assert queued["MessageId"] == answer["queued_as"]
    assert json.loads(queued["Body"]) == order
    assert without_trace(queued["MessageAttributes"]) == {
        "kind": {"StringValue": "order", "DataType": "String"}
    }


def test_http_order_without_items_is_a_400_and_queues_nothing(
    lambda_function, aws: MotoAws
) -> None:
    result = lambda_function("create_order").invoke(http_event("POST", "/orders", {"id": "x"}))

    response = result.response
    assert response["statusCode"] == 400
    assert http_body(response) == {"error": "an order needs items"}
    assert aws.receive(aws.orders_queue_url, 1, wait_seconds=0) == []


@pytest.mark.parametrize("routed", [False, True], ids=["default-route", "route-key"])
def test_http_get_order_with_path_parameter_and_query(lambda_function, routed: bool) -> None:
    # Behind ``$default`` the path is matched against the app's routes; behind a route
    # ``GET /orders/{id}`` API Gateway itself hands over the path parameters.
    route = {"route": "/orders/{id}", "path_params": {"id": "order-42"}} if routed else {}
    event = http_event("GET", "/orders/order-42", query={"verbose": "1"}, **route)
    assert event["routeKey"] == ("GET /orders/{id}" if routed else "$default")

    response = lambda_function("get_order").invoke(event).response

    assert response["statusCode"] == 200
    assert http_body(response) == {"id": "order-42", "verbose": True}


# -- SQS ---------------------------------------------------------------------------------------
def test_sqs_batch_with_one_bad_order_fails_only_that_one(lambda_function, aws: MotoAws) -> None:
    sqs = aws.client("sqs")
    for i in range(10):
        order = {"id": f"order-{i}", "items": [] if i == 4 else ITEMS}
        sqs.send_message(
            QueueUrl=aws.orders_queue_url,
            MessageBody=json.dumps(order),
            MessageAttributes={"kind": {"DataType": "String", "StringValue": "order"}},
        )
    received = aws.receive(aws.orders_queue_url, 10)
    assert len(received) == 10
    event = sqs_event(received)
    queue_arn = sqs.get_queue_attributes(
        QueueUrl=aws.orders_queue_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    assert {r["eventSourceARN"] for r in event["Records"]} == {queue_arn}
    bad = next(m["MessageId"] for m in received if json.loads(m["Body"])["id"] == "order-4")
    message_of = {json.loads(m["Body"])["id"]: m["MessageId"] for m in received}

    result = lambda_function("process_order").invoke(event)

    assert result.response == {"batchItemFailures": [{"itemIdentifier": bad}]}
    good = sorted(f"order-{i}" for i in range(10) if i != 4)
    # Receipts: one object per good order in moto's bucket.
    assert aws.object_keys(RECEIPTS_BUCKET) == [f"receipts/{o}.json" for o in good]
    s3 = aws.client("s3")
    obj = s3.get_object(Bucket=RECEIPTS_BUCKET, Key="receipts/order-7.json")
    assert obj["ContentType"] == "application/json"
    assert json.loads(obj["Body"].read()) == {
        "order": "order-7",
        "total": TOTAL,
        "message": message_of["order-7"],
    }
    # Announcements: one SNS publish per good order, seen through the subscribed queue.
    notes = [json.loads(m["Body"]) for m in aws.receive(aws.observer_queue_url, 9)]
    assert len(notes) == 9
    assert aws.receive(aws.observer_queue_url, 1, wait_seconds=0) == []  # and no more
    assert sorted(json.loads(n["Message"])["order"] for n in notes) == good
    for note in notes:
        assert note["TopicArn"] == f"arn:aws:sns:{REGION}:{ACCOUNT}:{EVENTS_TOPIC}"
        assert note["Subject"] == "order processed"
        assert note["MessageAttributes"]["event"] == {
            "Type": "String",
            "Value": "order-processed",
        }


# -- SNS ---------------------------------------------------------------------------------------
def sns_event(body: str, attributes: dict[str, str | bytes]) -> dict[str, Any]:
    msg = TopicMessage(
        str(uuid.uuid4()), EVENTS_TOPIC, body, subject="order processed", attributes=attributes
    )
    return to_native(msg, source="sns")


def test_sns_notify_runs_the_handler(lambda_function) -> None:
    runtime = lambda_function("notify")
    receipt = {"order": "order-sns-1", "total": TOTAL}
    result = runtime.invoke(sns_event(json.dumps(receipt), {"event": "order-processed"}))

    assert result.response is None
    # The handler logged the receipt (through awslambdaric's log sink, our subprocess log).
    assert "order processed: {'order': 'order-sns-1'" in runtime.log()


def test_sns_message_outside_the_filter_is_not_handled(lambda_function) -> None:
    runtime = lambda_function("notify")
    event = sns_event(json.dumps({"order": "order-sns-filtered"}), {"event": "order-cancelled"})

    assert runtime.invoke(event).response is None
    assert "order-sns-filtered" not in runtime.log()


def test_sns_handler_failure_is_a_handler_error(lambda_function) -> None:
    # notify parses the message as JSON; this one is not.
    result = lambda_function("notify").invoke(sns_event("not json", {"event": "order-processed"}))

    assert result.error_type == "HandlerError"
    assert "function 'notify' failed on aws aws:sns event" in result.error_message
    assert "JSONDecodeError" in result.error_message


# -- S3 ----------------------------------------------------------------------------------------
def test_s3_object_created_runs_index_receipt(lambda_function) -> None:
    event = to_native(StorageEvent(RECEIPTS_BUCKET, "receipts/a.json", size=12), source="s3")
    assert event["Records"][0]["eventName"].startswith("ObjectCreated:")

    result = lambda_function("index_receipt").invoke(event)

    assert result.response == {"indexed": "receipts/a.json", "size": 12}


def test_whole_app_lambda_routes_each_event_to_its_function(lambda_function) -> None:
    # One Lambda for the whole app (no POLYFN_FUNCTION): the event picks the function.
    runtime = lambda_function("")
    s3_event = to_native(StorageEvent(RECEIPTS_BUCKET, "receipts/b.json", size=3), source="s3")
    assert runtime.invoke(s3_event).response == {"indexed": "receipts/b.json", "size": 3}

    response = runtime.invoke(http_event("GET", "/orders/o-9")).response
    assert http_body(response) == {"id": "o-9", "verbose": False}


# -- bad events and failures -------------------------------------------------------------------
def test_unknown_event_shape_is_an_unsupported_event_error(lambda_function) -> None:
    result = lambda_function("index_receipt").invoke({"hello": "world"})

    assert result.error_type == "UnsupportedEventError"
    assert result.error_message.startswith("aws unknown event: field '(event)': ")
    assert "['hello']" in result.error_message


def test_unsupported_record_source_names_source_and_field(lambda_function) -> None:
    result = lambda_function("process_order").invoke({"Records": [{"eventSource": "aws:kafka"}]})

    assert result.error_type == "UnsupportedEventError"
    assert result.error_message == (
        "aws aws:kafka event: field 'Records[0].eventSource': unsupported event source 'aws:kafka'"
    )


def test_malformed_sns_record_is_a_malformed_event_error(lambda_function) -> None:
    event = sns_event("{}", {"event": "order-processed"})
    del event["Records"][0]["Sns"]["MessageAttributes"]["event"]["Type"]

    result = lambda_function("notify").invoke(event)

    assert result.error_type == "MalformedEventError"
    assert result.error_message == (
        "aws aws:sns event: field 'Records[0].Sns.MessageAttributes.event.Type': missing"
    )


def test_malformed_s3_record_is_a_malformed_event_error(lambda_function) -> None:
    # Without a fixed function the event is routed by bucket and key, before any handler.
    event = to_native(StorageEvent(RECEIPTS_BUCKET, "receipts/c.json"), source="s3")
    del event["Records"][0]["s3"]["object"]["key"]

    result = lambda_function("").invoke(event)

    assert result.error_type == "MalformedEventError"
    assert result.error_message.startswith("aws aws:s3 event: field 'Records[0].s3.object.key'")


def test_unknown_app_is_a_definition_error(lambda_function) -> None:
    result = lambda_function("create_order", app="samples.orders.nosuch:app").invoke({})

    assert result.error_type == "DefinitionError"
    assert "samples.orders.nosuch" in result.error_message


# -- the context -------------------------------------------------------------------------------
def test_deadline_trace_and_request_id_reach_the_handler(lambda_function) -> None:
    runtime = lambda_function("probe", app=PROBE_APP)
    deadline_ms = int(time.time() * 1000) + 30_000
    result = runtime.invoke(
        http_event("GET", "/probe"),
        request_id="req-probe-1",
        deadline_ms=deadline_ms,
        trace_header="Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
    )

    seen = http_body(result.response)
    assert seen["invocation_id"] == "req-probe-1"
    assert seen["function_name"] == "probe"
    assert seen["provider"] == "aws"
    assert seen["region"] == REGION
    assert seen["has_native"] is True
    assert seen["deadline"] == pytest.approx(deadline_ms / 1000, abs=0.001)
    assert 20 < seen["remaining_time"] <= 30
    assert seen["traceparent"] == "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01"

    # The next invocation sees its own values, not the previous ones.
    result = runtime.invoke(
        http_event("GET", "/probe"),
        request_id="req-probe-2",
        deadline_ms=int(time.time() * 1000) + 3_000,
        trace_header="Root=1-5759e988-00000000000000000000abcd;Parent=0000000000000001;Sampled=0",
    )
    seen = http_body(result.response)
    assert seen["invocation_id"] == "req-probe-2"
    assert 0 < seen["remaining_time"] <= 3
    assert seen["traceparent"] == "00-5759e98800000000000000000000abcd-0000000000000001-00"
