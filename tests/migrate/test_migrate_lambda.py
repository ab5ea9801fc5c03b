"""Lambda handlers (SQS with batchItemFailures, API Gateway v2) running on Azure and Google
Cloud through polyfn.migrate.from_lambda, fed the official sample payloads."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import azure.functions as func
import pytest

from polyfn import App, Context
from polyfn.adapters.azure import AzureOptions, function_app
from polyfn.adapters.azure.worker import Worker, WorkerContext
from polyfn.dispatch import IN_ORDER, UNORDERED, run_batch
from polyfn.errors import HandlerError
from polyfn.migrate import from_lambda
from polyfn.outputs import Outputs
from polyfn.outputs.memory import MemoryDriver
from tests.migrate.migrate_apps import (
    FAIL_WHEN,
    SEEN,
    aws_sample,
    azure_payloads,
    gcp_sample,
    lambda_app,
)

QUEUE_ID = "6f1c7a8e-3b0d-4e51-9a7c-2d5e8f4b1a90"  # tests/events/azure/queue__host__message.json


def _worker(app: App, **options) -> Worker:
    outputs = Outputs(MemoryDriver())
    return Worker(function_app(app, AzureOptions(**options), outputs=outputs))


def _lambda_events(name: str) -> list[dict]:
    return [event for who, event, _ in SEEN if who == name]


# -- SQS handler on Azure Queue Storage ----------------------------------------------------
def test_sqs_handler_runs_on_azure_queue_storage_with_the_host_payload():
    inv, _ = azure_payloads().invocation("queue__host__message.json")
    worker = _worker(lambda_app)
    worker.invoke("process_orders", inv, context=WorkerContext("process_orders", "inv-42"))
    ((_, event, context),) = [s for s in SEEN if s[0] == "process_orders"]
    (record,) = event["Records"]
    # What survives from the Azure message into the SQS record it is rendered as:
    assert record["messageId"] == QUEUE_ID
    assert record["body"] == '{"orderId":"ord-1001","amount":42.5}'
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"].endswith(":orders")  # the binding's queueName
    assert record["attributes"]["ApproximateReceiveCount"] == "1"  # DequeueCount
    sent = datetime(2024, 5, 1, 9, 30, 12, tzinfo=UTC)  # InsertionTime
    assert record["attributes"]["SentTimestamp"] == str(int(sent.timestamp() * 1000))
    assert record["messageAttributes"] == {}  # Queue Storage has no message attributes
    # The Lambda context is built from the neutral one.
    assert context.aws_request_id == "inv-42"
    assert context.function_name == "process_orders"
    assert context.invoked_function_arn.endswith(":function:process_orders")
    assert context.log_group_name == "/aws/lambda/process_orders"
    assert 0 < context.get_remaining_time_in_millis() <= 900_000


def test_a_reported_sqs_failure_fails_the_azure_invocation_of_that_message():
    FAIL_WHEN.add("ord-1001")
    inv, _ = azure_payloads().invocation("queue__host__message.json")
    with pytest.raises(HandlerError) as failed:
        _worker(lambda_app).invoke("process_orders", inv)
    assert QUEUE_ID in str(failed.value)  # the host retries, then poisons, this message


def test_sqs_handler_runs_per_message_on_azure_service_bus():
    inv, _ = azure_payloads().invocation("servicebus__library__single.json")
    worker = _worker(lambda_app, queue_service="servicebus")
    worker.invoke("process_sb_orders", inv)
    (record,) = _lambda_events("process_orders")[0]["Records"]
    assert record["messageId"] == "abcee18397398d93891830a0aac89eed"
    assert json.loads(record["body"]) == {"lucky_number": 23}
    assert record["attributes"]["ApproximateReceiveCount"] == "571"  # DeliveryCount
    # The message's SessionId is its group: the record is rendered from a FIFO queue.
    assert record["attributes"]["MessageGroupId"] == "mocked_session_id"
    assert record["eventSourceARN"].endswith(":testqueue.fifo")
    FAIL_WHEN.add("lucky_number")
    with pytest.raises(HandlerError, match="abcee18397398d93891830a0aac89eed"):
        worker.invoke("process_sb_orders", inv)


# -- SQS handler on Google Cloud (functions-framework, Pub/Sub CloudEvent) -----------------------
def _gcp_client(tmp_path, target: str):
    main = tmp_path / "main.py"
    main.write_text(
        "from tests.migrate.migrate_apps import lambda_app\n"
        "from polyfn.adapters.gcp import targets\n"
        "from polyfn.outputs import Outputs\n"
        "from polyfn.outputs.memory import MemoryDriver\n"
        "globals().update(targets(lambda_app, outputs=Outputs(MemoryDriver())))\n",
        encoding="utf-8",
    )
    import functions_framework

    # No cookie jar: the client would replace the request's own Cookie header with it.
    return functions_framework.create_app(target, str(main)).test_client(use_cookies=False)


def test_sqs_handler_runs_on_gcp_pubsub_and_a_reported_failure_nacks(tmp_path):
    sample = gcp_sample("pubsub__google-cloudevents__structured-MessagePublishedData.json")
    client = _gcp_client(tmp_path, "process_orders")
    headers = {"content-type": "application/cloudevents+json"}
    answer = client.post("/", data=json.dumps(sample), headers=headers)
    assert answer.status_code == 200
    (record,) = _lambda_events("process_orders")[0]["Records"]
    message = sample["data"]["message"]
    assert record["messageId"] == message["messageId"]
    assert record["body"] == "test message 3"  # base64-decoded data
    assert record["messageAttributes"]["attr1"]["stringValue"] == "attr1-value"
    assert record["attributes"]["MessageGroupId"] == "ordering-key"  # orderingKey
    # The queue is the topic of the CloudEvent's source; an ordering key makes it FIFO.
    assert record["eventSourceARN"].endswith(":my-topic.fifo")
    FAIL_WHEN.add("test message 3")
    answer = client.post("/", data=json.dumps(sample), headers=headers)
    assert answer.status_code == 500  # nack: Pub/Sub redelivers it


# -- batches: the failed record is the right one ------------------------------------------------
def _batch_fn(handler, *, source=None):
    app = App("batch")
    app.queue("q", batch=True)(from_lambda(handler, source=source))
    return app.function(handler.__name__)


def _ctx() -> Context:
    return Context("fn", "inv-1", "azure", deadline=None)


def test_batch_item_failures_map_back_to_the_neutral_ids_of_an_event_hubs_batch():
    payloads = azure_payloads()
    obj, binding = payloads.native("eventhub__host__batch.json")
    from polyfn.adapters.azure import from_native

    events = from_native(obj, binding)
    assert len(events) >= 2
    seen = []

    def sqs_handler(event, context):
        seen.append(event)
        return {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]}

    outcome = run_batch(_batch_fn(sqs_handler), events, _ctx(), UNORDERED)
    assert outcome.failed_ids == [events[1].id]
    assert len(seen) == 1 and len(seen[0]["Records"]) == len(events)  # ONE Lambda event
    assert [r["body"] for r in seen[0]["Records"]] == [e.body.decode() for e in events]


def test_a_kinesis_handler_fails_every_record_from_the_checkpoint_on():
    payloads = azure_payloads()
    obj, binding = payloads.native("eventhub__host__batch.json")
    from polyfn.adapters.azure import from_native

    events = from_native(obj, binding)

    def kinesis_handler(event, context):
        second = event["Records"][1]["kinesis"]["sequenceNumber"]
        return {"batchItemFailures": [{"itemIdentifier": second}]}

    outcome = run_batch(_batch_fn(kinesis_handler, source="kinesis"), events, _ctx(), IN_ORDER)
    assert outcome.failed_ids == [e.id for e in events[1:]]


def test_an_unknown_item_identifier_fails_the_whole_batch():
    events = _sqs_events()

    def confused(event, context):
        return {"batchItemFailures": [{"itemIdentifier": "not-in-this-batch"}]}

    outcome = run_batch(_batch_fn(confused), events, _ctx())
    assert outcome.failed_ids == [e.id for e in events]


def test_a_raising_lambda_handler_fails_the_batch_and_a_per_record_one_retries_alone():
    events = _sqs_events()

    def broken(event, context):
        raise RuntimeError("down")

    outcome = run_batch(_batch_fn(broken), events, _ctx())
    assert outcome.failed_ids == [e.id for e in events]

    app = App("per-record")
    app.queue("q")(from_lambda(lambda_single := _reject_second(events)))
    outcome = run_batch(app.function(lambda_single.__name__), events, _ctx())
    assert outcome.failed_ids == [events[1].id]


def _reject_second(events):
    def reject_second(event, context):
        (record,) = event["Records"]  # per-record registration: one record per event
        bad = record["messageId"] == events[1].id
        return {"batchItemFailures": [{"itemIdentifier": record["messageId"]}] if bad else []}

    return reject_second


def _sqs_events():
    from polyfn.adapters.aws import from_native

    return from_native(aws_sample("sqs__powertools__sqsEvent.json"))


# -- API Gateway v2 handler on Azure HTTP and Google Cloud HTTP ------------------------------------
V2_SAMPLE = "apigw_v2__powertools__apiGatewayProxyV2Event.json"
# Fields of the API Gateway event that do not survive a trip through another cloud's HTTP
# trigger, and why:
NOT_SURVIVING = {
    "routeKey": "the HTTP API's route ($default); the app's route is used instead",
    "requestContext.requestId": "a new invocation: the id of the host's request",
    "requestContext.time": "the time of the new request",
    "requestContext.timeEpoch": "the time of the new request",
    "requestContext.apiId": "the API Gateway API: none elsewhere",
    "requestContext.domainName": "API Gateway's domain; the other cloud's host differs",
    "requestContext.authorizer": "the JWT authorizer ran in API Gateway, not in the host",
    "requestContext.authentication": "mutual TLS is terminated by API Gateway",
    "requestContext.http.userAgent": "the sample's userAgent is not a User-Agent header",
    "requestContext.domainPrefix": "API Gateway's domain; the other cloud's host differs",
    "stageVariables": "an API Gateway stage has them; other clouds have app settings",
}


# requestContext.accountId is rendered as polyfn's placeholder account (123456789012),
# which happens to be the sample's: it does not survive either, by luck it looks as if.


def _assert_surviving(rendered: dict, original: dict, *, forwarded: bool = True) -> None:
    assert rendered["version"] == "2.0"
    assert rendered["rawPath"] == original["rawPath"]
    assert rendered["rawQueryString"] == original["rawQueryString"]
    assert rendered["queryStringParameters"] == original["queryStringParameters"]
    # A cookie without "=" ("cookie1") comes back as "cookie1=": the Cookie header other
    # clouds deliver cannot tell the two apart.
    assert rendered["cookies"] == [f"{c}=" for c in original["cookies"]]
    for name, value in original["headers"].items():
        assert rendered["headers"][name.lower()] == value
    assert rendered["body"] == original["body"]
    assert rendered["isBase64Encoded"] is False
    assert rendered["requestContext"]["http"]["method"] == "POST"
    assert rendered["requestContext"]["http"]["path"] == original["rawPath"]
    if forwarded:  # the client address travels as X-Forwarded-For and comes back
        ip = original["requestContext"]["http"]["sourceIp"]
        assert rendered["requestContext"]["http"]["sourceIp"] == ip


def test_api_gateway_v2_handler_answers_through_azure_http():
    from polyfn.adapters.aws import from_native

    sample = aws_sample(V2_SAMPLE)
    worker = _worker(lambda_app)
    response = worker.invoke("api_handler", from_native(sample))
    assert isinstance(response, func.HttpResponse)
    assert response.status_code == 201
    assert response.headers["x-order"] == "o-1"
    assert response.headers["content-type"] == "application/json"
    cookies = [v for k, v in response.headers.items() if k.lower() == "set-cookie"]
    assert sorted(cookies) == ["session=abc; Path=/; HttpOnly", "theme=dark"]
    assert json.loads(response.get_body()) == {"path": "/my/path", "body": sample["body"]}
    _assert_surviving(_lambda_events("api_handler")[0], sample)


def test_api_gateway_v2_handler_answers_through_gcp_http(tmp_path):
    from polyfn.adapters.aws import from_native
    from polyfn.adapters.gcp.sources.http import environ

    sample = aws_sample(V2_SAMPLE)
    client = _gcp_client(tmp_path, "api_handler")
    response = client.open(environ(from_native(sample)))
    assert response.status_code == 201
    assert response.headers["x-order"] == "o-1"
    assert response.headers["content-type"] == "application/json"
    assert sorted(response.headers.getlist("Set-Cookie")) == sorted(
        ["session=abc; Path=/; HttpOnly", "theme=dark"]
    )
    assert json.loads(response.get_data()) == {"path": "/my/path", "body": sample["body"]}
    # werkzeug's test client sets REMOTE_ADDR itself (Google's front end would send
    # X-Forwarded-For): the peer address is the client's here.
    _assert_surviving(_lambda_events("api_handler")[0], sample, forwarded=False)


def test_the_not_surviving_fields_really_differ_from_the_sample():
    """Keeps NOT_SURVIVING honest: each listed field is absent or changed after Azure."""
    from polyfn.adapters.aws import from_native

    sample = aws_sample(V2_SAMPLE)
    _worker(lambda_app).invoke("api_handler", from_native(sample))
    rendered = _lambda_events("api_handler")[0]
    for dotted in NOT_SURVIVING:
        got, want = rendered, sample
        for part in dotted.split("."):
            got = got.get(part) if isinstance(got, dict) else None
            want = want.get(part) if isinstance(want, dict) else None
        assert got != want, dotted
