"""CloudEvents 1.0, the neutral envelope for event-bus events."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from polyfn.events._base import NeutralEvent


class CloudEvent(NeutralEvent):
    """A CloudEvents 1.0 event. Its ``extensions`` are the CloudEvents extension
    attributes, together with anything only the delivering provider has."""

    __slots__ = (
        "data",
        "datacontenttype",
        "dataschema",
        "id",
        "source",
        "specversion",
        "subject",
        "time",
        "type",
    )
    KIND: ClassVar[str] = "cloudevent"
    fields: ClassVar[tuple[str, ...]] = (
        "id",
        "source",
        "type",
        "specversion",
        "subject",
        "time",
        "datacontenttype",
        "dataschema",
        "data",
    )
    defaults: ClassVar[dict[str, Any]] = {
        "specversion": "1.0",
        "subject": None,
        "time": None,
        "datacontenttype": None,
        "dataschema": None,
        "data": None,
    }

    id: str
    source: str
    """The CloudEvents ``source`` attribute."""
    type: str
    specversion: str
    subject: str | None
    time: datetime | None
    datacontenttype: str | None
    dataschema: str | None
    data: Any

    def __init__(
        self,
        id: str,
        source: str,
        type: str,
        data: Any = None,
        *,
        specversion: str = "1.0",
        subject: str | None = None,
        time: datetime | None = None,
        datacontenttype: str | None = None,
        dataschema: str | None = None,
        provider: str = "local",
        event_source: str = "local:event",
        extensions: dict[str, Any] | None = None,
        native: Any = None,
    ) -> None:
        self.id = id
        self.source = source
        self.type = type
        self.data = data
        self.specversion = specversion
        self.subject = subject
        self.time = time
        self.datacontenttype = datacontenttype
        self.dataschema = dataschema
        self._init_common(provider, event_source, extensions, native)

    def attributes(self) -> dict[str, Any]:
        """The CloudEvents context attributes, under their CloudEvents names."""
        out: dict[str, Any] = {
            "specversion": self.specversion,
            "id": self.id,
            "source": self.source,
            "type": self.type,
        }
        for name in ("subject", "time", "datacontenttype", "dataschema"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        out.update(self.extensions)
        return out
