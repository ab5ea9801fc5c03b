"""Compile an Amazon States Language definition into Google Cloud Workflows syntax.

``compile(definition)`` returns the workflow as a dict (``to_yaml`` renders it); the
output validates against the Workflows JSON schema Google publishes in
GoogleCloudPlatform/workflows-samples (``jsonschema/workflows.json``).

Data model
----------
Each ASL scope (the machine, a Parallel branch, a Map iteration) keeps its current JSON
document in one variable (``state`` at the top level, ``s_<n>`` in nested scopes) and the
last task result in ``<var>_r``. Every ASL state becomes one named step (its name with
characters other than letters, digits and ``_`` replaced by ``_``); ``Next`` becomes
``next``; ``End`` at the top level returns the document, in a branch or iteration it
stores the document in the shared result map.

Supported subset
----------------
* Paths (InputPath, OutputPath, ResultPath, ItemsPath, Variable, ``*Path`` operands,
  ``.$`` template values) are simple JSONPath: ``$``, ``.key``, ``['key']``, ``[n]``.
  Inside a Map's ItemSelector/Parameters, ``$$.Map.Item.Value[...]`` and
  ``$$.Map.Item.Index`` are supported. Other ``$$`` context paths, wildcards, filters and
  intrinsic functions raise :class:`~polyfn.errors.DefinitionError`.
* ResultPath ``$.a.b`` assigns ``var["a"]["b"]`` (Workflows creates the missing key of
  the innermost map; intermediate maps must exist, as in ASL they usually do).
* Task: ``polyfn:function:NAME`` -> ``http.post`` to ``function_url(NAME)`` with OIDC
  auth, the result is the response ``.body``; ``polyfn:publish:TOPIC`` and
  ``polyfn:send:QUEUE`` -> the Pub/Sub connector publishing the JSON-encoded payload to
  ``topic_path(NAME)`` (polyfn's GCP queues are Pub/Sub topics); an ``https://`` resource
  is posted to directly. Parameters, ResultSelector, ResultPath, OutputPath,
  TimeoutSeconds (-> ``args.timeout``) are supported.
* Retry: at most one retrier per state (Workflows has one policy per ``try``):
  IntervalSeconds -> ``backoff.initial_delay``, MaxAttempts -> ``max_retries``,
  BackoffRate -> ``multiplier``, MaxDelaySeconds -> ``max_delay`` (default 3600). The
  predicate is a generated subworkflow ``polyfn_retry_<n>`` matching ErrorEquals.
* Error mapping (Retry and Catch): ``States.ALL`` and ``States.TaskFailed`` match every
  error; ``States.Timeout`` matches ``"TimeoutError" in e.tags``; any other name ``X``
  matches when ``X`` is in ``e.tags`` (what ``Fail``/``raise`` produce) or the failed
  HTTP response's JSON body has ``"error": "X"`` (``e.body.error``, a polyfn function's
  error payload). Catch -> ``except: {as: e}`` with a ``switch`` over the catchers; the
  catcher's ResultPath receives ``{"Error": name, "Cause": json(e)}``; unmatched errors
  are re-raised.
* Choice -> ``switch`` (String/Numeric/Boolean Equals/LessThan/GreaterThan[Equals] and
  their ``Path`` forms, StringMatches via ``text.match_regex``, IsPresent (``"k" in``
  the parent map, a missing parent counting as absent; map keys only), IsNull,
  IsString, IsNumeric, IsBoolean, And/Or/Not); Default -> a final ``condition: true``;
  no Default -> raises ``States.NoChoiceMatched``.
* Pass (Result, Parameters, ResultPath), Wait (Seconds[Path] -> ``sys.sleep``,
  Timestamp[Path] -> ``sys.sleep_until``), Succeed, Fail (-> ``raise`` a map with
  ``message`` = Cause and ``tags`` = [Error]).
* Parallel -> ``parallel: {shared: [...], branches: [...]}`` (2..10 branches, the limit of
  Workflows); the output is the list of branch outputs in order.
* Map -> ``parallel: {for: ...}`` (``concurrency_limit`` = MaxConcurrency) collecting
  outputs in a shared map keyed by index, then ordered into a list; MaxConcurrency 1 ->
  a plain ``for``.

Not supported (DefinitionError naming the state and field): JSONata (QueryLanguage,
Arguments, Output, Assign), Timestamp comparisons, HeartbeatSeconds, several retriers,
JitterStrategy FULL, ToleratedFailure*, ItemReader/ResultWriter, Credentials, and
``.waitForTaskToken``/``.sync`` resources.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from polyfn.errors import DefinitionError

_COMPARE = {
    "Equals": "==",
    "LessThan": "<",
    "GreaterThan": ">",
    "LessThanEquals": "<=",
    "GreaterThanEquals": ">=",
}
_UNSUPPORTED_STATE_FIELDS = (
    "QueryLanguage",
    "Arguments",
    "Output",
    "Assign",
    "HeartbeatSeconds",
    "HeartbeatSecondsPath",
    "TimeoutSecondsPath",
    "Credentials",
    "ItemReader",
    "ResultWriter",
    "ToleratedFailurePercentage",
    "ToleratedFailureCount",
    "ToleratedFailurePercentagePath",
    "ToleratedFailureCountPath",
    "MaxConcurrencyPath",
    "ItemBatcher",
)


def _lit(v: Any) -> str:
    """A Workflows expression literal for a JSON scalar."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    return json.dumps(v)


