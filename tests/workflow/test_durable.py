"""The order workflow on Azure Durable Functions, replayed with azure-functions-durable's
own machinery (``DurableOrchestrationContext.from_json`` + ``Orchestrator(fn).handle``).

History shapes follow the library's own tests (tests/orchestrator/orchestrator_test_utils
and tests/test_utils/ContextBuilder.py in Azure/azure-functions-durable-python): an episode
starts with OrchestratorStarted; the first carries ExecutionStarted (with the input); an
action with sequence id N is recorded as TaskScheduled (EventId N) and completes with
TaskCompleted/TaskFailed (TaskScheduledId N, Result as JSON / Reason and Details); a timer
is TimerCreated (EventId N) then TimerFired (TimerId N, FireAt); each episode ends with
OrchestratorCompleted. ``handle`` returns the orchestrator state JSON (isDone, actions,
output) or, when the orchestrator raised, raises with the state after ``$OutOfProcData$:``.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

pytest.importorskip("azure.durable_functions")

import azure.durable_functions as df
from azure.durable_functions.models import DurableOrchestrationContext

from polyfn.adapters.azure.durable import ActivityError, orchestrator
from polyfn.outputs.memory import MemoryDriver
from polyfn.workflow.local import resources, run
from samples.orderflow import app as flow
from samples.orderflow.workflow import order_workflow

ORDER = {"orderId": "o-1", "items": [{"sku": "widget", "qty": 2, "price": 5}], "card": "ok"}
T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _reset():
    flow.reset()


def _ts(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class History:
    """A small history builder in the shape of the library's ContextBuilder."""

    def __init__(self, input_):
        self.input = input_
        self.events: list[dict] = []
        self.now = T0
        self._n = 0
        self.episode()
        self.add(0, Input=json.dumps(input_), Name="orderflow", Version="")  # ExecutionStarted

    def add(self, type_: int, event_id: int = -1, **kw) -> None:
        self.events.append(
            {
                "EventType": type_,
                "EventId": event_id,
                "IsPlayed": False,
                "Timestamp": _ts(self.now),
                **kw,
            }
        )

    def episode(self, advance: float = 1) -> None:
        if self.events:
            self.add(13)  # OrchestratorCompleted
        self.now += dt.timedelta(seconds=advance)
        self.add(12)  # OrchestratorStarted

    def scheduled(self, n: int, name: str) -> None:
        self.add(4, n, Name=name)

    def completed(self, n: int, result) -> None:
        self.add(5, TaskScheduledId=n, Result=json.dumps(result))

    def failed(self, n: int, reason: str, details: str = "") -> None:
        self.add(6, TaskScheduledId=n, Reason=reason, Details=details)

    def timer(self, n: int, fire_at: str) -> None:
        self.add(10, n, FireAt=fire_at)
        self.add(11, TimerId=n, FireAt=fire_at)

    def context(self) -> DurableOrchestrationContext:
        body = {
            "history": self.events,
            "input": json.dumps(self.input),
            "instanceId": "inst-1",
            "isReplaying": False,
            "parentInstanceId": None,
        }
        return DurableOrchestrationContext.from_json(json.dumps(body))


def replay(fn, history: History) -> dict:
    """The orchestrator state for ``history``; a failed orchestration returns its state
    (with ``error``) as the library reports it."""
    try:
        return json.loads(df.Orchestrator(fn).handle(history.context()))
    except Exception as e:
        text = str(e)
        assert "$OutOfProcData$:" in text, text
        return json.loads(text.split("$OutOfProcData$:", 1)[1])


def actions(state: dict) -> list[dict]:
    return [a for group in state["actions"] for a in group]


def drive(fn, order, activities, *, max_episodes=50):
    """Play the Durable host: replay, run the newly scheduled activities (or fire the new
    timers), append their events, until the orchestration is done."""
    h = History(order)
    done = 0
    calls = []
    for _ in range(max_episodes):
        state = replay(fn, h)
        if state.get("isDone") or state.get("error"):
            return state, h, calls
        new = actions(state)[done:]
        assert new, state
        h.episode()
        for i, a in enumerate(new, start=done):
            if a["actionType"] == 5:
                h.timer(i, a["fireAt"])
                continue
            assert a["actionType"] == 0, a
            payload = json.loads(a["input"])
            calls.append(a["functionName"])
            h.scheduled(i, a["functionName"])
            try:
                h.completed(i, activities[a["functionName"]](payload))
            except ActivityError as e:
                h.failed(i, f"Activity function '{a['functionName']}' failed: {e}", "trace")
        done += len(new)
    raise AssertionError("orchestration did not finish")


def _activities():
    calls = resources(order_workflow(), flow.app, outputs=MemoryDriver())

    def wrap(call):
        def activity(payload):
            try:
                return call(payload)
            except Exception as e:
                raise ActivityError(type(e).__name__, str(e)) from e

        return activity

    return {res.split(":")[-1]: wrap(c) for res, c in calls.items()}


FN = orchestrator(order_workflow())


def test_first_episode_schedules_validate_order():
    state = replay(FN, History(ORDER))
    assert state["isDone"] is False
    [[a]] = state["actions"]
    assert a["actionType"] == 0 and a["functionName"] == "validate_order"
    assert json.loads(a["input"]) == ORDER


def test_after_completion_the_next_activity():
    h = History(ORDER)
    h.episode()
    h.scheduled(0, "validate_order")
    validated = {**ORDER, "total": 10}
    h.completed(0, validated)
    state = replay(FN, h)
    acts = actions(state)
    assert [a["functionName"] for a in acts] == ["validate_order", "check_inventory"]
    assert json.loads(acts[1]["input"]) == validated


