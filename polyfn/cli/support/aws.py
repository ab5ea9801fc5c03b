"""AWS, mirrored from the Lambda adapter's event sources and the services' limits (the
adapter plans nothing ahead: a Lambda function takes whatever event it is sent).

http → API Gateway HTTP API route (REST API, ALB and function URLs work too); queue → SQS
event source mapping; stream → Kinesis; topic → SNS subscription (the filter as its
filter policy); storage → S3 event notifications; schedule → EventBridge rule (EventBridge
Scheduler for a time zone); change → DynamoDB Streams; event → EventBridge rule.
"""

from __future__ import annotations

import json
import re

from polyfn.app import App
from polyfn.cli.support import Cell
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

# Lambda event source mappings: the largest batch each source takes.
SQS_MAX_BATCH, SQS_FIFO_MAX_BATCH, STREAM_MAX_BATCH = 10_000, 10, 10_000
MAX_RECEIVE_COUNT = 1000  # an SQS redrive policy's maxReceiveCount
MAX_VISIBILITY = 43_200  # seconds (12 hours)
# S3 event notification types per neutral kind (the adapter reads them back the same way).
S3_EVENTS = {
    "created": ["s3:ObjectCreated:*"],
    "deleted": ["s3:ObjectRemoved:*", "s3:LifecycleExpiration:*"],
    "archived": ["s3:LifecycleTransition", "s3:IntelligentTiering"],
    "restored": ["s3:ObjectRestore:Completed"],
    "metadata_updated": ["s3:ObjectTagging:*", "s3:ObjectAcl:Put"],
}
_UTC = ("UTC", "Etc/UTC", "Etc/GMT", "GMT")


class Unsupported(Exception):
    """Why AWS cannot run a trigger as declared."""


def cells(app: App) -> dict[tuple[str, int], Cell]:
    out: dict[tuple[str, int], Cell] = {}
    for fn in app.functions.values():
        for i, trigger in enumerate(fn.triggers):
            try:
                out[(fn.name, i)] = Cell(True, mapping(trigger))
            except Unsupported as e:
                out[(fn.name, i)] = Cell(False, str(e))
    return out


def mapping(t: Trigger) -> str:
    """What the trigger is on AWS; Unsupported when AWS cannot say it."""
    if isinstance(t, HttpTrigger):
        return _http(t)
    if isinstance(t, QueueTrigger):
        return _queue(t)
    if isinstance(t, StreamTrigger):
        _batch(t.batch_size, STREAM_MAX_BATCH, "a Kinesis event source mapping")
        position = "TRIM_HORIZON" if t.start == "oldest" else "LATEST"
        return f"Kinesis stream {t.name} (batch {t.batch_size}, {position})"
    if isinstance(t, TopicTrigger):
        policy = {
            k: list(v) if isinstance(v, list | tuple | set) else [v]
            for k, v in (t.filter or {}).items()
        }
        shown = f", filter policy {json.dumps(policy)}" if policy else ""
        return f"SNS topic {t.name}{shown}"
    if isinstance(t, StorageTrigger):
        events = [e for kind in t.events for e in S3_EVENTS[kind]]
        rules = [f"{k} {v!r}" for k, v in (("prefix", t.prefix), ("suffix", t.suffix)) if v]
        where = f" ({', '.join(rules)})" if rules else ""
        return f"S3 bucket {t.bucket}: {', '.join(events)}{where}"
    if isinstance(t, ScheduleTrigger):
        expression = aws_schedule(t.expression)
        if t.timezone in _UTC:
            return f"EventBridge rule {expression}"
        return f"EventBridge Scheduler {expression} in {t.timezone}"
    if isinstance(t, ChangeTrigger):
        _batch(t.batch_size, STREAM_MAX_BATCH, "a DynamoDB Streams event source mapping")
        position = "TRIM_HORIZON" if t.start == "oldest" else "LATEST"
        return f"DynamoDB Streams of table {t.source} (batch {t.batch_size}, {position})"
    if isinstance(t, EventTrigger):
        pattern = {k: [v] for k, v in (("source", t.source), ("detail-type", t.type)) if v}
        return f"EventBridge rule on bus {t.bus}, pattern {json.dumps(pattern)}"
    raise Unsupported(f"the AWS adapter has no source for {t.KIND} triggers")


def _http(t: HttpTrigger) -> str:
    greedy = re.search(r"\{[A-Za-z_]\w*\+\}", t.route)
    if greedy and greedy.end() != len(t.route):
        raise Unsupported(f"API Gateway: a greedy parameter must end the route ({t.route})")
    methods = "ANY" if "ANY" in t.methods else ",".join(t.methods)
    auth = "" if t.auth == "anonymous" else f", {t.auth} auth: IAM or an authorizer on the route"
    return f"API Gateway HTTP API {methods} {t.route}{auth}"


def _queue(t: QueueTrigger) -> str:
    limit = SQS_FIFO_MAX_BATCH if t.fifo else SQS_MAX_BATCH
    _batch(t.batch_size, limit, "an SQS FIFO event source mapping" if t.fifo else "SQS")
    extra = [f"batch {t.batch_size}"]
    if t.max_deliveries is not None:
        if not 1 <= t.max_deliveries <= MAX_RECEIVE_COUNT:
            raise Unsupported(
                f"SQS redrive: maxReceiveCount is 1..{MAX_RECEIVE_COUNT}, not {t.max_deliveries}"
            )
        extra.append(f"redrive after {t.max_deliveries} receives")
    if t.visibility_timeout is not None and not 0 <= t.visibility_timeout <= MAX_VISIBILITY:
        raise Unsupported(f"SQS visibility timeout is 0..{MAX_VISIBILITY}s")
    if t.fifo:
        name = t.name if t.name.endswith(".fifo") else t.name + ".fifo"
        return f"SQS FIFO queue {name} ({', '.join(extra)})"
    return f"SQS queue {t.name} ({', '.join(extra)})"


def _batch(size: int, limit: int, what: str) -> None:
    if size > limit:
        raise Unsupported(f"{what} takes batches of at most {limit}, not {size}")


def aws_schedule(expression: str) -> str:
    """The EventBridge schedule expression: rate() and cron() as written, five-field cron
    and macros as cron(min hour day-of-month month day-of-week year)."""
    from polyfn.schedules import Cron, parse

    expr = expression.strip()
    if expr.startswith(("rate(", "cron(")):
        return expr
    cron = parse(expr)
    assert isinstance(cron, Cron)
    if cron.both_days_restricted:
        raise Unsupported(
            f"EventBridge cron() cannot restrict both day-of-month and day-of-week ({expr!r}): "
            "restrict only one"
        )
    dom, dow = cron.day_of_month, cron.day_of_week
    if dow == "*":
        dow = "?"
    else:
        if "/" in dow:
            raise Unsupported(f"EventBridge cron() takes no step (/) in day-of-week ({expr!r})")
        dom = "?"
        dow = re.sub(r"\d+", lambda m: str(int(m.group()) + 1), dow)  # SUN is 1 on AWS
    return f"cron({cron.minute} {cron.hour} {dom} {cron.month} {dow} *)"
