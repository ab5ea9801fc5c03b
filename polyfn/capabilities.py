"""What a function needs from its platform, and what each provider can honour.

A function declares what it relies on with ``@app.requires(...)``::

    @app.queue("payments", fifo=True)
    @app.requires(ordered=True, partial_batch=True, max_payload=300_000)
    def pay(msg, ctx): ...

and ``polyfn check --for P`` fails when provider P cannot honour a declaration for one
of the function's triggers, naming the function, the trigger, the capability, the
provider, why, and what to do instead. ``docs/capabilities.md`` is generated from this
module (:func:`markdown`); a test keeps the committed file equal to it.

Capabilities (the set is what genuinely differs between providers for polyfn's triggers):

``partial_batch``
    A record that fails does not make the records that succeeded run again: only the
    failed record (and, where order is kept, the records after it, not yet run) is retried.
``ordered``
    Records are delivered in order per group (SQS FIFO message group, Service Bus
    session, Pub/Sub ordering key) or per partition (Kinesis shard, Event Hubs partition,
    DynamoDB item, Cosmos DB logical partition).
``exactly_once_output``
    What the function sends through ``ctx.outputs`` is delivered only when the invocation
    succeeded, so a failed and retried invocation does not deliver it twice (Azure output
    bindings; not SDK calls made during the invocation).
``max_payload``
    The largest event body, in bytes, the function must receive.
``max_duration``
    The longest, in seconds, one invocation must be allowed to run.

Every fact below carries the URL of the provider's documentation it comes from. Limits
are the service defaults (SNS, Kinesis and Service Bus premium can be raised; the notes
say how); durations assume the default hosting (Lambda; Azure Consumption plan; Cloud
Run functions, 2nd gen). Nothing here imports a cloud SDK.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from polyfn.errors import DefinitionError

PROVIDERS = ("aws", "azure", "gcp")
PROVIDER_NAMES = {"aws": "AWS", "azure": "Azure", "gcp": "Google Cloud"}
FLAGS = ("partial_batch", "ordered", "exactly_once_output")
LIMITS = ("max_payload", "max_duration")
CAPABILITIES = FLAGS + LIMITS
KINDS = ("http", "queue", "stream", "topic", "storage", "schedule", "change", "event")


class Requirements:
    """What a function declared it relies on (see ``App.requires``). Unset: not needed."""

    __slots__ = CAPABILITIES

    def __init__(
        self,
        *,
        partial_batch: bool = False,
        ordered: bool = False,
        exactly_once_output: bool = False,
        max_payload: int | None = None,
        max_duration: float | None = None,
    ) -> None:
        for name, flag in (
            ("partial_batch", partial_batch),
            ("ordered", ordered),
            ("exactly_once_output", exactly_once_output),
        ):
            if not isinstance(flag, bool):
                raise DefinitionError(f"requires: {name}: must be True or False, not {flag!r}")
        if max_payload is not None and (
            isinstance(max_payload, bool) or not isinstance(max_payload, int) or max_payload <= 0
        ):
            raise DefinitionError(f"requires: max_payload: {max_payload!r} is not a byte count")
        if max_duration is not None and (
            isinstance(max_duration, bool)
            or not isinstance(max_duration, int | float)
            or max_duration <= 0
        ):
            raise DefinitionError(f"requires: max_duration: {max_duration!r} is not seconds")
        self.partial_batch = partial_batch
        self.ordered = ordered
        self.exactly_once_output = exactly_once_output
        self.max_payload = max_payload
        self.max_duration = max_duration

    def declared(self) -> Iterator[tuple[str, Any]]:
        """The capabilities asked for, as (name, value)."""
        for name in CAPABILITIES:
            value = getattr(self, name)
            if value not in (False, None):
                yield name, value

    def __bool__(self) -> bool:
        return any(True for _ in self.declared())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Requirements) and list(self.declared()) == list(other.declared())

    def __hash__(self) -> int:
        return hash(tuple(self.declared()))

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.declared())
        return f"Requirements({shown})"


class Fact:
    """One capability of one service: honoured or not (a flag) or a limit (a number;
    None: polyfn knows no limit there), why, what to do instead, and the source."""

    __slots__ = ("instead", "source", "value", "why")

    def __init__(self, value: bool | float | None, why: str, source: str, instead: str = ""):
        self.value = value
        self.why = why
        self.source = source
        self.instead = instead

    def __repr__(self) -> str:
        return f"Fact({self.value!r}, {self.why!r})"


class Service:
    """What one provider runs one kind of trigger on, and its capabilities."""

    __slots__ = ("facts", "name", "provider")

    def __init__(self, provider: str, name: str, **facts: Fact) -> None:
        missing = set(CAPABILITIES) - set(facts)
        if missing:  # a table row must say something about every capability
            raise ValueError(f"{provider} {name}: no fact for {sorted(missing)}")
        self.provider = provider
        self.name = name
        self.facts: dict[str, Fact] = facts

    def __repr__(self) -> str:
        return f"Service({self.provider!r}, {self.name!r})"


# -- sources ------------------------------------------------------------------------------
_LAMBDA_QUOTAS = "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"
_LAMBDA_INVOKE = "https://docs.aws.amazon.com/lambda/latest/dg/API_Invoke.html"
_LAMBDA_SQS_FAILURES = (
    "https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html"
)
_LAMBDA_STREAM_FAILURES = (
    "https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-batchfailurereporting.html"
)
_HTTP_API_QUOTAS = (
    "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html"
)
_SQS_SEND = (
    "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html"
)
_SQS_FIFO = (
    "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/FIFO-queues.html"
)
_SQS_STANDARD = "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/standard-queues.html"
_KINESIS_RECORD = "https://docs.aws.amazon.com/kinesis/latest/APIReference/API_Record.html"
_KINESIS_LARGE = "https://docs.aws.amazon.com/streams/latest/dev/large-records.html"
_SNS_LARGE = "https://docs.aws.amazon.com/sns/latest/dg/large-message-payloads.html"
_SNS_FIFO = "https://docs.aws.amazon.com/sns/latest/dg/sns-fifo-topics.html"
_S3_NOTIFICATIONS = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventNotifications.html"
_EVENTBRIDGE_PUT = "https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html"
_EVENTBRIDGE_TARGETS = "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-targets.html"
_DDB_CONSTRAINTS = (
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html"
)
_DDB_STREAMS = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html"

_AZ_TIMEOUT = "https://learn.microsoft.com/azure/azure-functions/functions-scale#timeout"
_AZ_LIMITS = "https://learn.microsoft.com/azure/azure-functions/functions-scale#service-limits"
_AZ_QUEUE = "https://learn.microsoft.com/rest/api/storageservices/queue-service-rest-api"
_AZ_SB_QUOTAS = "https://learn.microsoft.com/azure/service-bus-messaging/service-bus-quotas"
_AZ_SB_SESSIONS = "https://learn.microsoft.com/azure/service-bus-messaging/message-sessions"
_AZ_EH_QUOTAS = "https://learn.microsoft.com/azure/event-hubs/event-hubs-quotas"
_AZ_EH_TRIGGER = (
    "https://learn.microsoft.com/azure/azure-functions/functions-bindings-event-hubs-trigger"
)
_AZ_EG_SCHEMA = "https://learn.microsoft.com/azure/event-grid/event-schema"
_AZ_EG_DELIVERY = "https://learn.microsoft.com/azure/event-grid/delivery-and-retry"
_AZ_COSMOS_LIMITS = "https://learn.microsoft.com/azure/cosmos-db/concepts-limits"
_AZ_COSMOS_FEED = "https://learn.microsoft.com/azure/cosmos-db/change-feed"
_AZ_BLOB_TRIGGER = (
    "https://learn.microsoft.com/azure/azure-functions/functions-bindings-storage-blob-trigger"
)
_AZ_BINDINGS = "https://learn.microsoft.com/azure/azure-functions/functions-triggers-bindings"
_AZ_RELIABLE = (
    "https://learn.microsoft.com/azure/azure-functions/functions-reliable-event-processing"
)

_GCP_TIMEOUT = "https://cloud.google.com/functions/docs/configuring/timeout"
_GCP_PUBSUB_LIMITS = "https://cloud.google.com/pubsub/quotas#resource_limits"
_GCP_PUBSUB_ORDERING = "https://cloud.google.com/pubsub/docs/ordering"
_GCP_EVENTARC_LIMITS = "https://cloud.google.com/eventarc/docs/quotas"
_GCP_FIRESTORE_LIMITS = "https://cloud.google.com/firestore/quotas"
_GCP_FIRESTORE_TRIGGERS = "https://cloud.google.com/functions/docs/calling/cloud-firestore"
_GCP_RETRIES = "https://cloud.google.com/functions/docs/bestpractices/retries"
_GCP_STORAGE_TRIGGERS = "https://cloud.google.com/functions/docs/calling/storage"

# -- shared facts ---------------------------------------------------------------------------
_IDEMPOTENT = "make the handler idempotent (polyfn.patterns.idempotent)"
_IDEMPOTENT_AWS = (
    "make the handler idempotent (polyfn.patterns.idempotent), or send to an SQS FIFO "
    "queue with a deduplication_id (duplicates within 5 minutes are dropped)"
)
_CLAIM_CHECK = "put the body in a bucket and send a reference (claim check)"
_ONE_PER_INVOCATION = "one event per invocation: nothing else runs again when it fails"


def _single(source: str) -> Fact:
    return Fact(True, _ONE_PER_INVOCATION, source)


def _no_order(why: str, source: str, instead: str) -> Fact:
    return Fact(False, why, source, instead)


_CLIENTS = {"aws": "boto3", "gcp": "the Google Cloud client libraries"}


def _sdk_outputs(provider: str) -> Fact:
    return Fact(
        False,
        f"outputs go through {_CLIENTS[provider]} while the handler runs: a send made "
        "before a failure is delivered, and the retry sends it again",
        {"aws": _LAMBDA_INVOKE, "gcp": _GCP_RETRIES}[provider],
        _IDEMPOTENT_AWS if provider == "aws" else _IDEMPOTENT,
    )


def _no_payload(why: str, source: str) -> Fact:
    return Fact(None, why, source)


def _aws_duration(http: bool = False) -> Fact:
    if http:
        return Fact(
            30,
            "API Gateway HTTP APIs wait at most 30 s for the integration (Lambda itself "
            "runs up to 900 s)",
            _HTTP_API_QUOTAS,
            "answer 202 at once and do the work from a queue",
        )
    return Fact(
        900,
        "a Lambda invocation runs at most 15 minutes",
        _LAMBDA_QUOTAS,
        "split the work (a workflow, or a queue of smaller jobs)",
    )


def _azure_duration(http: bool = False) -> Fact:
    if http:
        return Fact(
            230,
            "an HTTP-triggered function must answer within 230 s (Azure Load Balancer idle "
            "timeout), whatever functionTimeout says",
            _AZ_TIMEOUT,
            "answer 202 at once and do the work from a queue (or Durable Functions)",
        )
    return Fact(
        600,
        "functionTimeout is at most 10 minutes on the Consumption plan (Flex Consumption, "
        "Premium and Dedicated plans allow longer)",
        _AZ_TIMEOUT,
        "host on a Flex Consumption, Premium or Dedicated plan, or split the work",
    )


def _gcp_duration(http: bool = False) -> Fact:
    if http:
        return Fact(3600, "HTTP functions run at most 60 minutes", _GCP_TIMEOUT, "split the work")
    return Fact(
        540,
        "event-driven functions run at most 9 minutes",
        _GCP_TIMEOUT,
        "split the work, or take the event over HTTP (push subscription)",
    )


# -- the table --------------------------------------------------------------------------------
def _aws() -> dict[str, Service]:
    batch_sqs = Fact(
        True,
        "Lambda reports failed messages in batchItemFailures; only they are retried",
        _LAMBDA_SQS_FAILURES,
    )
    checkpoint = Fact(
        True,
        "batchItemFailures checkpoints at the first failed record: it and the records "
        "after it (not yet run) are retried, none that succeeded runs again",
        _LAMBDA_STREAM_FAILURES,
    )
    sqs_payload = Fact(1_048_576, "an SQS message is at most 1 MiB", _SQS_SEND, _CLAIM_CHECK)
    return {
        "http": Service(
            "aws",
            "API Gateway HTTP API + Lambda",
            partial_batch=_single(_HTTP_API_QUOTAS),
            ordered=_no_order(
                "requests run concurrently",
                _HTTP_API_QUOTAS,
                "send them to a FIFO queue (queue(..., fifo=True))",
            ),
            exactly_once_output=_sdk_outputs("aws"),
            max_payload=Fact(
                6_000_000,
                "a synchronous Lambda invocation carries at most 6 MB (API Gateway: 10 MB)",
                _LAMBDA_INVOKE,
                "upload to a bucket (a presigned URL) and send the key",
            ),
            max_duration=_aws_duration(http=True),
        ),
        "queue": Service(
            "aws",
            "SQS standard queue",
            partial_batch=batch_sqs,
            ordered=_no_order(
                "a standard queue delivers in best-effort order",
                _SQS_STANDARD,
                "declare queue(..., fifo=True): SQS FIFO keeps each message group in order",
            ),
            exactly_once_output=_sdk_outputs("aws"),
            max_payload=sqs_payload,
            max_duration=_aws_duration(),
        ),
        "queue.fifo": Service(
            "aws",
            "SQS FIFO queue",
            partial_batch=Fact(
                True,
                "failed messages are reported in batchItemFailures; polyfn reports the rest "
                "of a failed message's group too, unrun, so the order holds",
                _LAMBDA_SQS_FAILURES,
            ),
            ordered=Fact(True, "in order per message group (group_id)", _SQS_FIFO),
            exactly_once_output=_sdk_outputs("aws"),
            max_payload=sqs_payload,
            max_duration=_aws_duration(),
        ),
        "stream": Service(
            "aws",
            "Kinesis Data Streams",
            partial_batch=checkpoint,
            ordered=Fact(True, "in order per shard (partition key)", _KINESIS_RECORD),
            exactly_once_output=_sdk_outputs("aws"),
            max_payload=Fact(
                1_048_576,
                "a record is at most 1 MiB by default (a stream can be raised to 10 MiB)",
                _KINESIS_LARGE,
                "raise the stream's maximum record size, or use a claim check",
            ),
            max_duration=_aws_duration(),
        ),
        "topic": Service(
            "aws",
            "SNS standard topic",
            partial_batch=_single(_SNS_LARGE),
            ordered=_no_order(
                "a standard topic does not keep order, and Lambda cannot subscribe to an "
                "SNS FIFO topic",
                _SNS_FIFO,
                "subscribe an SQS FIFO queue to an SNS FIFO topic and consume it with "
                "queue(..., fifo=True)",
            ),
            exactly_once_output=_sdk_outputs("aws"),
            max_payload=Fact(
                262_144,
                "an SNS message is at most 256 KiB by default (a topic's MaximumMessageSize "
                "can be raised to 1 MiB)",
                _SNS_LARGE,
                "raise the topic's MaximumMessageSize, or use a claim check",
            ),
            max_duration=_aws_duration(),
        ),
        "storage": Service(
            "aws",
            "S3 event notifications",
            partial_batch=_single(_S3_NOTIFICATIONS),
            ordered=_no_order(
                "notifications are not ordered",
                _S3_NOTIFICATIONS,
                "order by the object's sequencer or version",
            ),
            exactly_once_output=_sdk_outputs("aws"),
            max_payload=_no_payload(
                "the event carries the key; the object is read", _S3_NOTIFICATIONS
            ),
            max_duration=_aws_duration(),
        ),
        "schedule": Service(
            "aws",
            "EventBridge schedule",
            partial_batch=_single(_EVENTBRIDGE_TARGETS),
            ordered=Fact(True, "one invocation per tick", _EVENTBRIDGE_TARGETS),
            exactly_once_output=_sdk_outputs("aws"),
            max_payload=_no_payload("a schedule event has no body", _EVENTBRIDGE_TARGETS),
            max_duration=_aws_duration(),
        ),
        "change": Service(
            "aws",
            "DynamoDB Streams",
            partial_batch=checkpoint,
            ordered=Fact(True, "in order per item (primary key)", _DDB_STREAMS),
            exactly_once_output=_sdk_outputs("aws"),
            max_payload=Fact(409_600, "an item is at most 400 KB", _DDB_CONSTRAINTS),
            max_duration=_aws_duration(),
        ),
        "event": Service(
            "aws",
            "EventBridge rule",
            partial_batch=_single(_EVENTBRIDGE_TARGETS),
            ordered=_no_order(
                "events are not ordered",
                _EVENTBRIDGE_TARGETS,
                "carry a sequence number and reorder, or use a FIFO queue",
            ),
            exactly_once_output=_sdk_outputs("aws"),
            max_payload=Fact(
                262_144, "a PutEvents entry is at most 256 KB", _EVENTBRIDGE_PUT, _CLAIM_CHECK
            ),
            max_duration=_aws_duration(),
        ),
    }


def _azure_bindings() -> Fact:
    # Evaluated per function in honours(): bindings exist only for declared outputs.
    return Fact(
        True,
        "declared outputs are Azure output bindings, delivered by the host only after the "
        "function succeeded",
        _AZ_BINDINGS,
    )


def _azure() -> dict[str, Service]:
    per_message = Fact(True, "one message per invocation", _AZ_RELIABLE)
    no_partial = Fact(
        False,
        "the batch has no partial failure: polyfn stops at the first failed record and the "
        "retry policy runs the whole batch again, so records before the failure run again",
        _AZ_RELIABLE,
        "make the handler idempotent (polyfn.patterns.idempotent)",
    )
    sb_payload = Fact(
        262_144,
        "a Service Bus message is at most 256 KB on the Standard tier (Premium: up to 100 MB)",
        _AZ_SB_QUOTAS,
        "use a Premium namespace, or a claim check",
    )
    eg_payload = Fact(1_048_576, "an Event Grid event is at most 1 MB", _AZ_EG_SCHEMA, _CLAIM_CHECK)
    return {
        "http": Service(
            "azure",
            "HTTP trigger",
            partial_batch=_single(_AZ_LIMITS),
            ordered=_no_order(
                "requests run concurrently",
                _AZ_LIMITS,
                "send them to a FIFO queue (queue(..., fifo=True))",
            ),
            exactly_once_output=_azure_bindings(),
            max_payload=Fact(104_857_600, "an HTTP request is at most 100 MB", _AZ_LIMITS),
            max_duration=_azure_duration(http=True),
        ),
        "queue": Service(
            "azure",
            "Queue Storage",
            partial_batch=per_message,
            ordered=_no_order(
                "Queue Storage does not guarantee first-in, first-out",
                _AZ_QUEUE,
                "declare queue(..., fifo=True): Service Bus sessions keep each group in order",
            ),
            exactly_once_output=_azure_bindings(),
            max_payload=Fact(
                65_536,
                "a queue message is at most 64 KB",
                _AZ_QUEUE,
                "use Service Bus (AzureOptions(queue_service='servicebus')), or a claim check",
            ),
            max_duration=_azure_duration(),
        ),
        "queue.servicebus": Service(
            "azure",
            "Service Bus queue",
            partial_batch=per_message,
            ordered=_no_order(
                "without sessions Service Bus does not keep order",
                _AZ_SB_SESSIONS,
                "declare queue(..., fifo=True): polyfn enables sessions",
            ),
            exactly_once_output=_azure_bindings(),
            max_payload=sb_payload,
            max_duration=_azure_duration(),
        ),
        "queue.fifo": Service(
            "azure",
            "Service Bus queue with sessions",
            partial_batch=per_message,
            ordered=Fact(True, "in order per session (group_id)", _AZ_SB_SESSIONS),
            exactly_once_output=_azure_bindings(),
            max_payload=sb_payload,
            max_duration=_azure_duration(),
        ),
        "stream": Service(
            "azure",
            "Event Hubs",
            partial_batch=no_partial,
            ordered=Fact(True, "in order per partition", _AZ_EH_TRIGGER),
            exactly_once_output=_azure_bindings(),
            max_payload=Fact(
                1_048_576,
                "an event is at most 1 MB (Standard tier and up)",
                _AZ_EH_QUOTAS,
                _CLAIM_CHECK,
            ),
            max_duration=_azure_duration(),
        ),
        "topic": Service(
            "azure",
            "Service Bus topic subscription",
            partial_batch=per_message,
            ordered=_no_order(
                "the subscription polyfn binds has no sessions, so order is not kept",
                _AZ_SB_SESSIONS,
                "send to a FIFO queue (queue(..., fifo=True))",
            ),
            exactly_once_output=_azure_bindings(),
            max_payload=sb_payload,
            max_duration=_azure_duration(),
        ),
        "storage": Service(
            "azure",
            "Blob trigger / Event Grid blob events",
            partial_batch=_single(_AZ_BLOB_TRIGGER),
            ordered=_no_order(
                "blob events are not ordered",
                _AZ_EG_DELIVERY,
                "order by the blob's ETag or version",
            ),
            exactly_once_output=_azure_bindings(),
            max_payload=_no_payload(
                "the event carries the blob's name; the blob is read", _AZ_BLOB_TRIGGER
            ),
            max_duration=_azure_duration(),
        ),
        "schedule": Service(
            "azure",
            "Timer trigger",
            partial_batch=_single(_AZ_LIMITS),
            ordered=Fact(True, "one invocation per tick", _AZ_LIMITS),
            exactly_once_output=_azure_bindings(),
            max_payload=_no_payload("a timer event has no body", _AZ_LIMITS),
            max_duration=_azure_duration(),
        ),
        "change": Service(
            "azure",
            "Cosmos DB change feed",
            partial_batch=no_partial,
            ordered=Fact(True, "in order per logical partition key", _AZ_COSMOS_FEED),
            exactly_once_output=_azure_bindings(),
            max_payload=Fact(2_097_152, "an item is at most 2 MB", _AZ_COSMOS_LIMITS),
            max_duration=_azure_duration(),
        ),
        "event": Service(
            "azure",
            "Event Grid trigger",
            partial_batch=_single(_AZ_EG_DELIVERY),
            ordered=_no_order(
                "Event Grid does not guarantee order",
                _AZ_EG_DELIVERY,
                "carry a sequence number and reorder, or use a FIFO queue",
            ),
            exactly_once_output=_azure_bindings(),
            max_payload=eg_payload,
            max_duration=_azure_duration(),
        ),
    }


def _gcp() -> dict[str, Service]:
    per_message = Fact(True, "Pub/Sub delivers one message per invocation", _GCP_RETRIES)
    pubsub_payload = Fact(
        10_000_000, "a Pub/Sub message is at most 10 MB", _GCP_PUBSUB_LIMITS, _CLAIM_CHECK
    )
    unordered = _no_order(
        "without ordering keys Pub/Sub does not keep order",
        _GCP_PUBSUB_ORDERING,
        "declare queue(..., fifo=True) (or a stream): polyfn enables message ordering and "
        "sends group_id as the ordering key",
    )
    eventarc_payload = Fact(
        524_288, "an Eventarc event is at most 512 KB", _GCP_EVENTARC_LIMITS, _CLAIM_CHECK
    )
    return {
        "http": Service(
            "gcp",
            "HTTP function",
            partial_batch=_single(_GCP_TIMEOUT),
            ordered=_no_order(
                "requests run concurrently",
                _GCP_TIMEOUT,
                "send them to a FIFO queue (queue(..., fifo=True))",
            ),
            exactly_once_output=_sdk_outputs("gcp"),
            max_payload=_no_payload("no request-size limit recorded here", _GCP_TIMEOUT),
            max_duration=_gcp_duration(http=True),
        ),
        "queue": Service(
            "gcp",
            "Pub/Sub topic",
            partial_batch=per_message,
            ordered=unordered,
            exactly_once_output=_sdk_outputs("gcp"),
            max_payload=pubsub_payload,
            max_duration=_gcp_duration(),
        ),
        "queue.fifo": Service(
            "gcp",
            "Pub/Sub topic with ordering keys",
            partial_batch=per_message,
            ordered=Fact(True, "in order per ordering key (group_id)", _GCP_PUBSUB_ORDERING),
            exactly_once_output=_sdk_outputs("gcp"),
            max_payload=pubsub_payload,
            max_duration=_gcp_duration(),
        ),
        "stream": Service(
            "gcp",
            "Pub/Sub topic with ordering keys",
            partial_batch=per_message,
            ordered=Fact(
                True, "in order per ordering key (the partition key)", _GCP_PUBSUB_ORDERING
            ),
            exactly_once_output=_sdk_outputs("gcp"),
            max_payload=pubsub_payload,
            max_duration=_gcp_duration(),
        ),
        "topic": Service(
            "gcp",
            "Pub/Sub topic",
            partial_batch=per_message,
            ordered=_no_order(
                "polyfn's topic subscriptions do not enable message ordering",
                _GCP_PUBSUB_ORDERING,
                "consume a queue(..., fifo=True)",
            ),
            exactly_once_output=_sdk_outputs("gcp"),
            max_payload=pubsub_payload,
            max_duration=_gcp_duration(),
        ),
        "storage": Service(
            "gcp",
            "Cloud Storage (Eventarc)",
            partial_batch=_single(_GCP_STORAGE_TRIGGERS),
            ordered=_no_order(
                "object events are not ordered",
                _GCP_STORAGE_TRIGGERS,
                "order by the object's generation",
            ),
            exactly_once_output=_sdk_outputs("gcp"),
            max_payload=_no_payload(
                "the event carries the object's name; the object is read", _GCP_STORAGE_TRIGGERS
            ),
            max_duration=_gcp_duration(),
        ),
        "schedule": Service(
            "gcp",
            "Cloud Scheduler",
            partial_batch=_single(_GCP_TIMEOUT),
            ordered=Fact(True, "one invocation per tick", _GCP_TIMEOUT),
            exactly_once_output=_sdk_outputs("gcp"),
            max_payload=_no_payload("a schedule event has no body", _GCP_TIMEOUT),
            max_duration=_gcp_duration(),
        ),
        "change": Service(
            "gcp",
            "Firestore (Eventarc)",
            partial_batch=_single(_GCP_FIRESTORE_TRIGGERS),
            ordered=_no_order(
                "Firestore triggers do not guarantee order: quick changes may arrive out of order",
                _GCP_FIRESTORE_TRIGGERS,
                "compare update times in the handler (ChangeEvent.time) and drop stale ones",
            ),
            exactly_once_output=_sdk_outputs("gcp"),
            max_payload=Fact(1_048_576, "a document is at most 1 MiB", _GCP_FIRESTORE_LIMITS),
            max_duration=_gcp_duration(),
        ),
        "event": Service(
            "gcp",
            "Eventarc",
            partial_batch=_single(_GCP_EVENTARC_LIMITS),
            ordered=_no_order(
                "Eventarc does not guarantee order",
                _GCP_EVENTARC_LIMITS,
                "carry a sequence number and reorder, or use a FIFO queue",
            ),
            exactly_once_output=_sdk_outputs("gcp"),
            max_payload=eventarc_payload,
            max_duration=_gcp_duration(),
        ),
    }


_TABLE: dict[str, dict[str, Service]] | None = None


def table() -> dict[str, dict[str, Service]]:
    """Provider → service key (a trigger kind, or ``queue.fifo`` ...) → Service. Built on
    first use (nothing at import)."""
    global _TABLE
    if _TABLE is None:
        _TABLE = {"aws": _aws(), "azure": _azure(), "gcp": _gcp()}
    return _TABLE


def service_key(provider: str, trigger: Any, options: Any = None) -> str:
    """Which row of the table a trigger runs on at ``provider``, the way the adapters map
    it (Azure: Queue Storage unless ``fifo`` or ``queue_service="servicebus"``)."""
    kind = trigger.KIND
    if kind == "queue" and getattr(trigger, "fifo", False):
        return "queue.fifo"
    if kind == "queue" and provider == "azure":
        service = getattr(options, "queue_service", "storage")
        return "queue.servicebus" if service == "servicebus" else "queue"
    return kind


def service(provider: str, trigger: Any, options: Any = None) -> Service:
    try:
        rows = table()[provider]
    except KeyError:
        raise ValueError(f"provider {provider!r}: one of {', '.join(PROVIDERS)}") from None
    return rows[service_key(provider, trigger, options)]


# Where ctx.outputs sends each verb's messages, per provider (the adapters' drivers):
# GCP emits CloudEvents onto a Pub/Sub topic, not through Eventarc's publishing API.
_OUTPUT_SERVICE = {
    ("aws", "send"): "queue",
    ("aws", "publish"): "topic",
    ("aws", "emit"): "event",
    ("azure", "send"): "queue",
    ("azure", "publish"): "topic",
    ("azure", "emit"): "event",
    ("gcp", "send"): "queue",
    ("gcp", "publish"): "topic",
    ("gcp", "emit"): "queue",
}


def payload_limit(provider: str, kind: str, *, fifo: bool = False) -> int | None:
    """The largest body (bytes) ``provider`` delivers for a trigger kind (``"queue"``,
    ``"topic"``, ...) or takes from an output verb (``"send"``, ``"publish"``,
    ``"emit"``); None where the event carries a reference or no limit is recorded.
    ``fifo``: a FIFO queue (Azure: Service Bus, 256 KB, instead of Queue Storage)."""
    key = _OUTPUT_SERVICE.get((provider, kind), kind)
    if key == "queue" and fifo:
        key = "queue.fifo"
    try:
        value = table()[provider][key].facts["max_payload"].value
    except KeyError:
        raise ValueError(f"payload_limit: no {provider!r} service for {kind!r}") from None
    return None if value is None else int(value)


class Verdict:
    """One declared capability of one function's trigger on one provider."""

    __slots__ = (
        "capability",
        "function",
        "honoured",
        "instead",
        "provider",
        "service",
        "source",
        "trigger",
        "wanted",
        "why",
    )

    def __init__(self, **kw: Any) -> None:
        for name in self.__slots__:
            setattr(self, name, kw[name])

    def line(self, trigger_text: str | None = None) -> str:
        """``function 'pay' (queue payments): ordered on AWS: <why>; instead: <what>``."""
        where = trigger_text or self.trigger
        text = (
            f"function {self.function!r} ({where}): {self.capability}"
            f"{'' if isinstance(self.wanted, bool) else f'={self.wanted}'} on "
            f"{PROVIDER_NAMES[self.provider]} ({self.service}): {self.why}"
        )
        return f"{text}; instead: {self.instead}" if self.instead else text

    def as_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


