"""Output drivers through the Google Cloud client libraries: Pub/Sub and Cloud Storage.

How the neutral outputs map onto Google Cloud (``GcpDriver``):

- ``publish(topic)``: a Pub/Sub message on the topic. Pub/Sub messages have no subject:
  a ``subject`` travels as the attribute ``"subject"``.
- ``send(queue)``: Google Cloud has no queue service a function triggers on; a neutral
  queue is a Pub/Sub topic whose subscription its consumer reads, so ``send`` publishes to
  the topic of the queue's name. ``group_id`` is the message's ordering key (the publisher
  enables message ordering; the consumer's subscription needs
  ``enable_message_ordering``). Pub/Sub does not de-duplicate on publish:
  ``deduplication_id`` travels as the attribute ``"deduplication_id"`` for the consumer to
  use. Pub/Sub has no delayed delivery: a non-zero ``delay_seconds`` is refused (Cloud
  Tasks schedules deliveries; polyfn does not pretend to).
- ``put(bucket, key)``: a Cloud Storage object with the content type and metadata; returns
  the object's generation.
- ``emit(event, bus)``: the Eventarc libraries have no generic publish call for a
  CloudEvent, so the event is published to the Pub/Sub topic named by ``bus`` (default:
  ``event_topic``, or the ``POLYFN_GCP_EVENT_TOPIC`` setting) in the binary content mode of
  the CloudEvents Pub/Sub protocol binding: the data as the message data, ``datacontenttype``
  as the ``Content-Type`` attribute, every other attribute as ``ce-<name>``. An Eventarc
  trigger on that topic delivers it to functions (as a ``messagePublished`` event).

Topic names may be full names (``projects/P/topics/T``); short ones are in the project of
``project``, ``GOOGLE_CLOUD_PROJECT`` (or ``GCLOUD_PROJECT``, ``GCP_PROJECT``), else the
project of the application default credentials. SDKs are imported and clients built on
first use, once, under a lock. ``PUBSUB_EMULATOR_HOST`` and ``STORAGE_EMULATOR_HOST`` are
honoured: clients then use anonymous credentials and nothing asks Google's auth or metadata
servers for anything (the project must then be given or set). Topics and buckets are never
created: a missing one raises :class:`OutputTargetNotFound`.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from polyfn import errors
from polyfn.events.cloudevent import CloudEvent
from polyfn.outputs import encode_body

PROVIDER = "gcp"
SUBJECT_ATTRIBUTE = "subject"
DEDUPLICATION_ATTRIBUTE = "deduplication_id"
EVENT_TOPIC_SETTING = "POLYFN_GCP_EVENT_TOPIC"
PROJECT_SETTINGS = ("GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT", "GCP_PROJECT")
# google-cloud-pubsub takes attributes as **kwargs of publish(topic, data, ordering_key,
# retry, timeout): attributes of these names cannot be passed through it.
_RESERVED_ATTRIBUTES = frozenset({"topic", "data", "ordering_key", "retry", "timeout", "self"})
# CloudEvents attribute names: lower-case letters and digits (CloudEvents 1.0, "Naming").
_CE_NAME = re.compile(r"[a-z0-9]+\Z")


class GcpOutputError(errors.OutputError):
    """An output that cannot be delivered as asked; names the service and the resource."""

    provider = PROVIDER


class OutputTargetNotFound(GcpOutputError, errors.OutputTargetNotFound):
    """The topic or bucket does not exist (polyfn creates none)."""


def _setting(name: str) -> str | None:
    return os.environ.get(name) or None


class GcpDriver:
    """Sends polyfn outputs to Google Cloud (see the module docstring for the mapping).

    ``project`` names the project of short topic names; ``event_topic`` is the topic
    ``emit`` publishes to when no bus is given. ``clients`` injects ready-made clients
    (tests, custom settings): ``"pubsub"`` a ``pubsub_v1.PublisherClient`` (with message
    ordering enabled, for ``group_id``), ``"storage"`` a ``storage.Client``.
    ``publish_timeout`` bounds the wait for Pub/Sub to accept a message, in seconds.
    """

    def __init__(
        self,
        project: str | None = None,
        *,
        event_topic: str | None = None,
        clients: Mapping[str, Any] | None = None,
        publish_timeout: float = 60.0,
    ) -> None:
        self._project = project
        self.event_topic = event_topic
        self.publish_timeout = publish_timeout
        self._clients: dict[str, Any] = dict(clients or {})
        self._lock = threading.Lock()

    # -- configuration ----------------------------------------------------------------------
    def project(self) -> str:
        """The project of short names: given, from the settings, or from the credentials."""
        if self._project is None:
            found = next(filter(None, map(_setting, PROJECT_SETTINGS)), None)
            if found is None and not (
                _setting("PUBSUB_EMULATOR_HOST") or _setting("STORAGE_EMULATOR_HOST")
            ):
                import google.auth

                _, found = google.auth.default()
            if not found:
                raise GcpOutputError(
                    "pubsub",
                    "project",
                    "no project: pass GcpDriver(project=...) or set GOOGLE_CLOUD_PROJECT",
                )
            self._project = found
        return self._project

    def topic_path(self, topic: str) -> str:
        if topic.startswith("projects/"):
            return topic
        return f"projects/{self.project()}/topics/{topic}"

    # -- clients ----------------------------------------------------------------------------
    def _client(self, service: str) -> Any:
        c = self._clients.get(service)
        if c is None:
            with self._lock:
                c = self._clients.get(service)
                if c is None:
                    c = self._clients[service] = self._build(service)
        return c

    def _build(self, service: str) -> Any:
        if service == "pubsub":
            from google.cloud import pubsub_v1

            kwargs: dict[str, Any] = {}
            if _setting("PUBSUB_EMULATOR_HOST"):
                from google.auth.credentials import AnonymousCredentials

                kwargs["credentials"] = AnonymousCredentials()
            # One publisher for every topic; ordering on, so that group ids keep their order.
            options = pubsub_v1.types.PublisherOptions(enable_message_ordering=True)
            return pubsub_v1.PublisherClient(publisher_options=options, **kwargs)
        from google.cloud import storage

        if _setting("STORAGE_EMULATOR_HOST"):
            from google.auth.credentials import AnonymousCredentials

            project = self._project or next(filter(None, map(_setting, PROJECT_SETTINGS)), None)
            return storage.Client(project=project, credentials=AnonymousCredentials())
        return storage.Client(project=self._project)

    def close(self) -> None:
        """Flush and stop the publisher; close the storage client."""
        with self._lock:
            clients, self._clients = self._clients, {}
        publisher = clients.get("pubsub")
        if publisher is not None:
            publisher.stop()
        storage_client = clients.get("storage")
        if storage_client is not None and hasattr(storage_client, "close"):
            storage_client.close()

    # -- the OutputDriver protocol ------------------------------------------------------------
    def publish(self, topic, body, attributes, subject) -> str:  # type: ignore[no-untyped-def]
        attrs = dict(attributes)
        if subject is not None:
            self._add_attribute(attrs, SUBJECT_ATTRIBUTE, subject, "pubsub topic", topic)
        return self._publish(topic, body, attrs, "")

    def send(self, queue, body, attributes, group_id, deduplication_id, delay_seconds) -> str:  # type: ignore[no-untyped-def]
        if delay_seconds:
            raise GcpOutputError(
                "pubsub topic",
                queue,
                f"delay_seconds={delay_seconds}: Pub/Sub has no delayed delivery (a queue "
                "is a Pub/Sub topic on Google Cloud); send without a delay, or schedule "
                "the message with Cloud Tasks",
            )
        attrs = dict(attributes)
        if deduplication_id is not None:
            self._add_attribute(
                attrs, DEDUPLICATION_ATTRIBUTE, deduplication_id, "pubsub topic", queue
            )
        return self._publish(queue, body, attrs, group_id or "")

    def put(self, bucket, key, data, content_type, metadata) -> str | None:  # type: ignore[no-untyped-def]
        from google.api_core.exceptions import NotFound

        blob = self._client("storage").bucket(bucket).blob(key)
        if metadata:
            blob.metadata = dict(metadata)
        try:
            blob.upload_from_string(data, content_type=content_type)
        except NotFound as e:
            raise OutputTargetNotFound(
                "cloud storage", bucket, f"bucket does not exist ({e.message})"
            ) from e
        return str(blob.generation) if blob.generation is not None else blob.etag

    def emit(self, event: CloudEvent, bus: str | None) -> str:
        topic = bus or self.event_topic or _setting(EVENT_TOPIC_SETTING)
        if topic is None:
            raise GcpOutputError(
                "eventarc",
                "default",
                "no bus given and no default: CloudEvents are published to a Pub/Sub topic "
                f"on Google Cloud; pass bus=<topic>, GcpDriver(event_topic=...) or set "
                f"{EVENT_TOPIC_SETTING}",
            )
        data, attrs = binary_message(event, topic)
        return self._publish(topic, data, attrs, "")

    # -- Pub/Sub ------------------------------------------------------------------------------
    @staticmethod
    def _add_attribute(
        attrs: dict[str, str], name: str, value: str, service: str, resource: str
    ) -> None:
        if attrs.get(name, value) != value:
            raise GcpOutputError(
                service,
                resource,
                f"attribute {name!r} is {attrs[name]!r} but the {name} given is {value!r} "
                f"(Pub/Sub carries the {name} as that attribute)",
            )
        attrs[name] = value

    def _publish(self, topic: str, body: bytes, attrs: dict[str, str], ordering_key: str) -> str:
        reserved = sorted(_RESERVED_ATTRIBUTES.intersection(attrs))
        if reserved:
            raise GcpOutputError(
                "pubsub topic",
                topic,
                f"attribute names {reserved} cannot be sent through google-cloud-pubsub "
                "(they are parameters of its publish call)",
            )
        if not body and not attrs:
            raise GcpOutputError(
                "pubsub topic", topic, "a Pub/Sub message needs data or at least one attribute"
            )
        from google.api_core.exceptions import NotFound

        publisher = self._client("pubsub")
        path = self.topic_path(topic)
        try:
            future = publisher.publish(path, body, ordering_key=ordering_key, **attrs)
            return future.result(timeout=self.publish_timeout)
        except NotFound as e:
            raise OutputTargetNotFound(
                "pubsub topic", path, f"topic does not exist ({e.message})"
            ) from e
        except Exception:
            if ordering_key:
                # A failed message pauses its ordering key in the publisher; later messages
                # of the group may go again (the caller decides whether to retry this one).
                # It raises if the key was not paused (a timeout while still in flight).
                with contextlib.suppress(RuntimeError, ValueError):
                    publisher.resume_publish(path, ordering_key)
            raise

    # -- reading back ---------------------------------------------------------------------------
    def get(self, bucket: str, key: str) -> bytes:
        """A Cloud Storage object's content; a missing one raises :class:`OutputTargetNotFound`."""
        from google.api_core.exceptions import NotFound

        blob = self._client("storage").bucket(bucket).blob(key)
        try:
            return blob.download_as_bytes()
        except NotFound as e:
            raise OutputTargetNotFound(
                "cloud storage", f"{bucket}/{key}", f"object does not exist ({e.message})"
            ) from e


