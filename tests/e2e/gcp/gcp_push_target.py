"""Push endpoints for the emulator's push tests, served by the real functions-framework.

``flaky`` records every push request it gets and answers 500 to the first ``fail`` requests
of each message (``?fail=N`` in the push URL; ``?fail=always`` never succeeds), then 204.
The tests read ``deliveries`` and wait on ``changed`` (no sleeping).
"""

from __future__ import annotations

import threading
from typing import Any

import functions_framework

deliveries: list[dict[str, Any]] = []
changed = threading.Condition()


@functions_framework.http
def flaky(request: Any) -> Any:
    envelope = request.get_json(silent=True)
    fail = request.args.get("fail", "0")
    with changed:
        message_id = (envelope or {}).get("message", {}).get("messageId")
        seen = sum(1 for d in deliveries if d["message_id"] == message_id)
        deliveries.append(
            {
                "message_id": message_id,
                "envelope": envelope,
                "headers": dict(request.headers),
                "args": dict(request.args),
            }
        )
        changed.notify_all()
    if fail == "always" or seen < int(fail):
        return ("not yet", 500)
    return ("", 204)