def honours(
    provider: str, function: Any, trigger: Any, options: Any = None, app: Any = None
) -> list[Verdict]:
    """The verdict on each capability ``function`` declared, for ``trigger`` on
    ``provider``; empty when it declared none. ``app`` (optional) tells which queues are
    read as FIFO (Azure binds no output to them)."""
    wanted = getattr(function, "requires", None)
    if not wanted:
        return []
    svc = service(provider, trigger, options)
    out = []
    for name, value in wanted.declared():
        fact = svc.facts[name]
        ok, why, instead = _judge(provider, name, value, fact, function, app)
        out.append(
            Verdict(
                capability=name,
                function=function.name,
                honoured=ok,
                instead=instead,
                provider=provider,
                service=svc.name,
                source=fact.source,
                trigger=trigger.KIND,
                wanted=value,
                why=why,
            )
        )
    return out


def _judge(
    provider: str, name: str, value: Any, fact: Fact, function: Any, app: Any
) -> tuple[bool, str, str]:
    if name in LIMITS:
        if fact.value is None:
            return True, fact.why, ""
        unit = "bytes" if name == "max_payload" else "s"
        if value <= fact.value:
            return True, f"{fact.why} ({value:g} {unit} fits)", ""
        return False, f"{value:g} {unit} asked, but {fact.why}", fact.instead
    if name == "exactly_once_output" and provider == "azure" and fact.value:
        return _azure_outputs(function, app, fact)
    return bool(fact.value), fact.why, ("" if fact.value else fact.instead)


