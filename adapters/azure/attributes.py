"""Queue Storage messages have no attributes: what happens to a message sent with some."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger("polyfn.adapters.azure.outputs")


class QueueAttributes:
    """Checks a Queue Storage message's attributes before it is sent without them:
    ``policy`` "error" refuses it (AzureOutputError), "warn" logs once per queue (a
    warning per message would be noise). ``where`` and ``setting`` name, in the warning,
    the path that sends (driver or output binding) and the setting that refuses."""

    def __init__(self, policy: str, where: str, setting: str) -> None:
        self.policy = policy
        self.where = where
        self.setting = setting
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, queue: str, attributes: dict[str, str]) -> None:
        reason = f"Queue Storage messages have no attributes; {sorted(attributes)} cannot be sent"
        if self.policy == "error":
            from .outputs import AzureOutputError

            raise AzureOutputError("storage queue", queue, reason)
        with self._lock:
            first = queue not in self._warned
            self._warned.add(queue)
        if first:
            log.warning(
                "azure storage queue %r%s: %s and were dropped (%s refuses such messages; "
                "Service Bus queues keep them)",
                queue,
                self.where,
                reason,
                self.setting,
            )
