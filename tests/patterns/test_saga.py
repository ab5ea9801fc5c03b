"""A saga under each provider: the third step fails, the first two are compensated in
reverse order, and the execution fails with the saga's own error.

Two ways a workflow reaches its task functions, both run once per provider with the test
toolkit's ``@pytest.mark.polyfn_providers`` (neutral, aws, azure, gcp):

* ``polyfn.workflow(NAME, input)``: the app's registered workflow, its Tasks calling the
  functions in-process (as ``polyfn dev`` does). The compensations publish an audit event
  each; the topic trigger that records them is delivered through the provider's adapter
  as its native payload (SNS record, Service Bus message, Pub/Sub push).
* The same saga whose steps are HTTP functions, each Task a POST to the step's route sent
  through the provider's adapter (API Gateway HTTP API event, the Functions host's HTTP
  invocation, the request functions-framework receives) — the shape Google Cloud
  Workflows compiles a polyfn Task to (``http.post`` to the function's URL, see
  polyfn.workflow.gcp_workflows). A step answering non-2xx fails its Task with the error
  named in its JSON body, which the saga's Catch (``States.ALL``) takes, as Step Functions
  does for a Task error (https://docs.aws.amazon.com/step-functions/latest/dg/
  concepts-error-handling.html).

Saga semantics (polyfn.workflow.patterns.saga): when action *i* fails, the compensations
of the actions before *i* run in reverse order, then the Fail state.
"""

from __future__ import annotations

from typing import Any

import pytest

from polyfn import App, Context, HttpError, HttpRequest, TopicMessage
from polyfn.workflow.builder import Fail, Succeed, Task, Workflow
from polyfn.workflow.errors import WorkflowError
from polyfn.workflow.local import run, task, workflow
from polyfn.workflow.patterns import saga

STEPS: list[str] = []
AUDIT: list[dict[str, Any]] = []
TRIP = {"tripId": "t-1", "hotel": "h-9", "flight": "f-4", "card": "declined"}


class PaymentDeclined(Exception):
    pass


def _booking(function: str = "{}") -> Workflow:
    """Book hotel → book flight → charge card; compensations: cancel flight, cancel hotel
    (the charge, last, needs none)."""

    def step(name: str, fn: str, result: str) -> Task:
        return Task(name, function=function.format(fn), result_path=f"$.{result}")

    return Workflow(
        *saga(
            [
                (
                    step("BookHotel", "book_hotel", "hotel_booking"),
                    step("CancelHotel", "cancel_hotel", "hotel_cancel"),
                ),
                (
                    step("BookFlight", "book_flight", "flight_booking"),
                    step("CancelFlight", "cancel_flight", "flight_cancel"),
                ),
                (step("ChargeCard", "charge_card", "charge"), None),
            ],
            fail=Fail("TripFailed", error="TripFailed", cause="The trip could not be booked"),
            next="Booked",
        ),
        Succeed("Booked"),
        comment="a three-step saga whose compensations run in reverse",
    )


# -- the app: workflow tasks, and the topic the compensations report to ------------------
def _audit(ctx: Context, action: str, trip: dict[str, Any]) -> None:
    ctx.outputs.publish("saga-audit", {"seq": len(STEPS), "action": action, "trip": trip["tripId"]})


def _app() -> App:
    app = App("sagas")

    @task(app)
    def book_hotel(trip: dict) -> dict:
        STEPS.append("book_hotel")
        return {"reservation": f"res-{trip['hotel']}"}

    @task(app)
    def book_flight(trip: dict) -> dict:
        STEPS.append("book_flight")
        return {"ticket": f"tkt-{trip['flight']}"}

    @task(app)
    def charge_card(trip: dict) -> dict:
        STEPS.append("charge_card")
        if trip.get("card") == "declined":
            raise PaymentDeclined(f"card declined for trip {trip['tripId']}")
        return {"charged": True}

    @task(app)
    def cancel_flight(trip: dict, ctx: Context) -> dict:
        STEPS.append("cancel_flight")
        _audit(ctx, "cancel_flight", trip)
        return {"cancelled": trip["flight_booking"]["ticket"]}

    @task(app)
    def cancel_hotel(trip: dict, ctx: Context) -> dict:
        STEPS.append("cancel_hotel")
        _audit(ctx, "cancel_hotel", trip)
        return {"cancelled": trip["hotel_booking"]["reservation"]}

    @app.topic("saga-audit")
    def audit(msg: TopicMessage, ctx: Context) -> None:
        AUDIT.append({**msg.json(), "provider": msg.provider})

    # The same steps as HTTP functions, for the second test.
    def endpoint(name: str, handler: Any) -> None:
        def call(req: HttpRequest) -> dict:
            return handler(req.json())

        call.__name__ = f"http_{name}"
        app.post(f"/saga/{name}")(call)

    def declined(trip: dict) -> dict:
        STEPS.append("charge_card")
        if trip.get("card") == "declined":
            raise HttpError(402, "PaymentDeclined")
        return {"charged": True}

    endpoint("book_hotel", book_hotel)
    endpoint("book_flight", book_flight)
    endpoint("charge_card", declined)
    endpoint("cancel_flight", lambda trip: cancel_plain(trip, "flight"))
    endpoint("cancel_hotel", lambda trip: cancel_plain(trip, "hotel"))

    workflow(app, "booking", _booking("{}"))
    return app


