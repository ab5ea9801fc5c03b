"""What the AWS descriptors share: resource naming, schedules, the resources the triggers,
outputs and stores of an app call for, and each trigger as an event source.

The SAM template (aws_sam.py) and the Serverless Framework file (aws_serverless.py) both
render :func:`plan_app`'s answer: CloudFormation resources (identical in both) and, per
function, its event sources in a neutral form (:class:`Source`), its output targets and
its environment. Only the rendering of event sources and permissions differs.

Physical names. Resources are declared without physical names (CloudFormation names
them, so two stacks of one app never collide); each function gets an environment
variable naming the physical resource of each output it declares and of each store:

=====================  ===================================================================
``POLYFN_QUEUE_<N>``   the queue's URL (``Ref`` of ``AWS::SQS::Queue``)
``POLYFN_TOPIC_<N>``   the topic's ARN (``Ref`` of ``AWS::SNS::Topic``)
``POLYFN_BUCKET_<N>``  the bucket's name (``Ref`` of ``AWS::S3::Bucket``)
``POLYFN_STORE_<N>``   the store's DynamoDB table name (read by polyfn.patterns' stores)
=====================  ===================================================================

``<N>`` is the neutral name upper-cased, each non-alphanumeric character ``_``
(:func:`env_name`). Sources for the ``Ref`` values:
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-sqs-queue.html#aws-resource-sqs-queue-return-values
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-sns-topic.html#aws-resource-sns-topic-return-values
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-s3-bucket.html#aws-resource-s3-bucket-return-values
"""

from __future__ import annotations

import re
from typing import Any

from polyfn.app import App, Function
from polyfn.errors import DefinitionError
from polyfn.naming import env_suffix
from polyfn.schedules import Cron, Rate, parse
from polyfn.triggers import (
    ChangeTrigger,
    EventTrigger,
    HttpTrigger,
    QueueTrigger,
    ScheduleTrigger,
    StorageTrigger,
    StreamTrigger,
    TopicTrigger,
    Trigger,
)

HANDLER = "polyfn.adapters.aws.lambda_handler"
BATCH_FAILURES = ["ReportBatchItemFailures"]
S3_EVENTS = {"created": "s3:ObjectCreated:*", "deleted": "s3:ObjectRemoved:*"}
# The table a `change` trigger listens to is declared with this partition key (string):
# the neutral ChangeEvent.keys of its records are then {"id": ...}. An app whose table
# has another key deploys its own table and points the trigger at it.
CHANGE_TABLE_KEY = "id"
# A declared store's table: the key and TTL attribute polyfn.patterns.DynamoDBStore uses.
STORE_KEY = "pk"
STORE_TTL_ATTRIBUTE = "expires_at"
# The actions of SAM's DynamoDBCrudPolicy template (for Serverless, which has no templates):
# https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/serverless-policy-template-list.html#dynamo-db-crud-policy
DYNAMODB_CRUD = [
    "dynamodb:GetItem",
    "dynamodb:DeleteItem",
    "dynamodb:PutItem",
    "dynamodb:Scan",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:BatchGetItem",
    "dynamodb:DescribeTable",
    "dynamodb:ConditionCheckItem",
]


def logical_id(name: str, suffix: str = "") -> str:
    """A CloudFormation logical id (alphanumeric) from a name: ``order-events`` →
    ``OrderEvents`` + suffix."""
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", name) if p]
    base = "".join(p[0].upper() + p[1:] for p in parts) or "X"
    if base[0].isdigit():
        base = "R" + base
    return base + suffix


env_name = env_suffix  # ``order-events`` → ``ORDER_EVENTS`` (polyfn.naming)


def aws_schedule(expression: str) -> str:
    """The EventBridge ``rate()``/``cron()`` of a neutral schedule expression."""
    schedule = parse(expression)
    if isinstance(schedule, Rate):
        s = schedule.seconds
        for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
            if s % size == 0:
                n = s // size
                return f"rate({n} {unit}{'' if n == 1 else 's'})"
        raise DefinitionError(f"schedule trigger: expression: {expression!r}: whole minutes only")
    return "cron(" + " ".join(_aws_cron(schedule, expression)) + ")"


def _aws_cron(c: Cron, expression: str) -> list[str]:
    dom, dow = c.day_of_month, c.day_of_week
    if c.both_days_restricted:
        raise DefinitionError(
            f"schedule trigger: expression: {expression!r}: AWS cron cannot restrict both "
            "day-of-month and day-of-week"
        )
    if dow == "*":
        dow = "?"
    else:
        dom = "?"
        dow = ",".join(_aws_day(item) for item in dow.split(","))
    return [c.minute, c.hour, dom, c.month, dow, c.year]


def _aws_day(item: str) -> str:
    """A day-of-week item, 0-6 from Sunday (polyfn) → 1-7 from Sunday (AWS); the part
    after ``#`` (nth weekday) or ``/`` (step) is kept."""
    m = re.match(r"^([^#/]*)(.*)$", item)
    assert m is not None
    head = re.sub(r"\d+", lambda d: str(int(d.group()) % 7 + 1), m.group(1))
    return head + m.group(2)


