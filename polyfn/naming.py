"""Neutral names to the environment variables that hold their physical names.

Deployment descriptors let the platform name what they declare (a CloudFormation queue is
``stack-OrdersQueue-1X2Y3Z``); they pass each physical name to the functions as
``POLYFN_<KIND>_<NAME>`` (``POLYFN_QUEUE_ORDER_EVENTS``), which the output drivers and
stores read before falling back to the neutral name itself.
"""

from __future__ import annotations

import os
import re

_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]")


def env_suffix(name: str) -> str:
    """``order-events`` → ``ORDER_EVENTS``."""
    return _NOT_ALNUM.sub("_", name).upper()


def env_var(kind: str, name: str) -> str:
    """``env_var("queue", "order-events")`` → ``POLYFN_QUEUE_ORDER_EVENTS``."""
    return f"POLYFN_{kind.upper()}_{env_suffix(name)}"


def physical(kind: str, name: str) -> str:
    """The physical name the environment gives ``name`` of ``kind``, else ``name``."""
    return os.environ.get(env_var(kind, name)) or name
