"""Stop calling a dependency that keeps failing, and try it again after a cool-down.

``GET /quote/{currency}`` asks an exchange-rate service for a rate through a
``CircuitBreaker`` whose state lives in the app's store ``circuits`` (DynamoDB, Table
storage, Firestore or SQLite), so every instance of the function sees the same breaker:

- closed: calls go through; 3 failures in a row open it (the caller gets 502);
- open: no call is made for 30 s, the caller gets 503 with ``Retry-After`` at once;
- then one trial call (half-open): success closes it, failure opens it again.

``PUT /rates-service`` ``{"up": false}`` breaks the stand-in service, to play with.
"""

from __future__ import annotations

import math

from polyfn import App, Context, HttpError, HttpRequest
from polyfn.patterns import CircuitBreaker, CircuitOpen

app = App("quotes")

rates_breaker = CircuitBreaker(
    "exchange-rates", app.store("circuits"), failure_threshold=3, cool_down=30
)


class RatesUnavailable(Exception):
    pass


class RatesService:
    """Stands in for a remote exchange-rate API that sometimes goes down."""

    RATES = {"EUR": 0.92, "GBP": 0.79, "JPY": 151.2}

    def __init__(self) -> None:
        self.up = True
        self.calls = 0

    def rate(self, currency: str) -> float:
        self.calls += 1
        if not self.up:
            raise RatesUnavailable("exchange-rate service timed out")
        return self.RATES[currency]


RATES = RatesService()


@app.get("/quote/{currency}")
def quote(req: HttpRequest, ctx: Context) -> dict[str, object]:
    currency = req.path_params["currency"].upper()
    if currency not in RatesService.RATES:
        raise HttpError(404, f"no rate for {currency}")
    try:
        rate = rates_breaker.call(RATES.rate, currency)
    except CircuitOpen as e:
        # Fail fast: no call, and tell the client when to come back.
        wait = max(1, math.ceil(e.retry_at - rates_breaker.store.time())) if e.retry_at else 1
        raise HttpError(503, "exchange rates unavailable", {"retry-after": str(wait)}) from e
    except RatesUnavailable as e:
        raise HttpError(502, str(e)) from e
    return {"currency": currency, "rate": rate, "circuit": rates_breaker.state}


@app.put("/rates-service")
def switch_rates_service(req: HttpRequest) -> dict[str, bool]:
    """Demo only: take the stand-in service down or bring it back."""
    RATES.up = bool(req.json()["up"])
    return {"up": RATES.up}