# --- resources -------------------------------------------------------------------------


def declare_queue(resources: dict[str, Any], name: str, t: QueueTrigger | None = None) -> str:
    """The queue's logical id; declared (a trigger's settings win over an output's bare
    declaration), with its dead-letter queue when the trigger has ``max_deliveries``."""
    queue = logical_id(name, "Queue")
    if t is None:
        if queue not in resources:  # an output only: FIFO when its name says so
            fifo = {"FifoQueue": True} if name.endswith(".fifo") else {}
            resources[queue] = {"Type": "AWS::SQS::Queue", "Properties": fifo}
        return queue
    props: dict[str, Any] = {}
    if t.fifo:
        props["FifoQueue"] = True
    if t.visibility_timeout is not None:
        props["VisibilityTimeout"] = t.visibility_timeout
    if t.max_deliveries is not None:
        dlq = logical_id(name, "DeadLetterQueue")
        resources[dlq] = {
            "Type": "AWS::SQS::Queue",
            "Properties": {"FifoQueue": True} if t.fifo else {},
        }
        props["RedrivePolicy"] = {
            "deadLetterTargetArn": {"Fn::GetAtt": [dlq, "Arn"]},
            "maxReceiveCount": t.max_deliveries,
        }
    resources[queue] = {"Type": "AWS::SQS::Queue", "Properties": props}
    return queue


def declare_topic(resources: dict[str, Any], name: str) -> str:
    topic = logical_id(name, "Topic")
    resources.setdefault(topic, {"Type": "AWS::SNS::Topic", "Properties": {}})
    return topic


def declare_bucket(resources: dict[str, Any], name: str) -> str:
    bucket = logical_id(name, "Bucket")
    resources.setdefault(bucket, {"Type": "AWS::S3::Bucket", "Properties": {}})
    return bucket


def declare_change_table(resources: dict[str, Any], source: str) -> str:
    """The table of a ``change`` trigger: key :data:`CHANGE_TABLE_KEY`, stream of new and
    old images (ChangeEvent.old/new)."""
    table = logical_id(source, "Table")
    resources.setdefault(
        table,
        {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": CHANGE_TABLE_KEY, "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": CHANGE_TABLE_KEY, "KeyType": "HASH"}],
                "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
            },
        },
    )
    return table


def declare_stream(resources: dict[str, Any], name: str) -> str:
    stream = logical_id(name, "Stream")
    resources.setdefault(
        stream,
        {
            "Type": "AWS::Kinesis::Stream",
            "Properties": {"StreamModeDetails": {"StreamMode": "ON_DEMAND"}},
        },
    )
    return stream


def declare_store_table(resources: dict[str, Any], name: str) -> str:
    """A declared store's table: partition key ``pk`` (S), on-demand, TTL on
    ``expires_at`` (DynamoDB deletes expired items in the background; the store reads an
    expired one as absent meanwhile). Source:
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-dynamodb-table.html
    """
    table = logical_id(name, "StoreTable")
    resources.setdefault(
        table,
        {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": STORE_KEY, "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": STORE_KEY, "KeyType": "HASH"}],
                "TimeToLiveSpecification": {
                    "AttributeName": STORE_TTL_ATTRIBUTE,
                    "Enabled": True,
                },
            },
        },
    )
    return table


def app_stores(app: App) -> dict[str, Any]:
    """The app's declared stores (``App.store``), name → handle (``.name``, ``.ttl``)."""
    return dict(getattr(app, "stores", None) or {})


# --- event sources ---------------------------------------------------------------------