def _expr(text: str) -> str:
    return "${" + text + "}"


class _Compiler:
    def __init__(self, function_url, topic_path):
        self.function_url = function_url
        self.topic_path = topic_path
        self.subworkflows: dict[str, Any] = {}
        self.counter = 0
        self.used_names: set[str] = set()

    # -- helpers ---------------------------------------------------------------
    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def step_name(self, scope: str, state: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_]", "_", state) or "_"
        return f"{scope}{base}"

    def fail(self, state: str, field: str, why: str) -> DefinitionError:
        return DefinitionError(f"GCP Workflows: state {state!r}: {field}: {why}")

    def path_keys(self, path: str, state: str, field: str) -> list[Any]:
        if not isinstance(path, str) or not path.startswith("$") or path.startswith("$$"):
            raise self.fail(state, field, f"unsupported path {path!r}")
        keys: list[Any] = []
        rest = path[1:]
        token = re.compile(r"\.([A-Za-z_][A-Za-z0-9_\-]*)|\['([^'\]]*)'\]|\[(\d+)\]")
        while rest:
            m = token.match(rest)
            if not m:
                raise self.fail(state, field, f"unsupported path {path!r} (simple paths only)")
            if m.group(3) is not None:
                keys.append(int(m.group(3)))
            else:
                keys.append(m.group(1) if m.group(1) is not None else m.group(2))
            rest = rest[m.end() :]
        return keys

    @staticmethod
    def access(base: str, keys: list[Any]) -> str:
        return base + "".join(f"[{json.dumps(k)}]" for k in keys)

    def path(self, path: str, var: str, state: str, field: str, ctx: dict | None = None) -> str:
        if isinstance(path, str) and path.startswith("$$") and ctx:
            for prefix, base in ctx.items():
                if path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "["):
                    return self.access(
                        base, self.path_keys("$" + path[len(prefix) :], state, field)
                    )
        return self.access(var, self.path_keys(path, state, field))

    def template(
        self, value: Any, var: str, state: str, field: str, ctx: dict | None = None
    ) -> Any:
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                if k.endswith(".$"):
                    if not isinstance(v, str) or v.startswith("States."):
                        raise self.fail(
                            state, f"{field}.{k}", "intrinsic functions are not supported"
                        )
                    out[k[:-2]] = _expr(self.path(v, var, state, f"{field}.{k}", ctx))
                else:
                    out[k] = self.template(v, var, state, f"{field}.{k}", ctx)
            return out
        if isinstance(value, list):
            return [self.template(v, var, state, field, ctx) for v in value]
        return value

    def result_assign(self, var: str, state: str, result_path: Any, value: Any) -> list[dict]:
        """Assignments storing ``value`` (literal or ``${...}``) at ResultPath."""
        if result_path is None:
            return []
        keys = self.path_keys(result_path, state, "ResultPath")
        return [{self.access(var, keys): value}]

    # -- errors ------------------------------------------------------------------
    def error_condition(self, names: list[str], state: str, field: str) -> str:
        if not isinstance(names, list) or not names:
            raise self.fail(state, field, "ErrorEquals must be a non-empty list")
        parts = []
        for n in names:
            if n in ("States.ALL", "States.TaskFailed"):
                return "true"
            if n == "States.Timeout":
                parts.append('("TimeoutError" in default(map.get(e, "tags"), []))')
            else:
                parts.append(
                    f'({_lit(n)} in default(map.get(e, "tags"), [])'
                    f' or map.get(e, ["body", "error"]) == {_lit(n)})'
                )
        return " or ".join(parts)

    def retry(self, retriers: Any, state: str) -> dict | None:
        if not retriers:
            return None
        if not isinstance(retriers, list) or len(retriers) != 1:
            raise self.fail(state, "Retry", "at most one retrier is supported")
        r = retriers[0]
        if r.get("JitterStrategy", "NONE") != "NONE":
            raise self.fail(state, "Retry.JitterStrategy", "only NONE is supported")
        cond = self.error_condition(r.get("ErrorEquals"), state, "Retry.ErrorEquals")
        name = self.fresh("polyfn_retry_")
        self.subworkflows[name] = {
            "params": ["e"],
            "steps": [{"check": {"return": _expr(cond)}}],
        }
        rate = r.get("BackoffRate", 2.0)
        return {
            "predicate": _expr(name),
            "max_retries": int(r.get("MaxAttempts", 3)),
            "backoff": {
                "initial_delay": int(r.get("IntervalSeconds", 1)),
                "max_delay": int(r.get("MaxDelaySeconds", 3600)),
                "multiplier": int(rate) if float(rate).is_integer() else rate,
            },
        }

    def catch(self, catchers: Any, var: str, scope: str, state: str) -> dict:
        arms = []
        for i, c in enumerate(catchers):
            if "Next" not in c:
                raise self.fail(state, f"Catch[{i}].Next", "required")
            names = c.get("ErrorEquals")
            cond = self.error_condition(names, state, f"Catch[{i}].ErrorEquals")
            if len(names) == 1 and names[0] not in ("States.ALL", "States.TaskFailed"):
                err: Any = names[0]
            else:
                err = _expr('default(map.get(e, ["body", "error"]), "States.TaskFailed")')
            arm: dict[str, Any] = {"condition": _expr(cond)}
            assign = self.result_assign(
                var,
                state,
                c.get("ResultPath", "$"),
                {"Error": err, "Cause": _expr("json.encode_to_string(e)")},
            )
            if assign:
                arm["assign"] = assign
            arm["next"] = self.step_name(scope, c["Next"])
            arms.append(arm)
        base = self.step_name(scope, state)
        return {
            "as": "e",
            "steps": [
                {f"{base}_catch": {"switch": arms}},
                {f"{base}_reraise": {"raise": _expr("e")}},
            ],
        }

    # -- choice --------------------------------------------------------------------
    def condition(self, rule: dict, var: str, state: str) -> str:
        if "And" in rule:
            return "(" + " and ".join(self.condition(r, var, state) for r in rule["And"]) + ")"
        if "Or" in rule:
            return "(" + " or ".join(self.condition(r, var, state) for r in rule["Or"]) + ")"
        if "Not" in rule:
            return "not(" + self.condition(rule["Not"], var, state) + ")"
        if "Variable" not in rule:
            raise self.fail(state, "Choices", f"rule without Variable: {rule!r}")
        field = "Choices.Variable"
        keys = self.path_keys(rule["Variable"], state, field)
        x = self.access(var, keys)
        ops = [k for k in rule if k not in ("Variable", "Next", "Comment")]
        if len(ops) != 1:
            raise self.fail(state, "Choices", f"expected one comparison operator in {rule!r}")
        op = ops[0]
        val = rule[op]
        if op == "IsPresent":
            if not keys or not all(isinstance(k, str) for k in keys):
                raise self.fail(state, "Choices.IsPresent", "needs a path of map keys")
            parent = f"default(map.get({var}, {json.dumps(keys[:-1])}), [])" if keys[:-1] else var
            test = f"({_lit(keys[-1])} in {parent})"
            return test if val else f"not{test}"
        if op == "IsNull":
            return f"({x} == null)" if val else f"({x} != null)"
        types = {
            "IsString": '== "string"',
            "IsBoolean": '== "boolean"',
            "IsNumeric": 'in ["integer", "double"]',
        }
        if op in types:
            test = f"(get_type({x}) {types[op]})"
            return test if val else f"not{test}"
        if op == "StringMatches":
            regex = "^" + ".*".join(re.escape(p) for p in str(val).split("*")) + "$"
            return f"text.match_regex({x}, {_lit(regex)})"
        m = re.fullmatch(
            r"(String|Numeric|Boolean)(Equals|LessThan|GreaterThan|LessThanEquals|GreaterThanEquals)(Path)?",
            op,
        )
        if not m or (m.group(1) == "Boolean" and m.group(2) != "Equals"):
            raise self.fail(state, f"Choices.{op}", "comparison operator not supported")
        rhs = self.path(val, var, state, f"Choices.{op}") if m.group(3) else _lit(val)
        return f"({x} {_COMPARE[m.group(2)]} {rhs})"

    # -- states ----------------------------------------------------------------------
    def machine(
        self, sm: dict, var: str, scope: str, on_end: Callable[[], dict], where: str
    ) -> list[dict]:
        if not isinstance(sm, dict) or "StartAt" not in sm or "States" not in sm:
            raise DefinitionError(f"GCP Workflows: {where}: StartAt and States are required")
        if sm.get("QueryLanguage", "JSONPath") != "JSONPath":
            raise DefinitionError(
                f"GCP Workflows: {where}: QueryLanguage: only JSONPath is supported"
            )
        states = sm["States"]
        if sm["StartAt"] not in states:
            raise DefinitionError(
                f"GCP Workflows: {where}: StartAt {sm['StartAt']!r} is not a state"
            )
        order = [sm["StartAt"]] + [n for n in states if n != sm["StartAt"]]
        steps = []
        names = [self.step_name(scope, n) for n in order]
        if len(set(names)) != len(names) or "polyfn_init" in names:
            raise DefinitionError(
                f"GCP Workflows: {where}: state names collide once made step names"
            )
        for name in order:
            steps.append(
                {self.step_name(scope, name): self.state(name, states[name], var, scope, on_end)}
            )
        return steps

    def finish(self, body: dict, st: dict, var: str, scope: str, on_end) -> dict:
        if st.get("End"):
            end = on_end()
            if "return" in end:
                body.setdefault("steps", []).append({f"{self._current}_end": end})
            else:
                body["next"] = end["next"]
        elif "Next" in st:
            body["next"] = self.step_name(scope, st["Next"])
        return body

    def io_in(self, st: dict, var: str, name: str) -> str:
        """Expression of the effective input (InputPath)."""
        ip = st.get("InputPath", "$")
        if ip is None:
            return "{}"
        return self.path(ip, var, name, "InputPath")

    def output_assign(self, st: dict, var: str, name: str) -> list[dict]:
        op = st.get("OutputPath", "$")
        if op is None:
            return [{var: {}}]
        keys = self.path_keys(op, name, "OutputPath")
        return [{var: _expr(self.access(var, keys))}] if keys else []

    def state(self, name: str, st: dict, var: str, scope: str, on_end) -> dict:
        kind = st.get("Type")
        for f in _UNSUPPORTED_STATE_FIELDS:
            if f in st:
                raise self.fail(name, f, "not supported by the GCP Workflows compiler")
        base = self.step_name(scope, name)
        self._current = base
        steps: list[dict] = []

        def assign(label: str, items: list[dict]) -> None:
            if items:
                steps.append({f"{base}_{label}": {"assign": items}})

        def effective_input(field_name: str = "Parameters", ctx: dict | None = None) -> Any:
            inp = self.io_in(st, var, name)
            if field_name in st:
                return self.template(st[field_name], inp, name, field_name, ctx)
            return _expr(inp)

        if kind == "Task":
            steps.extend(self.task(name, st, var, base, effective_input()))
        elif kind == "Pass":
            value = st["Result"] if "Result" in st else effective_input()
            assign("result", self.result_assign(var, name, st.get("ResultPath", "$"), value))
            assign("output", self.output_assign(st, var, name))
        elif kind == "Wait":
            if "Seconds" in st:
                steps.append(
                    {f"{base}_sleep": {"call": "sys.sleep", "args": {"seconds": st["Seconds"]}}}
                )
            elif "SecondsPath" in st:
                sp = self.path(st["SecondsPath"], var, name, "SecondsPath")
                steps.append(
                    {f"{base}_sleep": {"call": "sys.sleep", "args": {"seconds": _expr(sp)}}}
                )
            elif "Timestamp" in st or "TimestampPath" in st:
                t = st.get("Timestamp") or _expr(
                    self.path(st["TimestampPath"], var, name, "TimestampPath")
                )
                steps.append({f"{base}_sleep": {"call": "sys.sleep_until", "args": {"time": t}}})
            else:
                raise self.fail(
                    name, "Seconds", "Wait needs Seconds, SecondsPath, Timestamp or TimestampPath"
                )
            assign("io", self.output_assign(st, var, name))
        elif kind == "Succeed":
            inp = self.io_in(st, var, name)
            assign("io", [{var: _expr(inp)}] if inp != var else [])
            assign("output", self.output_assign(st, var, name))
            st = {**st, "End": True}
        elif kind == "Fail":
            for f in ("ErrorPath", "CausePath"):
                if f in st:
                    raise self.fail(name, f, "not supported")
            err = st.get("Error", "States.Fail")
            steps.append(
                {
                    f"{base}_raise": {
                        "raise": {"message": st.get("Cause", err), "error": err, "tags": [err]}
                    }
                }
            )
            return {"steps": steps}
        elif kind == "Choice":
            arms = []
            for i, rule in enumerate(st.get("Choices") or []):
                if "Next" not in rule:
                    raise self.fail(name, f"Choices[{i}].Next", "required")
                arms.append(
                    {
                        "condition": _expr(self.condition(rule, var, name)),
                        "next": self.step_name(scope, rule["Next"]),
                    }
                )
            if not arms:
                raise self.fail(name, "Choices", "at least one choice rule is required")
            if "Default" in st:
                arms.append({"condition": True, "next": self.step_name(scope, st["Default"])})
            body = {"switch": arms}
            if "Default" not in st:
                body["next"] = f"{base}_nomatch"
                return {
                    "steps": [
                        {f"{base}_switch": body},
                        {
                            f"{base}_nomatch": {
                                "raise": {
                                    "message": "no choice rule matched",
                                    "error": "States.NoChoiceMatched",
                                    "tags": ["States.NoChoiceMatched"],
                                }
                            }
                        },
                    ]
                }
            # A Choice's InputPath/OutputPath only shape what the next state sees.
            if "InputPath" in st or "OutputPath" in st:
                raise self.fail(name, "InputPath/OutputPath", "not supported on Choice")
            return body
        elif kind == "Parallel":
            steps.extend(self.parallel(name, st, var, base))
        elif kind == "Map":
            steps.extend(self.map(name, st, var, base))
        else:
            raise self.fail(name, "Type", f"unknown state type {kind!r}")
        self._current = base
        return self.finish(
            {"steps": steps}
            if steps
            else {"steps": [{f"{base}_noop": {"assign": [{f"{var}_r": None}]}}]},
            st,
            var,
            scope,
            on_end,
        )

    def task(self, name: str, st: dict, var: str, base: str, payload: Any) -> list[dict]:
        res = st.get("Resource")
        if not isinstance(res, str):
            raise self.fail(name, "Resource", "a string is required")
        r = f"{var}_r"
        call_steps: list[dict] = []
        m = re.fullmatch(r"polyfn:(function|send|publish):(.+)", res)
        if (m and m.group(1) == "function") or (not m and res.startswith("https://")):
            url = self.function_url(m.group(2)) if m else res
            args: dict[str, Any] = {"url": url, "body": payload, "auth": {"type": "OIDC"}}
            if "TimeoutSeconds" in st:
                args["timeout"] = int(st["TimeoutSeconds"])
            call = {"call": "http.post", "args": args, "result": r}
            result = f"{r}.body"
        elif m:
            if "TimeoutSeconds" in st:
                raise self.fail(name, "TimeoutSeconds", "not supported for publish/send")
            data = payload if isinstance(payload, str) else None
            if data is None:
                # A template map: build it in a variable first, then encode it.
                pre = [{f"{base}_payload": {"assign": [{f"{var}_p": payload}]}}]
                data = _expr(f"{var}_p")
            else:
                pre = []
            call = {
                "call": "googleapis.pubsub.v1.projects.topics.publish",
                "args": {
                    "topic": self.topic_path(m.group(2)),
                    "body": {
                        "messages": [{"data": _expr(f"base64.encode(json.encode({data[2:-1]}))")}]
                    },
                },
                "result": r,
            }
            result = r
            call_steps = pre
        else:
            raise self.fail(
                name,
                "Resource",
                f"unsupported resource {res!r} (polyfn:function|send|publish:NAME or https://)",
            )
        steps = call_steps if m and m.group(1) != "function" else []
        retry = self.retry(st.get("Retry"), name)
        if retry or st.get("Catch"):
            tried: dict[str, Any] = {"try": call}
            if retry:
                tried["retry"] = retry
            if st.get("Catch"):
                tried["except"] = self.catch(st["Catch"], var, self._scope, name)
            steps.append({f"{base}_call": tried})
        else:
            steps.append({f"{base}_call": call})
        if "ResultSelector" in st:
            value: Any = self.template(st["ResultSelector"], result, name, "ResultSelector")
        else:
            value = _expr(result)
        items = self.result_assign(var, name, st.get("ResultPath", "$"), value)
        items += self.output_assign(st, var, name)
        if items:
            steps.append({f"{base}_result": {"assign": items}})
        return steps

    def parallel(self, name: str, st: dict, var: str, base: str) -> list[dict]:
        branches = st.get("Branches") or []
        if not 2 <= len(branches) <= 10:
            raise self.fail(name, "Branches", "GCP Workflows parallel steps need 2 to 10 branches")
        if st.get("Retry") or st.get("Catch"):
            raise self.fail(name, "Retry/Catch", "not supported on Parallel")
        results = self.fresh("par_")
        inp = self.io_in(st, var, name)
        outer_scope = self._scope
        compiled = []
        for i, sm in enumerate(branches):
            bvar = self.fresh("s_")
            bscope = f"{base}_b{i}_"
            done = f"{bscope}done"
            self._scope = bscope
            body = self.machine(
                sm, bvar, bscope, lambda done=done: {"next": done}, f"state {name!r}: Branches[{i}]"
            )
            steps = [
                {f"{bscope}init": {"assign": [{bvar: _expr(inp)}, {f"{bvar}_r": None}]}},
                *body,
            ]
            steps.append({done: {"assign": [{f"{results}[{json.dumps(str(i))}]": _expr(bvar)}]}})
            compiled.append({f"{bscope}branch": {"steps": steps}})
        self._scope = outer_scope
        value = [_expr(f"{results}[{json.dumps(str(i))}]") for i in range(len(branches))]
        if "ResultSelector" in st:
            raise self.fail(name, "ResultSelector", "not supported on Parallel")
        items = self.result_assign(
            var, name, st.get("ResultPath", "$"), value
        ) + self.output_assign(st, var, name)
        out = [
            {f"{base}_init": {"assign": [{results: {}}]}},
            {f"{base}_parallel": {"parallel": {"shared": [results], "branches": compiled}}},
        ]
        if items:
            out.append({f"{base}_result": {"assign": items}})
        return out

    def map(self, name: str, st: dict, var: str, base: str) -> list[dict]:
        if st.get("Retry") or st.get("Catch"):
            raise self.fail(name, "Retry/Catch", "not supported on Map")
        sm = st.get("ItemProcessor") or st.get("Iterator")
        if sm is None:
            raise self.fail(name, "ItemProcessor", "required")
        proc = sm.get("ProcessorConfig") or {}
        if proc.get("Mode", "INLINE") != "INLINE":
            raise self.fail(name, "ItemProcessor.ProcessorConfig", "only INLINE mode is supported")
        inp = self.io_in(st, var, name)
        items = self.path(st.get("ItemsPath", "$"), inp, name, "ItemsPath")
        item, index, results, out = (
            self.fresh("item_"),
            self.fresh("index_"),
            self.fresh("map_"),
            self.fresh("out_"),
        )
        ivar = self.fresh("s_")
        iscope = f"{base}_it_"
        done = f"{iscope}done"
        sel = "ItemSelector" if "ItemSelector" in st else "Parameters"
        if sel in st:
            ctx = {"$$.Map.Item.Value": item, "$$.Map.Item.Index": index}
            first: Any = self.template(st[sel], inp, name, sel, ctx)
        else:
            first = _expr(item)
        limit = st.get("MaxConcurrency", 0)
        sequential = limit == 1
        outer_scope = self._scope
        self._scope = iscope
        body = self.machine(
            sm, ivar, iscope, lambda: {"next": done}, f"state {name!r}: ItemProcessor"
        )
        self._scope = outer_scope
        store = _expr(f"list.concat({out}, {ivar})") if sequential else _expr(ivar)
        target = out if sequential else f"{results}[string({index})]"
        steps = [
            {f"{iscope}init": {"assign": [{ivar: first}, {f"{ivar}_r": None}]}},
            *body,
            {done: {"assign": [{target: store}]}},
        ]
        loop = {"value": item, "index": index, "in": _expr(items), "steps": steps}
        result: list[dict] = [{f"{base}_init": {"assign": [{results: {}}, {out: []}]}}]
        if sequential:
            result.append({f"{base}_for": {"for": loop}})
        else:
            par: dict[str, Any] = {"shared": [results], "for": loop}
            if limit:
                par["concurrency_limit"] = int(limit)
            result.append({f"{base}_parallel": {"parallel": par}})
            collect = {
                f"{base}_collect": {
                    "assign": [{out: _expr(f"list.concat({out}, {results}[string({index})])")}]
                }
            }
            result.append(
                {
                    f"{base}_order": {
                        "for": {
                            "value": item,
                            "index": index,
                            "in": _expr(items),
                            "steps": [collect],
                        }
                    }
                }
            )
        if "ResultSelector" in st:
            raise self.fail(name, "ResultSelector", "not supported on Map")
        assigns = self.result_assign(var, name, st.get("ResultPath", "$"), _expr(out))
        assigns += self.output_assign(st, var, name)
        if assigns:
            result.append({f"{base}_result": {"assign": assigns}})
        return result


