"""A generic Azure Durable Functions orchestrator that interprets an ASL definition.

``orchestrator(definition)`` returns a generator function for ``azure-functions-durable``:
it walks the state machine deterministically (everything it reads comes from the
orchestration's input, the activity results replayed from history and
``context.current_utc_datetime``), and every ``polyfn:function:NAME`` Task becomes an
activity call. ``register(df_app, app, definition, name)`` adds the orchestrator and one
activity per polyfn function the definition uses to an ``azure.durable_functions.DFApp``.

State by state:

=============  ==========================================================================
ASL            Durable Functions
=============  ==========================================================================
Pass, Choice,  evaluated by polyfn.workflow's interpreter (paths, templates, intrinsics,
Succeed, Fail  choice rules are the same code the local runner uses); Fail raises
               :class:`~polyfn.workflow.errors.WorkflowError`, so the orchestration fails
Wait           ``context.create_timer(now + delay)`` (Seconds/Timestamp and their Paths)
Task           ``context.call_activity(activity_name(NAME), input)``
Retry          ``call_activity_with_retry`` when Durable's ``RetryOptions`` can express
               it (one retrier matching every error — ``States.ALL`` or
               ``States.TaskFailed`` — with ``BackoffRate`` 1, no ``MaxDelaySeconds`` and no
               jitter; ``max_number_of_attempts = MaxAttempts + 1`` since Durable counts the
               first call). ``RetryOptions`` in azure-functions-durable has no backoff
               coefficient and no error filter, so every other Retry (the order
               workflow's, ``BackoffRate`` 2 on ``PaymentGatewayTimeout``) is run by the
               orchestrator itself: on a matching failure it yields a durable timer of
               ``IntervalSeconds * BackoffRate ** n`` (capped by ``MaxDelaySeconds``;
               ``FULL`` jitter draws from a generator seeded by the instance id, state and
               attempt, so replays agree) and calls the activity again
Catch          try/except around the yield; the error output is ``{"Error", "Cause"}``
Parallel       branches that are each a single Task (no Retry/Catch inside the branch):
               ``context.task_all`` over their activity calls; the Parallel's own Retry
               and Catch apply. Other branches raise :class:`DefinitionError`
Map            an ItemProcessor that is a single Task: ``task_all`` fan-out over the items
               (``ItemSelector``/``Parameters``, ``ItemsPath``); ``MaxConcurrency`` and
               tolerated failures are not honoured (all items run; any failure fails it)
=============  ==========================================================================

Errors. An activity failure reaches the orchestrator as an ``Exception`` whose text is
the TaskFailed event's ``Reason`` and ``Details``. The activities :func:`register` adds
raise :class:`ActivityError`, whose message carries ``polyfn-error:{"Error": ..., "Cause":
...}`` (the Error being the exception's class name, as locally and on Lambda), and the
orchestrator reads it back so Retry and Catch match by name. A failure without that
marker is ``States.TaskFailed`` with the text as its cause. Not supported: ``TimeoutSeconds``
(of the machine or of Tasks), ``HeartbeatSeconds``, JSONata, resources other than
``polyfn:function:*`` (``polyfn:send``/``publish`` would need an activity of their own).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
from collections.abc import Callable, Generator
from typing import Any

import azure.durable_functions as df

from polyfn.workflow import paths
from polyfn.workflow.builder import FUNCTION, Workflow, task_resources
from polyfn.workflow.errors import WorkflowError
from polyfn.workflow.interpreter import Interpreter, _Failed, _iso

__all__ = ["ActivityError", "DefinitionError", "error_of", "orchestrator", "register"]

MARKER = "polyfn-error:"


class DefinitionError(ValueError):
    """The definition uses something this orchestrator cannot express."""


class ActivityError(Exception):
    """Raised by registered activities: the message carries the ASL error name and cause."""

    def __init__(self, error: str, cause: str | None):
        super().__init__(MARKER + json.dumps({"Error": error, "Cause": cause}))
        self.error, self.cause = error, cause


def error_of(exc: BaseException) -> WorkflowError:
    """The ASL error of an activity failure surfaced by the Durable replay."""
    if isinstance(exc, WorkflowError):
        return exc
    text = str(exc)
    at = text.find(MARKER)
    if at >= 0:
        try:
            obj, _ = json.JSONDecoder().raw_decode(text[at + len(MARKER) :])
            return WorkflowError(obj["Error"], obj.get("Cause"))
        except (ValueError, KeyError, TypeError):
            pass
    return WorkflowError("States.TaskFailed", text.strip())


class _Clock:
    """The interpreter's clock during a replay: now is the orchestration's time, and a
    sleep is recorded so the orchestrator yields a durable timer for it."""

    def __init__(self, context: df.DurableOrchestrationContext):
        self.context = context
        self.slept: float | None = None

    def now(self):
        return self.context.current_utc_datetime

    def sleep(self, seconds: float) -> None:
        self.slept = seconds


def _asl(definition: Workflow | dict | str) -> dict:
    if isinstance(definition, Workflow):
        return definition.to_asl()
    if isinstance(definition, str):
        return json.loads(definition)
    return copy.deepcopy(definition)


def _single_task(machine: dict, where: str) -> dict:
    states = machine.get("States") or {}
    start = states.get(machine.get("StartAt"))
    if (
        len(states) != 1
        or not start
        or start.get("Type") != "Task"
        or "Retry" in start
        or "Catch" in start
    ):
        raise DefinitionError(
            f"{where}: only single-Task branches/iterators (without Retry/Catch) are supported"
        )
    return start


def _expressible(retriers: list) -> bool:
    if len(retriers) != 1:
        return False
    r = retriers[0]
    return (
        set(r.get("ErrorEquals", [])) & {"States.ALL", "States.TaskFailed"} != set()
        and r.get("BackoffRate", 2.0) == 1
        and r.get("MaxDelaySeconds") is None
        and r.get("JitterStrategy") in (None, "NONE")
        and r.get("IntervalSeconds", 1) > 0
        and r.get("MaxAttempts", 3) > 0
    )


class _Run:
    def __init__(self, context: df.DurableOrchestrationContext, activity_name: Callable):
        self.context = context
        self.activity_name = activity_name
        self.clock = _Clock(context)
        self.interp = Interpreter(clock=self.clock)

    # -- activities -----------------------------------------------------------------
    def _activity(self, state: dict, data: Any, retry: bool):
        resource = state.get("Resource", "")
        if not resource.startswith(FUNCTION):
            raise DefinitionError(f"Task resource {resource!r} is not a polyfn function")
        name = self.activity_name(resource[len(FUNCTION) :])
        retriers = state.get("Retry", [])
        if retry and _expressible(retriers):
            r = retriers[0]
            options = df.RetryOptions(
                int(r.get("IntervalSeconds", 1) * 1000), r.get("MaxAttempts", 3) + 1
            )
            return self.context.call_activity_with_retry(name, options, data)
        return self.context.call_activity(name, data)

    def _task_input(self, state, data, ctx, variables):
        effective = self.interp._input_path(state, data, ctx, variables)
        if "Parameters" in state:
            effective = self.interp._template(state["Parameters"], effective, ctx, variables)
        return effective

    def _task_output(self, state, data, result, ctx, variables):
        if "ResultSelector" in state:
            result = self.interp._template(state["ResultSelector"], result, ctx, variables)
        if "Assign" in state:
            self.interp._assign(state["Assign"], result, ctx, variables)
        out = paths.put(data, state.get("ResultPath", "$"), result)
        return self.interp._output_path(state, out, ctx, variables)

    def _await(self, task) -> Generator[Any, Any, Any]:
        try:
            return (yield task)
        except Exception as e:  # TaskFailed replayed as an exception
            raise error_of(e) from None

    # -- machine ----------------------------------------------------------------------
    def machine(self, machine: dict, data: Any, context: dict, variables: dict):
        if machine.get("QueryLanguage") == "JSONata":
            raise DefinitionError("JSONata is not supported")
        states = machine.get("States") or {}
        name = machine.get("StartAt")
        while True:
            if name not in states:
                raise WorkflowError("States.Runtime", f"State {name!r} does not exist")
            state = states[name]
            ctx = dict(context)
            ctx["State"] = {"EnteredTime": _iso(self.clock.now()), "Name": name}
            data, nxt = yield from self.state(name, state, data, ctx, variables)
            if nxt is None:
                return data
            name = nxt

    def state(self, name: str, state: dict, data: Any, ctx: dict, variables: dict):
        kind = state.get("Type")
        if kind in ("Pass", "Choice", "Succeed", "Fail"):
            return self.interp.run_state(name, state, data, ctx, variables)
        if kind == "Wait":
            self.clock.slept = None
            out = self.interp.run_state(name, state, data, ctx, variables)
            if self.clock.slept:
                when = self.clock.now() + dt.timedelta(seconds=self.clock.slept)
                yield self.context.create_timer(when)
            return out
        if kind not in ("Task", "Parallel", "Map"):
            raise WorkflowError("States.Runtime", f"Unknown state type {kind!r} in state {name!r}")
        retriers = [dict(r) for r in state.get("Retry", [])]
        native = kind == "Task" and _expressible(retriers)
        counts = [0] * len(retriers)
        if kind == "Task":
            ctx["State"]["RetryCount"] = 0
        while True:
            try:
                out = yield from self.body(kind, name, state, data, ctx, variables)
                return out, (None if state.get("End") else state.get("Next"))
            except (WorkflowError, _Failed) as exc:
                error, cause = exc.error, exc.cause
                idx = None if native else self.interp._match(retriers, error)
                if idx is not None and counts[idx] < retriers[idx].get("MaxAttempts", 3):
                    r = retriers[idx]
                    delay = r.get("IntervalSeconds", 1) * r.get("BackoffRate", 2.0) ** counts[idx]
                    if r.get("MaxDelaySeconds") is not None:
                        delay = min(delay, r["MaxDelaySeconds"])
                    if r.get("JitterStrategy") == "FULL":
                        seed = f"{self.context.instance_id}/{name}/{idx}/{counts[idx]}"
                        delay = random.Random(seed).uniform(0, delay)
                    counts[idx] += 1
                    ctx["State"]["RetryCount"] = ctx["State"].get("RetryCount", 0) + 1

                    when = self.clock.now() + dt.timedelta(seconds=delay)
                    yield self.context.create_timer(when)
                    continue
                for catcher in state.get("Catch", []):
                    if self.interp._error_matches(catcher.get("ErrorEquals", []), error):
                        err_out = {"Error": error, "Cause": cause}
                        if cause is None:
                            err_out = {"Error": error}
                        if "Assign" in catcher:
                            self.interp._assign(catcher["Assign"], err_out, ctx, variables)
                        result = paths.put(data, catcher.get("ResultPath", "$"), err_out)
                        return result, catcher["Next"]
                raise

    def body(self, kind, name, state, data, ctx, variables):
        if kind == "Task":
            effective = self._task_input(state, data, ctx, variables)
            result = yield from self._await(self._activity(state, effective, retry=True))
            return self._task_output(state, data, result, ctx, variables)
        if kind == "Parallel":
            effective = self._task_input(state, data, ctx, variables)
            calls, subs = [], []
            for i, branch in enumerate(state.get("Branches", [])):
                sub = _single_task(branch, f"Parallel {name!r} branch {i}")
                bctx = self.interp._child_ctx(ctx)
                inp = self._task_input(sub, copy.deepcopy(effective), bctx, dict(variables))
                calls.append(self._activity(sub, inp, retry=False))
                subs.append((sub, copy.deepcopy(effective), bctx))
            results = yield from self._await(self.context.task_all(calls))
            outs = [
                self._task_output(sub, d, r, c, dict(variables))
                for (sub, d, c), r in zip(subs, results, strict=True)
            ]
            return self._task_output(state, data, outs, ctx, variables)
        # Map
        effective = self.interp._input_path(state, data, ctx, variables)
        items_path = state.get("ItemsPath", "$")
        try:
            items = paths.get(effective, items_path, ctx, variables)
        except paths.PathError:
            raise WorkflowError(
                "States.Runtime", f"Invalid path '{items_path}' : No results for path: {items_path}"
            ) from None
        if not isinstance(items, list):
            raise WorkflowError("States.Runtime", f"Item path {items_path} must point to an array")
        processor = state.get("ItemProcessor") or state.get("Iterator") or {}
        sub = _single_task(processor, f"Map {name!r}")
        selector = state.get("ItemSelector", state.get("Parameters"))
        calls, subs = [], []
        for i, item in enumerate(items):
            ictx = self.interp._child_ctx(ctx)
            ictx["Map"] = {"Item": {"Index": i, "Value": item}}
            inp = (
                self.interp._template(selector, effective, ictx, variables)
                if selector is not None
                else copy.deepcopy(item)
            )
            calls.append(self._activity(sub, self._task_input(sub, inp, ictx, variables), False))
            subs.append((inp, ictx))
        results = []
        if calls:
            results = yield from self._await(self.context.task_all(calls))
        outs = [
            self._task_output(sub, inp, r, c, dict(variables))
            for (inp, c), r in zip(subs, results, strict=True)
        ]
        if "ResultSelector" in state:
            outs = self.interp._template(state["ResultSelector"], outs, ctx, variables)
        if "Assign" in state:
            self.interp._assign(state["Assign"], outs, ctx, variables)
        out = paths.put(data, state.get("ResultPath", "$"), outs)
        return self.interp._output_path(state, out, ctx, variables)


def orchestrator(
    definition: Workflow | dict | str,
    *,
    activity_name: Callable[[str], str] = lambda fn: fn,
) -> Callable[[df.DurableOrchestrationContext], Generator[Any, Any, Any]]:
    """A Durable Functions orchestrator function interpreting ``definition``."""
    asl = _asl(definition)

    def orchestrator_function(context: df.DurableOrchestrationContext):
        data = context.get_input()
        data = {} if data is None else data
        run = _Run(context, activity_name)
        ctx = {
            "Execution": {
                "Id": context.instance_id,
                "Input": copy.deepcopy(data),
                "Name": context.instance_id,
                "StartTime": _iso(context.current_utc_datetime),
                "RedriveCount": 0,
            },
            "StateMachine": {"Id": "durable", "Name": "durable"},
        }
        try:
            return (yield from run.machine(asl, data, ctx, {}))
        except _Failed as f:
            raise WorkflowError(f.error or "States.Failed", f.cause) from None

    orchestrator_function.__name__ = "orchestrator_function"
    return orchestrator_function


def register(df_app: Any, app: Any, definition: Workflow | dict | str, name: str) -> None:
    """Add the orchestrator ``name`` and one activity per polyfn function ``definition``
    uses (named after the function) to ``df_app`` (an ``azure.durable_functions.DFApp``).

    Activities call the handler through polyfn.workflow.local's caller (context and async
    handlers included) and raise :class:`ActivityError` on failure.
    """
    from polyfn.workflow.local import resources

    asl = _asl(definition)
    calls = resources(asl, app)
    fn = orchestrator(asl)
    fn.__name__ = name
    df_app.orchestration_trigger(context_name="context", orchestration=name)(fn)
    for res in task_resources(asl):
        if not res.startswith(FUNCTION):
            continue
        fname = res[len(FUNCTION) :]
        call = calls[res]

        def activity(payload, call=call):
            try:
                return call(payload)
            except Exception as e:
                raise ActivityError(type(e).__name__, str(e)) from e

        activity.__name__ = fname
        df_app.activity_trigger(input_name="payload", activity=fname)(activity)
