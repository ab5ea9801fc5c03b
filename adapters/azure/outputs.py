"""Output drivers through the Azure SDKs: Queue Storage or Service Bus queues, Service Bus
topics, Blob Storage and Event Grid.

Connections come from app settings, named the way Functions bindings name them
(``AzureWebJobsStorage``, ...): a connection string, or, for identity-based connections, the
``<setting>__accountName`` / ``__queueServiceUri`` / ``__blobServiceUri`` /
``__fullyQualifiedNamespace`` settings (then ``azure-identity`` supplies the credential).
SDKs are imported and clients built on first use, once, under a lock: a cold start that
sends nothing pays for none of it. Queues, containers and topics are never created here,
as the cloud would not create them either: a missing one raises :class:`OutputTargetNotFound`.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from polyfn import errors
from polyfn.errors import PolyfnError
from polyfn.events.cloudevent import CloudEvent
from polyfn.outputs import user_attributes

from .attributes import QueueAttributes
from .options import AzureOptions, resolve

if TYPE_CHECKING:
    from typing import Literal

PROVIDER = "azure"
log = logging.getLogger("polyfn.adapters.azure.outputs")

# A Storage queue message is at most 64 KiB as stored, i.e. after base64 when encoded.
STORAGE_QUEUE_MAX = 64 * 1024
# Blob metadata names must be C# identifiers (the service answers 400 InvalidMetadata).
_METADATA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class AzureOutputError(errors.OutputError):
    """An output that cannot be delivered as asked; names the service and the resource."""

    provider = PROVIDER


class OutputTargetNotFound(AzureOutputError, errors.OutputTargetNotFound):
    """The queue, container, topic or entity does not exist (polyfn creates none)."""


def _setting(name: str) -> str | None:
    value = os.environ.get(name)
    return value or None


# -- the driver -----------------------------------------------------------------------------
class AzureDriver:
    """Sends polyfn outputs to Azure.

    ``send`` goes to a Queue Storage queue, or to a Service Bus queue when
    ``options.queue_service`` is ``"servicebus"`` or the message has a group or
    de-duplication id (FIFO queues are Service Bus queues with sessions on Azure);
    ``publish`` to a Service Bus topic; ``put`` to Blob Storage (the bucket is the
    container); ``emit`` to an Event Grid topic as a CloudEvent. Names may be ``%Setting%``
    references, resolved from the app settings.

    Queue Storage messages have no attributes: ``queue_attributes="warn"`` (the default)
    sends the body and logs a warning, once per queue, naming what was dropped;
    ``"error"`` refuses the message.

    ``clients`` injects ready-made service clients instead of building them from app
    settings (tests, custom pipelines): ``"queue"`` a QueueServiceClient, ``"blob"`` a
    BlobServiceClient, ``"servicebus"`` a ServiceBusClient, ``"eventgrid"`` (or
    ``"eventgrid:<bus>"``) an EventGridPublisherClient. ``credential`` is the token
    credential of identity-based connections (default: azure-identity's
    DefaultAzureCredential).
    """

    def __init__(
        self,
        options: AzureOptions | None = None,
        *,
        queue_attributes: Literal["warn", "error"] = "warn",
        clients: Mapping[str, Any] | None = None,
        credential: Any = None,
    ) -> None:
        if queue_attributes not in ("warn", "error"):
            raise PolyfnError(
                f"azure outputs: queue_attributes must be 'warn' or 'error', "
                f"not {queue_attributes!r}"
            )
        self.options = options or AzureOptions()
        self._queue_attributes_policy = queue_attributes
        self._clients: dict[str, Any] = dict(clients or {})
        self._credential = credential
        self._queues: dict[str, Any] = {}
        self._senders: dict[tuple[str, str], tuple[Any, threading.Lock]] = {}
        self._queue_attributes = QueueAttributes(
            queue_attributes, "", "AzureDriver(queue_attributes='error')"
        )
        self._lock = threading.RLock()

    # -- clients ----------------------------------------------------------------------------
    def _client(self, service: str, bus: str | None = None) -> Any:
        key = service if bus is None else f"{service}:{bus}"
        c = self._clients.get(key)
        if c is None:
            with self._lock:
                c = self._clients.get(key)
                if c is None:
                    c = self._clients[key] = self._build(service, bus)
        return c

    def _build(self, service: str, bus: str | None) -> Any:
        s = self.options
        if service == "queue":
            from azure.storage.queue import QueueServiceClient

            return self._storage_client(
                QueueServiceClient, s.storage_connection, "queue", "storage queue"
            )
        if service == "blob":
            from azure.storage.blob import BlobServiceClient

            return self._storage_client(
                BlobServiceClient, s.storage_connection, "blob", "blob storage"
            )
        if service == "servicebus":
            from azure.servicebus import ServiceBusClient

            name = s.service_bus_connection
            conn = _setting(name)
            if conn is not None:
                return ServiceBusClient.from_connection_string(conn)
            namespace = _setting(f"{name}__fullyQualifiedNamespace")
            if namespace is not None:
                return ServiceBusClient(namespace, self._token_credential("service bus"))
            raise AzureOutputError(
                "service bus",
                name,
                f"app setting {name!r} (a connection string) or "
                f"{name}__fullyQualifiedNamespace is not set",
            )
        return self._eventgrid_client(bus)

    def _storage_client(self, cls: Any, name: str, kind: str, service: str) -> Any:
        conn = _setting(name)
        if conn is not None:
            return cls.from_connection_string(conn)
        url = _setting(f"{name}__{kind}ServiceUri") or (
            _setting(f"{name}__serviceUri") if kind == "blob" else None
        )
        account = _setting(f"{name}__accountName")
        if url is None and account is not None:
            url = f"https://{account}.{kind}.core.windows.net"
        if url is None:
            raise AzureOutputError(
                service,
                name,
                f"app setting {name!r} (a connection string) or {name}__accountName / "
                f"{name}__{kind}ServiceUri is not set",
            )
        return cls(url, credential=self._token_credential(service))

    def _eventgrid_client(self, bus: str | None) -> Any:
        s = self.options
        # A named bus reads its own pair of settings: "<bus>Endpoint" and "<bus>Key", the
        # way the default pair is "EventGridTopicEndpoint" and "EventGridTopicKey".
        endpoint_name = s.event_grid_endpoint_setting if bus is None else f"{bus}Endpoint"
        key_name = s.event_grid_key_setting if bus is None else f"{bus}Key"
        try:
            from azure.eventgrid import EventGridPublisherClient
        except ImportError:
            raise PolyfnError(
                "azure event grid output needs the azure-eventgrid package, which is not "
                "installed: pip install 'polyfn[azure]' (or azure-eventgrid)"
            ) from None
        from azure.core.credentials import AzureKeyCredential

        endpoint, key = _setting(endpoint_name), _setting(key_name)
        if endpoint is None or key is None:
            missing = [n for n, v in ((endpoint_name, endpoint), (key_name, key)) if v is None]
            raise AzureOutputError(
                "event grid topic",
                bus or "default",
                f"app setting(s) {', '.join(map(repr, missing))} not set "
                "(the topic endpoint and its access key)",
            )
        return EventGridPublisherClient(endpoint, AzureKeyCredential(key))

    def _token_credential(self, service: str) -> Any:
        if self._credential is None:
            try:
                from azure.identity import DefaultAzureCredential
            except ImportError:
                raise PolyfnError(
                    f"azure {service} output: an identity-based connection needs the "
                    "azure-identity package, which is not installed"
                ) from None
            self._credential = DefaultAzureCredential()
        return self._credential

    def _queue_client(self, queue: str) -> Any:
        q = self._queues.get(queue)
        if q is None:
            with self._lock:
                q = self._queues.get(queue)
                if q is None:
                    q = self._queues[queue] = self._client("queue").get_queue_client(queue)
        return q

    def _sender(self, kind: str, name: str) -> tuple[Any, threading.Lock]:
        # ServiceBusSender is not thread-safe: each keeps its own lock for its sends.
        entry = self._senders.get((kind, name))
        if entry is None:
            with self._lock:
                entry = self._senders.get((kind, name))
                if entry is None:
                    client = self._client("servicebus")
                    sender = (
                        client.get_queue_sender(queue_name=name)
                        if kind == "queue"
                        else client.get_topic_sender(topic_name=name)
                    )
                    entry = self._senders[(kind, name)] = (sender, threading.Lock())
        return entry

    def close(self) -> None:
        """Close the Service Bus senders and every client built so far."""
        with self._lock:
            senders, self._senders = list(self._senders.values()), {}
            clients, self._clients = list(self._clients.values()), {}
            self._queues.clear()
        for sender, _ in senders:
            sender.close()
        for client in clients:
            close = getattr(client, "close", None)
            if close is not None:
                close()

    # -- the OutputDriver protocol ------------------------------------------------------------
    def send(self, queue, body, attributes, group_id, deduplication_id, delay_seconds) -> str:  # type: ignore[no-untyped-def]
        queue = resolve(queue)
        # Sessions and duplicate detection exist on Service Bus only: a message that needs
        # them is for a FIFO queue, which the adapter makes a Service Bus queue.
        if (
            self.options.queue_service == "servicebus"
            or group_id is not None
            or deduplication_id is not None
        ):
            return self._servicebus_send(
                "queue", queue, body, attributes, group_id, deduplication_id, delay_seconds, None
            )
        return self._storage_send(queue, body, attributes, delay_seconds)

    def publish(self, topic, body, attributes, subject) -> str:  # type: ignore[no-untyped-def]
        return self._servicebus_send(
            "topic", resolve(topic), body, attributes, None, None, 0, subject
        )

    def put(self, bucket, key, data, content_type, metadata) -> str | None:  # type: ignore[no-untyped-def]
        bucket = resolve(bucket)
        bad = [name for name in metadata if not _METADATA_NAME.match(name)]
        if bad:
            raise AzureOutputError(
                "blob storage",
                f"{bucket}/{key}",
                f"metadata names {bad} are not valid on Azure (letters, digits and _, "
                "not starting with a digit)",
            )
        from azure.core.exceptions import ResourceNotFoundError
        from azure.storage.blob import ContentSettings

        blob = self._client("blob").get_blob_client(bucket, key)
        try:
            resp = blob.upload_blob(
                data,
                overwrite=True,
                content_settings=ContentSettings(content_type=content_type)
                if content_type
                else None,
                metadata=metadata or None,
            )
        except ResourceNotFoundError as e:
            raise OutputTargetNotFound(
                "blob storage", bucket, f"container does not exist ({e.error_code})"
            ) from e
        return resp.get("version_id") or resp.get("etag")

    def emit(self, event: CloudEvent, bus: str | None) -> str:
        from azure.core.messaging import CloudEvent as AzureCloudEvent

        if bus == "default":  # the neutral default bus is the app's own topic settings
            bus = None

        try:
            native = AzureCloudEvent(
                event.source,
                event.type,
                id=event.id,
                specversion=event.specversion,
                time=event.time,
                subject=event.subject,
                datacontenttype=event.datacontenttype,
                dataschema=event.dataschema,
                data=event.data,
                extensions=dict(event.extensions) or None,
            )
        except ValueError as e:
            raise AzureOutputError(
                "event grid topic",
                bus or "default",
                f"the event's extension names {sorted(event.extensions)} are not all "
                f"CloudEvents attribute names (lower-case letters and digits): {e}",
            ) from e
        from azure.core.exceptions import ResourceNotFoundError

        try:
            self._client("eventgrid", bus).send(native)
        except ResourceNotFoundError as e:
            raise OutputTargetNotFound(
                "event grid topic", bus or "default", f"the topic endpoint answered 404 ({e})"
            ) from e
        return event.id

    # -- Queue Storage ------------------------------------------------------------------------
    def _storage_send(
        self,
        queue: str,
        body: bytes,
        attributes: dict[str, str],
        delay_seconds: int,
    ) -> str:
        service = "storage queue"
        # polyfn's own attributes (trace context, idempotency key) are dropped silently.
        attributes = user_attributes(attributes)
        if attributes:
            self._queue_attributes(queue, attributes)
        content = self._queue_content(queue, body)
        from azure.core.exceptions import ResourceNotFoundError

        try:
            msg = self._queue_client(queue).send_message(
                content, visibility_timeout=delay_seconds or None
            )
        except ResourceNotFoundError as e:
            raise OutputTargetNotFound(
                service, queue, f"queue does not exist ({e.error_code})"
            ) from e
        return msg.id

    def _queue_content(self, queue: str, body: bytes) -> str:
        if self.options.queue_message_encoding == "base64":
            # What the Functions queue trigger expects by default: it base64-decodes each
            # message before the worker sees it (host.json messageEncoding "base64").
            content = base64.b64encode(body).decode("ascii")
        else:
            try:
                content = body.decode("utf-8")
            except UnicodeDecodeError:
                raise AzureOutputError(
                    "storage queue",
                    queue,
                    "a binary body needs queue_message_encoding 'base64' "
                    "(messageEncoding 'none' carries text only)",
                ) from None
        if len(content.encode("utf-8")) > STORAGE_QUEUE_MAX:
            raise AzureOutputError(
                "storage queue",
                queue,
                f"message of {len(body)} bytes is over Queue Storage's 64 KiB limit once "
                "encoded; put the body in a blob and send its name",
            )
        return content

    # -- Service Bus ---------------------------------------------------------------------------
    def _servicebus_send(
        self,
        kind: str,
        name: str,
        body: bytes,
        attributes: dict[str, str],
        group_id: str | None,
        deduplication_id: str | None,
        delay_seconds: int,
        subject: str | None,
    ) -> str:
        from azure.servicebus import ServiceBusMessage
        from azure.servicebus.exceptions import MessagingEntityNotFoundError

        if deduplication_id is None:
            import uuid  # only here: uuid costs import time at cold start

            message_id = str(uuid.uuid4())
        else:
            message_id = deduplication_id  # duplicate detection keys on MessageId
        message = ServiceBusMessage(
            body,
            application_properties=dict(attributes) or None,
            session_id=group_id,
            message_id=message_id,
            subject=subject,
            scheduled_enqueue_time_utc=(
                datetime.now(UTC) + timedelta(seconds=delay_seconds) if delay_seconds else None
            ),
        )
        sender, lock = self._sender(kind, name)
        try:
            with lock:
                sender.send_messages(message)
        except MessagingEntityNotFoundError as e:
            with self._lock:  # the link is dead; a later send opens a new one
                self._senders.pop((kind, name), None)
            sender.close()
            raise OutputTargetNotFound(
                f"service bus {kind}", name, f"entity does not exist ({e})"
            ) from e
        return message_id

    # -- reading back ---------------------------------------------------------------------------
    def get(self, bucket: str, key: str) -> bytes:
        """A blob's content (Get Blob); a missing blob or container raises
        :class:`OutputTargetNotFound`."""
        from azure.core.exceptions import ResourceNotFoundError

        bucket = resolve(bucket)
        blob = self._client("blob").get_blob_client(bucket, key)
        try:
            return blob.download_blob().readall()
        except ResourceNotFoundError as e:
            raise OutputTargetNotFound(
                "blob storage", f"{bucket}/{key}", f"blob does not exist ({e.error_code})"
            ) from e
