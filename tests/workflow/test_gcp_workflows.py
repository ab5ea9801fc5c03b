"""The ASL -> Google Cloud Workflows compiler, validated against Google's published schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from polyfn.errors import DefinitionError
from polyfn.workflow.gcp_workflows import compile, to_yaml

jsonschema = pytest.importorskip("jsonschema")
yaml = pytest.importorskip("yaml")

SCHEMA = json.loads((Path(__file__).parent / "data" / "gcp_workflows.schema.json").read_text())


def compiled(definition: dict) -> dict:
    doc = compile(
        definition, function_url=lambda n: f"https://europe-west1-demo.cloudfunctions.net/{n}"
    )
    jsonschema.validate(doc, SCHEMA)
    # The YAML form round-trips to the same document, and validates too.
    assert yaml.safe_load(to_yaml(doc)) == doc
    return doc


def steps_of(doc: dict) -> dict:
    """Every named step, at any depth, by name."""
    found: dict = {}

    def walk(v):
        if isinstance(v, dict):
            for k, x in v.items():
                if isinstance(x, dict) and k not in ("args", "body", "backoff", "auth"):
                    found.setdefault(k, x)
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(doc)
    return found


def test_task_retry_catch():
    doc = compiled(
        {
            "StartAt": "Charge",
            "States": {
                "Charge": {
                    "Type": "Task",
                    "Resource": "polyfn:function:charge",
                    "Parameters": {"amount.$": "$.order.total", "currency": "EUR"},
                    "ResultPath": "$.receipt",
                    "Retry": [
                        {
                            "ErrorEquals": ["States.ALL"],
                            "IntervalSeconds": 2,
                            "MaxAttempts": 4,
                            "BackoffRate": 3,
                        }
                    ],
                    "Catch": [
                        {
                            "ErrorEquals": ["CardDeclined"],
                            "ResultPath": "$.error",
                            "Next": "Declined",
                        },
                        {"ErrorEquals": ["States.ALL"], "Next": "Broken"},
                    ],
                    "Next": "Done",
                },
                "Declined": {"Type": "Fail", "Error": "Declined", "Cause": "card declined"},
                "Broken": {"Type": "Fail", "Error": "Broken"},
                "Done": {"Type": "Succeed"},
            },
        }
    )
    assert doc["main"]["params"] == ["input"]
    s = steps_of(doc)
    tried = s["Charge_call"]
    call = tried["try"]
    assert call["call"] == "http.post"
    assert call["args"]["url"] == "https://europe-west1-demo.cloudfunctions.net/charge"
    assert call["args"]["auth"] == {"type": "OIDC"}
    assert call["args"]["body"] == {"amount": '${state["order"]["total"]}', "currency": "EUR"}
    retry = tried["retry"]
    assert retry["max_retries"] == 4
    assert retry["backoff"] == {"initial_delay": 2, "max_delay": 3600, "multiplier": 3}
    predicate = retry["predicate"][2:-1]
    assert doc[predicate]["params"] == ["e"]
    assert doc[predicate]["steps"][0]["check"]["return"] == "${true}"
    exc = tried["except"]
    assert exc["as"] == "e"
    arms = exc["steps"][0]["Charge_catch"]["switch"]
    assert '"CardDeclined" in default(map.get(e, "tags"), [])' in arms[0]["condition"]
    assert 'map.get(e, ["body", "error"]) == "CardDeclined"' in arms[0]["condition"]
    assert arms[0]["next"] == "Declined"
    assert arms[0]["assign"][0]['state["error"]']["Error"] == "CardDeclined"
    assert arms[1] == {
        "condition": "${true}",
        "assign": [
            {
                "state": {
                    "Error": '${default(map.get(e, ["body", "error"]), "States.TaskFailed")}',
                    "Cause": "${json.encode_to_string(e)}",
                }
            }
        ],
        "next": "Broken",
    }
    assert exc["steps"][1]["Charge_reraise"] == {"raise": "${e}"}
    assert s["Charge_result"]["assign"] == [{'state["receipt"]': "${state_r.body}"}]
    assert s["Charge"]["next"] == "Done"
    assert s["Declined_raise"]["raise"]["tags"] == ["Declined"]
    assert s["Done_end"] == {"return": "${state}"}


def test_choice_switch_conditions():
    doc = compiled(
        {
            "StartAt": "Route",
            "States": {
                "Route": {
                    "Type": "Choice",
                    "Choices": [
                        {"Variable": "$.kind", "StringEquals": "vip", "Next": "Vip"},
                        {
                            "And": [
                                {"Variable": "$.total", "NumericGreaterThan": 100},
                                {"Variable": "$.express", "BooleanEquals": True},
                            ],
                            "Next": "Big",
                        },
                        {"Not": {"Variable": "$.meta.id", "IsPresent": True}, "Next": "Anon"},
                        {
                            "Or": [
                                {"Variable": "$.a", "NumericLessThanEqualsPath": "$.b"},
                                {"Variable": "$.name", "StringMatches": "log-*.txt"},
                            ],
                            "Next": "Big",
                        },
                    ],
                    "Default": "Normal",
                },
                "Vip": {"Type": "Pass", "Result": {"tier": 1}, "ResultPath": "$.tier", "End": True},
                "Big": {"Type": "Succeed"},
                "Anon": {"Type": "Succeed"},
                "Normal": {"Type": "Pass", "End": True},
            },
        }
    )
    s = steps_of(doc)
    arms = s["Route"]["switch"]
    assert arms[0] == {"condition": '${(state["kind"] == "vip")}', "next": "Vip"}
    assert arms[1]["condition"] == '${((state["total"] > 100) and (state["express"] == true))}'
    assert arms[2]["condition"] == '${not(("id" in default(map.get(state, ["meta"]), [])))}'
    assert arms[3]["condition"] == (
        '${((state["a"] <= state["b"]) or text.match_regex(state["name"], "^log\\\\-.*\\\\.txt$"))}'
    )
    assert arms[-1] == {"condition": True, "next": "Normal"}
    assert s["Vip_result"]["assign"] == [{'state["tier"]': {"tier": 1}}]


def test_choice_without_default_raises_no_choice_matched():
    doc = compiled(
        {
            "StartAt": "C",
            "States": {
                "C": {
                    "Type": "Choice",
                    "Choices": [{"Variable": "$.x", "IsNull": False, "Next": "E"}],
                },
                "E": {"Type": "Succeed"},
            },
        }
    )
    s = steps_of(doc)
    assert s["C_switch"]["switch"][0]["condition"] == '${(state["x"] != null)}'
    assert s["C_nomatch"]["raise"]["tags"] == ["States.NoChoiceMatched"]


def test_parallel_branches_share_results():
    branch = lambda fn: {  # noqa: E731
        "StartAt": fn,
        "States": {fn: {"Type": "Task", "Resource": f"polyfn:function:{fn}", "End": True}},
    }
    doc = compiled(
        {
            "StartAt": "Both",
            "States": {
                "Both": {
                    "Type": "Parallel",
                    "Branches": [branch("left"), branch("right")],
                    "ResultPath": "$.both",
                    "End": True,
                }
            },
        }
    )
    s = steps_of(doc)
    par = s["Both_parallel"]["parallel"]
    (shared,) = par["shared"]
    assert len(par["branches"]) == 2
    b0 = s["Both_b0_branch"]["steps"]
    assert "Both_b0_init" in b0[0]
    assert s["Both_b0_left_call"]["call"] == "http.post"
    assert s["Both_b0_left"]["next"] == "Both_b0_done"
    assert list(s["Both_b0_done"]["assign"][0]) == [f'{shared}["0"]']
    assert s["Both_result"]["assign"] == [
        {'state["both"]': [f'${{{shared}["0"]}}', f'${{{shared}["1"]}}']}
    ]


@pytest.mark.parametrize("limit", [0, 5, 1])
def test_map_parallel_for_and_plain_for(limit):
    doc = compiled(
        {
            "StartAt": "Each",
            "States": {
                "Each": {
                    "Type": "Map",
                    "ItemsPath": "$.orders",
                    "MaxConcurrency": limit,
                    "ItemSelector": {
                        "order.$": "$$.Map.Item.Value",
                        "i.$": "$$.Map.Item.Index",
                        "c.$": "$.cust",
                    },
                    "ItemProcessor": {
                        "StartAt": "Ship",
                        "States": {
                            "Ship": {
                                "Type": "Task",
                                "Resource": "polyfn:publish:shipping",
                                "End": True,
                            }
                        },
                    },
                    "End": True,
                }
            },
        }
    )
    s = steps_of(doc)
    if limit == 1:
        loop = s["Each_for"]["for"]
        assert "Each_parallel" not in s
    else:
        par = s["Each_parallel"]["parallel"]
        loop = par["for"]
        assert par.get("concurrency_limit") == (limit or None)
        assert len(par["shared"]) == 1
        assert "Each_order" in s
    assert loop["in"] == '${state["orders"]}'
    init = loop["steps"][0]["Each_it_init"]["assign"][0]
    (ivar,) = init
    assert init[ivar] == {
        "order": f"${{{loop['value']}}}",
        "i": f"${{{loop['index']}}}",
        "c": '${state["cust"]}',
    }
    publish = s["Each_it_Ship_call"]
    assert publish["call"] == "googleapis.pubsub.v1.projects.topics.publish"
    assert publish["args"]["topic"] == "projects/PROJECT/topics/shipping"
    assert (
        publish["args"]["body"]["messages"][0]["data"] == f"${{base64.encode(json.encode({ivar}))}}"
    )


def test_pass_wait_succeed_fail_paths():
    doc = compiled(
        {
            "StartAt": "Shape",
            "States": {
                "Shape": {
                    "Type": "Pass",
                    "InputPath": "$.in",
                    "Parameters": {"x.$": "$.value", "fixed": [1, 2]},
                    "ResultPath": "$.shaped",
                    "OutputPath": "$.shaped",
                    "Next": "Nap",
                },
                "Nap": {"Type": "Wait", "Seconds": 5, "Next": "NapMore"},
                "NapMore": {"Type": "Wait", "SecondsPath": "$.delay", "Next": "Until"},
                "Until": {"Type": "Wait", "Timestamp": "2030-01-01T00:00:00Z", "Next": "Stop"},
                "Stop": {"Type": "Fail", "Error": "Stopped", "Cause": "by design"},
            },
        }
    )
    s = steps_of(doc)
    assert s["Shape_result"]["assign"] == [
        {'state["shaped"]': {"x": '${state["in"]["value"]}', "fixed": [1, 2]}}
    ]
    assert s["Shape_output"]["assign"] == [{"state": '${state["shaped"]}'}]
    assert s["Nap_sleep"] == {"call": "sys.sleep", "args": {"seconds": 5}}
    assert s["NapMore_sleep"]["args"] == {"seconds": '${state["delay"]}'}
    assert s["Until_sleep"] == {"call": "sys.sleep_until", "args": {"time": "2030-01-01T00:00:00Z"}}
    assert s["Stop_raise"]["raise"]["message"] == "by design"
    assert doc["main"]["steps"][0]["polyfn_init"]["assign"][0] == {"state": "${input}"}


@pytest.mark.parametrize(
    ("state", "field"),
    [
        (
            {"Type": "Task", "Resource": "polyfn:function:f", "HeartbeatSeconds": 5, "End": True},
            "HeartbeatSeconds",
        ),
        (
            {
                "Type": "Task",
                "Resource": "polyfn:function:f",
                "Retry": [{"ErrorEquals": ["A"]}, {"ErrorEquals": ["B"]}],
            },
            "Retry",
        ),
        (
            {"Type": "Pass", "Parameters": {"x.$": "States.Format('{}', $.a)"}, "End": True},
            "Parameters.x.$",
        ),
        ({"Type": "Pass", "InputPath": "$.items[*]", "End": True}, "InputPath"),
        ({"Type": "Task", "Resource": "arn:aws:lambda:::function:f", "End": True}, "Resource"),
        ({"Type": "Pass", "Output": "{% $states.input %}", "End": True}, "Output"),
        (
            {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.t", "TimestampEquals": "2020-01-01T00:00:00Z", "Next": "S"}
                ],
            },
            "TimestampEquals",
        ),
        (
            {
                "Type": "Parallel",
                "Branches": [{"StartAt": "X", "States": {"X": {"Type": "Succeed"}}}],
                "End": True,
            },
            "Branches",
        ),
    ],
)
def test_unsupported_features_raise_definition_error(state, field):
    with pytest.raises(DefinitionError) as e:
        compile({"StartAt": "S", "States": {"S": state}})
    assert "'S'" in str(e.value)
    assert field in str(e.value)


def test_accepts_json_text():
    doc = compile(json.dumps({"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}))
    jsonschema.validate(doc, SCHEMA)
    with pytest.raises(DefinitionError):
        compile("not json")
