"""A trigger as a person reads it: ``POST /orders``, ``queue orders (batch 10)``."""

from __future__ import annotations

import json

from polyfn.app import Function
from polyfn.triggers import (
    ChangeTrigger,
    EventTrigger,
    HttpTrigger,
    QueueTrigger,
    ScheduleTrigger,
    StorageTrigger,
    StreamTrigger,
    TopicTrigger,
    Trigger,
)


def describe(t: Trigger, fn: Function | None = None) -> str:
    batch = " batch=True" if fn is not None and fn.batch else ""
    if isinstance(t, HttpTrigger):
        auth = "" if t.auth == "anonymous" else f" (auth {t.auth})"
        return f"http {','.join(t.methods)} {t.route}{auth}"
    if isinstance(t, QueueTrigger):
        extra = [f"batch {t.batch_size}"]
        if t.fifo:
            extra.insert(0, "FIFO")
        if t.max_deliveries is not None:
            extra.append(f"max {t.max_deliveries} deliveries")
        if t.visibility_timeout is not None:
            extra.append(f"visibility {t.visibility_timeout}s")
        return f"queue {t.name} ({', '.join(extra)}){batch}"
    if isinstance(t, StreamTrigger):
        return f"stream {t.name} (batch {t.batch_size}, from {t.start}){batch}"
    if isinstance(t, TopicTrigger):
        shown = f" filter {json.dumps(t.filter)}" if t.filter else ""
        return f"topic {t.name}{shown}{batch}"
    if isinstance(t, StorageTrigger):
        pattern = f"{t.prefix or ''}*{t.suffix or ''}"
        return f"storage {t.bucket} {','.join(t.events)} {pattern}"
    if isinstance(t, ScheduleTrigger):
        zone = "" if t.timezone == "UTC" else f" ({t.timezone})"
        return f"schedule {t.expression}{zone}"
    if isinstance(t, ChangeTrigger):
        return f"change {t.source} (batch {t.batch_size}, from {t.start}){batch}"
    if isinstance(t, EventTrigger):
        parts = [f"{k}={v}" for k, v in (("source", t.source), ("type", t.type)) if v]
        bus = "" if t.bus == "default" else f" on bus {t.bus}"
        return f"event {' '.join(parts) or '(any)'}{bus}"
    return t.KIND
