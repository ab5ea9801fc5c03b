"""Azure functions and functions-framework functions running on other clouds through
polyfn.migrate.from_azure / from_functions_framework, fed the official sample events."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from polyfn.adapters.aws import from_native, handler
from polyfn.adapters.azure import function_app
from polyfn.adapters.azure.worker import Worker
from polyfn.outputs import Outputs
from polyfn.outputs.memory import MemoryDriver
from tests.migrate.migrate_apps import FAIL_WHEN, SEEN, aws_sample, azure_app, gcp_app

SQS = "sqs__powertools__sqsEvent.json"
V2 = "apigw_v2__powertools__apiGatewayProxyV2Event.json"
MEMORY = Outputs(MemoryDriver())


class _LambdaContext:
    aws_request_id = "req-1"
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:f"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def _seen(name: str) -> list:
    return [s for s in SEEN if s[0] == name]


# -- an Azure queue function on AWS SQS ----------------------------------------------------------
def test_azure_queue_function_runs_on_sqs_and_its_exception_fails_only_its_record():
    sample = aws_sample(SQS)
    FAIL_WHEN.add("foo1")  # the second record's body
    answer = handler(azure_app, "azure_queue", outputs=MEMORY)(sample, _LambdaContext())
    failed = sample["Records"][1]["messageId"]
    assert answer == {"batchItemFailures": [{"itemIdentifier": failed}]}
    msgs = [m for _, m, _ in _seen("azure_queue")]
    # The func.QueueMessage each call got, against the SQS record it came from:
    for msg, record in zip(msgs, sample["Records"], strict=True):
        assert msg.id == record["messageId"]
        assert msg.get_body() == record["body"].encode()
        assert msg.dequeue_count == int(record["attributes"]["ApproximateReceiveCount"])
        sent = datetime.fromtimestamp(int(record["attributes"]["SentTimestamp"]) / 1000, UTC)
        assert msg.insertion_time == sent
    # Not surviving: the SQS receipt handle, md5OfBody, message attributes and the queue
    # ARN (Queue Storage messages carry none of them: its own pop receipt is made up).


def test_v2_function_builder_with_context_runs_on_sqs():
    sample = aws_sample(SQS)
    answer = handler(azure_app, "v2_function", outputs=MEMORY)(sample, _LambdaContext())
    assert answer == {"batchItemFailures": []}
    calls = _seen("azure_queue_v2")
    assert [m.id for _, m, _ in calls] == [r["messageId"] for r in sample["Records"]]
    context = calls[0][2]
    assert context.invocation_id == "req-1"  # the Lambda request id
    assert context.function_name == "v2_function"


# -- a functions-framework HTTP function on AWS and Azure ------------------------------------
def _assert_request_seen(sample: dict) -> None:
    (_, request, _), *_ = _seen("hello")
    assert request["method"] == "POST"
    assert request["path"] == sample["rawPath"]
    assert request["args"] == {"parameter1": ["value1", "value2"], "parameter2": ["value"]}
    assert request["data"] == sample["body"]
    headers = {k.lower(): v for k, v in request["headers"].items()}
    for name, value in sample["headers"].items():
        assert headers[name.lower()] == value
    assert request["cookies"] == {c: "" for c in sample["cookies"]}


def test_functions_framework_http_function_answers_through_api_gateway_v2():
    sample = aws_sample(V2)
    answer = handler(gcp_app, "hello", outputs=MEMORY)(sample, _LambdaContext())
    assert answer["statusCode"] == 202
    assert answer["headers"]["X-Hello"] == "1"
    assert answer["headers"]["Content-Type"] == "application/json"  # Flask's dict → JSON
    assert json.loads(answer["body"]) == {
        "path": "/my/path",
        "parameter1": ["value1", "value2"],
    }
    _assert_request_seen(sample)


def test_functions_framework_http_function_answers_through_azure_http():
    sample = aws_sample(V2)
    worker = Worker(function_app(gcp_app, outputs=MEMORY))
    response = worker.invoke("hello", from_native(sample))
    assert response.status_code == 202
    assert response.headers["x-hello"] == "1"
    assert json.loads(response.get_body())["parameter1"] == ["value1", "value2"]
    _assert_request_seen(sample)


def test_flask_abort_answers_its_status():
    sample = aws_sample(V2)
    sample["rawQueryString"] = "missing=1"
    sample["queryStringParameters"] = {"missing": "1"}
    answer = handler(gcp_app, "hello", outputs=MEMORY)(sample, _LambdaContext())
    assert answer["statusCode"] == 404


# -- a functions-framework CloudEvent function on AWS SQS ----------------------------------------
def test_cloudevent_function_runs_on_sqs_and_a_raise_fails_its_record():
    sample = aws_sample(SQS)
    sample["Records"][0]["eventSourceARN"] = sample["Records"][0]["eventSourceARN"].replace(
        "my-queue", "gcf-test"
    )
    sample["Records"][1]["eventSourceARN"] = sample["Records"][0]["eventSourceARN"]
    FAIL_WHEN.add("foo1")
    answer = handler(gcp_app, "on_message", outputs=MEMORY)(sample, _LambdaContext())
    assert answer == {"batchItemFailures": [{"itemIdentifier": sample["Records"][1]["messageId"]}]}
    events = [e for _, e, _ in _seen("on_message")]
    first, record = events[0], sample["Records"][0]
    assert first["type"] == "google.cloud.pubsub.topic.v1.messagePublished"
    assert first["source"].endswith("/topics/gcf-test")
    message = first.data["message"]
    assert message["messageId"] == record["messageId"]
    assert message["attributes"] == {"testAttr": "100"}  # a Number attribute, as text
