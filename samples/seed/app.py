"""The seed's system as one polyfn app, written once for AWS, Azure, Google Cloud and
``polyfn dev``.

- users API (HTTP) on the ``users`` store: ``POST /users`` (409 on a duplicate id),
  ``GET /users/{id}``, ``PUT /users/{id}`` (optimistic: the version read, 409 when it
  moved), ``DELETE /users/{id}``; a new user is announced on the ``user-created`` topic;
- ``welcome_user`` (topic): queues one welcome email per user, however often the topic
  delivers the announcement (idempotent on the ``welcomes`` store);
- ``send_email`` (queue ``emails``, batches of 10): a bad address fails alone, is retried
  and after 3 deliveries lands in the provider's dead-letter queue;
- ``make_thumbnail`` (storage ``uploads``, ``images/*.jpg|png``): writes the image's facts
  as JSON into ``thumbnails`` and records them in the ``images`` store;
- ``nightly_report`` (schedule, 02:00 UTC): a report object in ``reports`` with the
  counters of the ``stats`` store;
- the order workflow of samples/orderflow, its functions registered here as tasks.

Every handler logs through ``ctx.logger``; the API and the email worker record metrics.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from polyfn import (
    App,
    Context,
    HttpError,
    HttpRequest,
    HttpResponse,
    QueueMessage,
    ScheduleEvent,
    StorageEvent,
    TopicMessage,
)
from polyfn.patterns import idempotent, outputs_after_success
from polyfn.workflow.local import task, workflow
from samples.orderflow import app as orderflow
from samples.orderflow.workflow import order_workflow

from .images import dimensions

app = App("seed")

USER_CREATED = "user-created"
EMAILS = "emails"
UPLOADS = "uploads"
THUMBNAILS = "thumbnails"
OUTBOX = "outbox"
REPORTS = "reports"

users = app.store("users")
welcomes = app.store("welcomes", ttl=7 * 24 * 3600)  # idempotency records live a week
images = app.store("images")
stats = app.store("stats")  # counters the nightly report reads

TRACES: list[str | None] = []
"""The trace id each email delivery continued (tests read it: one trace, HTTP → email)."""


# -- users API ---------------------------------------------------------------------------


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    email: str = Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    name: str = Field(min_length=1, max_length=200)


class UserEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1, description="the version the client read (GET's version)")
    email: str | None = Field(None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    name: str | None = Field(None, min_length=1, max_length=200)


def _body(req: HttpRequest, model: type[BaseModel]) -> Any:
    try:
        return req.json(model)
    except ValidationError as e:
        # One short line per problem: "email: String should match pattern ...".
        problems = "; ".join(
            f"{'.'.join(map(str, err['loc'])) or 'body'}: {err['msg']}" for err in e.errors()
        )
        raise HttpError(400, problems) from None


def _user(entry: Any) -> dict[str, Any]:
    return {**entry.value, "version": entry.version}


def bump(counter: str, by: int = 1) -> int:
    """Add ``by`` to a counter of the ``stats`` store (compare-and-set, retried on a race
    with another instance); returns the new value."""
    while True:
        entry = stats.get(counter)
        value = (entry.value if entry else 0) + by
        if stats.compare_and_set(counter, value, version=entry.version if entry else None):
            return value


@app.post("/users")
@app.outputs(topics=[USER_CREATED])
def create_user(req: HttpRequest, ctx: Context) -> HttpResponse:
    with ctx.metrics.timing("users_api_latency", operation="create"):
        user = _body(req, NewUser).model_dump()
        if not users.put_if_absent(user["id"], user):
            ctx.metrics.add("users_conflicts", 1, operation="create")
            raise HttpError(409, f"user {user['id']!r} already exists")
        bump("users")
        ctx.outputs.publish(USER_CREATED, user, attributes={"event": "user-created"})
        ctx.metrics.add("users_created", 1)
        ctx.logger.info("user %s created", user["id"])
        return HttpResponse.from_json(
            {**user, "version": 1}, 201, headers={"location": f"/users/{user['id']}"}
        )


@app.get("/users/{id}")
def get_user(req: HttpRequest, ctx: Context) -> dict:
    with ctx.metrics.timing("users_api_latency", operation="get"):
        entry = users.get(req.path_params["id"])
        if entry is None:
            raise HttpError(404, f"no user {req.path_params['id']!r}")
        ctx.logger.info("user %s read (version %d)", req.path_params["id"], entry.version)
        return _user(entry)


@app.put("/users/{id}")
def update_user(req: HttpRequest, ctx: Context) -> dict:
    user_id = req.path_params["id"]
    with ctx.metrics.timing("users_api_latency", operation="update"):
        edit = _body(req, UserEdit)
        entry = users.get(user_id)
        if entry is None:
            raise HttpError(404, f"no user {user_id!r}")
        changes = edit.model_dump(exclude={"version"}, exclude_none=True)
        updated = {**entry.value, **changes}
        # Write only over the version the client read: a concurrent edit wins, this one 409s.
        if not users.compare_and_set(user_id, updated, version=edit.version):
            ctx.metrics.add("users_conflicts", 1, operation="update")
            raise HttpError(409, f"user {user_id!r} changed since version {edit.version}")
        ctx.logger.info("user %s updated to version %d", user_id, edit.version + 1)
        return {**updated, "version": edit.version + 1}


@app.delete("/users/{id}")
def delete_user(req: HttpRequest, ctx: Context) -> HttpResponse:
    user_id = req.path_params["id"]
    with ctx.metrics.timing("users_api_latency", operation="delete"):
        if not users.delete(user_id):
            raise HttpError(404, f"no user {user_id!r}")
        bump("users", -1)
        ctx.logger.info("user %s deleted", user_id)
        return HttpResponse(status=204)


# -- signup: topic → email queue → email worker ----------------------------------------------


@app.topic(USER_CREATED)
@app.outputs(queues=[EMAILS])
@idempotent(welcomes, key=lambda msg: "welcome:" + msg.json()["id"])
@outputs_after_success  # a failed attempt sends nothing; the retry sends it once
def welcome_user(msg: TopicMessage, ctx: Context) -> dict:
    user = msg.json()
    email = {"to": user["email"], "template": "welcome", "user": user["id"]}
    ctx.outputs.send(EMAILS, email)
    ctx.logger.info("welcome email queued for user %s", user["id"])
    return {"queued": user["id"]}


@app.queue(EMAILS, batch_size=10, max_deliveries=3)
@app.requires(partial_batch=True)
@app.outputs(buckets=[OUTBOX])
def send_email(msg: QueueMessage, ctx: Context) -> None:
    trace = ctx.trace
    TRACES.append(trace.trace_id if trace else None)
    email = msg.json()
    with ctx.metrics.timing("email_send_latency", template=email.get("template", "none")):
        to = email.get("to", "")
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", to):
            ctx.metrics.add("emails_failed", 1)
            # Raising fails this message alone; the queue redelivers it, then dead-letters it.
            raise ValueError(f"cannot deliver to {to!r} (delivery {msg.delivery_count})")
        # "Sending" is writing the rendered mail into the outbox bucket.
        ctx.outputs.put(OUTBOX, f"sent/{msg.id}.json", email, content_type="application/json")
    bump("emails")
    ctx.metrics.add("emails_sent", 1, template=email.get("template", "none"))
    ctx.logger.info("email %s sent to %s", email.get("template"), to)


# -- uploads → thumbnails ---------------------------------------------------------------------


@app.storage(UPLOADS, events=["created"], prefix="images/", suffix=".jpg")
@app.storage(UPLOADS, events=["created"], prefix="images/", suffix=".png")
@app.outputs(buckets=[THUMBNAILS])
def make_thumbnail(event: StorageEvent, ctx: Context) -> dict:
    data = ctx.outputs.get(event.bucket, event.key)
    facts = dimensions(data)
    if facts is None:
        ctx.logger.warning("%s/%s is not a PNG or JPEG; skipped", event.bucket, event.key)
        return {"skipped": event.key}
    kind, width, height = facts
    scale = min(1.0, 128 / max(width, height, 1))  # what a 128 px thumbnail would measure
    thumb = {
        "source": f"{event.bucket}/{event.key}",
        "format": kind,
        "width": width,
        "height": height,
        "thumbnail": {"width": round(width * scale), "height": round(height * scale)},
        "bytes": len(data),
    }
    key = event.key.removeprefix("images/").rsplit(".", 1)[0] + ".json"
    ctx.outputs.put(THUMBNAILS, key, thumb, content_type="application/json")
    if images.put_if_absent(event.key, thumb):  # a redelivered event counts once
        bump("thumbnails")
    ctx.logger.info("thumbnail of %s: %dx%d %s", event.key, width, height, kind)
    return {"thumbnail": f"{THUMBNAILS}/{key}"}


# -- the nightly report -----------------------------------------------------------------------


@app.schedule("cron(0 2 * * ? *)")
@app.outputs(buckets=[REPORTS])
def nightly_report(event: ScheduleEvent, ctx: Context) -> dict:
    day = event.scheduled_time.date().isoformat()
    counts = {}
    for name in ("users", "emails", "thumbnails"):
        entry = stats.get(name)
        counts[name] = entry.value if entry else 0
        ctx.metrics.gauge(f"total_{name}", counts[name], "Count")
    report = {"day": day, "counts": counts}
    ctx.outputs.put(REPORTS, f"reports/{day}.json", report, content_type="application/json")
    ctx.logger.info("nightly report %s: %s", day, counts)
    return report


# -- the order workflow (samples/orderflow's functions, registered on this app) ---------------

for _fn in (
    orderflow.validate_order,
    orderflow.check_inventory,
    orderflow.reserve_inventory,
    orderflow.release_inventory,
    orderflow.charge_payment,
    orderflow.ship_order,
    orderflow.notify_customer,
):
    task(app)(_fn)

workflow(app, "orderflow", order_workflow())
