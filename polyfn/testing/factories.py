"""Neutral events for tests: built from plain values with sensible defaults, or read from
a provider's official sample events through the provider's own ``from_native``.

    queue_message({"id": "o-1", "items": [1]}, queue="orders")
    http_request("POST", "/orders", json={"items": [1]})
    from_sample("aws", "sqs__samcli__receive-message.json")   # a list of QueueMessages

Bodies: bytes as given, str as UTF-8, anything else as JSON. Ids default to fresh UUIDs,
times to now (UTC).
"""

from __future__ import annotations

import json as jsonlib
import os
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from polyfn.events._base import json_bytes
from polyfn.events.change import ChangeEvent
from polyfn.events.cloudevent import CloudEvent
from polyfn.events.http import HttpRequest
from polyfn.events.messages import QueueMessage, TopicMessage
from polyfn.events.schedule import ScheduleEvent
from polyfn.events.storage import StorageEvent

from . import config

NO_JSON: Any = object()  # "no json= given" (None is JSON null)
SAMPLES_ENV = "POLYFN_SAMPLE_EVENTS"
"""os.pathsep-separated folders holding ``<provider>/<file>.json`` sample events."""


def _id() -> str:
    return str(uuid.uuid4())


def _now() -> datetime:
    return datetime.now(UTC)


def body_bytes(body: Any) -> bytes:
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    return json_bytes(body)


def queue_message(
    body: Any = b"",
    *,
    queue: str = "queue",
    id: str | None = None,
    attributes: dict[str, str] | None = None,
    delivery_count: int = 1,
    group_id: str | None = None,
    enqueued_at: datetime | None = None,
) -> QueueMessage:
    return QueueMessage(
        id or _id(),
        body_bytes(body),
        attributes=dict(attributes or {}),
        delivery_count=delivery_count,
        enqueued_at=enqueued_at or _now(),
        queue=queue,
        group_id=group_id,
    )


def topic_message(
    body: Any = b"",
    *,
    topic: str = "topic",
    id: str | None = None,
    subject: str | None = None,
    attributes: dict[str, str] | None = None,
    published_at: datetime | None = None,
) -> TopicMessage:
    return TopicMessage(
        id or _id(),
        topic,
        body_bytes(body),
        subject=subject,
        attributes=dict(attributes or {}),
        published_at=published_at or _now(),
    )


def storage_event(
    key: str = "object",
    *,
    bucket: str = "bucket",
    kind: str = "created",
    size: int | None = None,
    etag: str | None = None,
    version: str | None = None,
    time: datetime | None = None,
) -> StorageEvent:
    if size is None and kind == "created":
        size = 0
    return StorageEvent(
        bucket, key, kind, size=size, etag=etag, version=version, time=time or _now()
    )  # type: ignore[arg-type]


def schedule_event(
    schedule: str = "rate(1 day)", *, at: datetime | None = None, id: str | None = None
) -> ScheduleEvent:
    return ScheduleEvent(schedule, at or _now(), id=id or _id())


def change_event(
    new: dict[str, Any] | None = None,
    *,
    source: str = "table",
    operation: str = "insert",
    keys: dict[str, Any] | None = None,
    old: dict[str, Any] | None = None,
    id: str | None = None,
    sequence: str | None = None,
    time: datetime | None = None,
) -> ChangeEvent:
    if keys is None:  # the item's "id", as most tables key on one
        item = new if new is not None else old or {}
        keys = {"id": item["id"]} if "id" in item else {}
    return ChangeEvent(
        id or _id(),
        source,
        operation,  # type: ignore[arg-type]
        keys=keys,
        old=old,
        new=new,
        sequence=sequence,
        time=time or _now(),
    )


def cloud_event(
    data: Any = None,
    *,
    source: str = "test",
    type: str = "test.event",
    id: str | None = None,
    subject: str | None = None,
    time: datetime | None = None,
) -> CloudEvent:
    return CloudEvent(id or _id(), source, type, data, subject=subject, time=time or _now())


def http_request(
    method: str = "GET",
    path: str = "/",
    *,
    json: Any = NO_JSON,
    body: bytes | str = b"",
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
) -> HttpRequest:
    """``json=`` sets the body and ``content-type: application/json``."""
    all_headers = dict(headers or {})
    if json is not NO_JSON:
        body = json_bytes(json)
        if not any(k.lower() == "content-type" for k in all_headers):
            all_headers["content-type"] = "application/json"
    return HttpRequest(method, path, body=body, headers=all_headers, query=query)


# -- native events ---------------------------------------------------------------------------
def from_native(provider: str, native: Any, **options: Any) -> Any:
    """The neutral event(s) of a native payload, through ``polyfn.adapters.<provider>``'s
    ``from_native`` (``options`` go to it: ``source=`` for aws, ``kind=``/``name=`` for
    gcp, ``binding=`` for azure). Record-based sources give lists."""
    if provider == "aws":
        from polyfn.adapters.aws import from_native as convert
    elif provider == "gcp":
        from polyfn.adapters.gcp import from_native as convert
    elif provider == "azure":
        from polyfn.adapters.azure import from_native as convert
    else:
        raise ValueError(f"provider {provider!r}: one of aws, azure, gcp")
    return convert(native, **options)


def sample_path(provider: str, sample: str | os.PathLike[str]) -> Path:
    """Where ``sample`` is: a path to an existing file, else ``<dir>/<provider>/<sample>``
    for each folder of $POLYFN_SAMPLE_EVENTS and of the plugin's ``polyfn_sample_events``
    ini option (default ``tests/events`` under the rootdir)."""
    path = Path(sample)
    if path.is_file():
        return path
    tried = []
    for folder in _search_dirs():
        candidate = folder / provider / path
        if candidate.is_file():
            return candidate
        tried.append(str(candidate))
    raise FileNotFoundError(
        f"sample event {str(sample)!r} not found; tried {tried or 'no folder'} (set "
        f"${SAMPLES_ENV} or the polyfn_sample_events ini option, or pass a path)"
    )


def _search_dirs() -> Iterable[Path]:
    env = os.environ.get(SAMPLES_ENV, "")
    yield from (Path(p) for p in env.split(os.pathsep) if p)
    yield from config.sample_dirs


def load_sample(provider: str, sample: str | os.PathLike[str]) -> Any:
    """A sample event's native JSON."""
    return jsonlib.loads(sample_path(provider, sample).read_text(encoding="utf-8"))


def from_sample(provider: str, sample: str | os.PathLike[str], **options: Any) -> Any:
    """The neutral event(s) of an official sample event (JSON): AWS Lambda events, Google
    CloudEvents / legacy events / Pub/Sub push bodies. Azure delivers azure.functions
    objects, not JSON: build one and call :func:`from_native`."""
    if provider == "azure":
        raise ValueError(
            "azure sample events are not JSON payloads a function receives: build the "
            "azure.functions object and call from_native('azure', obj, binding=...)"
        )
    return from_native(provider, load_sample(provider, sample), **options)
