"""Values used when rendering a native AWS event from a neutral one that never was on AWS."""

import os

ACCOUNT = "123456789012"


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def uuid4() -> "uuid.UUID":  # noqa: F821 - imported on use
    """A random UUID. ``uuid`` is imported here, not at module level: only rendering
    native events (tests, local runs) needs one, never the Lambda hot path."""
    import uuid

    return uuid.uuid4()