def _azure_outputs(function: Any, app: Any, fact: Fact) -> tuple[bool, str, str]:
    """Azure binds declared queues (not FIFO ones), topics and buses; buckets get no
    binding (bindings_out.py), and undeclared targets go through the SDK at the call."""
    declared = getattr(function, "outputs", None)
    if not declared:
        return (
            False,
            "no outputs declared: what the handler sends goes through the SDK at the call",
            "declare them with @app.outputs(queues=..., topics=..., buses=...) so Azure binds them",
        )
    if declared.buckets:
        return (
            False,
            f"buckets {', '.join(declared.buckets)} get no output binding (a blob output "
            "binding writes one fixed path): put() goes through the SDK at the call",
            "write objects under a key derived from the event, so a retry overwrites them",
        )
    fifo = _fifo_queues(app) & set(declared.queues)
    if fifo:
        return (
            False,
            f"queues {', '.join(sorted(fifo))} are read as FIFO and get no output binding "
            "(every send needs a session id): sends go through the SDK at the call",
            _IDEMPOTENT,
        )
    return True, fact.why, ""


def _fifo_queues(app: Any) -> set[str]:
    if app is None:
        return set()
    return {
        t.name
        for fn in app.functions.values()
        for t in fn.triggers
        if t.KIND == "queue" and getattr(t, "fifo", False)
    }


