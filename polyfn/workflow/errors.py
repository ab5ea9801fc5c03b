"""Errors raised while interpreting a state machine (Step Functions' States.* names)."""

from __future__ import annotations


class WorkflowError(Exception):
    """An error a state raises: ``error`` is the name Retry/Catch match, ``cause`` the text."""

    def __init__(self, error: str, cause: str | None = None):
        super().__init__(f"{error}: {cause}" if cause else error)
        self.error = error
        self.cause = cause


def runtime(cause: str) -> WorkflowError:
    return WorkflowError("States.Runtime", cause)