class Source:
    """One trigger as an AWS event source, before SAM or Serverless spell it: ``kind``
    (http, sqs, sns, s3, schedule, dynamodb, kinesis, eventbridge) and its settings."""

    __slots__ = ("kind", "settings")

    def __init__(self, kind: str, **settings: Any) -> None:
        self.kind = kind
        self.settings = settings

    def __getitem__(self, key: str) -> Any:
        return self.settings[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.settings.get(key, default)


class Output:
    """A declared output of a function: ``kind`` (queue, topic, bucket, bus), the neutral
    name and, for the three declared in the template, the resource's logical id."""

    __slots__ = ("kind", "logical", "name")

    def __init__(self, kind: str, name: str, logical: str | None) -> None:
        self.kind = kind
        self.name = name
        self.logical = logical

    @property
    def env(self) -> str | None:
        """The variable naming the physical resource (none for event buses)."""
        if self.kind == "bus":
            return None
        return f"POLYFN_{self.kind.upper()}_{env_name(self.name)}"


class FunctionPlan:
    """A function's event sources, outputs and store tables (logical ids)."""

    __slots__ = ("function", "outputs", "sources", "stores")

    def __init__(
        self,
        function: Function,
        sources: list[tuple[Trigger, Source]],
        outputs: list[Output],
        stores: dict[str, str],
    ) -> None:
        self.function = function
        self.sources = sources
        self.outputs = outputs
        self.stores = stores


def plan_app(app: App) -> tuple[dict[str, Any], list[FunctionPlan]]:
    """The CloudFormation resources of ``app`` and the plan of each function."""
    resources: dict[str, Any] = {}
    sources = {
        fn.name: [(t, event_source(t, resources, fn.name)) for t in fn.triggers]
        for fn in app.functions.values()
    }
    stores = {env_name(name): declare_store_table(resources, name) for name in app_stores(app)}
    plans = []
    for fn in app.functions.values():
        declared = fn.outputs
        outputs = (
            [Output("queue", q, declare_queue(resources, q)) for q in declared.queues]
            + [Output("topic", t, declare_topic(resources, t)) for t in declared.topics]
            + [Output("bucket", b, declare_bucket(resources, b)) for b in declared.buckets]
            + [Output("bus", b, None) for b in declared.buses]
        )
        plans.append(FunctionPlan(fn, sources[fn.name], outputs, stores))
    return resources, plans


def base_env(app: App) -> dict[str, str]:
    """What every function of the app gets: its CloudWatch metrics namespace (the app's
    name; polyfn.observe.metrics reads POLYFN_METRICS_NAMESPACE)."""
    return {"POLYFN_METRICS_NAMESPACE": app.name}


def output_env(plan: FunctionPlan) -> dict[str, Any]:
    """``POLYFN_QUEUE_/TOPIC_/BUCKET_/STORE_<N>``: the physical names of the function's
    declared outputs and of the app's stores."""
    env: dict[str, Any] = {o.env: {"Ref": o.logical} for o in plan.outputs if o.env and o.logical}
    env.update({f"POLYFN_STORE_{n}": {"Ref": table} for n, table in plan.stores.items()})
    return env


def event_source(t: Trigger, resources: dict[str, Any], function: str) -> Source:
    """The trigger ``t`` of ``function`` as an event source; declares what it needs."""
    if isinstance(t, HttpTrigger):
        methods = list(t.methods)
        method = "ANY" if len(methods) != 1 else methods[0]
        return Source("http", path=t.route, method=method)
    if isinstance(t, QueueTrigger):
        queue = declare_queue(resources, t.name, t)
        # Above 10 messages SQS event sources need a batching window.
        window = 1 if t.batch_size > 10 and not t.fifo else None
        return Source("sqs", queue=queue, batch_size=t.batch_size, window=window)
    if isinstance(t, TopicTrigger):
        topic = declare_topic(resources, t.name)
        policy = {
            k: [str(x) for x in (v if isinstance(v, list | tuple | set) else [v])]
            for k, v in (t.filter or {}).items()
        }
        return Source("sns", topic=topic, name=t.name, filter=policy)
    if isinstance(t, StorageTrigger):
        unsupported = [e for e in t.events if e not in S3_EVENTS]
        if unsupported:
            raise DefinitionError(
                f"aws function {function!r}: storage trigger: events: S3 notifications have "
                f"no {unsupported[0]!r} event here (created and deleted only)"
            )
        bucket = declare_bucket(resources, t.bucket)
        rules = [(name, value) for name, value in (("prefix", t.prefix), ("suffix", t.suffix))]
        return Source(
            "s3",
            bucket=bucket,
            name=t.bucket,
            events=[S3_EVENTS[e] for e in t.events],
            rules=[(k, v) for k, v in rules if v],
        )
    if isinstance(t, ScheduleTrigger):
        utc = t.timezone in ("UTC", "Etc/UTC")
        return Source(
            "schedule",
            expression=aws_schedule(t.expression),
            timezone=None if utc else t.timezone,
        )
    if isinstance(t, ChangeTrigger):
        table = declare_change_table(resources, t.source)
        return Source(
            "dynamodb",
            arn={"Fn::GetAtt": [table, "StreamArn"]},
            start=_start(t.start),
            batch_size=t.batch_size,
        )
    if isinstance(t, StreamTrigger):
        stream = declare_stream(resources, t.name)
        return Source(
            "kinesis",
            arn={"Fn::GetAtt": [stream, "Arn"]},
            start=_start(t.start),
            batch_size=t.batch_size,
        )
    if isinstance(t, EventTrigger):
        pattern: dict[str, Any] = {}
        if t.source is not None:
            pattern["source"] = [t.source]
        if t.type is not None:
            pattern["detail-type"] = [t.type]
        if not pattern:  # every event of the bus
            pattern["account"] = [{"Ref": "AWS::AccountId"}]
        return Source("eventbridge", pattern=pattern, bus=t.bus)
    raise DefinitionError(
        f"aws function {function!r}: {t.KIND} trigger: kind: no AWS event source for it"
    )


def _start(start: str) -> str:
    return "TRIM_HORIZON" if start == "oldest" else "LATEST"