def test_out_of_stock_fails_the_orchestration():
    h = History(ORDER)
    h.episode()
    h.scheduled(0, "validate_order")
    h.completed(0, {**ORDER, "total": 10})
    h.episode()
    h.scheduled(1, "check_inventory")
    h.completed(1, {"inStock": False})
    state = replay(FN, h)
    assert state["isDone"] is False  # the library reports a failure through ``error``
    assert "OutOfStock" in state["error"] and "An item is out of stock" in state["error"]


def _until_payment():
    h = History(ORDER)
    for n, (name, result) in enumerate(
        [
            ("validate_order", {**ORDER, "total": 10}),
            ("check_inventory", {"inStock": True}),
            ("reserve_inventory", {"reservationId": "res-o-1"}),
        ]
    ):
        h.episode()
        h.scheduled(n, name)
        h.completed(n, result)
    h.episode()
    h.scheduled(3, "charge_payment")
    return h


def test_payment_timeout_retries_after_a_durable_timer():
    h = _until_payment()
    err = ActivityError("PaymentGatewayTimeout", "gateway timed out (attempt 1)")
    h.failed(3, f"Activity function 'charge_payment' failed: {err}", "trace")
    failed_at = h.now
    state = replay(FN, h)
    acts = actions(state)
    assert acts[-1]["actionType"] == 5  # IntervalSeconds 1 * BackoffRate 2 ** 0
    fire_at = dt.datetime.fromisoformat(acts[-1]["fireAt"].replace("Z", "+00:00"))
    assert fire_at == failed_at + dt.timedelta(seconds=1)
    h.episode()
    h.timer(4, acts[-1]["fireAt"])
    state = replay(FN, h)
    last = actions(state)[-1]
    assert last["actionType"] == 0 and last["functionName"] == "charge_payment"


def test_payment_declined_is_caught_by_the_saga():
    h = _until_payment()
    err = ActivityError("PaymentDeclined", "card declined for order o-1")
    h.failed(3, f"Activity function 'charge_payment' failed: {err}", "trace")
    state = replay(FN, h)
    last = actions(state)[-1]
    assert last["functionName"] == "release_inventory"
    assert json.loads(last["input"])["error"] == {
        "Error": "PaymentDeclined",
        "Cause": "card declined for order o-1",
    }


@pytest.mark.parametrize("card", ["ok", "flaky-2", "declined"])
def test_driven_to_the_end_matches_local_execution(card):
    order = {**ORDER, "card": card}
    state, h, calls = drive(FN, order, _activities())
    flow.reset()
    local = run(order_workflow(), order, flow.app, outputs=MemoryDriver())
    if local.status == "SUCCEEDED":
        assert state["isDone"] is True
        assert state["output"] == local.output
    else:
        assert local.error == "PaymentFailed"
        assert "PaymentFailed" in state["error"]
    if card == "flaky-2":
        assert calls.count("charge_payment") == 3
        fires = [e["FireAt"] for e in h.events if e["EventType"] == 11]
        assert len(fires) == 2  # 1 s then 2 s (BackoffRate 2)


def test_native_retry_and_fan_out():
    definition = {
        "StartAt": "Fan",
        "States": {
            "Fan": {
                "Type": "Map",
                "ItemsPath": "$.xs",
                "ItemProcessor": {
                    "StartAt": "Double",
                    "States": {
                        "Double": {
                            "Type": "Task",
                            "Resource": "polyfn:function:double",
                            "End": True,
                        }
                    },
                },
                "ResultPath": "$.doubled",
                "Next": "Sum",
            },
            "Sum": {
                "Type": "Task",
                "Resource": "polyfn:function:sum",
                "InputPath": "$.doubled",
                "Retry": [
                    {
                        "ErrorEquals": ["States.ALL"],
                        "IntervalSeconds": 2,
                        "BackoffRate": 1,
                        "MaxAttempts": 2,
                    }
                ],
                "End": True,
            },
        },
    }
    fn = orchestrator(definition)
    h = History({"xs": [1, 2, 3]})
    state = replay(fn, h)
    [group] = state["actions"]
    assert [a["functionName"] for a in group] == ["double"] * 3
    h.episode()
    for i, x in enumerate([1, 2, 3]):
        h.scheduled(i, "double")
        h.completed(i, 2 * x)
    state = replay(fn, h)
    last = actions(state)[-1]
    assert last["actionType"] == 1 and last["functionName"] == "sum"
    assert last["retryOptions"]["maxNumberOfAttempts"] == 3
    assert last["retryOptions"]["firstRetryIntervalInMilliseconds"] == 2000
    assert json.loads(last["input"]) == [2, 4, 6]
    h.episode()
    h.scheduled(3, "sum")
    h.completed(3, 12)
    state = replay(fn, h)
    assert state["isDone"] is True and state["output"] == 12


def test_register_adds_the_orchestrator_and_one_activity_per_function():
    dfapp = df.DFApp()
    from polyfn.adapters.azure.durable import register

    register(dfapp, flow.app, order_workflow(), "orderflow")
    found = {f.get_function_name(): f for f in dfapp.get_functions()}
    triggers = {n: [b.type for b in f.get_bindings()] for n, f in found.items()}
    assert triggers.pop("orderflow") == ["orchestrationTrigger"]
    assert sorted(triggers) == sorted(flow.app.functions)
    assert set(map(tuple, triggers.values())) == {("activityTrigger",)}
    validate = found["validate_order"].get_user_function()
    assert validate(ORDER)["total"] == 10
    with pytest.raises(ActivityError) as info:
        validate({"orderId": "o-2", "items": []})
    assert info.value.error == "InvalidOrder"
