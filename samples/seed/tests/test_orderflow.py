"""samples/orderflow's workflow, registered on the seed app (its functions as tasks)."""

from __future__ import annotations

from samples.orderflow import app as orderflow

ORDER = {"orderId": "o-1", "items": [{"sku": "widget", "qty": 2, "price": 5}], "card": "ok"}


def test_the_order_ships_and_is_announced(polyfn):
    result = polyfn.workflow("orderflow", ORDER)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output["shipment"] == {"trackingId": "trk-o-1"}
    (event,) = polyfn.published("order-events")
    assert event.json() == {"orderId": "o-1", "status": "shipped", "trackingId": "trk-o-1"}


def test_a_declined_payment_releases_the_reservation(polyfn):
    result = polyfn.workflow("orderflow", {**ORDER, "card": "declined"})
    assert (result.status, result.error) == ("FAILED", "PaymentFailed")
    assert orderflow.STOCK["widget"] == 10  # reserved, then released by the saga
    assert orderflow.SHIPPED == []
    assert polyfn.published("order-events") == []
