"""Which AWS event source produced a Lambda event."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from polyfn.errors import UnsupportedEventError

# source key → module under polyfn.adapters.aws.sources
MODULES: dict[str, str] = {
    "apigateway-v1": "apigateway_v1",
    "apigateway-v2": "apigateway_v2",
    "function-url": "function_url",
    "alb": "alb",
    "sqs": "sqs",
    "sns": "sns",
    "s3": "s3",
    "s3-eventbridge": "s3_eventbridge",
    "eventbridge": "eventbridge",
    "schedule": "schedule",
    "dynamodb": "dynamodb",
    "kinesis": "kinesis",
}
# The source used to render a neutral event of each kind when none is named.
DEFAULT_FOR_KIND: dict[str, str] = {
    "http": "apigateway-v2",
    "queue": "sqs",
    "topic": "sns",
    "storage": "s3",
    "schedule": "schedule",
    "change": "dynamodb",
    "cloudevent": "eventbridge",
}
_RECORD_SOURCES = {
    "aws:sqs": "sqs",
    "aws:sns": "sns",
    "aws:s3": "s3",
    "aws:dynamodb": "dynamodb",
    "aws:kinesis": "kinesis",
}
_S3_DETAIL_TYPES = frozenset(
    {
        "Object Created",
        "Object Deleted",
        "Object Restore Initiated",
        "Object Restore Completed",
        "Object Restore Expired",
        "Object Tags Added",
        "Object Tags Deleted",
        "Object ACL Updated",
        "Object Storage Class Changed",
        "Object Access Tier Changed",
    }
)
_loaded: dict[str, ModuleType] = {}


def module(key: str) -> ModuleType:
    """The translation module of a source key (imported on first use)."""
    mod = _loaded.get(key)
    if mod is None:
        try:
            name = MODULES[key]
        except KeyError:
            raise ValueError(
                f"unknown AWS event source {key!r}; known: {', '.join(MODULES)}"
            ) from None
        mod = _loaded[key] = importlib.import_module(f"polyfn.adapters.aws.sources.{name}")
    return mod


_by_record_source: dict[str, ModuleType] = {}


def source_module(event: Any) -> ModuleType:
    """The translation module for a native event. Record-based events (every queue,
    stream and storage invocation) take a fast path: two lookups once warm."""
    try:
        mod = _by_record_source[event["Records"][0]["eventSource"]]
    except (KeyError, IndexError, TypeError):
        return module(identify(event))
    return mod


def identify(event: Any) -> str:
    """The source key of a native Lambda event, or UnsupportedEventError."""
    if not isinstance(event, dict):
        raise UnsupportedEventError(
            "aws", "unknown", "(event)", f"expected a JSON object, got {type(event).__name__}"
        )
    records = event.get("Records")
    if records is not None:
        if not isinstance(records, list) or not records or not isinstance(records[0], dict):
            raise UnsupportedEventError("aws", "unknown", "Records", "expected a non-empty list")
        first = records[0]
        src = first.get("eventSource") or first.get("EventSource")
        key = _RECORD_SOURCES.get(src)
        if key is None:
            raise UnsupportedEventError(
                "aws", str(src), "Records[0].eventSource", f"unsupported event source {src!r}"
            )
        if src not in _by_record_source and "eventSource" in first:
            _by_record_source[src] = module(key)
        return key
    ctx = event.get("requestContext")
    if isinstance(ctx, dict):
        if "elb" in ctx:
            return "alb"
        if event.get("version") == "2.0":
            if ".lambda-url." in str(ctx.get("domainName", "")):
                return "function-url"
            return "apigateway-v2"
        if "httpMethod" in event:
            return "apigateway-v1"
    if "detail-type" in event and "source" in event:
        source, detail_type = event["source"], event["detail-type"]
        if source == "aws.events" and detail_type == "Scheduled Event":
            return "schedule"
        if source == "aws.scheduler" and detail_type == "Scheduled Event":
            return "schedule"
        if source == "aws.s3" and detail_type in _S3_DETAIL_TYPES:
            return "s3-eventbridge"
        return "eventbridge"
    raise UnsupportedEventError(
        "aws",
        "unknown",
        "(event)",
        "not an event of a supported source (API Gateway, ALB, Function URL, SQS, SNS, S3, "
        f"EventBridge, DynamoDB Streams, Kinesis); top-level keys: {sorted(event)[:8]}",
    )
