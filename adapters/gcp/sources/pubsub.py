"""Pub/Sub (``google.cloud.pubsub.topic.v1.messagePublished``) → QueueMessage or
TopicMessage, and back.

Native: a CloudEvent whose data is MessagePublishedData (``{"message": {...},
"subscription": "projects/P/subscriptions/S", "deliveryAttempt": N}``), the legacy
``google.pubsub.topic.publish`` event, or a push subscription's request body (the same
object). Shapes: tests/events/gcp/pubsub__*, provenance in tests/events/gcp/PROVENANCE.md.

A neutral queue on Google Cloud is a topic and the subscription that feeds the function;
a neutral topic is a topic. QueueMessage: ``id`` = ``messageId``, ``body`` = the
base64-decoded ``data``, ``attributes``, ``delivery_count`` = ``deliveryAttempt`` (Pub/Sub
sends it only when the subscription has a dead-letter policy: absent → 1), ``enqueued_at``
= ``publishTime``, ``group_id`` = ``orderingKey``, ``queue`` = the topic's short name from
the CloudEvent ``source`` (``//pubsub.googleapis.com/projects/P/topics/T``; a trigger's
subscription has a name Eventarc makes up, the topic is what ``send`` publishes to), or
the subscription's short name when only a push body tells it. TopicMessage: ``topic``
likewise, ``published_at`` = ``publishTime``, ``subject`` = the attribute
:data:`SUBJECT_ATTRIBUTE` (Pub/Sub has no subject; polyfn's publish puts it there).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from polyfn.events.messages import QueueMessage, TopicMessage

from . import _common as c

EVENT_SOURCE = "gcp:pubsub"
KIND = "queue"  # or "topic": from_native(..., kind="topic")
TYPE = "google.cloud.pubsub.topic.v1.messagePublished"
LEGACY_TYPE = "google.pubsub.topic.publish"
SERVICE = "pubsub.googleapis.com"
SUBJECT_ATTRIBUTE = "subject"
"""The message attribute that carries a TopicMessage's subject (Pub/Sub has none; the
GcpDriver's ``publish`` puts a subject there)."""

_TOPIC_SOURCE = "//pubsub.googleapis.com/"
_CONSUMED = frozenset(
    {"data", "attributes", "messageId", "publishTime", "orderingKey"}
)  # of the message


def topic_of(source: Any) -> str:
    """``//pubsub.googleapis.com/projects/P/topics/T`` → ``T`` ("" when not a topic)."""
    if isinstance(source, str) and source.startswith(_TOPIC_SOURCE) and "/topics/" in source:
        return c.short_name(source)
    return ""


def _message(env: c.Envelope) -> dict[str, Any]:
    data = env.data
    # type() first: isinstance against the Mapping ABC costs ~0.1 us even for a dict.
    is_mapping = type(data) is dict or isinstance(data, Mapping)
    message = data.get("message") if is_mapping else None
    if type(message) is not dict and not isinstance(message, Mapping):
        where = "message" if is_mapping else "data"
        raise c.malformed(EVENT_SOURCE, where, "expected the Pub/Sub message object")
    message_id = message.get("messageId")
    if not isinstance(message_id, str) or not message_id:
        raise c.malformed(EVENT_SOURCE, "message.messageId")
    return message  # type: ignore[return-value]


def _body(message: Mapping[str, Any]) -> bytes:
    raw = message.get("data")
    return b"" if raw is None else c.b64decode(raw, EVENT_SOURCE, "message.data")


