"""Shared by the test_cli_* modules: run the command line in-process, read its JSON."""

from __future__ import annotations

import json
from typing import Any

from polyfn.cli import main

ORDERS = "samples.orders.app:app"
ORDERS_DIR = "samples/orders"

# One neutral event per kind, every field the kind's providers carry set explicitly.
EVENTS: dict[str, dict[str, Any]] = {
    "http": {
        "method": "POST",
        "path": "/orders",
        "headers": {"content-type": "application/json"},
        "body": {"items": [{"sku": "apple", "price": 3}]},
    },
    "queue": {"id": "m-1", "queue": "orders", "body": "hello", "attributes": {"kind": "order"}},
    "topic": {
        "id": "t-1",
        "topic": "order-events",
        "subject": "order processed",
        "body": "hi",
        "attributes": {"event": "order-processed"},
    },
    "storage": {"bucket": "receipts", "key": "receipts/o-1.json", "kind": "created", "size": 12},
    "schedule": {"schedule": "cron(0 2 * * ? *)", "scheduled_time": "2026-11-27T02:00:00Z"},
    "change": {
        "id": "c-1",
        "source": "shop/users",
        "operation": "modify",
        "keys": {"id": "u1"},
        "old": {"id": "u1", "n": 1},
        "new": {"id": "u1", "n": 2},
    },
    "event": {"id": "e-1", "source": "shop", "type": "order.created", "data": {"id": 1}},
}


def run(capsys: Any, *argv: str) -> tuple[int, str, str]:
    """main(argv): (exit status, stdout, stderr)."""
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def run_json(capsys: Any, *argv: str, status: int = 0) -> Any:
    code, out, err = run(capsys, *argv)
    assert code == status, err
    return json.loads(out)


def shape(value: Any) -> Any:
    """The structure of a JSON value: keys and types, not the values (ids and clocks
    differ between two renderings of one event)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value]
    return type(value).__name__
