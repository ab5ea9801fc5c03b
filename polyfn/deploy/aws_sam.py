"""An AWS SAM template (``AWS::Serverless-2016-10-31``) for a polyfn app.

One ``AWS::Serverless::Function`` per polyfn function, its handler
``polyfn.adapters.aws.lambda_handler`` configured by ``POLYFN_APP``/``POLYFN_FUNCTION``;
each trigger is an event source of it. The queues, topics, buckets, tables and streams
the triggers name are declared in the template too (S3 event sources must name a bucket
of the same template):

==========  ===============================================================================
queue       ``SQS`` event on a declared ``AWS::SQS::Queue`` (its dead-letter queue when
            ``max_deliveries``), ``BatchSize``, ``FunctionResponseTypes:
            [ReportBatchItemFailures]`` (polyfn fails the failed messages alone)
topic       ``SNS`` event on a declared topic, the filter as ``FilterPolicy``
storage     ``S3`` event on a declared bucket, ``s3:ObjectCreated:*``/``s3:ObjectRemoved:*``
            and the prefix/suffix as ``S3Key`` filter rules
schedule    ``Schedule`` (EventBridge rule; ``ScheduleV2`` for a time zone other than UTC),
            rate() or AWS cron() converted with polyfn.schedules
change      ``DynamoDB`` event on a declared table's stream (key ``id``)
stream      ``Kinesis`` event on a declared stream (on demand)
event       ``EventBridgeRule`` event, the pattern on source and detail-type
http        ``HttpApi`` event (path and method; ``{path+}`` is the same on API Gateway)
==========  ===============================================================================
"""

from __future__ import annotations

import re
from typing import Any

from polyfn.app import App
from polyfn.errors import DefinitionError
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


def logical_id(name: str, suffix: str = "") -> str:
    """A CloudFormation logical id (alphanumeric) from a name: ``order-events`` →
    ``OrderEvents`` + suffix."""
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", name) if p]
    base = "".join(p[0].upper() + p[1:] for p in parts) or "X"
    if base[0].isdigit():
        base = "R" + base
    return base + suffix


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


def sam_template(
    app: App,
    *,
    code_uri: str = ".",
    runtime: str = "python3.11",
    app_module: str | None = None,
) -> dict[str, Any]:
    """The SAM template deploying ``app``; ``app_module`` ("package.module:attribute")
    is what ``POLYFN_APP`` names (default: ``<app name>:app``)."""
    module = app_module or f"{app.name}:app"
    resources: dict[str, Any] = {}
    for fn in app.functions.values():
        events: dict[str, Any] = {}
        for i, trigger in enumerate(fn.triggers):
            key = logical_id(trigger.KIND, str(i + 1) if len(fn.triggers) > 1 else "")
            events[key] = _event(trigger, resources, fn.name)
        resources[logical_id(fn.name, "Function")] = {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "Handler": HANDLER,
                "Runtime": runtime,
                "CodeUri": code_uri,
                "Environment": {"Variables": {"POLYFN_APP": module, "POLYFN_FUNCTION": fn.name}},
                "Events": events,
            },
        }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Description": f"polyfn app {app.name} (generated by polyfn deploy-config aws)",
        "Resources": resources,
    }


