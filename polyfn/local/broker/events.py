"""The event bus: ``emit`` records a CloudEvent in the outbox for event triggers.

The event is stored as its CloudEvents attributes, its extensions, the bus name
(``"default"`` unless named) and its data: JSON values as they are, bytes base64-encoded
(``data_base64``, as the CloudEvents JSON format does). An event without a ``time`` gets
the clock's now, one without an ``id`` a new one.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from polyfn.events.cloudevent import CloudEvent
from polyfn.local.clock import to_time

from .core import dumps, new_id
from .errors import InvalidRequest
from .outbox import Outbox


class EventBus(Outbox):
    def emit(self, event: CloudEvent, bus: str | None = None) -> str:
        """Record ``event`` on ``bus``; returns its id."""
        if not event.source or not event.type:
            raise InvalidRequest("a CloudEvent needs a source and a type")
        with self._write() as db:
            now = self.clock.time()
            event_id = event.id or new_id()
            attributes: dict[str, Any] = {
                "specversion": event.specversion or "1.0",
                "id": event_id,
                "source": event.source,
                "type": event.type,
                "time": now if event.time is None else _time(event.time),
            }
            for name in ("subject", "datacontenttype", "dataschema"):
                value = getattr(event, name)
                if value is not None:
                    attributes[name] = value
            payload: dict[str, Any] = {
                "bus": bus or "default",
                "attributes": attributes,
                "extensions": dict(event.extensions),
            }
            if isinstance(event.data, bytes | bytearray):
                payload["data_base64"] = base64.b64encode(bytes(event.data)).decode("ascii")
            else:
                payload["data"] = event.data
            try:
                dumps(payload)
            except (TypeError, ValueError) as exc:
                raise InvalidRequest(
                    f"CloudEvent data and extensions must be JSON: {exc}"
                ) from None
            self._record(db, "event", event_id, payload, now)
        return event_id


def _time(value: datetime | str) -> float:
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return to_time(value)
