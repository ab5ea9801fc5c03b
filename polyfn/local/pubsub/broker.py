"""The emulator's state: topics, subscriptions, leases, redelivery and dead letters, in memory.

One lock and one condition guard everything. Whoever waits for messages (a Pull, a
StreamingPull, a push worker) waits on the condition and is woken by whatever can make a
message deliverable: a publish, a nack, an ack releasing an ordering key, or the clock
thread when an ack deadline or a retry backoff falls due (a heap of due times: nothing
polls). Protocol-free: the gRPC service and the push worker call these methods.

Delivery semantics follow Google's documentation:

- a message published to a topic reaches every subscription attached at that time whose
  filter it matches (the others acknowledge it at once: it is never delivered);
- a delivered message is leased until its ack deadline; ModifyAckDeadline extends it, or
  with 0 nacks it; an expired or nacked message is delivered again, at once without a
  retry policy (push subscriptions: an exponential push backoff, 100 ms to 60 s), after
  ``min(max_backoff, min_backoff * 2**(attempt - 1))`` with one;
- with a dead-letter policy each delivery carries ``delivery_attempt``, and a message that
  failed ``max_delivery_attempts`` deliveries is published to the dead-letter topic with
  the ``CloudPubSubDeadLetterSource*`` attributes instead of being delivered again;
- with message ordering, messages of one ordering key are delivered in publish order, one
  at a time: the next is delivered once the previous is acknowledged (a simplification of
  the service, which may send several in order, but it gives the same guarantee).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from bisect import insort
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from . import _pb, names, validate
from .errors import BrokerError
from .filters import Predicate
from .push import check_push_endpoint
from .validate import (
    DEFAULT_ACK_DEADLINE,
    MAX_ACK_DEADLINE,
    MIN_ACK_DEADLINE,
    PUSH_MAX_BACKOFF,
    PUSH_MIN_BACKOFF,
    copy,
)

log = logging.getLogger("polyfn.local.pubsub")

# A push lease outlives the HTTP request (whose timeout is the ack deadline) by this much,
# so that a slow endpoint's answer is not raced by a redelivery.
PUSH_LEASE_GRACE = 5.0


@dataclass(eq=False, slots=True)
class Message:
    seq: int
    pb: Any  # PubsubMessage, with message_id and publish_time set
    size: int


@dataclass(eq=False, slots=True)
class Holder:
    """Who leased messages, for flow control: a stream, or nobody in particular."""

    max_messages: int = 0
    max_bytes: int = 0
    outstanding: int = 0
    outstanding_bytes: int = 0


@dataclass(eq=False, slots=True)
class Stream(Holder):
    subscription: str = ""
    ack_deadline: int = DEFAULT_ACK_DEADLINE
    closed: bool = False
    error: BrokerError | None = None  # why the stream's own requests ended it


@dataclass(eq=False, slots=True)
class Delivery:
    """One message in one subscription, until it is acknowledged or dead-lettered."""

    message: Message
    attempts: int = 0
    ack_id: str = ""
    deadline: float | None = None  # monotonic time; set while leased
    available_at: float = 0.0  # monotonic time; later than now while backing off
    holder: Holder | None = None


@dataclass(eq=False)
class SubState:
    config: Any  # Subscription
    predicate: Predicate | None
    push_generation: int = 0
    pending: list[Delivery] = field(default_factory=list)  # in publish order
    leased: dict[str, Delivery] = field(default_factory=dict)
    # The current ack id of every unacknowledged message that was delivered: an ack that
    # arrives after the deadline still counts until the message is delivered again.
    ack_ids: dict[str, Delivery] = field(default_factory=dict)
    busy_keys: set[str] = field(default_factory=set)


@dataclass(eq=False)
class TopicState:
    config: Any  # Topic
    subscriptions: set[str] = field(default_factory=set)


def _page(items: list[Any], size: int, token: str) -> tuple[list[Any], str]:
    try:
        start = int(token) if token else 0
    except ValueError:
        raise BrokerError("INVALID_ARGUMENT", f"Invalid page token {token!r}") from None
    if size < 0:
        raise BrokerError("INVALID_ARGUMENT", f"page_size must not be negative: {size}")
    end = len(items) if size == 0 else start + size
    return items[start:end], (str(end) if end < len(items) else "")


class Broker:
    """Every topic and subscription of the emulator. Thread-safe."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.RLock())
        self._topics: dict[str, TopicState] = {}
        self._subs: dict[str, SubState] = {}
        self._timers: list[tuple[float, int, str, Delivery | None, str]] = []
        self._ticks = itertools.count()
        self._message_ids = itertools.count(1)
        self._seqs = itertools.count()
        self._ack_seq = itertools.count(1)
        self._generations = itertools.count(1)
        self._closed = False
        self._clock: threading.Thread | None = None
        # Called (outside the lock) with a subscription's name and push generation when
        # it gets a push endpoint: the push dispatcher starts its workers then.
        self.on_push: Callable[[str, int], None] | None = None

    # -- life cycle -------------------------------------------------------------------------
    def start(self) -> None:
        self._clock = threading.Thread(target=self._run_clock, name="pubsub-clock", daemon=True)
        self._clock.start()

    def close(self) -> None:
        """Wake and end every waiter: pulls return, streams end, push workers stop."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._clock is not None:
            self._clock.join(5)

    @property
    def closed(self) -> bool:
        return self._closed

    def wake(self) -> None:
        """Let waiters re-check their conditions (an RPC was cancelled)."""
        with self._cond:
            self._cond.notify_all()

    def _run_clock(self) -> None:
        with self._cond:
            while not self._closed:
                now = time.monotonic()
                due = False
                while self._timers and self._timers[0][0] <= now:
                    _, _, sub, d, ack_id = heapq.heappop(self._timers)
                    due = True
                    st = self._subs.get(sub)
                    # Only a lease that is still the one this timer was set for expires;
                    # extended or settled leases left their old timers behind.
                    if (
                        d is not None
                        and st is not None
                        and st.leased.get(ack_id) is d
                        and d.deadline is not None
                        and d.deadline <= now
                    ):
                        self._fail(st, d, now)
                if due:
                    self._cond.notify_all()
                timeout = self._timers[0][0] - now if self._timers else None
                self._cond.wait(timeout)

    def _timer(self, when: float, sub: str, d: Delivery | None, ack_id: str = "") -> None:
        first = not self._timers or when < self._timers[0][0]
        heapq.heappush(self._timers, (when, next(self._ticks), sub, d, ack_id))
        if first:
            self._cond.notify_all()

    # -- topics -----------------------------------------------------------------------------
    def create_topic(self, topic: Any) -> Any:
        names.topic(topic.name)
        if topic.HasField("schema_settings") or topic.HasField("ingestion_data_source_settings"):
            raise BrokerError("INVALID_ARGUMENT", "schemas and ingestion sources are not supported")
        config = copy(topic)
        config.state = _pb.Topic.State.ACTIVE
        with self._cond:
            if topic.name in self._topics:
                raise BrokerError("ALREADY_EXISTS", "Topic already exists")
            self._topics[topic.name] = TopicState(config)
            return copy(config)

    def _topic(self, name: str) -> TopicState:
        st = self._topics.get(name)
        if st is None:
            names.topic(name)
            raise BrokerError("NOT_FOUND", f"Topic not found: {name}")
        return st

    def get_topic(self, name: str) -> Any:
        with self._cond:
            return copy(self._topic(name).config)

    def list_topics(self, project: str, page_size: int, token: str) -> tuple[list[Any], str]:
        prefix = f"projects/{names.project(project)}/topics/"
        with self._cond:
            found = [
                copy(t.config) for n, t in sorted(self._topics.items()) if n.startswith(prefix)
            ]
        return _page(found, page_size, token)

    def topic_subscriptions(self, topic: str, page_size: int, token: str) -> tuple[list[str], str]:
        with self._cond:
            subs = sorted(self._topic(topic).subscriptions)
        return _page(subs, page_size, token)

    def delete_topic(self, name: str) -> None:
        with self._cond:
            st = self._topic(name)
            del self._topics[name]
            # Its subscriptions live on, detached, as on the service.
            for sub in st.subscriptions:
                if sub in self._subs:
                    self._subs[sub].config.topic = names.DELETED_TOPIC

    def publish(self, topic: str, messages: Iterable[Any]) -> list[str]:
        messages = list(messages)
        if not messages:
            raise BrokerError("INVALID_ARGUMENT", "No messages to publish")
        for i, m in enumerate(messages):
            if not m.data and not m.attributes:
                raise BrokerError(
                    "INVALID_ARGUMENT",
                    f"Message {i} has neither data nor attributes (Some messages are empty)",
                )
        with self._cond:
            return self._publish(self._topic(topic), messages)

    def _publish(self, topic: TopicState, messages: list[Any]) -> list[str]:
        ids: list[str] = []
        now_ns = time.time_ns()
        for m in messages:
            pb = copy(m)
            pb.message_id = str(next(self._message_ids))
            pb.publish_time.FromNanoseconds(now_ns)
            msg = Message(next(self._seqs), pb, pb.ByteSize())
            ids.append(pb.message_id)
            for sub in topic.subscriptions:
                st = self._subs[sub]
                if st.predicate is not None and not st.predicate(pb.attributes):
                    continue  # acknowledged by the filter: never delivered
                st.pending.append(Delivery(msg))
        self._cond.notify_all()
        return ids

    # -- subscriptions ----------------------------------------------------------------------
    def create_subscription(self, sub: Any) -> Any:
        config, predicate = validate.subscription(sub)
        with self._cond:
            if config.name in self._subs:
                raise BrokerError("ALREADY_EXISTS", "Subscription already exists")
            topic = self._topic(config.topic)
            st = SubState(config, predicate)
            if config.push_config.push_endpoint:
                st.push_generation = next(self._generations)
            self._subs[config.name] = st
            topic.subscriptions.add(config.name)
            out, generation = copy(config), st.push_generation
        if generation and self.on_push is not None:
            self.on_push(config.name, generation)
        return out

    def _sub(self, name: str) -> SubState:
        st = self._subs.get(name)
        if st is None:
            names.subscription(name)
            raise BrokerError("NOT_FOUND", f"Subscription does not exist: {name}")
        return st

    def get_subscription(self, name: str) -> Any:
        with self._cond:
            return copy(self._sub(name).config)

    def list_subscriptions(self, project: str, page_size: int, token: str) -> tuple[list[Any], str]:
        prefix = f"projects/{names.project(project)}/subscriptions/"
        with self._cond:
            found = [copy(s.config) for n, s in sorted(self._subs.items()) if n.startswith(prefix)]
        return _page(found, page_size, token)

    def delete_subscription(self, name: str) -> None:
        with self._cond:
            st = self._sub(name)
            del self._subs[name]
            topic = self._topics.get(st.config.topic)
            if topic is not None:
                topic.subscriptions.discard(name)
            self._cond.notify_all()  # its streams end, its push workers stop

    def modify_push_config(self, name: str, push_config: Any) -> None:
        if push_config.push_endpoint:
            check_push_endpoint(push_config.push_endpoint)
        with self._cond:
            st = self._sub(name)
            st.config.push_config.CopyFrom(push_config)
            st.push_generation = next(self._generations) if push_config.push_endpoint else 0
            generation = st.push_generation
            self._cond.notify_all()  # workers of the previous endpoint stop
        if generation and self.on_push is not None:
            self.on_push(name, generation)

    # -- leases -----------------------------------------------------------------------------
    def _take(
        self, st: SubState, holder: Holder | None, limit: int, deadline_s: float, now: float
    ) -> list[Delivery]:
        """Lease up to ``limit`` deliverable messages, in publish order."""
        if holder is not None and holder.max_messages:
            limit = min(limit, holder.max_messages - holder.outstanding)
        budget = 0
        if holder is not None and holder.max_bytes:
            budget = holder.max_bytes - holder.outstanding_bytes
        ordered = st.config.enable_message_ordering
        taken: list[Delivery] = []
        blocked: set[str] = set()
        size = 0
        for d in st.pending:
            if len(taken) >= limit:
                break
            key = d.message.pb.ordering_key if ordered else ""
            if key and (key in st.busy_keys or key in blocked):
                continue
            if d.available_at > now:
                if key:
                    blocked.add(key)  # later messages of its key wait behind it
                continue
            if holder is not None and holder.max_bytes:
                busy = holder.outstanding or taken
                if busy and size + d.message.size > budget:
                    break
            taken.append(d)
            size += d.message.size
            if key:
                st.busy_keys.add(key)
        if not taken:
            return taken
        chosen = set(map(id, taken))
        st.pending = [d for d in st.pending if id(d) not in chosen]
        for d in taken:
            st.ack_ids.pop(d.ack_id, None)
            d.attempts += 1
            d.ack_id = f"{d.message.seq}-{d.attempts}-{next(self._ack_seq)}"
            d.deadline = now + deadline_s
            d.holder = holder
            st.leased[d.ack_id] = d
            st.ack_ids[d.ack_id] = d
            self._timer(d.deadline, st.config.name, d, d.ack_id)
            if holder is not None:
                holder.outstanding += 1
                holder.outstanding_bytes += d.message.size
        return taken

    def _received(self, st: SubState, deliveries: list[Delivery]) -> list[Any]:
        counted = st.config.HasField("dead_letter_policy")
        return [
            _pb.ReceivedMessage(
                ack_id=d.ack_id,
                message=d.message.pb,
                delivery_attempt=d.attempts if counted else 0,
            )
            for d in deliveries
        ]

    def _unlease(self, st: SubState, d: Delivery) -> None:
        st.leased.pop(d.ack_id, None)
        if d.holder is not None:
            d.holder.outstanding -= 1
            d.holder.outstanding_bytes -= d.message.size
            d.holder = None
        d.deadline = None
        if st.config.enable_message_ordering and d.message.pb.ordering_key:
            st.busy_keys.discard(d.message.pb.ordering_key)

    def _fail(self, st: SubState, d: Delivery, now: float) -> None:
        """A delivery was nacked or its deadline passed: deliver again, or dead-letter."""
        self._unlease(st, d)
        config = st.config
        if config.HasField("dead_letter_policy"):
            dlp = config.dead_letter_policy
            if d.attempts >= dlp.max_delivery_attempts:
                st.ack_ids.pop(d.ack_id, None)
                self._dead_letter(st, d)
                self._cond.notify_all()
                return
        delay = self._backoff(config, d.attempts)
        d.available_at = now + delay
        insort(st.pending, d, key=lambda x: x.message.seq)
        if delay > 0:
            self._timer(d.available_at, config.name, None)
        self._cond.notify_all()

    @staticmethod
    def _backoff(config: Any, attempts: int) -> float:
        if config.HasField("retry_policy"):
            lo = validate.seconds(config.retry_policy.minimum_backoff)
            hi = validate.seconds(config.retry_policy.maximum_backoff)
        elif config.push_config.push_endpoint:
            lo, hi = PUSH_MIN_BACKOFF, PUSH_MAX_BACKOFF
        else:
            return 0.0
        return min(hi, lo * 2 ** max(0, attempts - 1))

    def _dead_letter(self, st: SubState, d: Delivery) -> None:
        name = st.config.dead_letter_policy.dead_letter_topic
        topic = self._topics.get(name)
        if topic is None:
            log.warning(
                "pubsub emulator: dead-letter topic %s of %s does not exist; message %s dropped",
                name,
                st.config.name,
                d.message.pb.message_id,
            )
            return
        src = d.message.pb
        msg = _pb.PubsubMessage(data=src.data, ordering_key=src.ordering_key)
        msg.attributes.update(src.attributes)
        # The attributes Pub/Sub adds to a forwarded message ("Dead-letter topics" docs).
        msg.attributes.update(
            {
                "CloudPubSubDeadLetterSourceDeliveryCount": str(d.attempts),
                "CloudPubSubDeadLetterSourceSubscription": names.short(st.config.name),
                "CloudPubSubDeadLetterSourceSubscriptionProject": names.project_of(st.config.name),
                "CloudPubSubDeadLetterSourceTopicPublishTime": src.publish_time.ToJsonString(),
            }
        )
        self._publish(topic, [msg])

    def acknowledge(self, subscription: str, ack_ids: Iterable[str]) -> None:
        with self._cond:
            st = self._sub(subscription)
            for ack_id in ack_ids:
                d = st.ack_ids.pop(ack_id, None)
                if d is None:
                    continue  # unknown or already acknowledged: ignored, as on the service
                if st.leased.get(ack_id) is d:
                    self._unlease(st, d)
                else:
                    # Acknowledged after its deadline, before it was delivered again.
                    st.pending = [p for p in st.pending if p is not d]
            self._cond.notify_all()

    def modify_ack_deadline(self, subscription: str, ack_ids: Iterable[str], seconds: int) -> None:
        if not 0 <= seconds <= MAX_ACK_DEADLINE:
            raise BrokerError(
                "INVALID_ARGUMENT",
                f"ack_deadline_seconds must be between 0 and {MAX_ACK_DEADLINE}: {seconds}",
            )
        with self._cond:
            st = self._sub(subscription)
            now = time.monotonic()
            for ack_id in ack_ids:
                d = st.leased.get(ack_id)
                if d is None:
                    continue
                if seconds == 0:
                    self._fail(st, d, now)
                else:
                    d.deadline = now + seconds
                    self._timer(d.deadline, subscription, d, ack_id)

    # -- pull -------------------------------------------------------------------------------
    def pull(
        self, subscription: str, max_messages: int, wait: float, alive: Callable[[], bool]
    ) -> list[Any]:
        """Lease up to ``max_messages``, waiting up to ``wait`` seconds for the first."""
        if max_messages <= 0:
            raise BrokerError("INVALID_ARGUMENT", "max_messages must be greater than 0")
        end = time.monotonic() + wait
        with self._cond:
            while True:
                st = self._sub(subscription)
                now = time.monotonic()
                got = self._take(st, None, max_messages, st.config.ack_deadline_seconds, now)
                if got:
                    return self._received(st, got)
                if self._closed or not alive() or now >= end:
                    return []
                self._cond.wait(end - now)

    def open_stream(
        self, subscription: str, ack_deadline: int, max_messages: int, max_bytes: int
    ) -> Stream:
        if ack_deadline and not MIN_ACK_DEADLINE <= ack_deadline <= MAX_ACK_DEADLINE:
            raise BrokerError(
                "INVALID_ARGUMENT",
                f"stream_ack_deadline_seconds must be between {MIN_ACK_DEADLINE} and "
                f"{MAX_ACK_DEADLINE}: {ack_deadline}",
            )
        with self._cond:
            st = self._sub(subscription)
            return Stream(
                max_messages=max(0, max_messages),
                max_bytes=max(0, max_bytes),
                subscription=subscription,
                ack_deadline=ack_deadline or st.config.ack_deadline_seconds,
            )

    def stream_update(self, stream: Stream, ack_deadline: int) -> None:
        if ack_deadline:
            with self._cond:
                stream.ack_deadline = max(MIN_ACK_DEADLINE, min(MAX_ACK_DEADLINE, ack_deadline))

    def close_stream(self, stream: Stream, error: BrokerError | None = None) -> None:
        with self._cond:
            stream.closed = True
            stream.error = stream.error or error
            self._cond.notify_all()

    def stream_next(self, stream: Stream) -> tuple[list[Any], bool] | None:
        """The next batch for a stream, waiting for it; ``None`` once the stream is over.
        Also returns whether the subscription orders messages (the stream reports it)."""
        with self._cond:
            while True:
                if self._closed or stream.closed:
                    return None
                st = self._sub(stream.subscription)
                got = self._take(st, stream, 1000, stream.ack_deadline, time.monotonic())
                if got:
                    return self._received(st, got), st.config.enable_message_ordering
                self._cond.wait()

    # -- push -------------------------------------------------------------------------------
    def next_push(self, subscription: str, generation: int) -> tuple[Any, Any, int] | None:
        """The next message for a push worker: (ReceivedMessage, PushConfig, ack deadline),
        waiting for it; ``None`` once the endpoint is gone (or the emulator stopped)."""
        with self._cond:
            while True:
                st = self._subs.get(subscription)
                if self._closed or st is None or st.push_generation != generation:
                    return None
                deadline = st.config.ack_deadline_seconds
                got = self._take(st, None, 1, deadline + PUSH_LEASE_GRACE, time.monotonic())
                if got:
                    (received,) = self._received(st, got)
                    return received, copy(st.config.push_config), deadline
                self._cond.wait()

    def push_done(self, subscription: str, ack_id: str, ok: bool) -> None:
        try:
            if ok:
                self.acknowledge(subscription, [ack_id])
            else:
                self.modify_ack_deadline(subscription, [ack_id], 0)
        except BrokerError:
            pass  # the subscription was deleted meanwhile

    # -- inspection (tests, the local runtime) --------------------------------------------------
    def wait_idle(self, subscription: str, timeout: float) -> bool:
        """Wait until nothing of a subscription is waiting or leased; False on timeout."""
        end = time.monotonic() + timeout
        with self._cond:
            while True:
                st = self._sub(subscription)
                if not st.pending and not st.leased:
                    return True
                remaining = end - time.monotonic()
                if remaining <= 0 or self._closed:
                    return False
                self._cond.wait(remaining)

    def backlog(self, subscription: str) -> tuple[int, int]:
        """(messages waiting, messages leased) of a subscription."""
        with self._cond:
            st = self._sub(subscription)
            return len(st.pending), len(st.leased)
