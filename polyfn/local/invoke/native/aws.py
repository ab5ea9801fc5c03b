"""AWS: the Lambda event, which is JSON already (``polyfn.adapters.aws.to_native``)."""

from __future__ import annotations

from typing import Any

from polyfn.errors import PolyfnError
from polyfn.events import NeutralEvent
from polyfn.local.invoke import InvokeError

# Sources whose event carries ``Records``: a batch of neutral events is one Lambda event.
RECORD_SOURCES = ("sqs", "kinesis", "sns", "s3", "dynamodb")


def sources_for(kind: str) -> list[str]:
    """The AWS event sources delivering neutral events of ``kind`` (``"queue"`` → sqs,
    kinesis), the default first."""
    from polyfn.adapters.aws.recognise import DEFAULT_FOR_KIND, MODULES, module

    default = DEFAULT_FOR_KIND.get(kind)
    others = [k for k in MODULES if k != default and kind == module(k).KIND]
    return ([default] if default else []) + others


def render(events: NeutralEvent | list[NeutralEvent], source: str | None = None) -> Any:
    """The Lambda event ``source`` (default: the kind's usual one) would deliver."""
    from polyfn.adapters.aws import to_native

    batch = events if isinstance(events, list) else [events]
    kind = batch[0].KIND
    allowed = sources_for(kind)
    source = source or allowed[0]
    if source not in allowed:
        raise InvokeError(
            f"--source {source!r}: AWS delivers {_name(kind)} events from {', '.join(allowed)}"
        )
    if source not in RECORD_SOURCES and len(batch) > 1:
        raise InvokeError(f"AWS {source} delivers one event per invocation; give one, not a list")
    try:
        return to_native(batch if source in RECORD_SOURCES else batch[0], source=source)
    except (PolyfnError, ValueError) as e:
        raise InvokeError(f"AWS {source}: {e}") from None


def _name(kind: str) -> str:
    return "event" if kind == "cloudevent" else kind
