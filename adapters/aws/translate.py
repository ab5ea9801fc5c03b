"""Public translation functions: native Lambda events ⇄ neutral events."""

from __future__ import annotations

from typing import Any

from polyfn.events._base import NeutralEvent
from polyfn.events.http import HttpResponse

from .recognise import DEFAULT_FOR_KIND, identify, module, source_module


def from_native(event: dict[str, Any], source: str | None = None) -> Any:
    """The neutral event(s) of a native Lambda event: a list for record-based sources
    (SQS, SNS, S3, DynamoDB Streams, Kinesis), one event otherwise.

    ``source`` (``"sqs"``, ``"apigateway-v2"``, ...) skips recognition when the caller
    knows where the event comes from."""
    mod = source_module(event) if source is None else module(source)
    return mod.from_native(event)


def source_of(event: dict[str, Any]) -> str:
    """The source key (``"sqs"``, ``"apigateway-v2"``, ...) of a native Lambda event."""
    return identify(event)


def to_native(neutral: NeutralEvent | list[Any], source: str | None = None, **options: Any) -> Any:
    """The native Lambda event for neutral event(s), as ``source`` would deliver it.

    ``source`` defaults to where the event came from when it came from AWS, else to the
    usual source of its kind (HTTP → apigateway-v2, queue → sqs, topic → sns, storage →
    s3, schedule → schedule, change → dynamodb, cloudevent → eventbridge).
    """
    first = neutral[0] if isinstance(neutral, list) else neutral
    if source is None:
        origin = first.event_source
        source = origin[4:] if origin.startswith("aws:") else DEFAULT_FOR_KIND[first.KIND]
    return module(source).to_native(neutral, **options)


def response_to_native(response: HttpResponse, event: dict[str, Any]) -> Any:
    """The native response for a neutral HttpResponse, shaped for the event's source."""
    return module(identify(event)).response(response, event)


def response_from_native(native: dict[str, Any], source: str) -> HttpResponse:
    """The neutral HttpResponse of a native Lambda HTTP response of ``source``."""
    return module(source).response_from_native(native)
