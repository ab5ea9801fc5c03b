"""An app with every trigger kind Azure runs (the deploy tests index its Azure folder)."""

from __future__ import annotations

from typing import Any

from polyfn import App

app = App("every")


@app.get("/items/{id}")
def http_fn(req: Any) -> dict[str, str]:
    return {"id": req.path_params["id"]}


@app.queue("jobs")
def queue_fn(msg: Any) -> None: ...


@app.queue("ordered", fifo=True)
def fifo_fn(msg: Any) -> None: ...


@app.topic("news")
def topic_fn(msg: Any) -> None: ...


@app.storage("uploads", events=["created"])
def blob_fn(event: Any) -> None: ...


@app.storage("uploads", events=["deleted"], name="deleted_fn")
def deleted_fn(event: Any) -> None: ...


@app.schedule("cron(0 2 * * ? *)")
def timer_fn(event: Any) -> None: ...


@app.change("shop/customers")
def change_fn(event: Any) -> None: ...


@app.stream("clicks")
def stream_fn(msg: Any) -> None: ...


@app.event(source="shop.orders", type="OrderPlaced")
def event_fn(event: Any) -> None: ...
