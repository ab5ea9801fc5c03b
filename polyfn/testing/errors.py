"""What the test toolkit raises: assertion errors, so pytest reports them as test
failures with their message."""

from __future__ import annotations


class HandlerFailed(AssertionError):
    """A function failed on a delivery the test did not expect to fail."""


class NotIdle(AssertionError):
    """The runtime did not become idle."""
