"""Lambda entry points: native event in, the user's handler, native answer out.

A function without a trigger (a workflow task, ``polyfn.workflow.local.task``) is what a
Step Functions Task invokes through the direct Lambda integration: the state's input is
the raw event and the return value is the Task's result. Its handler is called with the
event as is, and a raised exception leaves the handler unwrapped, so the runtime reports
``errorType`` = the exception's class name (awslambdaric: ``etype.__name__``), which is
what Retry and Catch match. Source:
https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from polyfn.app import App, Function
from polyfn.dispatch import run_batch, run_event, run_http, run_task
from polyfn.errors import DefinitionError, HandlerError
from polyfn.observe import from_env as observe_from_env
from polyfn.outputs import Outputs
from polyfn.routing import match_route
from polyfn.triggers import ScheduleTrigger, TopicTrigger

from .context import make_context
from .recognise import source_module

LambdaHandler = Callable[[Any, Any], Any]


def handler(app: App, name: str | None = None, *, outputs: Outputs | None = None) -> LambdaHandler:
    """The Lambda handler for function ``name`` of ``app``.

    Without ``name`` each event goes to the function whose trigger it matches, so one
    Lambda can serve several triggers of the app.
    """
    fixed = app.function(name) if name is not None else None
    observe_from_env("aws")
    if outputs is None:
        from .outputs import AwsDriver

        outputs = Outputs(AwsDriver())
    port = outputs

    if fixed is not None and not fixed.triggers:

        def lambda_handler(event: Any, context: Any) -> Any:
            return run_task(fixed, event, make_context(fixed.name, context, port), "aws")

    else:

        def lambda_handler(event: Any, context: Any) -> Any:
            return invoke(app, fixed, event, context, port)

    lambda_handler.__name__ = f"polyfn_{name or app.name}"
    return lambda_handler


def invoke(app: App, fixed: Function | None, event: Any, context: Any, outputs: Outputs) -> Any:
    src = source_module(event)
    kind = src.KIND
    if kind == "http":
        request = src.from_native(event)
        if fixed is not None:
            fn = fixed
            trigger = fn.trigger_of("http")
        else:
            fn, trigger = app.route(request)
        if trigger is not None and request.route != trigger.route:
            # ALB and Function URLs know no routes, and an API Gateway catch-all resource
            # (/{proxy+}) is not the app's route: match the path against the app's route.
            params = match_route(trigger.route, request.path)  # type: ignore[attr-defined]
            if params is not None:
                request.route = trigger.route  # type: ignore[attr-defined]
                request.path_params = params
        response = run_http(fn, request, make_context(fn.name, context, outputs))
        return src.response(response, event)

    parsed = src.from_native(event)
    events = parsed if isinstance(parsed, list) else [parsed]
    fn = fixed if fixed is not None else app.route(events[0])[0]
    ctx = make_context(fn.name, context, outputs)
    if hasattr(src, "batch_response"):
        outcome = run_batch(fn, events, ctx, src.order(event))
        return src.batch_response(outcome, events)
    if kind == "topic":
        topic_trigger = fn.trigger_of("topic")
        if isinstance(topic_trigger, TopicTrigger) and topic_trigger.filter:
            events = [e for e in events if topic_trigger.accepts(e.attributes)]
        # SNS has no partial failure: a failed message fails the invocation, and the
        # asynchronous retry (then the function's DLQ / on-failure destination) takes it.
        outcome = run_batch(fn, events, ctx)
        if outcome.failures:
            first = outcome.failures[0]
            raise HandlerError(
                fn.name, "aws", src.EVENT_SOURCE, first.error or RuntimeError(first.id)
            )
        return None
    if kind == "schedule":
        declared = fn.trigger_of("schedule")
        if isinstance(declared, ScheduleTrigger):
            events[0].schedule = declared.expression  # as declared, on every provider
    if len(events) == 1:
        return run_event(fn, events[0], ctx)
    # Several single-event records (an S3 notification may carry more than one): each
    # goes to its own function; the first failure fails the invocation after all ran.
    results, failure = [], None
    for e in events:
        target = fn if fixed is not None else app.route(e)[0]
        try:
            results.append(run_event(target, e, make_context(target.name, context, outputs)))
        except HandlerError as err:
            failure = failure or err
    if failure is not None:
        raise failure
    return results


_from_env: LambdaHandler | None = None


def lambda_handler(event: Any, context: Any) -> Any:
    """A Lambda handler configured by environment, so deployment needs no code of its own:
    ``POLYFN_APP=package.module:app`` and, optionally, ``POLYFN_FUNCTION=name``.

    Set the Lambda handler to ``polyfn.adapters.aws.lambda_handler``.
    """
    global _from_env
    if _from_env is None:
        _from_env = _build_from_env()
    return _from_env(event, context)


def _build_from_env() -> LambdaHandler:
    from polyfn.loader import load_app

    target = os.environ.get("POLYFN_APP")
    if not target:
        raise DefinitionError(
            "aws lambda_handler: set POLYFN_APP to the app as 'package.module:attribute'"
        )
    return handler(load_app(target), os.environ.get("POLYFN_FUNCTION") or None)
