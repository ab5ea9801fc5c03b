"""Values used when rendering a native AWS event from a neutral one that never was on AWS."""

import os

ACCOUNT = "123456789012"


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
