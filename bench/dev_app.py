"""The app bench/dev_server.py runs on ``polyfn dev``: one HTTP route (the same work as
bench/dev_ff.py's functions-framework function) and one queue function.

``on_message`` is a hook: the bench, running this app in its own process, sets it to
learn the moment the queue handler runs; under ``polyfn dev`` it stays a no-op.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from polyfn import App, Context, HttpRequest, QueueMessage

ITEM = {"name": "widget", "price": 4.5}
QUEUE = "bench-jobs"

app = App("bench-dev")


def _ignore(msg: QueueMessage) -> None:
    return None


on_message: Callable[[QueueMessage], None] = _ignore


@app.get("/items/{id}")
def get_item(req: HttpRequest, ctx: Context) -> dict[str, Any]:
    return {"id": req.path_params["id"], **ITEM}


@app.queue(QUEUE)
def job(msg: QueueMessage, ctx: Context) -> None:
    on_message(msg)
