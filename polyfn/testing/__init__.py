"""polyfn's test toolkit: a pytest plugin (fixtures ``polyfn``, ``polyfn_app``, ...; the
``polyfn_providers`` marker — see :mod:`polyfn.testing.plugin`), the :class:`Harness` the
``polyfn`` fixture gives, and event factories (:mod:`polyfn.testing.factories`).

Names load lazily: importing this package costs nothing until one is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .errors import HandlerFailed, NotIdle
    from .factories import (
        change_event,
        cloud_event,
        from_native,
        from_sample,
        http_request,
        load_sample,
        queue_message,
        schedule_event,
        storage_event,
        topic_message,
    )
    from .harness import Harness
    from .tracing import without_trace

_WHERE = {
    "Harness": "harness",
    "HandlerFailed": "errors",
    "NotIdle": "errors",
    "without_trace": "tracing",
    **{
        name: "factories"
        for name in (
            "change_event",
            "cloud_event",
            "from_native",
            "from_sample",
            "http_request",
            "load_sample",
            "queue_message",
            "schedule_event",
            "storage_event",
            "topic_message",
        )
    },
}

__all__ = [
    "HandlerFailed",
    "Harness",
    "NotIdle",
    "change_event",
    "cloud_event",
    "from_native",
    "from_sample",
    "http_request",
    "load_sample",
    "queue_message",
    "schedule_event",
    "storage_event",
    "topic_message",
    "without_trace",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'polyfn.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
