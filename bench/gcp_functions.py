"""The functions bench/gcp_event.py serves with functions-framework: a ``main.py`` as a
user writes it, loaded by ``functions_framework.create_app(target, this file)``.

Two plain functions-framework functions (the peers: the framework alone) and the same two
functions written once with polyfn and turned into targets by ``targets(app)``. Every
function stores what it read in ``SEEN`` so that the bench can check it before timing
(the framework loads this file anew for each app: the bench reads ``SEEN`` of the module
instance it got).
"""

from __future__ import annotations

import base64
from typing import Any

import functions_framework

from polyfn import App, Context, HttpRequest, QueueMessage
from polyfn.adapters.gcp import targets

ITEM = {"name": "widget", "price": 4.5}
SEEN: dict[str, Any] = {}


# -- functions-framework alone -------------------------------------------------------------
@functions_framework.cloud_event
def plain_pubsub(event: Any) -> None:
    message = event.data["message"]
    SEEN["id"], SEEN["body"] = message["messageId"], base64.b64decode(message["data"])


@functions_framework.http
def plain_http(request: Any) -> dict[str, Any]:
    # A Google HTTP function gets every path under its URL: the id is the last segment.
    return {"id": request.path.rsplit("/", 1)[-1], **ITEM}


# -- the same with polyfn ------------------------------------------------------------------
app = App("bench")


@app.queue("my-topic")
def read(msg: QueueMessage, ctx: Context) -> None:
    SEEN["id"], SEEN["body"] = msg.id, msg.body


@app.get("/items/{id}")
def get_item(req: HttpRequest, ctx: Context) -> dict[str, Any]:
    return {"id": req.path_params["id"], **ITEM}


globals().update(targets(app))
