"""A local interpreter of Amazon States Language (JSONPath query language).

``execute(definition, input)`` runs a state machine to its end, in-process, and returns
what Step Functions reports: status, output, error and cause. Task states call the
functions of a ``resources`` mapping (name or ARN -> ``function(input) -> output``);
Wait states wait on a clock, virtual by default (time advances, nothing sleeps).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import choice, intrinsics, paths
from .errors import WorkflowError

MAX_PAYLOAD = 256 * 1024
_UNSET = object()


class VirtualClock:
    """A clock whose ``sleep`` advances time instantly."""

    def __init__(self, start: dt.datetime | None = None):
        self._now = start or dt.datetime.now(dt.UTC)

    def now(self) -> dt.datetime:
        return self._now

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._now += dt.timedelta(seconds=seconds)


class RealClock:
    """Wall-clock time; ``sleep`` really sleeps."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


@dataclass
class ExecutionResult:
    status: str  # SUCCEEDED | FAILED
    output: Any = None
    error: str | None = None
    cause: str | None = None

    @property
    def output_json(self) -> str | None:
        return (
            None if self.status != "SUCCEEDED" else json.dumps(self.output, separators=(",", ":"))
        )


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _text(v: Any) -> str:
    return v if isinstance(v, str) else _compact(v)


def _compact(v: Any) -> str:
    return json.dumps(v, separators=(",", ":"))


class _Failed(Exception):
    """A machine (or branch) ended in a Fail state or an unhandled error."""

    def __init__(self, error: str | None, cause: str | None):
        super().__init__(error)
        self.error = error
        self.cause = cause


class _TimedOut(Exception):
    """The machine's TimeoutSeconds elapsed."""