# -- docs ---------------------------------------------------------------------------------
_TITLES = {
    "http": "http",
    "queue": "queue",
    "queue.servicebus": 'queue (Azure `queue_service="servicebus"`)',
    "queue.fifo": "queue, `fifo=True`",
    "stream": "stream",
    "topic": "topic",
    "storage": "storage",
    "schedule": "schedule",
    "change": "change",
    "event": "event",
}


def _cell(fact: Fact, capability: str) -> str:
    if capability in LIMITS:
        if fact.value is None:
            return "—"
        value = int(fact.value)
        return _size(value) if capability == "max_payload" else f"{value} s"
    if not fact.value:
        return "**no**"
    # Azure binds only what the function declared (see _azure_outputs)
    return "declared outputs" if "declared outputs" in fact.why else "yes"


def _size(n: int) -> str:
    for unit, size in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n % size == 0:
            return f"{n // size} {unit}"
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000} MB"
    return f"{n:,} B"


def markdown() -> str:
    """docs/capabilities.md: what degrades where, generated from the table."""
    rows = table()
    lines = [
        "# What degrades where",
        "",
        "<!-- Generated from polyfn/capabilities.py by polyfn.capabilities.markdown(); "
        "do not edit. -->",
        "",
        "Declare what a function relies on with `@app.requires(partial_batch=True, "
        "ordered=True, exactly_once_output=True, max_payload=..., max_duration=...)`; "
        "`polyfn check --for P` fails when provider P cannot honour it for the function's "
        "trigger, and says what to do instead.",
        "",
        "- **partial_batch**: a failed record does not make the records that succeeded run again.",
        "- **ordered**: in order per group (FIFO message group, session, ordering key) or "
        "per partition.",
        "- **exactly_once_output**: outputs are delivered only when the invocation "
        "succeeded (Azure output bindings for declared queues, topics and buses; never for "
        "buckets or queues read as FIFO).",
        "- **max_payload**: the largest event body the service delivers by default (— : "
        "the event carries a reference, or no limit is recorded).",
        "- **max_duration**: the longest invocation (Lambda; Azure Consumption plan; Cloud "
        "Run functions).",
        "",
    ]
    keys = list(_TITLES)
    for provider in PROVIDERS:
        lines += [
            f"## {PROVIDER_NAMES[provider]}",
            "",
            "| trigger | service | " + " | ".join(CAPABILITIES) + " |",
            "|---|---|" + "---|" * len(CAPABILITIES),
        ]
        for key in keys:
            svc = rows[provider].get(key)
            if svc is None:
                continue
            cells = [_cell(svc.facts[c], c) for c in CAPABILITIES]
            lines.append(f"| {_TITLES[key]} | {svc.name} | " + " | ".join(cells) + " |")
        lines.append("")
        lines.append("What degrades, and what to do instead:")
        lines.append("")
        degraded: dict[tuple[str, str, str, str], list[str]] = {}
        for key in keys:
            svc = rows[provider].get(key)
            for c in CAPABILITIES if svc else ():
                fact = svc.facts[c]  # type: ignore[union-attr]
                if c in FLAGS and not fact.value:
                    group = (c, fact.why, fact.instead, fact.source)
                    degraded.setdefault(group, []).append(_TITLES[key])
        for (c, why, instead, source), where in degraded.items():
            lines.append(
                f"- **{c}** ({'; '.join(where)}): {why}. Instead: {instead} ([source]({source}))"
            )
        lines.append("")
        lines.append("Sources:")
        lines.append("")
        seen: list[str] = []
        for key in keys:
            svc = rows[provider].get(key)
            for fact in svc.facts.values() if svc else ():
                if fact.source not in seen:
                    seen.append(fact.source)
        lines += [f"- <{s}>" for s in seen]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":  # python -m polyfn.capabilities > docs/capabilities.md
    print(markdown(), end="")
