"""The workflow builder, the Step Functions compiler, the patterns and local runs."""

from __future__ import annotations

import json

import pytest

from polyfn import App
from polyfn.outputs.memory import MemoryDriver
from polyfn.workflow import execute
from polyfn.workflow.builder import (
    Catch,
    Choice,
    DefinitionError,
    Fail,
    Map,
    Parallel,
    Pass,
    Succeed,
    Task,
    Wait,
    Workflow,
    path,
)
from polyfn.workflow.local import run, task
from polyfn.workflow.patterns import fan_out, saga
from polyfn.workflow.stepfunctions import compile


def test_states_chain_in_order_and_the_last_ends():
    asl = Workflow(Pass("A", result=1), Wait("W", seconds=1), Pass("B")).to_asl()
    assert asl["StartAt"] == "A"
    assert asl["States"]["A"] == {"Type": "Pass", "Result": 1, "Next": "W"}
    assert asl["States"]["W"] == {"Type": "Wait", "Seconds": 1, "Next": "B"}
    assert asl["States"]["B"] == {"Type": "Pass", "End": True}


def test_conditions():
    c = Choice("C").when(path("$.n").gt(3) & ~path("$.s").eq("x"), next="Big")
    c.when(path("$.a").eq(path("$.b")) | path("$.z").is_present(), next="Big").otherwise("Small")
    asl = Workflow(c, Succeed("Big"), Succeed("Small")).to_asl()
    rules = asl["States"]["C"]["Choices"]
    assert rules[0] == {
        "And": [
            {"Variable": "$.n", "NumericGreaterThan": 3},
            {"Not": {"Variable": "$.s", "StringEquals": "x"}},
        ],
        "Next": "Big",
    }
    assert rules[1]["Or"][0] == {"Variable": "$.a", "NumericEqualsPath": "$.b"}
    assert asl["States"]["C"]["Default"] == "Small"
    assert execute(asl, {"n": 5, "s": "y"}).status == "SUCCEEDED"


def test_unknown_next_is_a_clear_error():
    with pytest.raises(DefinitionError, match="Next 'Nowhere' is not a state"):
        Workflow(Pass("A", next="Nowhere")).to_asl()
    with pytest.raises(DefinitionError, match="Next 'Gone'"):
        Workflow(Task("T", function="f", catch=[Catch(next="Gone")])).to_asl()
    with pytest.raises(DefinitionError, match="declared twice"):
        Workflow(Pass("A"), Pass("A")).to_asl()
    with pytest.raises(DefinitionError, match="exactly one"):
        Task("T", function="f", send="q")


def test_existing_asl_is_accepted_as_is():
    asl = {
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.r", "End": True}},
    }
    wf = Workflow.from_asl(json.dumps(asl))
    assert wf.to_asl() == asl
    assert json.loads(wf.to_json()) == asl
    with pytest.raises(DefinitionError, match="StartAt"):
        Workflow.from_asl({"StartAt": "Q", "States": asl["States"]})


def test_compile_resolves_functions_queues_and_topics():
    wf = Workflow(
        Task("F", function="work"),
        Task("S", send="jobs", result_path="$.sent"),
        Task("P", publish="news", parameters={"id.$": "$.id"}, result_path="$.published"),
        Parallel("Par", [[Task("G", function="other")]]),
    )
    asl = compile(wf, region="eu-west-1", account="1", prefix="app-")
    st = asl["States"]
    assert st["F"]["Resource"] == "arn:aws:lambda:eu-west-1:1:function:app-work"
    assert st["S"]["Resource"] == "arn:aws:states:::sqs:sendMessage"
    assert st["S"]["Parameters"] == {
        "QueueUrl": "https://sqs.eu-west-1.amazonaws.com/1/app-jobs",
        "MessageBody.$": "$",
    }
    assert st["P"]["Resource"] == "arn:aws:states:::sns:publish"
    assert st["P"]["Parameters"] == {
        "TopicArn": "arn:aws:sns:eu-west-1:1:app-news",
        "Message": {"id.$": "$.id"},
    }
    g = st["Par"]["Branches"][0]["States"]["G"]
    assert g["Resource"] == "arn:aws:lambda:eu-west-1:1:function:app-other"


def test_local_run_calls_functions_and_outputs():
    app = App("t")

    @task(app)
    def double(n):
        return n * 2

    @task(app)
    def label(n, ctx):
        return f"{ctx.function_name}:{n}"

    driver = MemoryDriver()
    wf = Workflow(
        Task("D", function="double"),
        Task("L", function="label", result_path="$"),
        Task("S", send="q", result_path=None),
    )
    r = run(wf, 21, app, outputs=driver)
    assert r.status == "SUCCEEDED", r
    assert r.output == {"MessageId": "send-1"}
    assert driver.sent[0].body == b"label:42"  # text goes as is, as SQS takes it


def test_saga_compensates_in_reverse():
    log: list[str] = []

    def step(name, fail=False):
        def fn(data):
            log.append(name)
            if fail:
                raise RuntimeError(name)
            return data

        return fn

    functions = {
        "a": step("a"),
        "b": step("b"),
        "c": step("c", fail=True),
        "undo_a": step("undo_a"),
        "undo_b": step("undo_b"),
    }
    wf = Workflow(
        *saga(
            [
                (Task("A", function="a"), Task("UndoA", function="undo_a")),
                (Task("B", function="b"), Task("UndoB", function="undo_b")),
                (Task("C", function="c"), None),
            ],
            fail=Fail("Failed", error="SagaFailed"),
            next="Done",
        ),
        Succeed("Done"),
    )
    r = run(wf, {}, functions=functions)
    assert (r.status, r.error) == ("FAILED", "SagaFailed")
    assert log == ["a", "b", "c", "undo_b", "undo_a"]


def test_fan_out_is_a_map_with_concurrency():
    m = fan_out(
        "Each",
        [Task("Sq", function="square")],
        items_path="$.xs",
        max_concurrency=4,
        result_path="$.squares",
    )
    assert isinstance(m, Map)
    asl = Workflow(m, Succeed("Done")).to_asl()
    each = asl["States"]["Each"]
    assert each["MaxConcurrency"] == 4 and each["ItemsPath"] == "$.xs"
    assert each["ItemProcessor"]["StartAt"] == "Sq"
    r = run(asl, {"xs": [1, 2, 3]}, functions={"square": lambda x: x * x})
    assert r.output == {"xs": [1, 2, 3], "squares": [1, 4, 9]}


def test_task_picks_up_outputs_declared_below_it():
    from polyfn import App
    from polyfn.workflow.local import task

    app = App("t")

    @task(app)
    @app.outputs(topics=["done"])
    def finish(data):
        return data

    assert app.function("finish").outputs.topics == ("done",)
    assert app.function("finish").triggers == []