class _PubsubView:
    """What the queue and topic views share: typed reads of the envelope and its message
    (``_e``, ``_m``, ``_n``: slots of the views)."""

    __slots__ = ()
    _e: c.Envelope
    _m: dict[str, Any]
    _n: str
    id: str

    def __init__(self, env: c.Envelope, fallback: str = "") -> None:
        self._e = env
        self._n = fallback
        self._m = _message(env)
        self.id = self._m["messageId"]

    @property
    def native(self) -> Any:  # type: ignore[override]
        return self._e.native

    @property
    def body(self) -> bytes:  # type: ignore[override]
        return _body(self._m)

    def _attributes(self) -> dict[str, str]:
        attrs = self._m.get("attributes") or {}
        if not isinstance(attrs, Mapping):
            raise c.malformed(EVENT_SOURCE, "message.attributes", "expected an object")
        for name, value in attrs.items():
            if not isinstance(value, str):
                raise c.malformed(EVENT_SOURCE, f"message.attributes.{name}", "not a string")
        return dict(attrs)

    def _publish_time(self) -> datetime | None:
        raw = self._m.get("publishTime")
        return None if raw is None else c.parse_time(raw, EVENT_SOURCE, "message.publishTime")

    def _name(self) -> str:
        topic = topic_of(self._e.attrs.get("source"))
        if topic:
            return topic
        sub = self._e.data.get("subscription")
        return c.short_name(sub) if isinstance(sub, str) and sub else self._n

    def _extensions(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self._e.attrs:
            out["cloudevent"] = dict(self._e.attrs)
        for key, value in self._e.data.items():
            if key != "message":
                out[key] = value  # subscription, deliveryAttempt
        rest = {k: v for k, v in self._m.items() if k not in _CONSUMED}
        if rest:
            out["message"] = rest  # "@type", the snake_case duplicates of push bodies
        return out


class PubsubQueueMessage(_PubsubView, QueueMessage):
    """A view of one Pub/Sub message as a QueueMessage; ``id`` is bound on creation."""

    __slots__ = ("_e", "_m", "_n")
    provider = "gcp"
    event_source = EVENT_SOURCE

    @property
    def attributes(self) -> dict[str, str | bytes]:  # type: ignore[override]
        return self._attributes()  # type: ignore[return-value]

    @property
    def delivery_count(self) -> int:  # type: ignore[override]
        raw = self._e.data.get("deliveryAttempt")
        if raw is None or raw == 0:  # no dead-letter policy: Pub/Sub does not count
            return 1
        if isinstance(raw, bool) or not isinstance(raw, int | str):
            raise c.malformed(EVENT_SOURCE, "deliveryAttempt", f"not an integer: {raw!r}")
        try:
            return max(1, int(raw))
        except ValueError:
            raise c.malformed(EVENT_SOURCE, "deliveryAttempt", f"not an integer: {raw!r}") from None

    @property
    def enqueued_at(self) -> datetime | None:  # type: ignore[override]
        return self._publish_time()

    @property
    def queue(self) -> str:  # type: ignore[override]
        return self._name()

    @property
    def group_id(self) -> str | None:  # type: ignore[override]
        return self._m.get("orderingKey") or None

    @property
    def extensions(self) -> dict[str, Any]:  # type: ignore[override]
        return self._extensions()


class PubsubTopicMessage(_PubsubView, TopicMessage):
    """A view of one Pub/Sub message as a TopicMessage."""

    __slots__ = ("_e", "_m", "_n")
    provider = "gcp"
    event_source = EVENT_SOURCE

    @property
    def topic(self) -> str:  # type: ignore[override]
        return self._name()

    @property
    def subject(self) -> str | None:  # type: ignore[override]
        return self._attributes().get(SUBJECT_ATTRIBUTE)

    @property
    def attributes(self) -> dict[str, str | bytes]:  # type: ignore[override]
        attrs = self._attributes()
        attrs.pop(SUBJECT_ATTRIBUTE, None)
        return attrs  # type: ignore[return-value]

    @property
    def published_at(self) -> datetime | None:  # type: ignore[override]
        return self._publish_time()

    @property
    def extensions(self) -> dict[str, Any]:  # type: ignore[override]
        out = self._extensions()
        if self._m.get("orderingKey"):
            out["orderingKey"] = self._m["orderingKey"]
        return out


def check(env: c.Envelope) -> None:
    if env.form != "push" and env.type != TYPE:
        raise c.unsupported(EVENT_SOURCE, "type", f"{env.type!r} is not {TYPE}")


def from_native(native: Any, kind: str = "queue", *, name: str = "") -> QueueMessage | TopicMessage:
    """The QueueMessage (``kind="queue"``) or TopicMessage (``"topic"``) of a Pub/Sub
    event in any native form; ``name`` is the queue or topic when the event does not
    tell it (a legacy event or push body without a topic)."""
    env = c.envelope(native, EVENT_SOURCE)
    check(env)
    return (PubsubTopicMessage if kind == "topic" else PubsubQueueMessage)(env, name)


# -- neutral → native ------------------------------------------------------------------
def _attributes(event: QueueMessage | TopicMessage) -> dict[str, str]:
    # Pub/Sub attributes are strings; another provider's binary attribute travels as base64.
    out = {k: v if isinstance(v, str) else c.b64encode(v) for k, v in event.attributes.items()}
    if isinstance(event, TopicMessage) and event.subject is not None:
        out[SUBJECT_ATTRIBUTE] = event.subject
    return out


def _parts(
    event: QueueMessage | TopicMessage, subscription: str | None
) -> tuple[dict[str, Any], dict[str, Any], str]:
    """(CloudEvent attributes, MessagePublishedData, topic path)."""
    ext = c.extensions_of(event, EVENT_SOURCE)
    is_topic = isinstance(event, TopicMessage)
    name = event.topic if is_topic else event.queue  # type: ignore[union-attr]
    name = name or "polyfn"
    when = (event.published_at if is_topic else event.enqueued_at) or c.now()  # type: ignore[union-attr]
    message: dict[str, Any] = {}
    if event.body:
        message["data"] = c.b64encode(event.body)
    attrs = _attributes(event)
    if attrs:
        message["attributes"] = attrs
    message["messageId"] = event.id
    message["publishTime"] = c.format_time(when)
    ordering = ext.get("orderingKey") if is_topic else event.group_id  # type: ignore[union-attr]
    if ordering:
        message["orderingKey"] = ordering
    message.update(ext.get("message") or {})

    attrs_ce = c.cloudevent_attrs(ext)
    topic = f"projects/{c.project()}/topics/{name}"
    if topic_of(attrs_ce.get("source")) == name:
        topic = attrs_ce["source"][len(_TOPIC_SOURCE) :]
    data: dict[str, Any] = {}
    data["subscription"] = (
        subscription
        or ext.get("subscription")
        or f"projects/{topic.split('/')[1]}/subscriptions/{name}"
    )
    data["message"] = message
    count = ext.get("deliveryAttempt") if is_topic else event.delivery_count  # type: ignore[union-attr]
    if count is not None and ("deliveryAttempt" in ext or count > 1):
        data["deliveryAttempt"] = count
    for key, value in ext.items():
        if key not in ("cloudevent", "message", "subscription", "deliveryAttempt", "orderingKey"):
            data[key] = value
    if not attrs_ce:
        attrs_ce = {
            "specversion": c.SPECVERSION,
            "id": event.id,
            "source": f"//{SERVICE}/{topic}",
            "type": TYPE,
            "time": message["publishTime"],
            "datacontenttype": c.JSON,
        }
    else:
        attrs_ce["source"] = f"//{SERVICE}/{topic}"
    return attrs_ce, data, topic


def to_cloudevent(
    event: QueueMessage | TopicMessage, *, subscription: str | None = None
) -> tuple[dict[str, Any], Any]:
    """(CloudEvent attributes, data) of the Eventarc event delivering ``event``."""
    attrs, data, _ = _parts(event, subscription)
    return attrs, data


def to_legacy(event: QueueMessage | TopicMessage) -> tuple[Any, dict[str, Any]]:
    """(data, context) of the legacy ``google.pubsub.topic.publish`` event."""
    _, data, topic = _parts(event, None)
    message = dict(data["message"])
    message.pop("messageId")
    timestamp = message.pop("publishTime")
    legacy = {"@type": c.PUBSUB_MESSAGE_TYPE}
    legacy.update(message)
    context = {
        "eventId": event.id,
        "timestamp": timestamp,
        "eventType": LEGACY_TYPE,
        "resource": {"service": SERVICE, "name": topic, "type": c.PUBSUB_MESSAGE_TYPE},
    }
    return legacy, context


def to_push(
    event: QueueMessage | TopicMessage, *, subscription: str | None = None
) -> dict[str, Any]:
    """The body a push subscription POSTs (the same object as MessagePublishedData)."""
    _, data, _ = _parts(event, subscription)
    return data


def to_native(
    event: QueueMessage | TopicMessage, mode: str = "binary", *, subscription: str | None = None
) -> Any:
    """``event`` as Google delivers it: ``mode`` is ``"binary"``, ``"structured"``,
    ``"cloudevent"``, ``"legacy"``, ``"background"`` (see _common.render) or ``"push"``
    ((headers, body) of a push request)."""
    if mode == "push":
        return {"content-type": c.JSON}, c.encode_data(to_push(event, subscription=subscription))
    attrs, data = to_cloudevent(event, subscription=subscription)
    return c.render(attrs, data, mode, lambda: to_legacy(event))