def compile(
    definition: dict | str,
    *,
    function_url: Callable[[str], str] = lambda name: (
        f"https://REGION-PROJECT.cloudfunctions.net/{name}"
    ),
    topic_path: Callable[[str], str] | None = None,
    project: str = "PROJECT",
) -> dict:
    """Translate an ASL definition (dict or JSON text) into a Cloud Workflows document."""
    if isinstance(definition, str):
        try:
            definition = json.loads(definition)
        except ValueError as e:
            raise DefinitionError(f"GCP Workflows: definition is not JSON: {e}") from None
    if topic_path is None:
        topic_path = lambda name: f"projects/{project}/topics/{name}"  # noqa: E731
    c = _Compiler(function_url, topic_path)
    c._scope = ""
    body = c.machine(definition, "state", "", lambda: {"return": _expr("state")}, "definition")
    steps = [{"polyfn_init": {"assign": [{"state": _expr("input")}, {"state_r": None}]}}, *body]
    doc: dict[str, Any] = {"main": {"params": ["input"], "steps": steps}}
    doc.update(c.subworkflows)
    return doc


def to_yaml(workflow: dict) -> str:
    """Render a compiled workflow as YAML (the form ``gcloud workflows deploy`` takes)."""
    import yaml

    return yaml.safe_dump(workflow, sort_keys=False, default_flow_style=False, width=120)
