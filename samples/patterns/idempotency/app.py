"""Take each payment once, however often its message arrives.

Queues deliver at least once (and producers retry), so ``take_payment`` may see the same
payment twice. ``@idempotent`` records each payment, keyed by its order id, in the app's
store ``payments-processed``: a duplicate returns the stored answer without charging
again. ``@outputs_after_success`` holds the ``payment-events`` message until the handler
returns, and it carries ``polyfn-idempotency-key`` (``payment:<order>#1``, the same on
every attempt) so its consumers can drop copies too.
"""

from __future__ import annotations

from typing import Any

from polyfn import App, Context, QueueMessage, TopicMessage
from polyfn.outputs import IDEMPOTENCY_KEY
from polyfn.patterns import idempotent, outputs_after_success

app = App("payments")

# Where "already taken" is remembered: DynamoDB on AWS, Table storage on Azure, Firestore
# on Google Cloud, SQLite under polyfn dev (see polyfn.patterns.backends).
PROCESSED = app.store("payments-processed", ttl=7 * 86400)

CHARGES: list[dict[str, Any]] = []  # stands in for the payment provider's API


def charge(order_id: str, amount: float) -> str:
    """The side effect that must not happen twice."""
    CHARGES.append({"order_id": order_id, "amount": amount})
    return f"ch-{len(CHARGES)}"


def payment_key(msg: QueueMessage) -> str:
    # The business key, not the message id: a producer's retry is a new message.
    return f"payment:{msg.json()['order_id']}"


@app.queue("payments", max_deliveries=5)
@app.outputs(topics=["payment-events"])
@idempotent(PROCESSED, key=payment_key)
@outputs_after_success
def take_payment(msg: QueueMessage, ctx: Context) -> dict[str, str]:
    payment = msg.json()
    charge_id = charge(payment["order_id"], payment["amount"])
    ctx.logger.info("charged %s %.2f as %s", payment["order_id"], payment["amount"], charge_id)
    ctx.outputs.publish(
        "payment-events",
        {"order_id": payment["order_id"], "charge": charge_id},
        attributes={"event": "payment-taken"},
    )
    return {"charge": charge_id}  # stored: what a duplicate gets back


@app.topic("payment-events")
def record_payment_event(msg: TopicMessage, ctx: Context) -> None:
    # A consumer can drop copies by this key (with its own @idempotent, say).
    ctx.logger.info("payment event %s, key %s", msg.json(), msg.attributes[IDEMPOTENCY_KEY])
