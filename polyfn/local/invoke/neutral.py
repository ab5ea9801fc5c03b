"""Without an adapter: the neutral dispatcher (``polyfn.dispatch``), as the local runtime
runs a function when no ``--as`` is given."""

from __future__ import annotations

import uuid
from typing import Any

from polyfn.context import Context
from polyfn.dispatch import BY_GROUP, IN_ORDER, UNORDERED, run_batch, run_event, run_http
from polyfn.local.invoke import Call, InvokeError, Outcome, body_json, describe, fail, http_failed
from polyfn.routing import match_route
from polyfn.triggers import HttpTrigger, QueueTrigger, ScheduleTrigger, TopicTrigger


def run(call: Call) -> Outcome:
    if call.native is not None or call.source is not None or call.mode is not None:
        raise InvokeError("--native, --source and --mode need --as aws, azure or gcp")
    fn, trigger = call.function, call.trigger
    ctx = Context(fn.name, str(uuid.uuid4()), "local", outputs=call.outputs)
    outcome = Outcome(f"local {trigger.KIND}")
    if isinstance(trigger, HttpTrigger):
        outcome.result = [_http(call, trigger, e, ctx, outcome) for e in call.batch]
    elif trigger.BATCHED:
        outcome.result = _batch(call, ctx, outcome)
        return outcome
    else:
        outcome.result = [_event(call, e, ctx, outcome) for e in call.batch]
    if len(outcome.result) == 1:
        outcome.result = outcome.result[0]
    return outcome


def _http(call: Call, trigger: HttpTrigger, request: Any, ctx: Context, outcome: Outcome) -> Any:
    params = match_route(trigger.route, request.path)
    if params is None:
        raise InvokeError(f"path {request.path!r} does not match the route {trigger.route!r}")
    request.route, request.path_params = trigger.route, params
    response = run_http(call.function, request, ctx)
    problem = http_failed(response.status)
    if problem:
        outcome.errors.append(problem)
    return {
        "status": response.status,
        "headers": dict(response.headers),
        "body": body_json(response.body),
    }


def _batch(call: Call, ctx: Context, outcome: Outcome) -> Any:
    trigger, records = call.trigger, call.batch
    if isinstance(trigger, TopicTrigger):
        records = [r for r in records if trigger.accepts(r.attributes)]
    if isinstance(trigger, QueueTrigger):
        order = BY_GROUP if trigger.fifo else UNORDERED
    else:
        order = UNORDERED if isinstance(trigger, TopicTrigger) else IN_ORDER
    result = run_batch(call.function, records, ctx, order)
    for failure in result.failures:
        cause = describe(failure.error) if failure.error else "reported failed"
        outcome.errors.append(f"record {failure.id}: {cause}")
    return {
        "records": len(records),
        "skipped_by_filter": len(call.batch) - len(records),
        "failed": result.failed_ids,
    }


def _event(call: Call, event: Any, ctx: Context, outcome: Outcome) -> Any:
    if isinstance(call.trigger, ScheduleTrigger):
        event.schedule = call.trigger.expression  # as declared, as every adapter does
    try:
        return run_event(call.function, event, ctx)
    except Exception as e:
        fail(outcome, e)
        return None
