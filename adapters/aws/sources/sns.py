"""Amazon SNS → TopicMessage, and back.

Shape: https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html (tests/events/aws/sns__*).
SNS invokes Lambda asynchronously: a failed message fails the whole invocation and the
asynchronous retry takes it, so there is no ``batch_response`` here.

Extensions keep the record's other fields (``EventVersion``, ``EventSubscriptionArn``) at
the top and the notification's other fields (``Type``, ``TopicArn``, ``Signature``,
``SigningCertUrl``, ``UnsubscribeUrl``, ...) under ``"Sns"``. ``MessageAttributeTypes``
names the attributes whose SNS type is neither String nor Binary (``Number``,
``String.Array``); a Binary attribute whose value is not canonical base64 is kept as
delivered under ``Sns.MessageAttributes`` so that it renders back unchanged.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from polyfn.events.messages import TopicMessage

from .. import defaults
from .._fields import arn_name, format_iso, malformed, need, without
from ._views import RecordView, as_list, aws_extensions, record_views

if TYPE_CHECKING:
    from .. import native_types

KEY = "sns"
EVENT_SOURCE = "aws:sns"
KIND = "topic"

TYPES = "MessageAttributeTypes"
_CONSUMED = frozenset({"EventSource", "Sns"})
_CONSUMED_SNS = frozenset({"MessageId", "Subject", "Message", "MessageAttributes", "Timestamp"})


def _binary(raw: str) -> tuple[bytes, bool]:
    """The bytes of a Binary attribute, and whether re-encoding them gives ``raw`` back.

    SNS delivers Binary values base64-encoded. The SAM CLI and Powertools samples carry
    placeholders that are not base64 (``"TestBinary"``); those are taken as UTF-8 rather
    than failing the whole invocation over an attribute the handler may never read.
    """
    try:
        value = base64.b64decode(raw, validate=True)
    except ValueError:
        return raw.encode("utf-8"), False
    return value, base64.b64encode(value).decode("ascii") == raw


class SnsMessage(RecordView, TopicMessage):
    """A lazy view of one SNS record."""

    __slots__ = ("_i", "_r")
    event_source = EVENT_SOURCE

    @property
    def native(self) -> native_types.SNSRecord:  # type: ignore[override]
        return cast("native_types.SNSRecord", self._r)

    @property
    def _sns(self) -> dict[str, Any]:
        return self._at("Sns")

    def _native_attributes(self) -> Iterable[tuple[str, str, str]]:
        """(name, Type, Value) of each message attribute, checked."""
        attrs = self._sns.get("MessageAttributes") or {}
        where = self._dotted("Sns", "MessageAttributes")
        if not isinstance(attrs, dict):
            raise malformed(EVENT_SOURCE, where, f"expected an object, got {type(attrs).__name__}")
        for name, attr in attrs.items():
            type_ = need(attr, "Type", EVENT_SOURCE, f"{where}.{name}")
            value = need(attr, "Value", EVENT_SOURCE, f"{where}.{name}")
            if not isinstance(value, str):
                raise malformed(
                    EVENT_SOURCE,
                    f"{where}.{name}.Value",
                    f"expected a string, got {type(value).__name__}",
                )
            yield name, type_, value

    @property
    def id(self) -> str:  # type: ignore[override]
        return self._string("Sns", "MessageId")

    @property
    def topic(self) -> str:  # type: ignore[override]
        return arn_name(self._string("Sns", "TopicArn"))

    @property
    def subject(self) -> str | None:  # type: ignore[override]
        return self._sns.get("Subject")

    @property
    def text(self) -> str:
        return self._string("Sns", "Message")

    @property
    def body(self) -> bytes:  # type: ignore[override]
        return self.text.encode("utf-8")

    @property
    def attributes(self) -> dict[str, str | bytes]:  # type: ignore[override]
        return {
            name: _binary(value)[0] if type_ == "Binary" else value
            for name, type_, value in self._native_attributes()
        }

    @property
    def published_at(self) -> datetime:  # type: ignore[override]
        return self._iso_time("Sns", "Timestamp")

    @property
    def extensions(self) -> dict[str, Any]:  # type: ignore[override]
        ext = without(self._r, _CONSUMED)
        sns = without(self._sns, _CONSUMED_SNS)
        types: dict[str, str] = {}
        kept: dict[str, Any] = {}
        for name, type_, value in self._native_attributes():
            if type_ == "Binary":
                if not _binary(value)[1]:
                    kept[name] = self._sns["MessageAttributes"][name]
            elif type_ != "String":
                types[name] = type_
        if kept:
            sns["MessageAttributes"] = kept
        ext["Sns"] = sns
        if types:
            ext[TYPES] = types
        return ext


def from_native(event: dict[str, Any]) -> list[TopicMessage]:
    return record_views(SnsMessage, event, EVENT_SOURCE)


# -- neutral → native ------------------------------------------------------------------
def _attribute(
    name: str, value: Any, types: dict[str, str], kept: dict[str, Any]
) -> dict[str, str]:
    native = kept.get(name)
    if native is not None and _binary(native.get("Value", ""))[0] == value:
        return native
    if isinstance(value, bytes):
        return {"Type": "Binary", "Value": base64.b64encode(value).decode("ascii")}
    type_ = types.get(name) or ("Number" if isinstance(value, int | float) else "String")
    return {"Type": type_, "Value": str(value)}


def _local_notification(msg: TopicMessage, topic_arn: str, subscription: str) -> dict[str, Any]:
    region = defaults.region()
    # Not a verifiable signature (that needs SNS's key), only one shaped like it.
    import hashlib  # only rendering needs it

    signature = base64.b64encode(hashlib.sha512(msg.id.encode()).digest() * 4).decode()
    return {
        "Type": "Notification",
        "TopicArn": topic_arn,
        "SignatureVersion": "1",
        "Signature": signature,
        "SigningCertUrl": f"https://sns.{region}.amazonaws.com/"
        "SimpleNotificationService-0000000000000000000000.pem",
        "UnsubscribeUrl": f"https://sns.{region}.amazonaws.com/"
        f"?Action=Unsubscribe&SubscriptionArn={subscription}",
    }


def record(msg: TopicMessage) -> dict[str, Any]:
    ext = aws_extensions(msg)
    types = ext.pop(TYPES, None) or {}
    sns_ext = dict(ext.pop("Sns", None) or {})
    kept = sns_ext.pop("MessageAttributes", None) or {}
    arn = sns_ext.get("TopicArn")
    if arn is None:
        arn = f"arn:aws:sns:{defaults.region()}:{defaults.ACCOUNT}:{msg.topic}"
    elif arn_name(arn) != msg.topic:
        sns_ext["TopicArn"] = arn = f"{arn.rsplit(':', 1)[0]}:{msg.topic}"
    if not ext:
        ext = {"EventVersion": "1.0", "EventSubscriptionArn": f"{arn}:{defaults.uuid4()}"}
    if not sns_ext:
        sns_ext = _local_notification(msg, arn, ext["EventSubscriptionArn"])
    sns: dict[str, Any] = {
        "MessageId": msg.id,
        "Subject": msg.subject,
        "Message": msg.body.decode("utf-8"),
        "Timestamp": format_iso(msg.published_at or datetime.now(UTC), millis=True),
        "MessageAttributes": {k: _attribute(k, v, types, kept) for k, v in msg.attributes.items()},
    }
    sns.update(sns_ext)
    return {"EventSource": EVENT_SOURCE, **ext, "Sns": sns}


def to_native(messages: TopicMessage | list[TopicMessage], **_: Any) -> native_types.SNSEvent:
    return cast("native_types.SNSEvent", {"Records": [record(m) for m in as_list(messages)]})
