"""The breaker opens after 3 failures, refuses without calling, half-opens after the
30 s cool-down on the virtual clock, and closes after a successful trial.

Pattern: https://learn.microsoft.com/en-us/azure/architecture/patterns/circuit-breaker;
``Retry-After`` on 503: https://www.rfc-editor.org/rfc/rfc9110#name-retry-after.
"""

from __future__ import annotations

from typing import Any

import pytest

from polyfn import App
from samples.patterns.circuit_breaker import app as sample


@pytest.fixture
def polyfn_app() -> App:
    sample.RATES.up, sample.RATES.calls = True, 0
    return sample.app


def statuses(polyfn: Any, n: int) -> list[int]:
    return [polyfn.http("GET", "/quote/eur").status for _ in range(n)]


@pytest.mark.polyfn_providers
def test_opens_after_three_failures_and_closes_after_the_cool_down(polyfn: Any) -> None:
    assert polyfn.http("GET", "/quote/eur").json()["rate"] == 0.92
    polyfn.http("PUT", "/rates-service", json={"up": False})

    assert statuses(polyfn, 3) == [502, 502, 502]  # each one called the service
    assert sample.rates_breaker.state == "open"
    refused = polyfn.http("GET", "/quote/eur")
    assert refused.status == 503 and refused.headers["retry-after"] == "30"
    assert sample.RATES.calls == 4  # the refused request never reached the service

    polyfn.http("PUT", "/rates-service", json={"up": True})
    polyfn.advance("29s")
    assert statuses(polyfn, 1) == [503]  # still cooling down
    polyfn.advance("1s")
    assert sample.rates_breaker.state == "half-open"

    answer = polyfn.http("GET", "/quote/eur")  # the trial call
    assert answer.status == 200 and answer.json()["circuit"] == "closed"
    assert sample.RATES.calls == 5


@pytest.mark.polyfn_providers
def test_a_failed_trial_opens_it_again(polyfn: Any) -> None:
    polyfn.http("PUT", "/rates-service", json={"up": False})
    assert statuses(polyfn, 4) == [502, 502, 502, 503]
    polyfn.advance("30s")
    assert statuses(polyfn, 2) == [502, 503]  # the trial failed: open for another 30 s
    assert sample.RATES.calls == 4
    polyfn.advance("30s")
    polyfn.http("PUT", "/rates-service", json={"up": True})
    assert statuses(polyfn, 2) == [200, 200]