# -- CloudEvents on Pub/Sub -------------------------------------------------------------------
def _canonical(value: Any) -> str | None:
    """A CloudEvents attribute value's canonical string (CloudEvents 1.0, "Type System")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime):
        value = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return None


def binary_message(event: CloudEvent, topic: str = "") -> tuple[bytes, dict[str, str]]:
    """The data and attributes of ``event`` in the binary content mode of the CloudEvents
    Pub/Sub protocol binding."""
    attrs: dict[str, str] = {}
    content_type = event.datacontenttype
    if isinstance(event.data, bytes | str) or event.data is None:
        data = b"" if event.data is None else encode_body(event.data)
    else:
        data = encode_body(event.data)
        content_type = content_type or "application/json"
    if content_type:
        attrs["Content-Type"] = content_type
    for name, value in event.attributes().items():
        if name == "datacontenttype":
            continue
        if not _CE_NAME.match(name):
            raise GcpOutputError(
                "eventarc",
                topic,
                f"extension {name!r} is not a CloudEvents attribute name (lower-case "
                "letters and digits)",
            )
        text = _canonical(value)
        if text is None:
            raise GcpOutputError(
                "eventarc",
                topic,
                f"attribute {name!r} is a {type(value).__name__}, which has no CloudEvents "
                "string form (string, integer, boolean, binary, timestamp)",
            )
        attrs[f"ce-{name}"] = text
    return data, attrs
