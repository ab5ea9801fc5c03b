"""What the Functions host sends the Python worker for one invocation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class HostInvocation:
    """The trigger payload and trigger metadata as ``azure.functions.meta.Datum`` values,
    ready for the binding converter's ``decode(data, trigger_metadata=...)``."""

    data: Any
    trigger_metadata: dict[str, Any] = field(default_factory=dict)
