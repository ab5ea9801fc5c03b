"""Any Eventarc event → the neutral CloudEvent, and back.

Eventarc delivers CloudEvents 1.0 (binary mode over HTTP; functions-framework hands the
function a ``cloudevents`` SDK event): every attribute maps to itself, ``time`` is parsed,
the extension attributes are the extensions, and ``data`` is the JSON value (bytes for
binary data such as protobuf). A legacy event becomes its CloudEvent first (the mapping of
the Functions Frameworks). Custom events (published to an Eventarc channel), audit-log
events and every Google source this adapter has no neutral type for arrive this way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from polyfn.events.cloudevent import CloudEvent

from . import _common as c

EVENT_SOURCE = "gcp:eventarc"
KIND = "cloudevent"


class EventarcCloudEvent(CloudEvent):
    """A view of one CloudEvent delivered by Eventarc."""

    __slots__ = ("_e",)
    provider = "gcp"
    event_source = EVENT_SOURCE

    def __init__(self, env: c.Envelope) -> None:
        self._e = env
        attrs = env.attrs
        for name in ("id", "source", "type"):
            if not isinstance(attrs.get(name), str) or not attrs[name]:
                raise c.malformed(EVENT_SOURCE, name)
        self.id = attrs["id"]
        self.source = attrs["source"]
        self.type = attrs["type"]

    @property
    def native(self) -> Any:  # type: ignore[override]
        return self._e.native

    @property
    def specversion(self) -> str:  # type: ignore[override]
        return self._e.attrs.get("specversion") or c.SPECVERSION

    @property
    def subject(self) -> str | None:  # type: ignore[override]
        return self._e.attrs.get("subject")

    @property
    def time(self) -> datetime | None:  # type: ignore[override]
        when = self._e.attrs.get("time")
        return None if when is None else c.parse_time(when, EVENT_SOURCE, "time")

    @property
    def datacontenttype(self) -> str | None:  # type: ignore[override]
        return self._e.attrs.get("datacontenttype")

    @property
    def dataschema(self) -> str | None:  # type: ignore[override]
        return self._e.attrs.get("dataschema")

    @property
    def data(self) -> Any:  # type: ignore[override]
        return self._e.data

    @property
    def extensions(self) -> dict[str, Any]:  # type: ignore[override]
        return {k: v for k, v in self._e.attrs.items() if k not in c.CORE_ATTRIBUTES}


def from_native(native: Any) -> CloudEvent:
    env = c.envelope(native, EVENT_SOURCE)
    if env.form == "push":
        raise c.unsupported(EVENT_SOURCE, "event", "a Pub/Sub push body is no CloudEvent")
    return EventarcCloudEvent(env)


def to_cloudevent(event: CloudEvent) -> tuple[dict[str, Any], Any]:
    attrs: dict[str, Any] = {
        "specversion": event.specversion or c.SPECVERSION,
        "id": event.id,
        "source": event.source,
        "type": event.type,
    }
    if event.subject is not None:
        attrs["subject"] = event.subject
    if event.time is not None:
        attrs["time"] = c.format_time(event.time)
    if event.datacontenttype is not None:
        attrs["datacontenttype"] = event.datacontenttype
    elif event.data is not None and not isinstance(event.data, bytes):
        attrs["datacontenttype"] = c.JSON
    if event.dataschema is not None:
        attrs["dataschema"] = event.dataschema
    for name, value in event.extensions.items():
        # Another provider's extensions that are no CloudEvents attribute (nested values,
        # names outside a-z0-9) cannot travel as attributes.
        if isinstance(value, str | int | bool) and name.isalnum() and name.islower():
            attrs[name] = value
    return attrs, event.data


def to_native(event: CloudEvent, mode: str = "binary") -> Any:
    """``event`` as Eventarc delivers it (modes: see _common.render, but no legacy form:
    Pub/Sub, Storage and Firestore events have theirs in their own modules)."""
    attrs, data = to_cloudevent(event)
    return c.render(attrs, data, mode, None)
