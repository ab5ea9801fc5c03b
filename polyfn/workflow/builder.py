"""A small Python builder whose canonical form is Amazon States Language (JSONPath).

>>> wf = Workflow(
...     Task("Validate", function="validate_order"),
...     Choice("Ok?").when(path("$.ok").eq(True), next="Done").otherwise("Bad"),
...     Fail("Bad", error="Invalid"),
...     Succeed("Done"),
... )
>>> wf.to_asl()["StartAt"]
'Validate'

States listed in a :class:`Workflow` are chained in order: a state that needs a
successor and names none goes to the next one listed (the last one ends the
machine). Tasks name polyfn resources: ``function="name"`` is
``polyfn:function:name``, ``send="queue"`` is ``polyfn:send:queue`` and
``publish="topic"`` is ``polyfn:publish:topic``; any other ``resource`` is kept as is.
An existing ASL definition is accepted as is with :meth:`Workflow.from_asl`.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from .errors import WorkflowError

FUNCTION = "polyfn:function:"
SEND = "polyfn:send:"
PUBLISH = "polyfn:publish:"

_TERMINAL = ("Succeed", "Fail", "Choice")


class DefinitionError(WorkflowError):
    """The definition is not a valid state machine (unknown Next, no StartAt, ...)."""

    def __init__(self, cause: str):
        super().__init__("States.Definition", cause)


def _put(d: dict, key: str, value: Any) -> None:
    if value is not None:
        d[key] = value


# -- conditions (Choice rules) -----------------------------------------------------------
class Condition:
    """One Choice rule; combine with ``&``, ``|`` and ``~``."""

    def __init__(self, rule: dict):
        self.rule = rule

    def __and__(self, other: Condition) -> Condition:
        return Condition({"And": [self.rule, other.rule]})

    def __or__(self, other: Condition) -> Condition:
        return Condition({"Or": [self.rule, other.rule]})

    def __invert__(self) -> Condition:
        return Condition({"Not": self.rule})


class path:
    """A JSONPath into the state's input, for Choice rules."""

    def __init__(self, p: str):
        if not p.startswith("$"):
            raise DefinitionError(f"path {p!r}: must start with '$'")
        self.p = p

    def _cmp(self, op: str, value: Any) -> Condition:
        if isinstance(value, path):
            kind = getattr(value, "kind", None) or "Numeric"
            return Condition({"Variable": self.p, f"{kind}{op}Path": value.p})
        if isinstance(value, bool):
            if op != "Equals":
                raise DefinitionError(f"{self.p}: booleans only compare for equality")
            kind = "Boolean"
        elif isinstance(value, int | float):
            kind = "Numeric"
        elif isinstance(value, str):
            kind = "String"
        else:
            raise DefinitionError(f"{self.p}: cannot compare with {value!r}")
        return Condition({"Variable": self.p, f"{kind}{op}": value})

    def eq(self, value: Any) -> Condition:
        return self._cmp("Equals", value)

    def ne(self, value: Any) -> Condition:
        return ~self.eq(value)

    def lt(self, value: Any) -> Condition:
        return self._cmp("LessThan", value)

    def le(self, value: Any) -> Condition:
        return self._cmp("LessThanEquals", value)

    def gt(self, value: Any) -> Condition:
        return self._cmp("GreaterThan", value)

    def ge(self, value: Any) -> Condition:
        return self._cmp("GreaterThanEquals", value)

    def matches(self, pattern: str) -> Condition:
        return Condition({"Variable": self.p, "StringMatches": pattern})

    def is_present(self, present: bool = True) -> Condition:
        return Condition({"Variable": self.p, "IsPresent": present})

    def is_null(self, null: bool = True) -> Condition:
        return Condition({"Variable": self.p, "IsNull": null})


# -- retry / catch ----------------------------------------------------------------------
class Retry:
    def __init__(
        self,
        errors: list[str] | str = "States.ALL",
        *,
        interval_seconds: int | None = None,
        max_attempts: int | None = None,
        backoff_rate: float | None = None,
        max_delay_seconds: int | None = None,
        jitter: str | None = None,
    ):
        self.errors = [errors] if isinstance(errors, str) else list(errors)
        self.opts = (interval_seconds, max_attempts, backoff_rate, max_delay_seconds, jitter)

    def to_asl(self) -> dict:
        d: dict = {"ErrorEquals": self.errors}
        keys = (
            "IntervalSeconds",
            "MaxAttempts",
            "BackoffRate",
            "MaxDelaySeconds",
            "JitterStrategy",
        )
        for k, v in zip(keys, self.opts, strict=True):
            _put(d, k, v)
        return d


