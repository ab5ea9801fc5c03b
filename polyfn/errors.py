"""polyfn's error types: every failure names the provider, the event source and the field."""

from __future__ import annotations


class PolyfnError(Exception):
    """Base class of every error polyfn raises on purpose."""


class EventError(PolyfnError):
    """A native event polyfn cannot translate.

    ``provider`` is ``"aws"``, ``"azure"``, ``"gcp"`` or ``"local"``; ``source`` is the event
    source as the provider names it (``"aws:sqs"``, ``"apigateway-v2"``, ...); ``field`` is the
    dotted path of the offending field inside the native payload (``"Records[3].body"``).
    """

    def __init__(self, provider: str, source: str, field: str, reason: str) -> None:
        self.provider = provider
        self.source = source
        self.field = field
        self.reason = reason
        super().__init__(f"{provider} {source} event: field {field!r}: {reason}")


class MalformedEventError(EventError):
    """The event was recognised but a field is missing or has the wrong type."""


class UnsupportedEventError(EventError):
    """The event does not match any event source the adapter knows."""


class DefinitionError(PolyfnError):
    """An app, function or trigger definition is invalid."""


class HandlerError(PolyfnError):
    """A user handler failed; wraps the original exception with where it happened."""

    def __init__(self, function: str, provider: str, source: str, cause: BaseException) -> None:
        self.function = function
        self.provider = provider
        self.source = source
        self.cause = cause
        super().__init__(
            f"function {function!r} failed on {provider} {source} event: "
            f"{type(cause).__name__}: {cause}"
        )


class NoRouteError(PolyfnError):
    """No function of the app is bound to the incoming event."""

    def __init__(self, provider: str, source: str, detail: str) -> None:
        self.provider = provider
        self.source = source
        super().__init__(f"{provider} {source} event: no function of the app matches {detail}")


class OutputError(PolyfnError):
    """An output that cannot be delivered as asked; names provider, service and resource.
    Each adapter subclasses it with its ``provider``."""

    provider = "?"

    def __init__(self, service: str, resource: str, reason: str) -> None:
        self.service = service
        self.resource = resource
        self.reason = reason
        super().__init__(f"{self.provider} {service} {resource!r}: {reason}")


class OutputTargetNotFound(OutputError):
    """The queue, topic, bucket or bus does not exist (polyfn creates none)."""
