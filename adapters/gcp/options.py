"""How a polyfn app maps onto Google Cloud: ``GcpOptions``.

Names are used literally: a neutral queue ``orders`` is the Pub/Sub topic ``orders`` (and
the subscription that feeds the function), a topic is a topic, a bucket a bucket, a change
source a Firestore collection path (``users/{uid}/orders`` for a subcollection).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from polyfn.errors import DefinitionError


@dataclass(frozen=True, slots=True)
class GcpOptions:
    """Everything the Google Cloud adapter lets you choose."""

    event_signature: Literal["cloudevent", "background"] = "cloudevent"
    """Event triggers as CloudEvent functions (Cloud Run functions, Cloud Functions 2nd
    gen) or as legacy background functions ``(data, context)`` (Cloud Functions 1st gen)."""
    scheduler: Literal["pubsub", "http"] = "pubsub"
    """How Cloud Scheduler runs schedule triggers: by publishing to a topic named after the
    function, or by POSTing to an HTTP function."""
    time_zone: str | None = None
    """The scheduler jobs' time zone when a schedule trigger names none other than UTC."""
    timeout: int | None = None
    """Seconds; the function's timeout as deployed, for ``ctx.deadline`` (1st gen tells it
    in ``FUNCTION_TIMEOUT_SEC``; 2nd gen tells nothing)."""
    project: str | None = None
    """The project outputs go to; None: ``GOOGLE_CLOUD_PROJECT`` (set on Cloud Run)."""

    def __post_init__(self) -> None:
        if self.event_signature not in ("cloudevent", "background"):
            raise DefinitionError(
                f"gcp options: event_signature: {self.event_signature!r} is not "
                "'cloudevent' or 'background'"
            )
        if self.scheduler not in ("pubsub", "http"):
            raise DefinitionError(
                f"gcp options: scheduler: {self.scheduler!r} is not 'pubsub' or 'http'"
            )
        if self.timeout is not None and self.timeout <= 0:
            raise DefinitionError("gcp options: timeout: must be positive seconds")
