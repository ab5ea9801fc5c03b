"""Unit tests of polyfn.workflow: paths, intrinsics, choice rules, Retry/Catch, Wait, Map."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from polyfn.workflow import VirtualClock, WorkflowError, choice, execute, intrinsics, paths


def test_paths_get_and_put():
    doc = {"a": {"b": [1, 2, {"c": 3}]}, "x y": 5}
    assert paths.get(doc, "$") == doc
    assert paths.get(doc, "$.a.b[2].c") == 3
    assert paths.get(doc, "$['x y']") == 5
    assert paths.get(doc, "$.a.b[-1]") == {"c": 3}
    assert paths.get({"l": [{"v": 1}, {"v": 2}]}, "$.l[*].v") == [1, 2]
    assert paths.get({}, "$.items[*]") == []
    assert paths.get({"ctx": 1}, "$$.Execution.Name", context={"Execution": {"Name": "n"}}) == "n"
    with pytest.raises(paths.PathError):
        paths.get(doc, "$.missing")
    assert paths.put({"a": 1}, "$.r.s", 2) == {"a": 1, "r": {"s": 2}}
    assert paths.put({"a": 1}, None, 2) == {"a": 1}
    assert paths.bracketed("$.a[0]") == "$['a'][0]"


def test_template():
    out = paths.resolve_template(
        {"k.$": "$.a", "lit": [1, {"n.$": "$$.Name"}], "f.$": "States.Format('x{}', $.a)"},
        {"a": 7},
        {"Name": "ctx"},
        intrinsic=intrinsics.evaluate,
    )
    assert out == {"k": 7, "lit": [1, {"n": "ctx"}], "f": "x7"}


@pytest.mark.parametrize(
    "expr,expected",
    [
        ("States.Format('a {} b {}', 1, $.s)", "a 1 b str"),
        ("States.StringToJson('{\"a\": 1}')", {"a": 1}),
        ("States.JsonToString($.o)", '{"k":[1]}'),
        ("States.Array(1, 'two', $.s)", [1, "two", "str"]),
        ("States.ArrayPartition(States.Array(1,2,3), 2)", [[1, 2], [3]]),
        ("States.ArrayContains(States.Array(1,2), 2)", True),
        ("States.ArrayRange(1, 9, 3)", [1, 4, 7]),
        ("States.ArrayGetItem(States.Array(5,6), 1)", 6),
        ("States.ArrayLength(States.Array(5,6))", 2),
        ("States.ArrayUnique(States.Array(1,1,2))", [1, 2]),
        ("States.Base64Encode('hi')", "aGk="),
        ("States.Base64Decode('aGk=')", "hi"),
        ("States.Hash('abc', 'SHA-1')", "a9993e364706816aba3e25717850c26c9cd0d89d"),
        ("States.JsonMerge($.o, States.StringToJson('{\"z\":1}'), false)", {"k": [1], "z": 1}),
        ("States.MathAdd(1.5, 2)", 4),
        ("States.StringSplit('a,b,,c', ',')", ["a", "b", "c"]),
    ],
)
def test_intrinsics(expr, expected):
    assert intrinsics.evaluate(expr, {"s": "str", "o": {"k": [1]}}) == expected


def test_intrinsic_random_and_uuid_and_failure():
    assert 1 <= intrinsics.evaluate("States.MathRandom(1, 10)", {}) < 10
    assert len(intrinsics.evaluate("States.UUID()", {})) == 36
    with pytest.raises(WorkflowError) as e:
        intrinsics.evaluate("States.ArrayGetItem(States.Array(1), 5)", {})
    assert e.value.error == "States.IntrinsicFailure"


def test_choice_rules():
    data = {"n": 5, "s": "abc", "t": "2024-01-01T00:00:00Z", "b": True, "z": None, "m": 5}
    ev = choice.evaluate
    assert ev({"Variable": "$.n", "NumericGreaterThan": 4}, data)
    assert ev({"Variable": "$.n", "NumericEqualsPath": "$.m"}, data)
    assert not ev({"Variable": "$.s", "NumericEquals": 5}, data)
    assert ev({"Variable": "$.s", "StringMatches": "a*c"}, data)
    assert ev({"Variable": "$.t", "TimestampLessThan": "2025-01-01T00:00:00Z"}, data)
    assert ev({"Variable": "$.b", "BooleanEquals": True}, data)
    assert ev({"Variable": "$.z", "IsNull": True}, data)
    assert ev({"Variable": "$.nope", "IsPresent": False}, data)
    assert ev(
        {
            "And": [
                {"Variable": "$.n", "IsNumeric": True},
                {"Not": {"Variable": "$.s", "IsNumeric": True}},
            ]
        },
        data,
    )
    assert ev(
        {
            "Or": [
                {"Variable": "$.n", "NumericLessThan": 0},
                {"Variable": "$.t", "IsTimestamp": True},
            ]
        },
        data,
    )


def _machine(states, start="A"):
    return json.dumps({"StartAt": start, "States": states})


def test_pass_choice_succeed_and_fail():
    d = _machine(
        {
            "A": {"Type": "Pass", "Result": {"v": 1}, "ResultPath": "$.r", "Next": "C"},
            "C": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.r.v", "NumericEquals": 1, "Next": "Ok"}],
                "Default": "Bad",
            },
            "Ok": {"Type": "Succeed", "OutputPath": "$.r"},
            "Bad": {"Type": "Fail", "Error": "E", "Cause": "c"},
        }
    )
    res = execute(d, {"in": 1})
    assert (res.status, res.output) == ("SUCCEEDED", {"v": 1})
    res = execute(d.replace('"NumericEquals": 1', '"NumericEquals": 2'), "{}")
    assert (res.status, res.error, res.cause) == ("FAILED", "E", "c")


def test_task_retry_then_catch():
    calls = []

    def flaky(event):
        calls.append(event)
        raise ValueError("boom")

    d = _machine(
        {
            "A": {
                "Type": "Task",
                "Resource": "flaky",
                "Retry": [{"ErrorEquals": ["ValueError"], "MaxAttempts": 2, "IntervalSeconds": 1}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "B"}],
            },
            "B": {"Type": "Pass", "End": True},
        }
    )
    clock = VirtualClock(dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    res = execute(d, {"x": 1}, resources={"flaky": flaky}, clock=clock)
    assert len(calls) == 3
    assert clock.now() == dt.datetime(2024, 1, 1, 0, 0, 3, tzinfo=dt.UTC)  # 1 s + 2 s backoff
    assert res.output == {"x": 1, "err": {"Error": "ValueError", "Cause": "boom"}}


def test_task_success_and_unknown_resource():
    d = _machine(
        {"A": {"Type": "Task", "Resource": "double", "ResultSelector": {"v.$": "$"}, "End": True}}
    )
    assert execute(d, 4, resources={"double": lambda x: x * 2}).output == {"v": 8}
    res = execute(d, 4)
    assert res.status == "FAILED" and "double" in res.cause


def test_wait_virtual_clock_and_map_parallel():
    d = _machine(
        {
            "A": {"Type": "Wait", "Seconds": 3600, "Next": "M"},
            "M": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemSelector": {"i.$": "$$.Map.Item.Index", "v.$": "$$.Map.Item.Value"},
                "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
                "ResultPath": "$.mapped",
                "Next": "Par",
            },
            "Par": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "X", "States": {"X": {"Type": "Pass", "Result": 1, "End": True}}},
                    {
                        "StartAt": "Y",
                        "States": {"Y": {"Type": "Pass", "InputPath": "$.mapped", "End": True}},
                    },
                ],
                "End": True,
            },
        }
    )
    res = execute(d, {"items": ["a", "b"]})
    assert res.output == [1, [{"i": 0, "v": "a"}, {"i": 1, "v": "b"}]]


def test_runtime_errors_and_jsonata():
    res = execute(_machine({"A": {"Type": "Pass", "InputPath": "$.nope", "End": True}}), {})
    assert res.error == "States.Runtime" and "No results for path" in res.cause
    res = execute(
        _machine({"A": {"Type": "Choice", "Choices": [], "Default": "A"}}).replace(
            '"Default": "A"', '"x": 1'
        )
    )
    assert res.error == "States.NoChoiceMatched"
    res = execute(
        {"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}
    )
    assert res.status == "FAILED" and "JSONata not supported yet" in res.cause
    res = execute(
        {
            "TimeoutSeconds": 5,
            "StartAt": "A",
            "States": {"A": {"Type": "Wait", "Seconds": 10, "End": True}},
        }
    )
    assert (res.status, res.error) == ("TIMED_OUT", "States.Timeout")