class Interpreter:
    def __init__(
        self,
        resources: Mapping[str, Callable[[Any], Any]] | None = None,
        clock: Any = None,
        context: dict | None = None,
        rng: random.Random | None = None,
    ):
        self.resources = dict(resources or {})
        self.clock = clock or VirtualClock()
        self.base_context = context or {}
        self.rng = rng or random.Random()
        self.event_id = 1  # ExecutionStarted; used in States.Runtime causes as Step Functions does

    # -- machine ------------------------------------------------------------------
    def run_machine(self, machine: dict, data: Any, context: dict, variables: dict) -> Any:
        if machine.get("QueryLanguage") == "JSONata":
            raise WorkflowError("States.Runtime", "JSONata not supported yet")
        states = machine.get("States") or {}
        name = machine.get("StartAt")
        deadline = None
        if machine.get("TimeoutSeconds") is not None:
            deadline = self.clock.now() + dt.timedelta(seconds=machine["TimeoutSeconds"])
        while True:
            if name not in states:
                raise WorkflowError("States.Runtime", f"State {name!r} does not exist")
            state = states[name]
            if state.get("QueryLanguage") == "JSONata":
                raise WorkflowError("States.Runtime", "JSONata not supported yet")
            ctx = dict(context)
            ctx["State"] = {"EnteredTime": _iso(self.clock.now()), "Name": name}
            if state.get("Type") == "Task":
                ctx["State"]["RetryCount"] = 0
            self.event_id += 1
            entered = self.event_id
            try:
                data, nxt = self.run_state(name, state, data, ctx, variables)
            except WorkflowError as e:
                if e.error == "States.Runtime" and not getattr(e, "located", False):
                    e.cause = (
                        f"An error occurred while executing the state '{name}' "
                        f"(entered at the event id #{entered}). {e.cause}"
                    )
                    e.located = True
                raise
            self.event_id += 1
            if deadline is not None and self.clock.now() > deadline:
                raise _TimedOut()
            if nxt is None:
                return data
            name = nxt

    # -- one state ----------------------------------------------------------------
    def run_state(self, name: str, state: dict, data: Any, ctx: dict, variables: dict):
        kind = state.get("Type")
        if kind == "Fail":
            error, cause = state.get("Error"), state.get("Cause")
            if "ErrorPath" in state:
                error = self._fail_field(state["ErrorPath"], "ErrorPath", data, ctx, variables)
            if "CausePath" in state:
                cause = self._fail_field(state["CausePath"], "CausePath", data, ctx, variables)
            raise _Failed(error, cause)
        if kind == "Succeed":
            effective = self._input_path(state, data, ctx, variables)
            return self._output_path(state, effective, ctx, variables), None
        if kind == "Choice":
            effective = self._input_path(state, data, ctx, variables)
            for rule in state.get("Choices", []):
                if choice.evaluate(rule, effective, ctx, variables):
                    if "Assign" in rule:
                        self._assign(rule["Assign"], effective, ctx, variables)
                    return self._output_path(state, effective, ctx, variables), rule["Next"]
            if "Default" in state:
                if "Assign" in state:
                    self._assign(state["Assign"], effective, ctx, variables)
                return self._output_path(state, effective, ctx, variables), state["Default"]
            raise WorkflowError("States.NoChoiceMatched", f"No Matches! at state {name!r}")
        retriers = [dict(r) for r in state.get("Retry", [])]
        counts = [0] * len(retriers)
        last_delay: list[float | None] = [None] * len(retriers)
        while True:
            try:
                out = self._run_body(kind, name, state, data, ctx, variables)
                return out, (None if state.get("End") else state.get("Next"))
            except (WorkflowError, _Failed) as exc:
                error, cause = exc.error, exc.cause
                idx = self._match(retriers, error)
                if idx is not None:
                    r = retriers[idx]
                    max_attempts = r.get("MaxAttempts", 3)
                    if counts[idx] < max_attempts:
                        interval = r.get("IntervalSeconds", 1)
                        rate = r.get("BackoffRate", 2.0)
                        delay = interval * rate ** counts[idx]
                        if r.get("MaxDelaySeconds") is not None:
                            delay = min(delay, r["MaxDelaySeconds"])
                        if r.get("JitterStrategy") == "FULL":
                            delay = self.rng.uniform(0, delay)
                        last_delay[idx] = delay
                        counts[idx] += 1
                        if "RetryCount" in ctx["State"]:
                            ctx["State"]["RetryCount"] += 1
                        self.clock.sleep(delay)
                        continue
                for catcher in state.get("Catch", []):
                    if self._error_matches(catcher.get("ErrorEquals", []), error):
                        err_out = {"Error": error, "Cause": cause}
                        if cause is None:
                            err_out = {"Error": error}
                        if "Assign" in catcher:
                            self._assign(catcher["Assign"], err_out, ctx, variables)
                        result = paths.put(data, catcher.get("ResultPath", "$"), err_out)
                        return result, catcher["Next"]
                raise

    @staticmethod
    def _error_matches(names: list, error: str | None) -> bool:
        for n in names:
            if n == error:
                return True
            if n == "States.ALL" and error != "States.Runtime":
                return True
            if (
                n == "States.TaskFailed"
                and error not in (None, "States.Timeout", "States.Runtime")
                and (not error.startswith("States.") or error in ("States.TaskFailed",))
            ):
                return True
        return False

    def _match(self, retriers: list, error: str | None) -> int | None:
        for i, r in enumerate(retriers):
            if self._error_matches(r.get("ErrorEquals", []), error):
                return i
        return None

    def _fail_field(self, path: str, field: str, data, ctx, variables):
        if isinstance(path, str) and path.startswith("States."):
            return intrinsics.evaluate(path, data, ctx, variables)
        try:
            v = paths.get(data, path, ctx, variables)
        except paths.PathError:
            raise WorkflowError(
                "States.Runtime",
                f"The JSONPath '{path}' specified for the field '{field}' "
                f"could not be found in the input "
                f"'{_compact(data)}'",
            ) from None
        if not isinstance(v, str):
            raise WorkflowError("States.Runtime", f"The value at {path!r} is not a string")
        return v

    def _input_path(self, state, data, ctx, variables):
        return self._select(state, "InputPath", data, ctx, variables)

    def _output_path(self, state, data, ctx, variables):
        return self._select(state, "OutputPath", data, ctx, variables)

    def _select(self, state, field, data, ctx, variables):
        """InputPath / OutputPath: ``null`` selects ``{}``; a path with no match fails."""
        path = state.get(field, "$")
        if path is None:
            return {}
        try:
            return paths.get(data, path, ctx, variables)
        except paths.PathError:
            raise WorkflowError(
                "States.Runtime",
                f"Invalid path '{path}' : No results for path: {paths.bracketed(path)}",
            ) from None

    def _template(self, template, data, ctx, variables):
        return paths.resolve_template(template, data, ctx, variables, intrinsics.evaluate)

    def _assign(self, assign, data, ctx, variables):
        new = self._template(assign, data, ctx, variables)
        variables.update(new)

    def _run_body(self, kind, name, state, data, ctx, variables):
        effective = self._input_path(state, data, ctx, variables)
        if "Parameters" in state and kind in ("Pass", "Task", "Parallel"):
            effective = self._template(state["Parameters"], effective, ctx, variables)
        if kind == "Pass":
            result = copy.deepcopy(state["Result"]) if "Result" in state else effective
        elif kind == "Wait":
            self._wait(state, effective, ctx, variables)
            result = effective
        elif kind == "Task":
            result = self._task(state, effective, ctx)
        elif kind == "Parallel":
            result = self._parallel(state, effective, ctx, variables)
        elif kind == "Map":
            result = self._map(state, data, ctx, variables)
        else:
            raise WorkflowError("States.Runtime", f"Unknown state type {kind!r} in state {name!r}")
        if "ResultSelector" in state and kind in ("Task", "Parallel", "Map"):
            result = self._template(state["ResultSelector"], result, ctx, variables)
        if "Assign" in state:
            self._assign(state["Assign"], result, ctx, variables)
        result_path = state.get("ResultPath", "$")
        out = effective if kind == "Wait" else paths.put(data, result_path, result)
        out = self._output_path(state, out, ctx, variables)
        if len(_compact(out).encode()) > MAX_PAYLOAD:
            raise WorkflowError(
                "States.DataLimitExceeded",
                "The state/task returned a result that exceeds the limit",
            )
        return out

    def _wait(self, state, data, ctx, variables):
        now = self.clock.now()
        if "Seconds" in state:
            secs = state["Seconds"]
        elif "SecondsPath" in state:
            sp = state["SecondsPath"]
            try:
                secs = paths.get(data, sp, ctx, variables)
            except paths.PathError:
                raise WorkflowError(
                    "States.Runtime",
                    f"The SecondsPath parameter does not reference an input value: {sp}",
                ) from None
            if isinstance(secs, bool) or not isinstance(secs, int):
                raise WorkflowError(
                    "States.Runtime",
                    "The SecondsPath parameter cannot be parsed as a long value: "
                    f"{sp} == {_text(secs)}",
                )
            if secs < 0:
                raise WorkflowError(
                    "States.Runtime",
                    f"The SecondsPath parameter references a negative value: {sp} == {secs}",
                )
        else:
            if "Timestamp" in state:
                ts = state["Timestamp"]
            elif "TimestampPath" in state:
                tp = state["TimestampPath"]
                try:
                    ts = paths.get(data, tp, ctx, variables)
                except paths.PathError:
                    raise WorkflowError(
                        "States.Runtime",
                        f"The TimestampPath parameter does not reference an input value: {tp}",
                    ) from None
            else:
                raise WorkflowError("States.Runtime", "Wait state without Seconds or Timestamp")
            when = choice.parse_timestamp(ts)
            if when is None:
                raise WorkflowError(
                    "States.Runtime",
                    "The TimestampPath parameter does not reference a valid ISO-8601 "
                    "extended offset date-time "
                    f"format string: {state.get('TimestampPath')} == {_text(ts)}",
                )
            secs = (when - now).total_seconds()
        if secs >= 2**31 - 1:
            raise WorkflowError("States.Runtime", "Wait state delay is too long.")
        self.clock.sleep(max(0.0, float(secs)))

    def _task(self, state, data, ctx):
        resource = state.get("Resource")
        fn = self.resources.get(resource)
        if fn is None:
            raise WorkflowError(
                "States.Runtime", f"No function is registered for the Task resource {resource!r}"
            )
        timeout = state.get("TimeoutSeconds")
        start = self.clock.now()
        try:
            result = fn(copy.deepcopy(data))
        except WorkflowError:
            raise
        except Exception as e:  # the function's error, matched by name in Retry/Catch
            raise WorkflowError(type(e).__name__, str(e)) from e
        if timeout is not None and (self.clock.now() - start).total_seconds() > timeout:
            raise WorkflowError("States.Timeout", None)
        return result

    def _parallel(self, state, data, ctx, variables):
        out = []
        for branch in state.get("Branches", []):
            try:
                out.append(
                    self.run_machine(
                        branch, copy.deepcopy(data), self._child_ctx(ctx), dict(variables)
                    )
                )
            except _Failed as f:
                raise WorkflowError(f.error, f.cause) from None
        return out

    def _number_path(self, state, field, data, ctx, variables, kind):
        if field + "Path" not in state:
            return state.get(field)
        path = state[field + "Path"]
        try:
            v = paths.get(data, path, ctx, variables)
        except paths.PathError:
            raise WorkflowError(
                "States.Runtime", f"Invalid path '{path}' : No results for path: {path}"
            ) from None
        ok = isinstance(v, (int, float)) and not isinstance(v, bool)
        if kind == "integer":
            ok = ok and float(v).is_integer()
        if not ok:
            raise WorkflowError(
                "States.Runtime",
                f'The {field}Path field refers to value "{_text(v)}" '
                f"which is not a valid {kind}: {path}",
            )
        return int(v) if kind == "integer" else float(v)

    def _child_ctx(self, ctx):
        c = dict(ctx)
        c.pop("State", None)
        return c

    def _map(self, state, data, ctx, variables):
        effective = self._input_path(state, data, ctx, variables)
        items_path = state.get("ItemsPath", "$")
        try:
            items = paths.get(effective, items_path, ctx, variables)
        except paths.PathError:
            raise WorkflowError(
                "States.Runtime", f"Invalid path '{items_path}' : No results for path: {items_path}"
            ) from None
        if not isinstance(items, list):
            raise WorkflowError(
                "States.Runtime",
                f"Item path {items_path} must point to a JSON array, "
                f"but was {type(items).__name__}",
            )
        processor = state.get("ItemProcessor") or state.get("Iterator") or {}
        selector = state.get("ItemSelector", state.get("Parameters"))
        self._number_path(state, "MaxConcurrency", effective, ctx, variables, "integer")
        tolerated_n = self._number_path(
            state, "ToleratedFailureCount", effective, ctx, variables, "integer"
        )
        tolerated_pct = self._number_path(
            state, "ToleratedFailurePercentage", effective, ctx, variables, "float"
        )
        if tolerated_n is not None and tolerated_n < 0:
            raise WorkflowError("States.Runtime", "ToleratedFailureCount cannot be negative.")
        if tolerated_pct is not None and not 0 <= tolerated_pct <= 100:
            raise WorkflowError(
                "States.Runtime", "ToleratedFailurePercentage must be between 0 and 100."
            )
        results, failures = [], 0
        for i, item in enumerate(items):
            ictx = self._child_ctx(ctx)
            ictx["Map"] = {"Item": {"Index": i, "Value": item}}
            inp = (
                self._template(selector, effective, ictx, variables)
                if selector is not None
                else item
            )
            try:
                results.append(
                    self.run_machine(processor, copy.deepcopy(inp), ictx, dict(variables))
                )
            except _Failed as f:
                if tolerated_n is None and tolerated_pct is None:
                    raise WorkflowError(f.error, f.cause) from None
                failures += 1
                results.append(None)
        if failures:
            ok = (tolerated_n is not None and failures <= tolerated_n) or (
                tolerated_pct is not None
                and items
                and 100.0 * failures / len(items) <= tolerated_pct
            )
            if not ok:
                raise WorkflowError(
                    "States.ExceedToleratedFailureThreshold",
                    "The specified tolerated failure threshold was exceeded",
                )
        return results