class Catch:
    def __init__(
        self, errors: list[str] | str = "States.ALL", *, next: str, result_path: str | None = None
    ):
        self.errors = [errors] if isinstance(errors, str) else list(errors)
        self.next = next
        self.result_path = result_path

    def to_asl(self) -> dict:
        d: dict = {"ErrorEquals": self.errors, "Next": self.next}
        _put(d, "ResultPath", self.result_path)
        return d


# -- states -----------------------------------------------------------------------------
class State:
    type = ""

    def __init__(
        self,
        name: str,
        *,
        next: str | None = None,
        end: bool = False,
        comment: str | None = None,
        input_path: str | None = None,
        output_path: str | None = None,
        **fields: Any,
    ):
        if not name or len(name) > 80:
            raise DefinitionError(f"state name {name!r}: must be 1 to 80 characters")
        self.name = name
        self.next = next
        self.end = end
        self.fields: dict = {"Comment": comment, "InputPath": input_path, "OutputPath": output_path}
        self.fields.update(fields)

    @property
    def terminal(self) -> bool:
        return self.type in _TERMINAL

    def body(self) -> dict:
        return {}

    def to_asl(self) -> dict:
        d: dict = {"Type": self.type}
        for k, v in self.fields.items():
            _put(d, k, v)
        d.update(self.body())
        if not self.terminal:
            if self.next is not None:
                d["Next"] = self.next
            else:
                d["End"] = True
        return d


class _Resulting(State):
    """States with Parameters / ResultSelector / ResultPath."""

    def __init__(
        self,
        name: str,
        *,
        parameters: dict | None = None,
        result_selector: dict | None = None,
        result_path: str | None = None,
        retry: list[Retry] | None = None,
        catch: list[Catch] | None = None,
        **kw: Any,
    ):
        super().__init__(
            name,
            Parameters=parameters,
            ResultSelector=result_selector,
            ResultPath=result_path,
            **kw,
        )
        self.retry = list(retry or [])
        self.catch = list(catch or [])

    def body(self) -> dict:
        d: dict = {}
        if self.retry:
            d["Retry"] = [r.to_asl() for r in self.retry]
        if self.catch:
            d["Catch"] = [c.to_asl() for c in self.catch]
        return d


class Task(_Resulting):
    type = "Task"

    def __init__(
        self,
        name: str,
        resource: str | None = None,
        *,
        function: str | None = None,
        send: str | None = None,
        publish: str | None = None,
        timeout_seconds: int | None = None,
        **kw: Any,
    ):
        given = [
            r
            for r in (
                resource,
                function and FUNCTION + function,
                send and SEND + send,
                publish and PUBLISH + publish,
            )
            if r
        ]
        if len(given) != 1:
            raise DefinitionError(
                f"Task {name!r}: give exactly one of resource=, function=, send=, publish="
            )
        self.resource = given[0]
        super().__init__(name, TimeoutSeconds=timeout_seconds, **kw)

    def body(self) -> dict:
        return {"Resource": self.resource, **super().body()}


class Pass(State):
    type = "Pass"

    def __init__(
        self,
        name: str,
        *,
        result: Any = None,
        parameters: dict | None = None,
        result_path: str | None = None,
        **kw: Any,
    ):
        super().__init__(name, Result=result, Parameters=parameters, ResultPath=result_path, **kw)


class Wait(State):
    type = "Wait"

    def __init__(
        self,
        name: str,
        *,
        seconds: int | None = None,
        timestamp: str | None = None,
        seconds_path: str | None = None,
        timestamp_path: str | None = None,
        **kw: Any,
    ):
        given = [seconds, timestamp, seconds_path, timestamp_path]
        if sum(v is not None for v in given) != 1:
            raise DefinitionError(f"Wait {name!r}: give exactly one of seconds=, timestamp=, ...")
        super().__init__(
            name,
            Seconds=seconds,
            Timestamp=timestamp,
            SecondsPath=seconds_path,
            TimestampPath=timestamp_path,
            **kw,
        )


class Succeed(State):
    type = "Succeed"


class Fail(State):
    type = "Fail"

    def __init__(self, name: str, *, error: str | None = None, cause: str | None = None, **kw):
        super().__init__(name, Error=error, Cause=cause, **kw)


class Choice(State):
    type = "Choice"

    def __init__(self, name: str, **kw: Any):
        super().__init__(name, **kw)
        self.choices: list[dict] = []
        self.default: str | None = None

    def when(self, condition: Condition, next: str) -> Choice:
        self.choices.append({**condition.rule, "Next": next})
        return self

    def otherwise(self, next: str) -> Choice:
        self.default = next
        return self

    def body(self) -> dict:
        if not self.choices:
            raise DefinitionError(f"Choice {self.name!r}: needs at least one when(...)")
        d: dict = {"Choices": copy.deepcopy(self.choices)}
        _put(d, "Default", self.default)
        return d