def cancel_plain(trip: dict, what: str) -> dict:
    STEPS.append(f"cancel_{what}")
    key = "ticket" if what == "flight" else "reservation"
    return {"cancelled": trip[f"{what}_booking"][key]}


@pytest.fixture
def polyfn_app() -> App:
    STEPS.clear()
    AUDIT.clear()
    return _app()


def _check_compensated(result: Any) -> None:
    assert STEPS == ["book_hotel", "book_flight", "charge_card", "cancel_flight", "cancel_hotel"]
    assert (result.status, result.error, result.cause) == (
        "FAILED",
        "TripFailed",
        "The trip could not be booked",
    )


@pytest.mark.polyfn_providers
def test_third_step_fails_and_the_first_two_are_compensated_in_reverse(polyfn: Any) -> None:
    result = polyfn.workflow("booking", TRIP)
    _check_compensated(result)
    polyfn.idle()  # the audit topic's deliveries, through the provider's adapter
    provider = polyfn.provider or "neutral"
    assert sorted((a["seq"], a["action"]) for a in AUDIT) == [
        (4, "cancel_flight"),
        (5, "cancel_hotel"),
    ]
    assert all(a["trip"] == "t-1" for a in AUDIT)
    assert {a["provider"] for a in AUDIT} == {provider if provider != "neutral" else "local"}
    assert [m.json()["action"] for m in polyfn.published("saga-audit")] == [
        "cancel_flight",
        "cancel_hotel",
    ]


@pytest.mark.polyfn_providers
def test_the_saga_succeeds_when_no_step_fails(polyfn: Any) -> None:
    result = polyfn.workflow("booking", {**TRIP, "card": "ok"})
    assert result.status == "SUCCEEDED"
    assert STEPS == ["book_hotel", "book_flight", "charge_card"]
    assert result.output["charge"] == {"charged": True}
    assert result.output["flight_booking"] == {"ticket": "tkt-f-4"}
    assert polyfn.published("saga-audit") == []


def _through_http(polyfn: Any, resource: str) -> Any:
    """A Task resource that POSTs its input to the step's route through the provider's
    adapter; a non-2xx answer fails the Task with the error its JSON body names."""
    name = resource.rsplit(":", 1)[-1]

    def call(data: Any) -> Any:
        response = polyfn.http("POST", f"/saga/{name}", json=data)
        if response.status >= 300:
            body = response.json()
            raise WorkflowError(str(body.get("error")), f"{name} answered {response.status}")
        return response.json()

    return call


@pytest.mark.polyfn_providers
def test_saga_steps_run_through_each_providers_http_adapter(polyfn: Any) -> None:
    definition = _booking("{}")
    names = ["book_hotel", "book_flight", "charge_card", "cancel_flight", "cancel_hotel"]
    extra = {f"polyfn:function:{n}": _through_http(polyfn, f"polyfn:function:{n}") for n in names}
    result = run(definition, TRIP, polyfn.app, extra=extra)
    _check_compensated(result)
    # The failed step's error reached the saga's Catch, which kept it at $.error.
    failed = run(
        Workflow(Task("Charge", function="charge_card"), Succeed("Done")),
        TRIP,
        polyfn.app,
        extra={"polyfn:function:charge_card": _through_http(polyfn, "charge_card")},
    )
    assert (failed.status, failed.error) == ("FAILED", "PaymentDeclined")
    assert failed.cause == "charge_card answered 402"
