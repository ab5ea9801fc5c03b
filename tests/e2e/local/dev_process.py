"""``SafeDev``: the ``Dev`` helper of test_dev_server, killed when a wait fails, even one in
its constructor (where no fixture holds it yet to stop it)."""

from __future__ import annotations

from typing import Any

from .test_dev_server import START_TIMEOUT, Dev


class SafeDev(Dev):
    def wait_for(self, pattern: Any, timeout: float = START_TIMEOUT) -> Any:
        try:
            return super().wait_for(pattern, timeout)
        except BaseException:
            self.proc.kill()
            raise

    def wait_ready(self) -> None:
        try:
            super().wait_ready()
        except BaseException:
            self.proc.kill()
            raise