def _machine(states: Workflow | list | tuple) -> dict:
    wf = states if isinstance(states, Workflow) else Workflow(*states)
    return wf.to_asl()


class Parallel(_Resulting):
    type = "Parallel"

    def __init__(self, name: str, branches: list, **kw: Any):
        super().__init__(name, **kw)
        self.branches = branches

    def body(self) -> dict:
        return {"Branches": [_machine(b) for b in self.branches], **super().body()}


class Map(_Resulting):
    type = "Map"

    def __init__(
        self,
        name: str,
        iterator: Workflow | list,
        *,
        items_path: str | None = None,
        max_concurrency: int | None = None,
        item_selector: dict | None = None,
        **kw: Any,
    ):
        super().__init__(name, **kw)
        self.iterator = iterator
        self.fields.update(
            ItemsPath=items_path, MaxConcurrency=max_concurrency, ItemSelector=item_selector
        )

    def body(self) -> dict:
        processor = {"ProcessorConfig": {"Mode": "INLINE"}, **_machine(self.iterator)}
        return {"ItemProcessor": processor, **super().body()}


# -- the machine --------------------------------------------------------------------------
class Workflow:
    """A state machine: ``Workflow(*states, start=None, comment=None, timeout_seconds=None)``."""

    def __init__(
        self,
        *states: State,
        start: str | None = None,
        comment: str | None = None,
        timeout_seconds: int | None = None,
    ):
        self.states = list(states)
        self.start = start
        self.comment = comment
        self.timeout_seconds = timeout_seconds
        self._asl: dict | None = None

    @classmethod
    def from_asl(cls, definition: str | dict) -> Workflow:
        """Any ASL definition (JSON text or dict), kept as is (after validation)."""
        asl = json.loads(definition) if isinstance(definition, str) else copy.deepcopy(definition)
        validate(asl)
        wf = cls()
        wf._asl = asl
        return wf

    def to_asl(self) -> dict:
        if self._asl is not None:
            return copy.deepcopy(self._asl)
        if not self.states:
            raise DefinitionError("a workflow needs at least one state")
        out: dict = {}
        _put(out, "Comment", self.comment)
        out["StartAt"] = self.start or self.states[0].name
        _put(out, "TimeoutSeconds", self.timeout_seconds)
        states: dict = {}
        for i, s in enumerate(self.states):
            if s.name in states:
                raise DefinitionError(f"state {s.name!r} is declared twice")
            d = s.to_asl()
            if d.get("End") and not s.end and i + 1 < len(self.states):
                del d["End"]
                d["Next"] = self.states[i + 1].name
            states[s.name] = d
        out["States"] = states
        validate(out)
        return out

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_asl(), indent=indent)


def _targets(state: dict) -> list[str]:
    t = [state["Next"]] if "Next" in state else []
    t += [c["Next"] for c in state.get("Catch", [])]
    t += [c["Next"] for c in state.get("Choices", []) if "Next" in c]
    if "Default" in state:
        t.append(state["Default"])
    return t


def validate(asl: dict, where: str = "") -> None:
    """Check a machine's references: StartAt and every Next/Default/Catch name a state."""
    states = asl.get("States")
    if not isinstance(states, dict) or not states:
        raise DefinitionError(f"{where}States: must be a non-empty object")
    start = asl.get("StartAt")
    if start not in states:
        raise DefinitionError(f"{where}StartAt {start!r}: no such state")
    for name, st in states.items():
        kind = st.get("Type")
        for target in _targets(st):
            if target not in states:
                known = ", ".join(sorted(states))
                raise DefinitionError(
                    f"{where}state {name!r}: Next {target!r} is not a state (states: {known})"
                )
        if kind not in _TERMINAL and "Next" not in st and not st.get("End"):
            raise DefinitionError(f"{where}state {name!r}: needs Next or End")
        if kind == "Task" and not st.get("Resource"):
            raise DefinitionError(f"{where}state {name!r}: a Task needs a Resource")
        for i, b in enumerate(st.get("Branches", [])):
            validate(b, f"{where}{name}.Branches[{i}]: ")
        sub = st.get("ItemProcessor") or st.get("Iterator")
        if sub is not None:
            validate(sub, f"{where}{name}.ItemProcessor: ")


def task_resources(asl: dict) -> set[str]:
    """Every Task Resource in a machine, nested branches and iterators included."""
    found: set[str] = set()
    for st in asl.get("States", {}).values():
        if st.get("Type") == "Task" and isinstance(st.get("Resource"), str):
            found.add(st["Resource"])
        for b in st.get("Branches", []):
            found |= task_resources(b)
        sub = st.get("ItemProcessor") or st.get("Iterator")
        if sub is not None:
            found |= task_resources(sub)
    return found
