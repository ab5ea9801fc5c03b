"""Run the orders sample through the AWS Lambda adapter, end to end, on this machine.

Every step hands the Lambda handler the exact native event AWS would deliver (rendered by
``polyfn.adapters.aws.to_native``) and prints the native answer. Outputs are kept in
memory and fed to the next function, the way SQS, S3 and SNS would chain them.

    python -m samples.orders.demo
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from polyfn import QueueMessage, ScheduleEvent, StorageEvent, TopicMessage
from polyfn.adapters.aws import handler, to_native
from polyfn.events import HttpRequest
from polyfn.outputs import Outputs
from polyfn.outputs.memory import MemoryDriver

from .app import app


def _show(step: str, source: str, answer: object) -> None:
    print(f"\n== {step}  [{source}]")
    print(json.dumps(answer, indent=2, default=str) if answer is not None else "(no result)")


def main() -> int:
    # Handler logs (and the failing record's traceback) show between the steps.
    logging.basicConfig(level=logging.INFO, format="   log %(name)s: %(message)s")
    driver = MemoryDriver()
    lambda_handler = handler(app, outputs=Outputs(driver))  # one Lambda, routed by event

    orders = [
        {"id": "o-1", "items": [{"sku": "apple", "price": 3, "qty": 2}]},
        {"id": "o-2", "items": [{"sku": "pear", "price": 5}]},
        {"id": "o-3", "items": []},
    ]
    for order in orders:
        req = HttpRequest(
            "POST", "/orders", body=json.dumps(order), headers={"content-type": "application/json"}
        )
        _show(
            f"POST /orders {order['id']}",
            "apigateway-v2",
            lambda_handler(to_native(req, source="apigateway-v2"), None),
        )

    get = HttpRequest("GET", "/orders/o-1", query={"verbose": "1"})
    _show(
        "GET /orders/o-1?verbose=1",
        "apigateway-v1",
        lambda_handler(to_native(get, source="apigateway-v1"), None),
    )

    # What create_order queued, plus one order that slipped past validation: SQS delivers
    # them as one batch, and only the bad one comes back in batchItemFailures.
    queued = [
        QueueMessage(f"msg-{i}", s.body, attributes=s.options["attributes"], queue=s.target)
        for i, s in enumerate(driver.sent)
        if s.kind == "send"
    ]
    queued.append(QueueMessage("msg-bad", json.dumps({"id": "o-9", "items": []}), queue="orders"))
    _show(f"SQS batch of {len(queued)}", "sqs", lambda_handler(to_native(queued), None))

    for s in [s for s in driver.sent if s.kind == "put"]:
        bucket, key = s.target.split("/", 1)
        event = StorageEvent(bucket, key, "created", size=len(s.body))
        _show(f"S3 ObjectCreated {key}", "s3", lambda_handler(to_native([event]), None))

    for i, s in enumerate([s for s in driver.sent if s.kind == "publish"]):
        msg = TopicMessage(
            f"sns-{i}",
            s.target,
            s.body,
            subject=s.options["subject"],
            attributes=s.options["attributes"],
        )
        _show(f"SNS {s.target}", "sns", lambda_handler(to_native([msg]), None))

    tick = ScheduleEvent("orders-nightly_report", datetime(2026, 11, 27, 2, 0, tzinfo=UTC))
    _show("EventBridge schedule", "schedule", lambda_handler(to_native(tick), None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
