"""How a polyfn app maps onto Azure services: ``AzureOptions``.

Names. A neutral name (queue, topic, bucket → container, stream → event hub, change source
→ Cosmos DB container) is used literally by default. Written as an app setting reference,
``"%OrdersQueue%"``, it passes through unchanged and Azure resolves it from the app settings
when the host starts, the way Azure users configure bindings. The adapter resolves it the
same way (from the environment, where the host puts app settings) when it compares names at
run time (blob events against the trigger's container).

Connections are the *names* of app settings (or setting prefixes, for identity-based
connections) holding how to connect, never secrets: ``AzureWebJobsStorage`` for Storage
queues and blobs, ``ServiceBusConnection``, ``EventHubConnection``, ``CosmosDBConnection``.

Queues. Neutral queues are Storage queues by default (``queue_service="storage"``) or
Service Bus queues (``"servicebus"``); FIFO queues (``fifo=True``) are always Service Bus
queues with sessions (Storage queues have no order), the group id being the session id.
Topics are Service Bus topics; each function reads its own subscription (``subscription``,
default: the Azure function's name).

HTTP. Azure serves functions under ``/api`` unless host.json says otherwise: the adapter
writes ``extensions.http.routePrefix`` from ``route_prefix`` (default ``""``, so the app's
routes are the URLs, as on AWS).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Literal

from polyfn.errors import DefinitionError

STRATEGIES = ("fixed_delay", "exponential_backoff")
AUTH_LEVELS = ("anonymous", "function", "admin")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """A function-level retry policy (``@app.retry``): Azure honours it for Event Hubs,
    Cosmos DB and timer triggers. ``max_retry_count=-1`` retries for ever. Intervals are
    seconds."""

    strategy: str = "exponential_backoff"
    max_retry_count: int = 5
    delay_interval: int | None = None
    minimum_interval: int | None = 4
    maximum_interval: int | None = 900

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise DefinitionError(
                f"azure retry policy: strategy: {self.strategy!r} not in {STRATEGIES}"
            )
        if self.strategy == "fixed_delay" and self.delay_interval is None:
            raise DefinitionError("azure retry policy: delay_interval: fixed_delay needs one")

    def decorator_kwargs(self) -> dict[str, str]:
        """The arguments of ``FunctionApp.retry``: strings, intervals as ``hh:mm:ss``."""
        kw = {"strategy": self.strategy, "max_retry_count": str(self.max_retry_count)}
        if self.strategy == "fixed_delay":
            kw["delay_interval"] = hhmmss(self.delay_interval or 0)
        else:
            kw["minimum_interval"] = hhmmss(self.minimum_interval or 0)
            kw["maximum_interval"] = hhmmss(self.maximum_interval or 0)
        return kw


def _default_stream_retry() -> RetryPolicy:
    return RetryPolicy()


@dataclass(frozen=True, slots=True)
class AzureOptions:
    """Everything the Azure adapter lets you choose; the defaults follow Azure's own."""

    queue_service: Literal["storage", "servicebus"] = "storage"
    """What backs neutral queues; FIFO queues are Service Bus sessions either way."""
    storage_connection: str = "AzureWebJobsStorage"
    service_bus_connection: str = "ServiceBusConnection"
    event_hub_connection: str = "EventHubConnection"
    cosmos_connection: str = "CosmosDBConnection"
    event_grid_endpoint_setting: str = "EventGridTopicEndpoint"
    """App setting with the Event Grid topic endpoint ``ctx.outputs.emit`` sends to."""
    event_grid_key_setting: str = "EventGridTopicKey"

    cosmos_database: str | None = None
    """Database of ``change("container")``; ``change("database/container")`` names its own."""
    cosmos_lease_container: str = "leases"
    cosmos_create_leases: bool = False
    """Let the trigger create the lease container (not allowed with identity connections)."""
    event_hub_consumer_group: str | None = None
    """None: Azure's default, ``$Default``."""
    subscription: str = "{function}"
    """Service Bus subscription of topic triggers; ``{function}`` is the Azure function name."""

    auth_level: str | None = None
    """When set (``"function"``, ``"admin"``), every HTTP function requires it instead of its
    neutral ``auth``."""
    route_prefix: str = ""
    """host.json ``extensions.http.routePrefix`` (Azure's default is ``"api"``)."""

    time_zone: str = "UTC"
    """The WEBSITE_TIME_ZONE app setting the app is deployed with (Azure applies one time
    zone to every timer of the app); schedule triggers must use this time zone."""
    timespan_schedules: bool = False
    """Rates NCRONTAB cannot space evenly become TimeSpan schedules (App Service plans only)."""
    blob_source: Literal["LogsAndContainerScan", "EventGrid"] | None = None
    """The blob trigger's ``source``; None: Azure's default (polling, LogsAndContainerScan)."""
    queue_message_encoding: Literal["base64", "none"] = "base64"
    """host.json ``queues.messageEncoding``: how Storage queue triggers and outputs encode
    message bodies (Azure's default base64; the SDK drivers follow it)."""
    queue_attributes: Literal["warn", "error"] = "warn"
    """Queue Storage messages have no attributes: ``"warn"`` sends the body and logs a
    warning once per queue naming what was dropped, ``"error"`` refuses the message
    (the SDK driver and the queue output bindings alike)."""

    stream_retry: RetryPolicy | None = field(default_factory=_default_stream_retry)
    """Retry policy of Event Hubs and Cosmos DB triggers: a failed batch is re-run until it
    succeeds or the retries are spent; then the checkpoint moves on (see functionapp.py)."""
    schedule_retry: RetryPolicy | None = None
    """Retry policy of timer triggers (Azure's default: none, the next occurrence runs)."""
    function_timeout: int | None = None
    """Seconds; host.json ``functionTimeout`` and the handlers' ``ctx.deadline``. None:
    the plan's default, and no deadline is known to handlers."""
    extension_bundle: str = "[4.*, 5.0.0)"

    def __post_init__(self) -> None:
        if self.queue_service not in ("storage", "servicebus"):
            raise DefinitionError(
                f"azure options: queue_service: {self.queue_service!r} is not 'storage' "
                "or 'servicebus'"
            )
        if self.auth_level is not None and self.auth_level not in AUTH_LEVELS:
            raise DefinitionError(
                f"azure options: auth_level: {self.auth_level!r} not in {AUTH_LEVELS}"
            )
        if self.queue_message_encoding not in ("base64", "none"):
            raise DefinitionError(
                "azure options: queue_message_encoding: must be 'base64' or 'none'"
            )
        if self.queue_attributes not in ("warn", "error"):
            raise DefinitionError("azure options: queue_attributes: must be 'warn' or 'error'")
        if self.function_timeout is not None and self.function_timeout <= 0:
            raise DefinitionError("azure options: function_timeout: must be positive seconds")


def hhmmss(seconds: int) -> str:
    """A .NET TimeSpan for host.json and retry policies: ``00:00:30``, ``1.00:00:00``."""
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{days}.{clock}" if days else clock


_SETTING = re.compile(r"%([^%]+)%")


def resolve(name: str) -> str:
    """A name with ``%Setting%`` references resolved from the environment (app settings are
    environment variables in the worker); unknown settings stay as written."""
    if "%" not in name:
        return name
    return _SETTING.sub(lambda m: os.environ.get(m.group(1), m.group(0)), name)
