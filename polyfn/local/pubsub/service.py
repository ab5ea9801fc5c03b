"""The gRPC face of the broker: google.pubsub.v1.Publisher and Subscriber as generic method
handlers, (de)serialised with the protobuf classes google-cloud-pubsub ships. Methods the
emulator lacks answer UNIMPLEMENTED (gRPC's answer for an unknown method)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import grpc

from . import _pb
from .broker import Broker, Stream
from .errors import BrokerError

# A Pull with nothing to deliver waits at most this long (or the call's deadline) before
# answering with no messages, as the service does.
PULL_WAIT = 5.0


def _abort(context: grpc.ServicerContext, e: BrokerError) -> None:
    context.abort(getattr(grpc.StatusCode, e.code), e.message)


def _unary(fn: Callable[[Any, grpc.ServicerContext], Any], req: Any, resp: Any) -> Any:
    def handle(request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return fn(request, context)
        except BrokerError as e:
            _abort(context, e)

    return grpc.unary_unary_rpc_method_handler(
        handle, request_deserializer=req.FromString, response_serializer=resp.SerializeToString
    )


class PubSubService:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    def handlers(self) -> list[grpc.GenericRpcHandler]:
        b = self.broker
        empty = _pb.Empty
        publisher = {
            "CreateTopic": _unary(lambda r, c: b.create_topic(r), _pb.Topic, _pb.Topic),
            "GetTopic": _unary(lambda r, c: b.get_topic(r.topic), _pb.GetTopicRequest, _pb.Topic),
            "ListTopics": _unary(self.list_topics, _pb.ListTopicsRequest, _pb.ListTopicsResponse),
            "ListTopicSubscriptions": _unary(
                self.list_topic_subscriptions,
                _pb.ListTopicSubscriptionsRequest,
                _pb.ListTopicSubscriptionsResponse,
            ),
            "DeleteTopic": _unary(self.delete_topic, _pb.DeleteTopicRequest, empty),
            "Publish": _unary(self.publish, _pb.PublishRequest, _pb.PublishResponse),
        }
        subscriber = {
            "CreateSubscription": _unary(
                lambda r, c: b.create_subscription(r), _pb.Subscription, _pb.Subscription
            ),
            "GetSubscription": _unary(
                lambda r, c: b.get_subscription(r.subscription),
                _pb.GetSubscriptionRequest,
                _pb.Subscription,
            ),
            "ListSubscriptions": _unary(
                self.list_subscriptions, _pb.ListSubscriptionsRequest, _pb.ListSubscriptionsResponse
            ),
            "DeleteSubscription": _unary(
                self.delete_subscription, _pb.DeleteSubscriptionRequest, empty
            ),
            "ModifyPushConfig": _unary(self.modify_push_config, _pb.ModifyPushConfigRequest, empty),
            "Pull": _unary(self.pull, _pb.PullRequest, _pb.PullResponse),
            "Acknowledge": _unary(self.acknowledge, _pb.AcknowledgeRequest, empty),
            "ModifyAckDeadline": _unary(
                self.modify_ack_deadline, _pb.ModifyAckDeadlineRequest, empty
            ),
            "StreamingPull": grpc.stream_stream_rpc_method_handler(
                self.streaming_pull,
                request_deserializer=_pb.StreamingPullRequest.FromString,
                response_serializer=_pb.StreamingPullResponse.SerializeToString,
            ),
        }
        return [
            grpc.method_handlers_generic_handler("google.pubsub.v1.Publisher", publisher),
            grpc.method_handlers_generic_handler("google.pubsub.v1.Subscriber", subscriber),
        ]

    # -- publisher --------------------------------------------------------------------------
    def list_topics(self, r: Any, c: grpc.ServicerContext) -> Any:
        topics, token = self.broker.list_topics(r.project, r.page_size, r.page_token)
        return _pb.ListTopicsResponse(topics=topics, next_page_token=token)

    def list_topic_subscriptions(self, r: Any, c: grpc.ServicerContext) -> Any:
        subs, token = self.broker.topic_subscriptions(r.topic, r.page_size, r.page_token)
        return _pb.ListTopicSubscriptionsResponse(subscriptions=subs, next_page_token=token)

    def delete_topic(self, r: Any, c: grpc.ServicerContext) -> Any:
        self.broker.delete_topic(r.topic)
        return _pb.Empty()

    def publish(self, r: Any, c: grpc.ServicerContext) -> Any:
        return _pb.PublishResponse(message_ids=self.broker.publish(r.topic, r.messages))

    # -- subscriber -------------------------------------------------------------------------
    def list_subscriptions(self, r: Any, c: grpc.ServicerContext) -> Any:
        subs, token = self.broker.list_subscriptions(r.project, r.page_size, r.page_token)
        return _pb.ListSubscriptionsResponse(subscriptions=subs, next_page_token=token)

    def delete_subscription(self, r: Any, c: grpc.ServicerContext) -> Any:
        self.broker.delete_subscription(r.subscription)
        return _pb.Empty()

    def modify_push_config(self, r: Any, c: grpc.ServicerContext) -> Any:
        self.broker.modify_push_config(r.subscription, r.push_config)
        return _pb.Empty()

    def pull(self, r: Any, c: grpc.ServicerContext) -> Any:
        wait = 0.0
        if not r.return_immediately:
            remaining = c.time_remaining()
            wait = PULL_WAIT if remaining is None else max(0.0, min(PULL_WAIT, remaining - 0.5))
        c.add_callback(self.broker.wake)  # a cancelled call stops waiting at once
        got = self.broker.pull(r.subscription, r.max_messages, wait, c.is_active)
        return _pb.PullResponse(received_messages=got)

    def acknowledge(self, r: Any, c: grpc.ServicerContext) -> Any:
        if not r.ack_ids:
            raise BrokerError("INVALID_ARGUMENT", "ack_ids must not be empty")
        self.broker.acknowledge(r.subscription, r.ack_ids)
        return _pb.Empty()

    def modify_ack_deadline(self, r: Any, c: grpc.ServicerContext) -> Any:
        if not r.ack_ids:
            raise BrokerError("INVALID_ARGUMENT", "ack_ids must not be empty")
        self.broker.modify_ack_deadline(r.subscription, r.ack_ids, r.ack_deadline_seconds)
        return _pb.Empty()

    def _apply(self, stream: Stream, r: Any) -> None:
        """What a StreamingPullRequest carries besides the first request's settings."""
        if r.ack_ids:
            self.broker.acknowledge(stream.subscription, r.ack_ids)
        if len(r.modify_deadline_ack_ids) != len(r.modify_deadline_seconds):
            raise BrokerError(
                "INVALID_ARGUMENT",
                "modify_deadline_ack_ids and modify_deadline_seconds must have the same length",
            )
        by_seconds: dict[int, list[str]] = {}
        for ack_id, seconds in zip(
            r.modify_deadline_ack_ids, r.modify_deadline_seconds, strict=True
        ):
            by_seconds.setdefault(seconds, []).append(ack_id)
        for seconds, ack_ids in by_seconds.items():
            self.broker.modify_ack_deadline(stream.subscription, ack_ids, seconds)
        self.broker.stream_update(stream, r.stream_ack_deadline_seconds)

    def _read(self, requests: Iterator[Any], stream: Stream) -> None:
        error: BrokerError | None = None
        try:
            for r in requests:
                if stream.closed:
                    break
                self._apply(stream, r)
        except BrokerError as e:
            error = e
        except Exception:  # the call was cancelled or broke: the stream ends
            pass
        self.broker.close_stream(stream, error)

    def streaming_pull(self, requests: Iterator[Any], c: grpc.ServicerContext) -> Iterator[Any]:
        try:
            first = next(requests, None)
        except Exception:  # cancelled before it said anything
            return
        if first is None:
            return
        try:
            if not first.subscription:
                raise BrokerError("INVALID_ARGUMENT", "The first request must name a subscription")
            stream = self.broker.open_stream(
                first.subscription,
                first.stream_ack_deadline_seconds,
                first.max_outstanding_messages,
                first.max_outstanding_bytes,
            )
            self._apply(stream, first)
        except BrokerError as e:
            _abort(c, e)
            return
        c.add_callback(lambda: self.broker.close_stream(stream))
        threading.Thread(
            target=self._read, args=(requests, stream), name="pubsub-stream-reader", daemon=True
        ).start()
        while True:
            try:
                batch = self.broker.stream_next(stream)
            except BrokerError as e:  # the subscription was deleted
                _abort(c, e)
                return
            if batch is None:
                if stream.error is not None:
                    _abort(c, stream.error)
                return
            received, ordered = batch
            response = _pb.StreamingPullResponse(received_messages=received)
            response.subscription_properties.message_ordering_enabled = ordered
            yield response
