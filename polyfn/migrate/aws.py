"""``from_lambda``: an AWS Lambda handler ``(event, context)`` as a polyfn handler.

Whatever cloud delivered the neutral event, the handler gets the Lambda event AWS would
have sent for it (``polyfn.adapters.aws.to_native``), a Lambda-like context, and its
answer is read back the way Lambda reads it:

- HTTP (API Gateway v1/v2, ALB, Function URL): the returned dict (or any JSON value, for
  payload 2.0) → neutral ``HttpResponse`` (``response_from_native``);
- SQS, Kinesis, DynamoDB Streams: ``batchItemFailures`` → the failed records' neutral ids.
  A ``batch=True`` registration renders the whole batch as ONE Lambda event and returns a
  ``BatchResult``; a per-record registration renders a one-record event and raises
  ``Retry`` when that record is reported failed. As on Lambda
  (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html), an
  identifier that names no record of the batch fails the whole batch; on the streams
  (https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-batchfailurereporting.html)
  Lambda retries from the lowest failed sequence number, so every record from the first
  reported one on is failed;
- anything else: the handler's return value. An exception propagates (the host retries).

The context has the attributes of Lambda's Python context object
(https://docs.aws.amazon.com/lambda/latest/dg/python-context.html).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from polyfn.context import Context
from polyfn.results import BatchResult, Retry

LambdaHandler = Callable[[Any, Any], Any]

# Sources whose Lambda event carries a list of records (a batch is one event).
_RECORD_SOURCES = frozenset({"sqs", "sns", "s3", "kinesis", "dynamodb"})
# Sources answering with batchItemFailures, and how each names a record.
_ITEM_ID: dict[str, Callable[[dict[str, Any]], Any]] = {
    "sqs": lambda r: r.get("messageId"),
    "kinesis": lambda r: (r.get("kinesis") or {}).get("sequenceNumber"),
    "dynamodb": lambda r: (r.get("dynamodb") or {}).get("SequenceNumber"),
}
_STREAMS = frozenset({"kinesis", "dynamodb"})
_MAX_TIMEOUT_S = 900  # Lambda's longest timeout: the budget when the host tells none


class LambdaContext:
    """A Lambda context for a neutral invocation: ``aws_request_id`` is the invocation
    id, ``get_remaining_time_in_millis()`` reads the neutral deadline."""

    function_version = "$LATEST"
    identity = None
    client_context = None

    def __init__(self, ctx: Context | None, function_name: str, memory_limit_in_mb: int) -> None:
        from polyfn.adapters.aws import defaults

        region = (ctx.region if ctx is not None and ctx.provider == "aws" else None) or (
            defaults.region()
        )
        self._ctx = ctx
        self.function_name = function_name
        self.memory_limit_in_mb = memory_limit_in_mb
        self.aws_request_id = ctx.invocation_id if ctx is not None else str(uuid.uuid4())
        self.invoked_function_arn = (
            f"arn:aws:lambda:{region}:{defaults.ACCOUNT}:function:{function_name}"
        )
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = time.strftime("%Y/%m/%d/[$LATEST]") + uuid.uuid4().hex
        self._started = time.time()

    def get_remaining_time_in_millis(self) -> int:
        left = self._ctx.remaining_time() if self._ctx is not None else None
        if left is None:
            left = max(0.0, self._started + _MAX_TIMEOUT_S - time.time())
        return int(left * 1000)

    def __repr__(self) -> str:
        return f"LambdaContext({self.function_name!r}, aws_request_id={self.aws_request_id!r})"


def source_key(source: str | None, event: Any) -> str:
    """The adapter's source key (``"sqs"``, ``"apigateway-v2"``): ``source`` as given
    (``"aws:sqs"`` or ``"sqs"``), else where an AWS event came from, else the usual
    source of the event's kind."""
    from polyfn.adapters.aws.recognise import DEFAULT_FOR_KIND, MODULES

    if source is not None:
        key = source.removeprefix("aws:")
        if key not in MODULES:
            raise ValueError(
                f"from_lambda: unknown AWS event source {source!r}; known: {', '.join(MODULES)}"
            )
        return key
    origin = getattr(event, "event_source", "") or ""
    if origin.startswith("aws:") and origin[4:] in MODULES:
        return origin[4:]
    return DEFAULT_FOR_KIND[event.KIND]


