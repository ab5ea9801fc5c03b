"""Announce a shipment only once it has really happened.

``ship`` publishes "label printed" and then prints the label; the printer jams now and
then. Without help, a jam after the publish has already announced a shipment that did not
happen, and the queue's retry announces it a second time. ``@outputs_after_success``
holds what the handler sends until it returns: a failed attempt sends nothing, the
successful retry sends once.

``ship_unguarded`` is the same handler without the decorator, for contrast.
"""

from __future__ import annotations

from polyfn import App, Context, QueueMessage, TopicMessage
from polyfn.patterns import outputs_after_success

app = App("shipping")


class LabelPrinter:
    """Stands in for a device that fails now and then."""

    def __init__(self, jams: int = 0) -> None:
        self.jams = jams  # how many of the next prints fail
        self.printed: list[str] = []

    def print_label(self, order_id: str) -> str:
        if self.jams > 0:
            self.jams -= 1
            raise OSError("label printer jammed")
        self.printed.append(order_id)
        return f"label-{order_id}"


PRINTER = LabelPrinter(jams=1)  # the first label of the day jams


def _ship(msg: QueueMessage, ctx: Context) -> None:
    order = msg.json()
    ctx.outputs.publish("shipments", {"order_id": order["id"], "status": "label-printed"})
    PRINTER.print_label(order["id"])  # fails after the publish: the point of the sample


@app.queue("to-ship", max_deliveries=3)
@app.outputs(topics=["shipments"])
@outputs_after_success
def ship(msg: QueueMessage, ctx: Context) -> None:
    _ship(msg, ctx)


@app.queue("to-ship-unguarded", max_deliveries=3)
@app.outputs(topics=["shipments"])
def ship_unguarded(msg: QueueMessage, ctx: Context) -> None:
    _ship(msg, ctx)


@app.topic("shipments")
def tell_customer(msg: TopicMessage, ctx: Context) -> None:
    ctx.logger.info("telling the customer: %s", msg.json())
