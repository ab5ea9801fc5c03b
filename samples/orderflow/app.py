"""The order workflow's functions: plain polyfn handlers that take and return JSON.

Stock and the payment gateway are in memory so the sample runs anywhere: an order's
``card`` says how the gateway behaves (``"ok"``; ``"declined"``; ``"flaky-N"``: times out
on the first N attempts, then charges).

The app carries its workflow, "orderflow" (see workflow.py): ``polyfn dev samples/orderflow``
runs it on ``POST /_polyfn/workflows/orderflow``.
"""

from __future__ import annotations

from typing import Any

from polyfn import App, Context
from polyfn.workflow.local import task, workflow

app = App("orderflow")

ORDER_EVENTS = "order-events"
STOCK: dict[str, int] = {}
ATTEMPTS: dict[str, int] = {}
SHIPPED: list[str] = []


def reset(stock: dict[str, int] | None = None) -> None:
    STOCK.clear()
    STOCK.update(stock if stock is not None else {"widget": 10, "gadget": 2})
    ATTEMPTS.clear()
    SHIPPED.clear()


reset()


class InvalidOrder(Exception):
    pass


class PaymentGatewayTimeout(Exception):
    pass


class PaymentDeclined(Exception):
    pass


@task(app)
def validate_order(order: dict) -> dict:
    items = order.get("items") or []
    if not order.get("orderId") or not items:
        raise InvalidOrder("an order needs an orderId and items")
    if any(i.get("qty", 0) <= 0 for i in items):
        raise InvalidOrder("quantities must be positive")
    return {**order, "total": sum(i["qty"] * i.get("price", 0) for i in items)}


@task(app)
def check_inventory(order: dict) -> dict:
    return {"inStock": all(STOCK.get(i["sku"], 0) >= i["qty"] for i in order["items"])}


@task(app)
def reserve_inventory(order: dict) -> dict:
    for i in order["items"]:
        STOCK[i["sku"]] -= i["qty"]
    return {"reservationId": f"res-{order['orderId']}"}


@task(app)
def release_inventory(order: dict) -> dict:
    for i in order["items"]:
        STOCK[i["sku"]] += i["qty"]
    return {"released": order["reservation"]["reservationId"]}


@task(app)
def charge_payment(order: dict) -> dict:
    card = order.get("card", "ok")
    n = ATTEMPTS[order["orderId"]] = ATTEMPTS.get(order["orderId"], 0) + 1
    if card == "declined":
        raise PaymentDeclined(f"card declined for order {order['orderId']}")
    if card.startswith("flaky-") and n <= int(card.split("-")[1]):
        raise PaymentGatewayTimeout(f"gateway timed out (attempt {n})")
    return {"chargeId": f"ch-{order['orderId']}", "amount": order["total"], "attempts": n}


@task(app)
def ship_order(order: dict) -> dict:
    SHIPPED.append(order["orderId"])
    return {"trackingId": f"trk-{order['orderId']}"}


@task(app)
@app.outputs(topics=[ORDER_EVENTS])  # deployment grants the publish and names the topic
def notify_customer(order: dict, ctx: Context) -> Any:
    message = {
        "orderId": order["orderId"],
        "status": "shipped",
        "trackingId": order["shipment"]["trackingId"],
    }
    return {"messageId": ctx.outputs.publish(ORDER_EVENTS, message)}


from .workflow import order_workflow  # noqa: E402  (the workflow names the functions above)

workflow(app, "orderflow", order_workflow())
