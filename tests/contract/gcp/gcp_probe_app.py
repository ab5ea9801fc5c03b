"""A polyfn app whose handlers record what they were handed, served as functions-framework
targets by the Google Cloud contract tests (through a main.py they write)."""

from __future__ import annotations

from typing import Any

from polyfn import App, HttpError
from polyfn.outputs import Outputs
from polyfn.outputs.memory import MemoryDriver

SEEN: list[tuple[str, Any, Any]] = []
DRIVER = MemoryDriver()
OUTPUTS = Outputs(DRIVER)

app = App("gcp-probe")


def _keep(name: str, event: Any, ctx: Any) -> None:
    SEEN.append((name, event, ctx))
    attributes = getattr(event, "attributes", None)
    if isinstance(attributes, dict) and attributes.get("fail") == "yes":
        raise ValueError(f"{name}: asked to fail")


@app.get("/orders/{id}")
def get_order(req, ctx):
    _keep("get_order", req, ctx)
    if req.path_params["id"] == "missing":
        raise HttpError(404, "no such order")
    return {"id": req.path_params["id"], "tags": req.query.get_all("tag")}


@app.http(["POST", "PUT"], "/files/{path+}")
def put_file(req, ctx):
    _keep("put_file", req, ctx)
    from polyfn import HttpResponse

    return HttpResponse(
        req.body, 201, {"content-type": "application/octet-stream"}, cookies=["seen=1; Path=/"]
    )


@app.queue("orders", max_deliveries=5)
def on_order(msg, ctx):
    _keep("on_order", msg, ctx)
    ctx.outputs.send("receipts", msg.body)


@app.queue("batched", batch=True)
def on_batch(msgs, ctx):
    _keep("on_batch", msgs, ctx)
    return [m.id for m in msgs if m.attributes.get("fail") == "yes"]


@app.topic("order-events", filter={"event": ["created", "updated"]})
def on_event(msg, ctx):
    _keep("on_event", msg, ctx)


@app.storage("uploads", events=["created", "deleted"], prefix="in/", suffix=".csv")
def on_upload(event, ctx):
    _keep("on_upload", event, ctx)


@app.change("users/{uid}/orders")
def on_change(event, ctx):
    _keep("on_change", event, ctx)


@app.schedule("rate(15 minutes)")
def every_quarter(event, ctx):
    _keep("every_quarter", event, ctx)


@app.event(type="com.example.order.shipped")
def on_shipped(event, ctx):
    _keep("on_shipped", event, ctx)
    if isinstance(event.data, dict) and event.data.get("fail"):
        raise RuntimeError("shipment failed")


def take() -> list[tuple[str, Any, Any]]:
    """What the handlers saw since the last call."""
    out = list(SEEN)
    SEEN.clear()
    return out
