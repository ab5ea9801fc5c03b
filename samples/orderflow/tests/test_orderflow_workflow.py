"""The order workflow through the ``polyfn`` fixture: ``polyfn.workflow(name, input)``."""

from __future__ import annotations

ORDER = {"orderId": "o-1", "items": [{"sku": "widget", "qty": 2, "price": 5}], "card": "ok"}


def test_the_order_workflow_ships_and_notifies(polyfn):
    result = polyfn.workflow("orderflow", ORDER)
    assert result.status == "SUCCEEDED"
    assert result.output["shipment"] == {"trackingId": "trk-o-1"}
    [event] = polyfn.published("order-events")
    assert event.json() == {"orderId": "o-1", "status": "shipped", "trackingId": "trk-o-1"}


def test_payment_timeouts_move_the_virtual_clock(polyfn):
    start = polyfn.now
    result = polyfn.workflow("orderflow", {**ORDER, "card": "flaky-2"})
    assert result.status == "SUCCEEDED"
    assert result.output["payment"]["attempts"] == 3
    assert (polyfn.now - start).total_seconds() == 1 + 2


def test_out_of_stock_fails(polyfn):
    items = [{"sku": "gadget", "qty": 5, "price": 1}]
    result = polyfn.workflow("orderflow", {**ORDER, "items": items})
    assert (result.status, result.error) == ("FAILED", "OutOfStock")
