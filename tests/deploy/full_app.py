"""A test app with every trigger kind, every output kind and two stores: what the
deployment descriptors must cover (samples/orders has only some)."""

from __future__ import annotations

from types import SimpleNamespace

from polyfn import App

app = App("full")
if hasattr(app, "store"):
    app.store("idempotency", ttl=3600)
    app.store("circuit.state")
else:  # before App.store: the descriptors read only app.stores' names
    app.stores = {  # type: ignore[attr-defined]
        "idempotency": SimpleNamespace(name="idempotency", ttl=3600),
        "circuit.state": SimpleNamespace(name="circuit.state", ttl=None),
    }


@app.http("GET", "/files/{path+}")
@app.http("ANY", "/any")
def files(req):
    return {}


@app.queue("jobs", batch_size=50, max_deliveries=4, visibility_timeout=60)
@app.outputs(queues=["audit"], topics=["done"], buckets=["reports"], buses=["default"])
def work(msg, ctx):
    return None


@app.queue("ordered.fifo", fifo=True, batch_size=10)
def ordered(msg):
    return None


@app.topic("done", filter={"kind": ["a", "b"], "level": 1})
def on_done(msg):
    return None


@app.storage("uploads", events=["created", "deleted"], prefix="in/", suffix=".csv")
def on_upload(event):
    return None


@app.schedule("rate(5 minutes)")
def every_five(event):
    return None


@app.schedule("0 9 * * 1-5", timezone="Europe/Paris")
def weekday_morning(event):
    return None


@app.change("customers", batch_size=25, start="oldest")
def on_customer(change):
    return None


@app.stream("clicks", batch_size=200)
def on_click(msg):
    return None


@app.event(source="shop.orders", type="OrderPlaced")
@app.outputs(buses=["partner-bus"])
def on_order_event(event):
    return None


@app.event(type="PartnerEvent", bus="partner-bus")
def on_partner_event(event):
    return None