def _event(t: Trigger, resources: dict[str, Any], function: str) -> dict[str, Any]:
    if isinstance(t, HttpTrigger):
        methods = list(t.methods)
        method = "ANY" if len(methods) != 1 else methods[0]
        return {"Type": "HttpApi", "Properties": {"Path": t.route, "Method": method}}
    if isinstance(t, QueueTrigger):
        queue = _queue(t, resources)
        props: dict[str, Any] = {
            "Queue": {"Fn::GetAtt": [queue, "Arn"]},
            "BatchSize": t.batch_size,
            "FunctionResponseTypes": BATCH_FAILURES,
        }
        if t.batch_size > 10 and not t.fifo:
            props["MaximumBatchingWindowInSeconds"] = 1  # required above 10 messages
        return {"Type": "SQS", "Properties": props}
    if isinstance(t, TopicTrigger):
        topic = logical_id(t.name, "Topic")
        resources.setdefault(topic, {"Type": "AWS::SNS::Topic", "Properties": {}})
        props = {"Topic": {"Ref": topic}}
        if t.filter:
            props["FilterPolicy"] = {
                k: [str(x) for x in (v if isinstance(v, list | tuple | set) else [v])]
                for k, v in t.filter.items()
            }
        return {"Type": "SNS", "Properties": props}
    if isinstance(t, StorageTrigger):
        unsupported = [e for e in t.events if e not in S3_EVENTS]
        if unsupported:
            raise DefinitionError(
                f"aws function {function!r}: storage trigger: events: S3 notifications have "
                f"no {unsupported[0]!r} event here (created and deleted only)"
            )
        bucket = logical_id(t.bucket, "Bucket")
        resources.setdefault(bucket, {"Type": "AWS::S3::Bucket", "Properties": {}})
        s3_events = [S3_EVENTS[e] for e in t.events]
        props = {"Bucket": {"Ref": bucket}, "Events": s3_events}
        rules = [
            {"Name": name, "Value": value}
            for name, value in (("prefix", t.prefix), ("suffix", t.suffix))
            if value
        ]
        if rules:
            props["Filter"] = {"S3Key": {"Rules": rules}}
        return {"Type": "S3", "Properties": props}
    if isinstance(t, ScheduleTrigger):
        expression = aws_schedule(t.expression)
        if t.timezone not in ("UTC", "Etc/UTC"):
            return {
                "Type": "ScheduleV2",
                "Properties": {
                    "ScheduleExpression": expression,
                    "ScheduleExpressionTimezone": t.timezone,
                },
            }
        return {"Type": "Schedule", "Properties": {"Schedule": expression}}
    if isinstance(t, ChangeTrigger):
        table = logical_id(t.source, "Table")
        resources.setdefault(
            table,
            {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "BillingMode": "PAY_PER_REQUEST",
                    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                    "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
                },
            },
        )
        return {
            "Type": "DynamoDB",
            "Properties": {
                "Stream": {"Fn::GetAtt": [table, "StreamArn"]},
                "StartingPosition": _start(t.start),
                "BatchSize": t.batch_size,
                "FunctionResponseTypes": BATCH_FAILURES,
            },
        }
    if isinstance(t, StreamTrigger):
        stream = logical_id(t.name, "Stream")
        resources.setdefault(
            stream,
            {
                "Type": "AWS::Kinesis::Stream",
                "Properties": {"StreamModeDetails": {"StreamMode": "ON_DEMAND"}},
            },
        )
        return {
            "Type": "Kinesis",
            "Properties": {
                "Stream": {"Fn::GetAtt": [stream, "Arn"]},
                "StartingPosition": _start(t.start),
                "BatchSize": t.batch_size,
                "FunctionResponseTypes": BATCH_FAILURES,
            },
        }
    if isinstance(t, EventTrigger):
        pattern: dict[str, Any] = {}
        if t.source is not None:
            pattern["source"] = [t.source]
        if t.type is not None:
            pattern["detail-type"] = [t.type]
        if not pattern:  # every event of the bus
            pattern["account"] = [{"Ref": "AWS::AccountId"}]
        props = {"Pattern": pattern}
        if t.bus != "default":
            props["EventBusName"] = t.bus
        return {"Type": "EventBridgeRule", "Properties": props}
    raise DefinitionError(
        f"aws function {function!r}: {t.KIND} trigger: kind: no SAM event source for it"
    )


def _start(start: str) -> str:
    return "TRIM_HORIZON" if start == "oldest" else "LATEST"


def _queue(t: QueueTrigger, resources: dict[str, Any]) -> str:
    queue = logical_id(t.name, "Queue")
    props: dict[str, Any] = {}
    if t.fifo:
        props["FifoQueue"] = True
    if t.visibility_timeout is not None:
        props["VisibilityTimeout"] = t.visibility_timeout
    if t.max_deliveries is not None:
        dlq = logical_id(t.name, "DeadLetterQueue")
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
