"""The AWS path: each delivery rendered as the Lambda event AWS sends (``to_native``) and
run through the adapter's Lambda handler, with a Lambda-like context; the answer mapped
back to per-message verdicts.

=============  =================  ==========================================================
trigger        Lambda event       verdict
=============  =================  ==========================================================
queue          SQS (FIFO: .fifo)  ``batchItemFailures`` ids failed, the rest succeeded
stream         Kinesis            from the reported sequence number on, failed (Lambda
change         DynamoDB Streams   resumes the shard there); the records before it succeeded
topic          SNS                one record per invocation; a raise fails it
storage        S3                 one record per invocation; a raise fails it
schedule       EventBridge rule   a raise fails it
event          EventBridge        a raise fails it
http           API Gateway v2     the response, translated back to a neutral HttpResponse
=============  =================  ==========================================================

A raise from a batch source's invocation fails the whole batch, as Lambda retries it.
"""

from __future__ import annotations

import copy
import logging
import time
import uuid
from typing import Any

from polyfn.app import App, Function
from polyfn.events.http import HttpRequest, HttpResponse
from polyfn.outputs import Outputs

from .base import Failure, Failures, all_failed, run_singly
from .consumers import Consumer

log = logging.getLogger("polyfn.local")

SOURCES = {
    "queue": "sqs",
    "stream": "kinesis",
    "topic": "sns",
    "storage": "s3",
    "schedule": "schedule",
    "change": "dynamodb",
    "event": "eventbridge",
}
_BATCHED = ("sqs", "kinesis", "dynamodb")
HTTP_SOURCE = "apigateway-v2"
TIMEOUT = 60.0  # seconds a local invocation's context says it has


class LambdaContext:
    """What the Lambda runtime passes as ``context`` (awslambdaric's LambdaContext)."""

    def __init__(self, function_name: str, timeout: float = TIMEOUT) -> None:
        from polyfn.adapters.aws import defaults

        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = (
            f"arn:aws:lambda:{defaults.region()}:{defaults.ACCOUNT}:function:{function_name}"
        )
        self.memory_limit_in_mb = "128"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = f"local/[$LATEST]{uuid.uuid4().hex}"
        self.identity = None
        self.client_context = None
        self._epoch_deadline_time_in_ms = int((time.time() + timeout) * 1000)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._epoch_deadline_time_in_ms - int(time.time() * 1000))


class AwsPath:
    provider: str | None = "aws"

    def __init__(self, app: App, outputs: Outputs) -> None:
        from polyfn.adapters import aws

        self.app = app
        self.outputs = outputs
        self._aws = aws
        self._handlers: dict[str, Any] = {}

    def _handler(self, fn: Function) -> Any:
        found = self._handlers.get(fn.name)
        if found is None:
            found = self._handlers[fn.name] = self._aws.handler(
                self.app, fn.name, outputs=self.outputs
            )
        return found

    def invoke(self, c: Consumer, events: list[Any]) -> Any:
        source = SOURCES[c.kind]
        if c.schedule is not None:
            # The EventBridge rule is named as deployed (``<app>-<function>``); the adapter
            # hands the handler the expression as declared.
            events = [copy.copy(events[0])]
            events[0].schedule = c.schedule
        native = self._aws.to_native(events if source in _BATCHED else events[0], source=source)
        return self._handler(c.function)(native, LambdaContext(c.function.name))

    def deliver(self, c: Consumer, events: list[Any]) -> Failures:
        source = SOURCES[c.kind]
        if source not in _BATCHED:
            return run_singly(events, c.order, lambda e: self.invoke(c, [e]))
        try:
            answer = self.invoke(c, events)
        except Exception as e:  # the invocation failed: Lambda retries the whole batch
            return all_failed(events, e)
        return _batch_failures(source, events, answer)

    def http(self, fn: Function, index: int, request: HttpRequest) -> HttpResponse:
        native = self._aws.to_native(request, source=HTTP_SOURCE)
        try:
            answer = self._handler(fn)(native, LambdaContext(fn.name))
        except Exception:  # API Gateway's answer to a failed invocation
            log.exception(
                "function %r [aws] failed on %s %s", fn.name, request.method, request.path
            )
            return HttpResponse.from_json({"message": "Internal Server Error"}, 500)
        return self._aws.response_from_native(answer, HTTP_SOURCE)


def _batch_failures(source: str, events: list[Any], answer: Any) -> Failures:
    """``batchItemFailures`` as failures by index. SQS: each listed message. Streams: the
    listed record and every one after it (Lambda resumes from the lowest one)."""
    if answer is None:
        return {}
    items = answer.get("batchItemFailures") if isinstance(answer, dict) else None
    if items is None or not isinstance(items, list):
        return all_failed(events, ValueError(f"not a partial batch response: {answer!r}"))
    # DynamoDB: SequenceNumber; SQS messageId and Kinesis sequenceNumber: the message id.
    ids = [e.sequence if source == "dynamodb" else e.id for e in events]
    index = {ident: i for i, ident in enumerate(ids)}
    reported = [item.get("itemIdentifier") if isinstance(item, dict) else None for item in items]
    unknown = [r for r in reported if r not in index]
    if unknown:  # Lambda takes an unknown identifier as the whole batch failing
        return all_failed(events, ValueError(f"batchItemFailures: unknown ids {unknown!r}"))
    why = Failure("reported in batchItemFailures")  # run_batch logged the errors
    if source == "sqs":
        return {index[r]: why for r in reported}
    if not reported:
        return {}
    first = min(index[r] for r in reported)
    return dict.fromkeys(range(first, len(events)), why)
