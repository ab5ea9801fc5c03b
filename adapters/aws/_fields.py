"""Reading native AWS fields, with errors that name provider, source and field."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from polyfn.errors import MalformedEventError


def malformed(source: str, field: str, reason: str = "missing") -> MalformedEventError:
    return MalformedEventError("aws", source, field, reason)


def need(mapping: Any, key: str, source: str, where: str) -> Any:
    """``mapping[key]``, or a MalformedEventError naming ``where.key``."""
    try:
        return mapping[key]
    except KeyError:
        raise malformed(source, f"{where}.{key}" if where else key) from None
    except TypeError:
        raise malformed(
            source, where or key, f"expected an object, got {type(mapping).__name__}"
        ) from None


def ms_to_datetime(value: str | int, source: str, field: str) -> datetime:
    try:
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    except (TypeError, ValueError):
        raise malformed(source, field, f"not a millisecond timestamp: {value!r}") from None


def datetime_to_ms(value: datetime) -> str:
    return str(round(value.timestamp() * 1000))


def parse_iso(value: str, source: str, field: str) -> datetime:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        raise malformed(source, field, f"not an ISO 8601 time: {value!r}") from None


def format_iso(value: datetime, millis: bool = False) -> str:
    """AWS writes UTC times as ``2019-03-14T09:41:49Z`` (S3: ``...49.123Z``)."""
    value = value.astimezone(UTC)
    if millis:
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def arn_name(arn: str) -> str:
    """The resource name at the end of an ARN (``arn:aws:sqs:us-east-1:123:orders`` → orders)."""
    return arn.rsplit(":", 1)[-1]


def without(mapping: dict[str, Any], keys: frozenset[str]) -> dict[str, Any]:
    """What a translation did not consume: kept in ``extensions`` so nothing is lost."""
    return {k: v for k, v in mapping.items() if k not in keys}
