"""Run the orders sample through a cloud adapter, end to end, on this machine.

    python -m samples.orders.demo          # as AWS Lambda functions
    python -m samples.orders.demo azure    # as an Azure function app (needs polyfn[azure])

Every step hands the function the exact native payload that cloud would deliver (AWS:
the Lambda event rendered by ``polyfn.adapters.aws.to_native``; Azure: the host's payload,
decoded by azure-functions' own converter) and prints the native answer. Outputs are kept
in memory and fed to the next function, the way the queue, bucket and topic would chain
them.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from polyfn import QueueMessage, ScheduleEvent, StorageEvent, TopicMessage
from polyfn.events import HttpRequest, NeutralEvent
from polyfn.outputs import Outputs
from polyfn.outputs.memory import MemoryDriver

from .app import app


class OnAws:
    """One Lambda for the whole app: each event is routed to its function."""

    name = "AWS Lambda"

    def __init__(self, outputs: Outputs) -> None:
        from polyfn.adapters.aws import handler, to_native

        self._handler = handler(app, outputs=outputs)
        self._to_native = to_native

    def run(self, function: str, event: Any, source: str | None = None) -> tuple[str, Any]:
        native = self._to_native(event, source=source)
        first = event[0] if isinstance(event, list) else event
        label = source or first.KIND
        return f"aws:{label}", self._handler(native, None)


class OnAzure:
    """The function app the worker would index; each function invoked as the host would."""

    name = "Azure Functions"

    def __init__(self, outputs: Outputs) -> None:
        from polyfn.adapters.azure import function_app
        from polyfn.adapters.azure.worker import Worker

        # Output bindings are delivered to the same memory, as the host would deliver them.
        self._worker = Worker(function_app(app, outputs=outputs), deliver=outputs.driver)

    def run(self, function: str, event: Any, source: str | None = None) -> tuple[str, Any]:
        trigger = self._worker.function(function).trigger["type"]
        answer = self._worker.invoke(function, event)
        if answer is not None and hasattr(answer, "status_code"):  # func.HttpResponse
            answer = {"status": answer.status_code, "body": answer.get_body().decode()}
        return f"azure:{trigger}", answer


def _show(step: str, where: str, answer: object) -> None:
    print(f"\n== {step}  [{where}]")
    print(json.dumps(answer, indent=2, default=str) if answer is not None else "(no result)")


def _step(cloud: Any, step: str, function: str, event: Any, source: str | None = None) -> None:
    try:
        where, answer = cloud.run(function, event, source)
    except Exception as e:  # a failed invocation: the cloud retries it
        where, answer = cloud.name, {"invocation failed": str(e)}
    _show(step, where, answer)


def main(argv: list[str]) -> int:
    # Handler logs (and a failing record's traceback) show between the steps.
    logging.basicConfig(level=logging.INFO, format="   log %(name)s: %(message)s")
    driver = MemoryDriver()
    cloud = (OnAzure if argv[:1] == ["azure"] else OnAws)(Outputs(driver))
    print(f"orders sample on {cloud.name}")

    for order in (
        {"id": "o-1", "items": [{"sku": "apple", "price": 3, "qty": 2}]},
        {"id": "o-2", "items": [{"sku": "pear", "price": 5}]},
        {"id": "o-3", "items": []},
    ):
        req = HttpRequest(
            "POST", "/orders", body=json.dumps(order), headers={"content-type": "application/json"}
        )
        _step(cloud, f"POST /orders {order['id']}", "create_order", req, "apigateway-v2")
    get = HttpRequest("GET", "/orders/o-1", query={"verbose": "1"})
    _step(cloud, "GET /orders/o-1?verbose=1", "get_order", get, "apigateway-v1")

    # What create_order queued, plus one order that slipped past validation. SQS delivers
    # them as one batch and only the bad one comes back in batchItemFailures; Azure queues
    # deliver one message per invocation and retry the failing one.
    queued: list[NeutralEvent] = [
        QueueMessage(f"msg-{i}", s.body, attributes=s.options["attributes"], queue=s.target)
        for i, s in enumerate(driver.sent)
        if s.kind == "send"
    ]
    queued.append(QueueMessage("msg-bad", json.dumps({"id": "o-9", "items": []}), queue="orders"))
    if isinstance(cloud, OnAws):
        _step(cloud, f"queue batch of {len(queued)}", "process_order", queued)
    else:
        for msg in queued:
            _step(cloud, f"queue message {msg.id}", "process_order", msg)  # type: ignore[attr-defined]

    for s in [s for s in driver.sent if s.kind == "put"]:
        bucket, key = s.target.split("/", 1)
        event = StorageEvent(bucket, key, "created", size=len(s.body))
        _step(cloud, f"object created {key}", "index_receipt", event)
    for i, s in enumerate([s for s in driver.sent if s.kind == "publish"]):
        msg = TopicMessage(
            f"msg-{i}",
            s.target,
            s.body,
            subject=s.options["subject"],
            attributes=s.options["attributes"],
        )
        _step(cloud, f"topic {s.target}", "notify", msg)

    tick = ScheduleEvent("orders-nightly_report", datetime(2026, 11, 27, 2, 0, tzinfo=UTC))
    _step(cloud, "nightly schedule", "nightly_report", tick)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