def from_lambda(
    handler: LambdaHandler,
    *,
    source: str | None = None,
    function_name: str | None = None,
    memory_limit_in_mb: int = 128,
) -> Callable[[Any, Context], Any]:
    """The polyfn handler running Lambda ``handler``; register it with the usual
    decorators (``batch=True`` on a queue, stream or change trigger to hand the handler
    the whole batch as one event)::

        app.queue("orders", batch=True)(from_lambda(legacy.handler))

    ``function_name`` is the Lambda function name the context reports (default: the
    polyfn function's). ``source`` names the AWS event source to render (``"aws:sqs"``,
    ``"kinesis"``, ``"apigateway-v1"``, ``"alb"``, ...); default: the event's own when it
    came from AWS, else the usual one of its kind (HTTP → API Gateway v2, queue → SQS, topic → SNS,
    storage → S3, schedule → EventBridge schedule, change → DynamoDB Streams, event →
    EventBridge)."""
    name = getattr(handler, "__name__", "handler")

    def lambda_bridge(event: Any, ctx: Context) -> Any:
        return _invoke(handler, event, ctx, source, name, function_name, memory_limit_in_mb)

    lambda_bridge.__name__ = lambda_bridge.__qualname__ = name
    lambda_bridge.__doc__ = handler.__doc__
    lambda_bridge.__wrapped__ = handler  # type: ignore[attr-defined]
    return lambda_bridge


def _invoke(
    handler: LambdaHandler,
    event: Any,
    ctx: Context,
    source: str | None,
    name: str,
    function_name: str | None,
    memory: int,
) -> Any:
    from polyfn.adapters.aws import response_from_native, to_native

    batch = isinstance(event, list)
    events = event if batch else [event]
    if not events:
        return BatchResult() if batch else None
    key = source_key(source, events[0])
    if key not in _RECORD_SOURCES and len(events) > 1:
        raise ValueError(
            f"from_lambda: AWS {key} delivers one event per invocation, not {len(events)}"
        )
    native = to_native(events if key in _RECORD_SOURCES else events[0], source=key)
    fn_name = function_name or (ctx.function_name if ctx is not None else name)
    answer = handler(native, LambdaContext(ctx, fn_name, memory))
    if events[0].KIND == "http":
        return response_from_native(answer, key)
    if key not in _ITEM_ID:
        # No partial failure (SNS, S3, ...): returning is success for every record.
        return BatchResult() if batch else answer
    failed = _failed_ids(answer, native["Records"], events, key)
    if batch:
        return BatchResult(failed)
    if failed:
        raise Retry(f"Lambda handler {name!r} reported record {failed[0]!r} failed")
    return None


def _failed_ids(
    answer: Any, records: list[dict[str, Any]], events: list[Any], key: str
) -> list[str]:
    """The neutral ids of the records a Lambda answer reports failed."""
    every = [e.id for e in events]
    if answer is None:
        return []
    if not isinstance(answer, dict):
        return []  # Lambda reads only a batchItemFailures object; anything else: success
    items = answer.get("batchItemFailures")
    if not items:
        return []
    index_of = {_ITEM_ID[key](r): i for i, r in enumerate(records)}
    failed: list[int] = []
    for item in items:
        ident = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not ident or ident not in index_of:
            return every  # an empty, null or unknown identifier fails the whole batch
        failed.append(index_of[ident])
    if key in _STREAMS:  # the checkpoint: retried from the lowest failed record on
        return every[min(failed) :]
    return [every[i] for i in sorted(set(failed))]
