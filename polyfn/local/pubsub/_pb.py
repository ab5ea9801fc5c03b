"""The raw protobuf classes of google.pubsub.v1, taken from google-cloud-pubsub's proto-plus
types (``Type.pb()``): the emulator (de)serialises exactly what the official client sends."""

from __future__ import annotations

from google.protobuf import duration_pb2, empty_pb2, timestamp_pb2
from google.pubsub_v1.types import pubsub as _types

Empty = empty_pb2.Empty
Timestamp = timestamp_pb2.Timestamp
Duration = duration_pb2.Duration

Topic = _types.Topic.pb()
PubsubMessage = _types.PubsubMessage.pb()
GetTopicRequest = _types.GetTopicRequest.pb()
PublishRequest = _types.PublishRequest.pb()
PublishResponse = _types.PublishResponse.pb()
ListTopicsRequest = _types.ListTopicsRequest.pb()
ListTopicsResponse = _types.ListTopicsResponse.pb()
ListTopicSubscriptionsRequest = _types.ListTopicSubscriptionsRequest.pb()
ListTopicSubscriptionsResponse = _types.ListTopicSubscriptionsResponse.pb()
DeleteTopicRequest = _types.DeleteTopicRequest.pb()

Subscription = _types.Subscription.pb()
PushConfig = _types.PushConfig.pb()
RetryPolicy = _types.RetryPolicy.pb()
DeadLetterPolicy = _types.DeadLetterPolicy.pb()
ReceivedMessage = _types.ReceivedMessage.pb()
GetSubscriptionRequest = _types.GetSubscriptionRequest.pb()
ListSubscriptionsRequest = _types.ListSubscriptionsRequest.pb()
ListSubscriptionsResponse = _types.ListSubscriptionsResponse.pb()
DeleteSubscriptionRequest = _types.DeleteSubscriptionRequest.pb()
ModifyPushConfigRequest = _types.ModifyPushConfigRequest.pb()
PullRequest = _types.PullRequest.pb()
PullResponse = _types.PullResponse.pb()
ModifyAckDeadlineRequest = _types.ModifyAckDeadlineRequest.pb()
AcknowledgeRequest = _types.AcknowledgeRequest.pb()
StreamingPullRequest = _types.StreamingPullRequest.pb()
StreamingPullResponse = _types.StreamingPullResponse.pb()
