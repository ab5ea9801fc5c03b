"""The machinery shared by every neutral event.

A neutral event is a small class with ``__slots__``: constructed from values (tests, the
local runtime) it stores them directly; an adapter instead subclasses it with a *view*
whose properties read the native payload on first touch, so an event costs almost nothing
until the handler reads it. Pydantic is imported only when a model, a schema or a
validation is asked for, never on the hot path.
"""

from __future__ import annotations

import json as _json
from typing import Any, ClassVar, TypeVar

T = TypeVar("T")

_MISSING: Any = object()


class NeutralEvent:
    """Base of all neutral events.

    Every event carries, besides its typed fields:

    - ``provider``: ``"aws"``, ``"azure"``, ``"gcp"`` or ``"local"``;
    - ``event_source``: the native event source (``"aws:sqs"``, ``"aws:apigateway-v2"``, ...);
    - ``extensions``: what only this provider's payload has, under the provider's own
      field names, so that nothing of the native event is lost;
    - ``native``: the native event (or record) itself, the escape hatch.
    """

    __slots__ = ("event_source", "extensions", "native", "provider")
    KIND: ClassVar[str] = "event"
    fields: ClassVar[tuple[str, ...]] = ()
    provider: str
    event_source: str
    extensions: dict[str, Any]
    native: Any

    def _init_common(
        self, provider: str, event_source: str, extensions: dict[str, Any] | None, native: Any
    ) -> None:
        self.provider = provider
        self.event_source = event_source
        self.extensions = {} if extensions is None else extensions
        self.native = native

    def values(self) -> dict[str, Any]:
        """The typed neutral fields as a dict (provider-independent)."""
        return {name: getattr(self, name) for name in self.fields}

    def to_dict(self) -> dict[str, Any]:
        """Every field, including ``provider``, ``source`` and ``extensions``."""
        out = self.values()
        out["provider"] = self.provider
        out["event_source"] = self.event_source
        out["extensions"] = self.extensions
        return out

    def __eq__(self, other: object) -> bool:
        # Equality is on the neutral fields only: the same logical event from two
        # providers compares equal even though their native payloads differ.
        if not isinstance(other, NeutralEvent) or other.KIND != self.KIND:
            return NotImplemented
        return self.values() == other.values()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.values().items())
        where = f"provider={self.provider!r}, event_source={self.event_source!r}"
        return f"{type(self).__name__}({shown}, {where})"

    # -- pydantic integration (built on first use) -------------------------------------
    @classmethod
    def model(cls) -> type[Any]:
        """A pydantic model mirroring this event's fields (for schemas and validation)."""
        from polyfn.events._pydantic import mirror_model

        return mirror_model(cls)

    @classmethod
    def validate(cls: type[T], data: Any) -> T:
        """Build an event from plain data, validated by pydantic."""
        from polyfn.events._pydantic import validate_event

        return validate_event(cls, data)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        from polyfn.events._pydantic import event_core_schema

        return event_core_schema(cls)


class Body:
    """Mixin for events that carry a payload as bytes, with text and JSON helpers."""

    __slots__ = ()
    body: bytes

    @property
    def text(self) -> str:
        """The body decoded as UTF-8."""
        return self.body.decode("utf-8")

    def json(self, model: type[T] | None = None) -> Any:
        """The body parsed as JSON; with ``model``, validated into that pydantic type."""
        if model is None:
            return _json.loads(self.text)
        from polyfn.events._pydantic import adapter_for

        return adapter_for(model).validate_json(self.text)


# What json.dumps(value, separators=(",", ":"), ensure_ascii=False) would build on every
# call; an encoder keeps no state between calls, so one is shared.
_encode = _json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def json_bytes(value: Any) -> bytes:
    """Compact JSON encoding used for every body polyfn produces."""
    return _encode(value).encode("utf-8")
