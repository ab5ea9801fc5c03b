"""The trip saga: when renting the car fails, the hotel and then the flight are
cancelled (newest first), and nothing stays held.

Saga semantics follow Step Functions' Catch (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html):
a Task error is caught, its details stored at ``ResultPath``, and the compensation chain
runs. The ``trip-updates`` deliveries go through each provider's adapter.
"""

from __future__ import annotations

from typing import Any

import pytest

from polyfn import App
from samples.patterns.saga import app as sample

TRIP = {"trip_id": "t-42", "city": "Lisbon"}


@pytest.fixture
def polyfn_app() -> App:
    return sample.app


def held(trip_id: str) -> list[str]:
    return [k for k in ("flight", "hotel", "car") if sample.HOLDS.get(f"{k}-{trip_id}")]


@pytest.mark.polyfn_providers
def test_a_failed_step_cancels_the_earlier_ones_in_reverse(polyfn: Any) -> None:
    result = polyfn.workflow("trip", {**TRIP, "car": "sold-out"})

    assert (result.status, result.error) == ("FAILED", "TripNotBooked")
    cancelled = [m.json()["cancelled"] for m in polyfn.published("trip-updates")]
    assert cancelled == ["hotel-t-42", "flight-t-42"]  # newest first
    assert held("t-42") == []
    polyfn.idle()
    notified = [i for report in polyfn.deliveries_of("notify_traveller") for i in report.ids]
    assert len(notified) == 2


@pytest.mark.polyfn_providers
def test_a_trip_with_every_step_booked_holds_all_three(polyfn: Any) -> None:
    result = polyfn.workflow("trip", TRIP)

    assert result.status == "SUCCEEDED"
    assert result.output["car"] == {"ref": "car-t-42"}
    assert held("t-42") == ["flight", "hotel", "car"]
    assert polyfn.published("trip-updates") == []
