"""What the service accepts as a topic or a subscription, and the defaults it fills in
(the limits of Google's Pub/Sub reference: ack deadlines 10-600 s, 5-100 delivery attempts,
backoffs up to 600 s). Features the emulator lacks are refused by name, never ignored."""

from __future__ import annotations

from typing import Any

from . import _pb, names
from .errors import BrokerError
from .filters import Predicate, compile_filter
from .push import check_push_endpoint

DEFAULT_ACK_DEADLINE = 10
MIN_ACK_DEADLINE, MAX_ACK_DEADLINE = 10, 600
DEFAULT_MAX_DELIVERY_ATTEMPTS = 5
MIN_DELIVERY_ATTEMPTS, MAX_DELIVERY_ATTEMPTS = 5, 100
DEFAULT_MIN_BACKOFF, DEFAULT_MAX_BACKOFF, MAX_BACKOFF = 10.0, 600.0, 600.0
PUSH_MIN_BACKOFF, PUSH_MAX_BACKOFF = 0.1, 60.0
DEFAULT_RETENTION_SECONDS = 7 * 24 * 3600


def seconds(d: Any) -> float:
    return d.seconds + d.nanos / 1e9


def duration(seconds: float) -> Any:
    out = _pb.Duration()
    out.FromNanoseconds(round(seconds * 1e9))
    return out


def copy(msg: Any) -> Any:
    out = type(msg)()
    out.CopyFrom(msg)
    return out


def topic(topic: Any) -> Any:
    """A Topic as the service would keep it."""
    names.topic(topic.name)
    if topic.HasField("schema_settings") or topic.HasField("ingestion_data_source_settings"):
        raise BrokerError(
            "INVALID_ARGUMENT", "The emulator does not support schemas or ingestion sources"
        )
    config = copy(topic)
    config.state = _pb.Topic.State.ACTIVE
    return config


def subscription(sub: Any) -> tuple[Any, Predicate | None]:
    """A Subscription as the service would keep it (defaults filled in) and its filter;
    BrokerError(INVALID_ARGUMENT) for what the service (or the emulator) refuses."""
    names.subscription(sub.name)
    names.topic(sub.topic)
    unsupported = [
        f for f in ("bigquery_config", "cloud_storage_config", "bigtable_config") if sub.HasField(f)
    ]
    if sub.enable_exactly_once_delivery:
        unsupported.append("enable_exactly_once_delivery")
    if sub.message_transforms:
        unsupported.append("message_transforms")
    if unsupported:
        raise BrokerError(
            "INVALID_ARGUMENT", f"The emulator does not support {', '.join(unsupported)}"
        )
    config = copy(sub)
    if config.ack_deadline_seconds == 0:
        config.ack_deadline_seconds = DEFAULT_ACK_DEADLINE
    if not MIN_ACK_DEADLINE <= config.ack_deadline_seconds <= MAX_ACK_DEADLINE:
        raise BrokerError(
            "INVALID_ARGUMENT",
            f"ack_deadline_seconds must be between {MIN_ACK_DEADLINE} and "
            f"{MAX_ACK_DEADLINE}: {sub.ack_deadline_seconds}",
        )
    if config.push_config.push_endpoint:
        check_push_endpoint(config.push_config.push_endpoint)
    if config.HasField("dead_letter_policy"):
        dlp = config.dead_letter_policy
        names.topic(dlp.dead_letter_topic)
        if dlp.max_delivery_attempts == 0:
            dlp.max_delivery_attempts = DEFAULT_MAX_DELIVERY_ATTEMPTS
        if not MIN_DELIVERY_ATTEMPTS <= dlp.max_delivery_attempts <= MAX_DELIVERY_ATTEMPTS:
            raise BrokerError(
                "INVALID_ARGUMENT",
                f"max_delivery_attempts must be between {MIN_DELIVERY_ATTEMPTS} and "
                f"{MAX_DELIVERY_ATTEMPTS}: {dlp.max_delivery_attempts}",
            )
    if config.HasField("retry_policy"):
        rp = config.retry_policy
        if not rp.HasField("minimum_backoff"):
            rp.minimum_backoff.CopyFrom(duration(DEFAULT_MIN_BACKOFF))
        if not rp.HasField("maximum_backoff"):
            rp.maximum_backoff.CopyFrom(duration(DEFAULT_MAX_BACKOFF))
        lo, hi = seconds(rp.minimum_backoff), seconds(rp.maximum_backoff)
        if not (0 <= lo <= hi <= MAX_BACKOFF):
            raise BrokerError(
                "INVALID_ARGUMENT",
                f"retry_policy backoffs must satisfy 0 <= minimum ({lo}s) <= maximum "
                f"({hi}s) <= {MAX_BACKOFF:g}s",
            )
    if not config.HasField("message_retention_duration"):
        config.message_retention_duration.seconds = DEFAULT_RETENTION_SECONDS
    config.state = _pb.Subscription.State.ACTIVE
    return config, compile_filter(config.filter)