def execute(
    definition: str | dict,
    input: Any = _UNSET,
    *,
    resources: Mapping[str, Callable[[Any], Any]] | None = None,
    clock: Any = None,
    real_time: bool = False,
    name: str | None = None,
    state_machine_arn: str | None = None,
    execution_arn: str | None = None,
    role_arn: str | None = None,
) -> ExecutionResult:
    """Run ``definition`` (ASL as JSON text or dict) on ``input`` (JSON text or a value)."""
    try:
        machine = (
            json.loads(definition) if isinstance(definition, str) else copy.deepcopy(definition)
        )
    except ValueError as e:
        return ExecutionResult("FAILED", error="States.Runtime", cause=f"Invalid definition: {e}")
    if input is _UNSET:
        data: Any = {}
    elif isinstance(input, str):
        try:
            data = json.loads(input)
        except ValueError as e:
            return ExecutionResult("FAILED", error="States.Runtime", cause=f"Invalid input: {e}")
    else:
        data = copy.deepcopy(input)
    if clock is None:
        clock = RealClock() if real_time else VirtualClock()
    name = name or str(uuid.uuid4())
    sm_arn = state_machine_arn or "arn:aws:states:us-east-1:111111111111:stateMachine:local"
    exec_arn = execution_arn or sm_arn.replace(":stateMachine:", ":execution:") + ":" + name
    context = {
        "Execution": {
            "Id": exec_arn,
            "Input": copy.deepcopy(data),
            "Name": name,
            "RoleArn": role_arn or "arn:aws:iam::111111111111:role/polyfn-local",
            "StartTime": _iso(clock.now()),
            "RedriveCount": 0,
        },
        "StateMachine": {"Id": sm_arn, "Name": sm_arn.split(":")[-1]},
    }
    interp = Interpreter(resources=resources, clock=clock)
    try:
        out = interp.run_machine(machine, data, context, {})
    except _Failed as f:
        return ExecutionResult("FAILED", error=f.error, cause=f.cause)
    except _TimedOut:
        return ExecutionResult("TIMED_OUT", error="States.Timeout")
    except WorkflowError as e:
        return ExecutionResult("FAILED", error=e.error, cause=e.cause)
    return ExecutionResult("SUCCEEDED", output=out)
