"""Output drivers through boto3: SQS, SNS, S3 and EventBridge. Clients are made on
first use (no boto3 import at cold start unless a handler sends something)."""

from __future__ import annotations

import json
import threading
from typing import Any

from polyfn.events.cloudevent import CloudEvent
from polyfn.naming import physical
from polyfn.observe.trace import w3c_to_xray

from . import defaults


class AwsDriver:
    """Sends polyfn outputs to AWS. A neutral name is first looked up in the environment
    the deployment descriptors set (``POLYFN_QUEUE_<NAME>`` a queue URL,
    ``POLYFN_TOPIC_<NAME>`` a topic ARN, ``POLYFN_BUCKET_<NAME>``, ``POLYFN_BUS_<NAME>``;
    polyfn.naming); else queue names resolve to URLs (cached), topic names to ARNs in the
    function's account and region; ARNs and URLs pass through unchanged."""

    def __init__(self, session: Any = None, account: str | None = None) -> None:
        self._session = session
        self._clients: dict[str, Any] = {}
        self._queue_urls: dict[str, str] = {}
        self._account = account
        self._lock = threading.Lock()

    def client(self, service: str) -> Any:
        c = self._clients.get(service)
        if c is None:
            with self._lock:
                c = self._clients.get(service)
                if c is None:
                    if self._session is None:
                        import boto3

                        self._session = boto3.session.Session()
                    c = self._clients[service] = self._session.client(
                        service, region_name=defaults.region()
                    )
        return c

    def _queue_url(self, queue: str) -> str:
        queue = physical("queue", queue)
        if queue.startswith(("https://", "http://")):
            return queue
        url = self._queue_urls.get(queue)
        if url is None:
            name = queue.rsplit(":", 1)[-1] if queue.startswith("arn:") else queue
            url = self._queue_urls[queue] = self.client("sqs").get_queue_url(QueueName=name)[
                "QueueUrl"
            ]
        return url

    def _topic_arn(self, topic: str) -> str:
        topic = physical("topic", topic)
        if topic.startswith("arn:"):
            return topic
        if self._account is None:
            self._account = self.client("sts").get_caller_identity()["Account"]
        return f"arn:aws:sns:{defaults.region()}:{self._account}:{topic}"

    def send(self, queue, body, attributes, group_id, deduplication_id, delay_seconds) -> str:  # type: ignore[no-untyped-def]
        params: dict[str, Any] = {
            "QueueUrl": self._queue_url(queue),
            "MessageBody": body.decode("utf-8"),
        }
        if attributes:
            params["MessageAttributes"] = {
                k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()
            }
        if group_id is not None:
            params["MessageGroupId"] = group_id
        if deduplication_id is not None:
            params["MessageDeduplicationId"] = deduplication_id
        if delay_seconds:
            params["DelaySeconds"] = delay_seconds
        return self.client("sqs").send_message(**params)["MessageId"]

    def publish(self, topic, body, attributes, subject) -> str:  # type: ignore[no-untyped-def]
        params: dict[str, Any] = {"TopicArn": self._topic_arn(topic), "Message": body.decode()}
        if attributes:
            params["MessageAttributes"] = {
                k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()
            }
        if subject is not None:
            params["Subject"] = subject
        return self.client("sns").publish(**params)["MessageId"]

    def put(self, bucket, key, data, content_type, metadata) -> str | None:  # type: ignore[no-untyped-def]
        params: dict[str, Any] = {"Bucket": physical("bucket", bucket), "Key": key, "Body": data}
        if content_type:
            params["ContentType"] = content_type
        if metadata:
            params["Metadata"] = metadata
        resp = self.client("s3").put_object(**params)
        return resp.get("VersionId") or resp.get("ETag")

    def emit(self, event: CloudEvent, bus: str | None) -> str:
        # EventBridge keeps source and type as Source and DetailType; the CloudEvent id,
        # subject and extensions travel in the detail's envelope-free form as a whole.
        entry: dict[str, Any] = {
            "Source": event.source,
            "DetailType": event.type,
            "Detail": json.dumps(event.data if event.data is not None else {}),
            "EventBusName": physical("bus", bus) if bus else "default",
        }
        traceparent = event.extensions.get("traceparent")
        if traceparent:
            # EventBridge carries trace context as an X-Ray header (PutEventsRequestEntry
            # TraceHeader: https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsRequestEntry.html).
            header = w3c_to_xray(str(traceparent))
            if header:
                entry["TraceHeader"] = header
        if event.time is not None:
            entry["Time"] = event.time
        resources = event.extensions.get("resources")
        if resources:
            entry["Resources"] = list(resources)
        resp = self.client("events").put_events(Entries=[entry])
        result = resp["Entries"][0]
        if "EventId" not in result:
            raise RuntimeError(
                f"EventBridge rejected the event: {result.get('ErrorCode')}: "
                f"{result.get('ErrorMessage')}"
            )
        return result["EventId"]

    def get(self, bucket: str, key: str) -> bytes:
        """An S3 object's content (GetObject); a missing one raises botocore's NoSuchKey."""
        resp = self.client("s3").get_object(Bucket=physical("bucket", bucket), Key=key)
        with resp["Body"] as body:
            return body.read()
