"""The one error the command line reports itself: a message and an exit status."""

from __future__ import annotations

USAGE = 2  # a bad argument, event, target or app: nothing ran
FAILED = 1  # it ran, and the function failed (or, for check, a trigger is unsupported)


class CliError(Exception):
    """Printed as ``polyfn: <message>`` on stderr; the command exits with ``status``."""

    def __init__(self, message: str, status: int = USAGE) -> None:
        super().__init__(message)
        self.status = status
