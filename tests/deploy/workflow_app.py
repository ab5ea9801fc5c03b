"""A test app whose workflows use every kind of Task resource polyfn deploys: functions
(one named with a ``-``, which Serverless spells ``Dash`` in its logical ids), a Map
over a function, a send to a queue and a publish to a topic; two workflows share a
function. One HTTP function has a trigger and is no task."""

from __future__ import annotations

from polyfn import App, Context
from polyfn.workflow.builder import Map, Retry, Succeed, Task, Workflow
from polyfn.workflow.local import task, workflow

app = App("flows")


class OutOfStock(Exception):
    pass


@app.post("/orders")
def take_order(req, ctx: Context) -> dict:
    return {"ok": True}


@task(app, name="pack-items")
def pack_items(order: dict) -> dict:
    return {**order, "packed": True}


@task(app)
def price_item(item: dict, ctx: Context) -> dict:
    if item.get("sku") == "gone":
        raise OutOfStock(f"{item['sku']} is out of stock")
    ctx.outputs.publish("prices", {"sku": item["sku"]})
    return {"sku": item["sku"], "price": 3}


def fulfil() -> Workflow:
    return Workflow(
        Task("Pack", function="pack-items", retry=[Retry("OutOfStock", max_attempts=2)]),
        Map(
            "Price",
            Workflow(Task("PriceItem", function="price_item")),
            items_path="$.items",
            result_path="$.prices",
        ),
        Task("Ship", send="shipments", result_path="$.shipment"),
        Task("Announce", publish="order-events", result_path="$.announced"),
        Succeed("Done"),
    )


def refund() -> Workflow:
    return Workflow(Task("Reprice", function="price_item", end=True))


workflow(app, "fulfil", fulfil())
workflow(app, "refund", refund())


# The same functions with the workflow Durable Functions can run (function Tasks only).
durable_app = App("durable-flows")
durable_app.post("/orders")(take_order)
task(durable_app, name="pack-items")(pack_items)
task(durable_app)(price_item)


def pack_and_price() -> Workflow:
    return Workflow(*fulfil().states[:2], Succeed("Done"))


workflow(durable_app, "fulfil", pack_and_price())
workflow(durable_app, "refund", refund())
