"""The neutral events every adapter translates to and from."""

from polyfn.events._base import NeutralEvent
from polyfn.events.change import ChangeEvent
from polyfn.events.cloudevent import CloudEvent
from polyfn.events.http import HttpRequest, HttpResponse, as_response
from polyfn.events.messages import QueueMessage, TopicMessage
from polyfn.events.multidict import Headers, QueryParams
from polyfn.events.schedule import ScheduleEvent
from polyfn.events.storage import StorageEvent

__all__ = [
    "ChangeEvent",
    "CloudEvent",
    "Headers",
    "HttpRequest",
    "HttpResponse",
    "NeutralEvent",
    "QueryParams",
    "QueueMessage",
    "ScheduleEvent",
    "StorageEvent",
    "TopicMessage",
    "as_response",
]
