"""Book a trip as a saga: flight, then hotel, then car; when a step fails, undo the steps
that succeeded, newest first.

Each booking holds inventory, kept in the app's store ``holds``. The workflow ``trip``
(Amazon States Language, built with ``polyfn.workflow.patterns.saga``) runs the steps;
a failure is caught and the compensations run: cancel the hotel, then the flight. Each
compensation publishes a ``trip-updates`` message that ``notify_traveller`` receives.
Run it with ``POST /_polyfn/workflows/trip`` under ``polyfn dev``; it compiles to Step
Functions, Durable Functions and Cloud Workflows (see the README).
"""

from __future__ import annotations

from polyfn import App, Context, TopicMessage
from polyfn.workflow.builder import Fail, Succeed, Task, Workflow
from polyfn.workflow.local import task, workflow
from polyfn.workflow.patterns import saga

app = App("trips")
HOLDS = app.store("holds")


class NoCarsLeft(Exception):
    pass


def hold(kind: str, trip: dict) -> dict:
    ref = f"{kind}-{trip['trip_id']}"
    HOLDS.put_if_absent(ref, {"trip": trip["trip_id"], "kind": kind})
    return {"ref": ref}


def release(kind: str, trip: dict, ctx: Context) -> dict:
    ref = trip[kind]["ref"]  # what the booking step returned
    HOLDS.delete(ref)
    ctx.outputs.publish("trip-updates", {"trip": trip["trip_id"], "cancelled": ref})
    return {"cancelled": ref}


@task(app)
def book_flight(trip: dict) -> dict:
    return hold("flight", trip)


@task(app)
def book_hotel(trip: dict) -> dict:
    return hold("hotel", trip)


@task(app)
def rent_car(trip: dict) -> dict:
    if trip.get("car") == "sold-out":
        raise NoCarsLeft(f"no cars left in {trip['city']}")
    return hold("car", trip)


@app.outputs(topics=["trip-updates"])  # above @task: it applies to the task
@task(app)
def cancel_flight(trip: dict, ctx: Context) -> dict:
    return release("flight", trip, ctx)


@app.outputs(topics=["trip-updates"])
@task(app)
def cancel_hotel(trip: dict, ctx: Context) -> dict:
    return release("hotel", trip, ctx)


@app.topic("trip-updates")
def notify_traveller(msg: TopicMessage, ctx: Context) -> None:
    ctx.logger.info("trip %(trip)s: cancelled %(cancelled)s", msg.json())


def step(name: str, function: str, result: str) -> Task:
    return Task(name, function=function, result_path=f"$.{result}")


trip_saga = Workflow(
    *saga(
        [  # (action, its compensation); the last step needs none
            (
                step("BookFlight", "book_flight", "flight"),
                step("CancelFlight", "cancel_flight", "flight_cancelled"),
            ),
            (
                step("BookHotel", "book_hotel", "hotel"),
                step("CancelHotel", "cancel_hotel", "hotel_cancelled"),
            ),
            (step("RentCar", "rent_car", "car"), None),
        ],
        fail=Fail(
            "TripNotBooked",
            error="TripNotBooked",
            cause="a booking failed; the others were cancelled",
        ),
        next="TripBooked",
    ),
    Succeed("TripBooked"),
    comment="book flight, hotel and car, or none of them",
)
workflow(app, "trip", trip_saga)
