"""A CloudEvent function for the emulator's push tests, served by the real
functions-framework: a raw Pub/Sub push request to ``/projects/P/topics/T`` is turned into
a ``google.cloud.pubsub.topic.v1.messagePublished`` CloudEvent by functions-framework (the
way Google documents testing Pub/Sub functions locally). The function raises (so the
framework answers 500: a nack) for the first ``fail`` deliveries of a message, ``fail``
being a message attribute (``"always"``: every time), and returns (200: an ack) after.
"""

from __future__ import annotations

import threading
from typing import Any

import functions_framework

deliveries: list[dict[str, Any]] = []
changed = threading.Condition()


@functions_framework.cloud_event
def receive(event: Any) -> None:
    message = event.data["message"]
    fail = message.get("attributes", {}).get("fail", "0")
    with changed:
        seen = sum(1 for d in deliveries if d["message_id"] == message["messageId"])
        deliveries.append(
            {
                "message_id": message["messageId"],
                "attributes": dict(event.get_attributes()),
                "data": event.data,
            }
        )
        changed.notify_all()
    if fail == "always" or seen < int(fail):
        raise RuntimeError(f"refusing delivery {seen + 1} of {message['messageId']}")
