"""Topics: fan-out to subscriptions, each of which is a queue.

``subscribe(topic, subscription, filter)`` declares the queue ``subscription`` (if it does
not exist) and attaches it to the topic; the filter is the one of
:class:`polyfn.triggers.TopicTrigger` (every named attribute must equal one of the listed
values). ``publish`` copies the message into every subscription whose filter accepts its
attributes, all in one transaction: either every matching subscription has its copy or
none has. The copies share the publication's id (SNS hands every subscriber the same
MessageId) and carry the topic and subject, so a consumer builds a ``TopicMessage`` from
one (:meth:`~.queues.Message.topic_message`). A topic without subscriptions drops what is
published to it, as SNS and Pub/Sub do; topics need no declaring.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from polyfn.errors import DefinitionError
from polyfn.triggers import TopicTrigger

from .core import dumps, encode_attributes, new_id
from .errors import InvalidRequest
from .queues import Queues


@dataclass(frozen=True, slots=True)
class Subscription:
    topic: str
    name: str
    """The subscription, and the queue its copies go to."""
    filter: dict[str, Any] | None


def _trigger(topic: str, filter: dict[str, Any] | None) -> TopicTrigger:
    try:
        return TopicTrigger(topic, filter)
    except DefinitionError as exc:
        raise InvalidRequest(str(exc)) from None


class Topics(Queues):
    def subscribe(
        self, topic: str, subscription: str, filter: dict[str, Any] | None = None
    ) -> Subscription:
        """Attach queue ``subscription`` to ``topic`` (declared with the defaults if new;
        declare it first for other settings). Subscribing again replaces the filter."""
        _trigger(topic, filter)
        if not subscription:
            raise InvalidRequest("a subscription needs a name")
        try:
            stored = None if filter is None else dumps(filter)
        except TypeError as exc:
            raise InvalidRequest(f"topic filter: {exc}") from None
        with self._write() as db:
            self._ensure(db, subscription)
            db.execute(
                "INSERT INTO subscriptions (topic, name, filter) VALUES (?, ?, ?) "
                "ON CONFLICT (topic, name) DO UPDATE SET filter = excluded.filter",
                (topic, subscription, stored),
            )
        return Subscription(topic, subscription, filter)

    def unsubscribe(self, topic: str, subscription: str) -> bool:
        """Detach the subscription (its queue and the copies already in it stay)."""
        with self._write() as db:
            cur = db.execute(
                "DELETE FROM subscriptions WHERE topic = ? AND name = ?", (topic, subscription)
            )
            return cur.rowcount == 1

    def subscriptions(self, topic: str | None = None) -> list[Subscription]:
        with self._cond:
            rows = self.db.execute(
                "SELECT topic, name, filter FROM subscriptions "
                "WHERE ? IS NULL OR topic = ? ORDER BY topic, name",
                (topic, topic),
            ).fetchall()
        return [Subscription(t, n, None if f is None else json.loads(f)) for t, n, f in rows]

    def publish(
        self,
        topic: str,
        body: bytes,
        attributes: Mapping[str, str | bytes] | None = None,
        subject: str | None = None,
    ) -> str:
        """Fan a message out to the topic's matching subscriptions; returns its id."""
        if not isinstance(body, bytes | bytearray | memoryview):
            raise TypeError(f"a message body is bytes, not {type(body).__name__}")
        attrs = encode_attributes(attributes)
        plain: dict[str, object] = dict(attributes or {})
        message_id = new_id()
        with self._write() as db:
            now = self.clock.time()
            subs = db.execute(
                "SELECT name, filter FROM subscriptions WHERE topic = ? ORDER BY name", (topic,)
            ).fetchall()
            for name, stored in subs:
                filter = None if stored is None else json.loads(stored)
                if not TopicTrigger(topic, filter).accepts(plain):
                    continue
                self._ensure(db, name)  # a subscription's queue is never missing
                self._insert(
                    db, name, message_id, bytes(body), attrs, None, now, now, topic, subject
                )
        return message_id
