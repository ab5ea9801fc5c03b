"""An order service written once against polyfn's neutral events.

- ``POST /orders`` accepts an order and queues it;            (HTTP)
- ``GET /orders/{id}`` answers with what the caller asked for;  (HTTP, path parameters)
- ``process_order`` takes orders off the queue, one at a time; an order without items
  fails alone and is redelivered (then dead-lettered) while the rest of the batch goes on;
  each processed order is stored as a receipt and announced on a topic;   (queue)
- ``notify`` receives the announcements;                        (topic)
- ``index_receipt`` runs when a receipt lands in the bucket;    (storage)
- ``nightly_report`` runs every night.                          (schedule)
"""

from __future__ import annotations

import uuid

from polyfn import (
    App,
    Context,
    HttpError,
    HttpRequest,
    QueueMessage,
    ScheduleEvent,
    StorageEvent,
    TopicMessage,
)

app = App("orders")

ORDERS_QUEUE = "orders"
RECEIPTS_BUCKET = "receipts"
EVENTS_TOPIC = "order-events"


@app.post("/orders")
@app.outputs(queues=[ORDERS_QUEUE])
def create_order(req: HttpRequest, ctx: Context) -> dict:
    order = req.json()
    if not isinstance(order, dict) or not order.get("items"):
        raise HttpError(400, "an order needs items")
    order_id = order.get("id") or str(uuid.uuid4())
    order["id"] = order_id
    message_id = ctx.outputs.send(ORDERS_QUEUE, order, attributes={"kind": "order"})
    return {"id": order_id, "queued_as": message_id}


@app.get("/orders/{id}")
def get_order(req: HttpRequest, ctx: Context) -> dict:
    return {"id": req.path_params["id"], "verbose": req.query.get("verbose") == "1"}


@app.queue(ORDERS_QUEUE, batch_size=10, max_deliveries=3)
@app.outputs(buckets=[RECEIPTS_BUCKET], topics=[EVENTS_TOPIC])
def process_order(msg: QueueMessage, ctx: Context) -> None:
    order = msg.json()
    if not order.get("items"):
        # Raising fails this message alone: the provider redelivers just it.
        raise ValueError(f"order {order.get('id')!r} has no items")
    total = sum(item.get("price", 0) * item.get("qty", 1) for item in order["items"])
    receipt = {"order": order["id"], "total": total, "message": msg.id}
    ctx.outputs.put(
        RECEIPTS_BUCKET, f"receipts/{order['id']}.json", receipt, content_type="application/json"
    )
    ctx.outputs.publish(
        EVENTS_TOPIC, receipt, attributes={"event": "order-processed"}, subject="order processed"
    )


@app.topic(EVENTS_TOPIC, filter={"event": "order-processed"})
def notify(msg: TopicMessage, ctx: Context) -> None:
    ctx.logger.info("order processed: %s", msg.json())


@app.storage(RECEIPTS_BUCKET, events=["created"], prefix="receipts/", suffix=".json")
def index_receipt(event: StorageEvent, ctx: Context) -> dict:
    return {"indexed": event.key, "size": event.size}


@app.schedule("cron(0 2 * * ? *)")
def nightly_report(event: ScheduleEvent, ctx: Context) -> dict:
    return {"report_for": event.scheduled_time.date().isoformat()}
