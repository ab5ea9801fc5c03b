"""SNS, S3, S3 through EventBridge, EventBridge events and schedules against AWS's
published sample events.

Sample files (tests/events/aws/, provenance in PROVENANCE.md):
- sns__powertools__snsEvent.json, sns__samcli__notification.json
- s3__lambda-dotnet__s3-event.json, s3__lambda-go__s3-event.json, s3__powertools__s3Event.json,
  s3__powertools__s3EventDecodedKey.json, s3__powertools__s3EventDeleteObject.json,
  s3__samcli__delete.json, s3__samcli__put.json
- s3_eventbridge__powertools__s3EventBridgeNotificationObject{Created,Deleted,Expired,
  RestoreCompleted}Event.json
- eventbridge__powertools__eventBridgeEvent.json, eventbridge__powertools-ts__examplePayload.json,
  eventbridge__powertools-ts__gettingStartedEnvelopeEvent.json (custom / service events) and
  eventbridge__samcli__scheduled-event.json, eventbridge__lambda-dotnet__scheduled-event.json,
  eventbridge__lambda-java-libs__cloudwatch_event.json (Scheduled Events)
"""

from __future__ import annotations

import base64
import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from conftest import aws_event_files, load_event

from polyfn import (
    App,
    CloudEvent,
    HandlerError,
    MalformedEventError,
    NoRouteError,
    ScheduleEvent,
    StorageEvent,
    TopicMessage,
)
from polyfn.adapters.aws import from_native, handler, to_native
from polyfn.adapters.aws.recognise import module
from polyfn.adapters.aws.sources import s3, s3_eventbridge, sns
from polyfn.adapters.aws.translate import source_of
from polyfn.outputs import Outputs
from polyfn.outputs.memory import MemoryDriver

FILES = [
    *aws_event_files("sns"),
    *aws_event_files("s3"),
    *aws_event_files("s3_eventbridge"),
    *aws_event_files("eventbridge"),
]


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


EPOCH = _t("1970-01-01T00:00:00")
_SNS_ATTRS = {"Test": "TestString", "TestBinary": b"TestBinary"}
_S3_PUT = {"kind": "created", "version": None}

# file name → (source key, neutral values of each event it holds)
EXPECTED: dict[str, tuple[str, list[dict[str, Any]]]] = {
    "sns__powertools__snsEvent.json": (
        "sns",
        [
            {
                "id": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
                "topic": "sns-lambda",
                "subject": "TestInvoke",
                "body": b"Hello from SNS!",
                "attributes": _SNS_ATTRS,
                "published_at": _t("2019-01-02T12:45:07"),
            }
        ],
    ),
    "sns__samcli__notification.json": (
        "sns",
        [
            {
                "id": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
                "topic": "ExampleTopic",
                "subject": "example subject",
                "body": b"example message",
                "attributes": _SNS_ATTRS,
                "published_at": EPOCH,
            }
        ],
    ),
    "s3__lambda-dotnet__s3-event.json": (
        "s3",
        [
            {
                "bucket": "sourcebucket",
                "key": "HappyFace.jpg",
                "size": 1024,
                "etag": "0123456789abcdef0123456789abcdef",
                "time": EPOCH,
                **_S3_PUT,
            },
            {
                "bucket": "sourcebucket",
                "key": "New File.jpg",
                "size": 1024,
                "etag": "0123456789abcdef0123456789abcdef",
                "time": EPOCH,
                **_S3_PUT,
            },
        ],
    ),
    "s3__lambda-go__s3-event.json": (
        "s3",
        [
            {
                "bucket": "sourcebucket",
                "key": "Happy Face.jpg",
                "kind": "created",
                "size": 1024,
                "etag": "d41d8cd98f00b204e9800998ecf8427e",
                "version": "version",
                "time": _t("1970-01-01T00:00:00.123"),
            },
        ],
    ),
    "s3__powertools__s3EventDecodedKey.json": (
        "s3",
        [
            {
                "bucket": "sourcebucket",
                "key": "Happy Face.jpg",
                "kind": "created",
                "size": 1024,
                "etag": "d41d8cd98f00b204e9800998ecf8427e",
                "version": "version",
                "time": _t("1970-01-01T00:00:00.123"),
            },
        ],
    ),
    "s3__powertools__s3Event.json": (
        "s3",
        [
            {
                "bucket": "lambda-artifacts-deafc19498e3f2df",
                "key": "b21b84d653bb07b05b1e6b33684dc11b",
                "size": 1305107,
                "etag": "b21b84d653bb07b05b1e6b33684dc11b",
                "time": _t("2019-09-03T19:37:27.192"),
                **_S3_PUT,
            },
        ],
    ),
    "s3__powertools__s3EventDeleteObject.json": (
        "s3",
        [
            {
                "bucket": "lambda-artifacts-deafc19498e3f2df",
                "key": "b21b84d653bb07b05b1e6b33684dc11b",
                "kind": "deleted",
                "size": None,
                "etag": None,
                "version": None,
                "time": _t("2019-09-03T19:37:27.192"),
            },
        ],
    ),
    "s3__samcli__delete.json": (
        "s3",
        [
            {
                "bucket": "example-bucket",
                "key": "test/key",
                "kind": "deleted",
                "size": None,
                "etag": None,
                "version": None,
                "time": EPOCH,
            },
        ],
    ),
    "s3__samcli__put.json": (
        "s3",
        [
            {
                "bucket": "example-bucket",
                "key": "test/key",
                "size": 1024,
                "etag": "0123456789abcdef0123456789abcdef",
                "time": EPOCH,
                **_S3_PUT,
            },
        ],
    ),
    "s3_eventbridge__powertools__s3EventBridgeNotificationObjectCreatedEvent.json": (
        "s3-eventbridge",
        [
            {
                "bucket": "example-bucket",
                "key": "IMG_m7fzo3.jpg",
                "kind": "created",
                "size": 184662,
                "etag": "4e68adba0abe2dc8653dc3354e14c01d",
                "version": None,
                "time": _t("2023-03-08T17:50:14"),
            }
        ],
    ),
    "s3_eventbridge__powertools__s3EventBridgeNotificationObjectDeletedEvent.json": (
        "s3-eventbridge",
        [
            {
                "bucket": "example-bucket",
                "key": "IMG_m7fzo3.jpg",
                "kind": "deleted",
                "size": None,
                "etag": None,
                "version": None,
                "time": _t("2021-11-12T00:00:00"),
            }
        ],
    ),
    "s3_eventbridge__powertools__s3EventBridgeNotificationObjectExpiredEvent.json": (
        "s3-eventbridge",
        [
            {
                "bucket": "example-bucket",
                "key": "IMG_m7fzo3.jpg",
                "kind": "deleted",
                "size": 184662,
                "etag": "4e68adba0abe2dc8653dc3354e14c01d",
                "version": None,
                "time": _t("2021-11-12T00:00:00"),
            }
        ],
    ),
    "s3_eventbridge__powertools__s3EventBridgeNotificationObjectRestoreCompletedEvent.json": (
        "s3-eventbridge",
        [
            {
                "bucket": "example-bucket",
                "key": "IMG_m7fzo3.jpg",
                "kind": "restored",
                "size": 184662,
                "etag": "4e68adba0abe2dc8653dc3354e14c01d",
                "version": None,
                "time": _t("2021-11-12T00:00:00"),
            }
        ],
    ),
    "eventbridge__powertools__eventBridgeEvent.json": (
        "eventbridge",
        [
            {
                "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
                "source": "aws.ec2",
                "type": "EC2 Instance State-change Notification",
                "specversion": "1.0",
                "subject": None,
                "time": _t("2017-12-22T18:43:48"),
                "datacontenttype": "application/json",
                "dataschema": None,
                "data": {"instance_id": "i-1234567890abcdef0", "state": "terminated"},
            }
        ],
    ),
    "eventbridge__powertools-ts__examplePayload.json": (
        "eventbridge",
        [
            {
                "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
                "source": "OrderService",
                "type": "OrderPurchased",
                "specversion": "1.0",
                "subject": None,
                "time": _t("2020-10-22T18:43:48"),
                "datacontenttype": "application/json",
                "dataschema": None,
                "data": {
                    "id": 10876546789,
                    "description": "My order",
                    "items": [{"id": 1015938732, "quantity": 1, "description": "item xpto"}],
                },
            }
        ],
    ),
    "eventbridge__powertools-ts__gettingStartedEnvelopeEvent.json": (
        "eventbridge",
        [
            {
                "id": "12345678-1234-1234-1234-123456789012",
                "source": "myEventSource",
                "type": "myDetailType",
                "specversion": "1.0",
                "subject": None,
                "time": _t("2017-12-22T18:43:48"),
                "datacontenttype": "application/json",
                "dataschema": None,
                "data": {"userId": "123"},
            }
        ],
    ),
    "eventbridge__samcli__scheduled-event.json": (
        "schedule",
        [
            {
                "id": "cdc73f9d-aea9-11e3-9d5a-835b769c0d9c",
                "schedule": "ExampleRule",
                "scheduled_time": EPOCH,
            }
        ],
    ),
    "eventbridge__lambda-dotnet__scheduled-event.json": (
        "schedule",
        [
            {
                "id": "cdc73f9d-aea9-11e3-9d5a-835b769c0d9c",
                "schedule": "my-schedule",
                "scheduled_time": EPOCH,
            }
        ],
    ),
    "eventbridge__lambda-java-libs__cloudwatch_event.json": (
        "schedule",
        [
            {
                "id": "fae0433b-7a0e-e383-7849-7e10153eaa47",
                "schedule": "demoschedule",
                "scheduled_time": _t("2020-09-30T15:58:34"),
            }
        ],
    ),
}
NEUTRAL = {
    "sns": TopicMessage,
    "s3": StorageEvent,
    "s3-eventbridge": StorageEvent,
    "eventbridge": CloudEvent,
    "schedule": ScheduleEvent,
}


def test_every_sample_file_has_expected_values():
    assert sorted(p.name for p in FILES) == sorted(EXPECTED)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_sample_is_recognised_read_and_round_trips(path):
    event = load_event(path)
    key, expected = EXPECTED[path.name]
    assert source_of(event) == key
    parsed = from_native(event)
    events = parsed if isinstance(parsed, list) else [parsed]
    assert isinstance(parsed, list) == (key in ("sns", "s3"))
    assert [e.values() for e in events] == expected
    for e in events:
        assert isinstance(e, NEUTRAL[key])
        assert (e.provider, e.event_source) == ("aws", f"aws:{key}")
    # Nothing is lost: the native event comes back equal, through the source's module
    # and through the generic translation.
    assert to_native(parsed) == event
    assert to_native(parsed, source=key) == event
    # The values survive a second pass too.
    again = from_native(to_native(parsed))
    assert [e.values() for e in (again if isinstance(again, list) else [again])] == expected


# -- SNS -------------------------------------------------------------------------------
def test_sns_extensions_keep_signature_and_subscription():
    event = load_event("sns__powertools__snsEvent.json")
    msg = from_native(event)[0]
    rec = event["Records"][0]
    assert msg.native is rec
    assert msg.text == "Hello from SNS!"
    ext = msg.extensions
    assert ext["EventSubscriptionArn"] == "arn:aws:sns:us-east-2:123456789012:sns-la ..."
    assert ext["EventVersion"] == "1.0"
    assert ext["Sns"]["Signature"] == rec["Sns"]["Signature"]
    assert ext["Sns"]["TopicArn"] == "arn:aws:sns:us-east-2:123456789012:sns-lambda"
    assert ext["Sns"]["Type"] == "Notification"
    # "TestBinary" is not base64: it is kept as delivered so that it renders back unchanged.
    assert ext["Sns"]["MessageAttributes"] == {
        "TestBinary": {"Type": "Binary", "Value": "TestBinary"}
    }
    assert "EventSource" not in ext and "MessageId" not in ext["Sns"]


def test_sns_attribute_types():
    event = copy.deepcopy(load_event("sns__samcli__notification.json"))
    event["Records"][0]["Sns"]["MessageAttributes"] = {
        "n": {"Type": "Number", "Value": "42"},
        "arr": {"Type": "String.Array", "Value": '["a","b"]'},
        "bin": {"Type": "Binary", "Value": base64.b64encode(b"\x00\xff").decode()},
    }
    msg = from_native(event)[0]
    assert msg.attributes == {"n": "42", "arr": '["a","b"]', "bin": b"\x00\xff"}
    assert msg.extensions[sns.TYPES] == {"n": "Number", "arr": "String.Array"}
    assert "MessageAttributes" not in msg.extensions["Sns"]  # canonical base64: nothing kept
    assert to_native([msg]) == event


def test_sns_local_message_renders_realistic_record_and_reads_back():
    local = TopicMessage(
        "m-1",
        "orders",
        '{"n": 1}',
        subject="hi",
        attributes={"k": "v", "b": b"\x00\x01"},
        published_at=datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
    )
    native = to_native(local)  # a single event works as well as a list
    rec = native["Records"][0]
    assert rec["EventSource"] == "aws:sns"
    assert rec["Sns"]["TopicArn"] == "arn:aws:sns:us-east-1:123456789012:orders"
    assert rec["EventSubscriptionArn"].startswith("arn:aws:sns:us-east-1:123456789012:orders:")
    assert rec["Sns"]["Timestamp"] == "2026-01-02T03:04:05.678Z"
    assert rec["Sns"]["MessageAttributes"]["b"] == {"Type": "Binary", "Value": "AAE="}
    assert rec["Sns"]["Type"] == "Notification"
    assert source_of(native) == "sns"
    back = from_native(native)[0]
    assert back.values() == local.values()


def test_sns_topic_change_rewrites_the_arn():
    msg = from_native(load_event("sns__samcli__notification.json"))[0]
    moved = TopicMessage(
        msg.id,
        "Other",
        msg.body,
        subject=msg.subject,
        attributes=msg.attributes,
        published_at=msg.published_at,
        provider="aws",
        extensions=msg.extensions,
    )
    rec = to_native([moved])["Records"][0]
    assert rec["Sns"]["TopicArn"] == "arn:aws:sns:us-east-1:123456789012:Other"


# -- S3 --------------------------------------------------------------------------------
def test_s3_keys_decode_and_reencode_exactly():
    plus = from_native(load_event("s3__lambda-dotnet__s3-event.json"))[1]
    assert plus.key == "New File.jpg"
    assert "key" not in plus.extensions["s3"]["object"]  # quote_plus gives 'New+File.jpg' back
    pct = from_native(load_event("s3__powertools__s3EventDecodedKey.json"))[0]
    assert pct.key == "Happy Face.jpg"
    obj_ext = pct.extensions["s3"]["object"]
    assert obj_ext["key"] == "Happy%20Face.jpg"  # re-encoding would give 'Happy+Face.jpg'
    assert obj_ext["urlDecodedKey"] == "Happy Face.jpg"  # Powertools' extra field survives
    assert obj_ext["sequencer"] == "Happy Sequencer"


def test_s3_extensions_keep_event_name_and_bucket_details():
    ev = from_native(load_event("s3__powertools__s3Event.json"))[0]
    ext = ev.extensions
    assert ext["eventName"] == "ObjectCreated:Put"
    assert ext["awsRegion"] == "us-east-2"
    assert ext["s3"]["bucket"] == {
        "ownerIdentity": {"principalId": "A3I5XTEXAMAI3E"},
        "arn": "arn:aws:s3:::lambda-artifacts-deafc19498e3f2df",
    }
    assert ext["s3"]["configurationId"] == "828aa6fc-f7b5-4305-8584-487c791949c1"
    assert "eventTime" not in ext and "eventSource" not in ext


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("ObjectCreated:Put", "created"),
        ("ObjectCreated:CompleteMultipartUpload", "created"),
        ("ObjectRemoved:DeleteMarkerCreated", "deleted"),
        ("LifecycleExpiration:Delete", "deleted"),
        ("ReducedRedundancyLostObject", "deleted"),
        ("LifecycleTransition", "archived"),
        ("IntelligentTiering", "archived"),
        ("ObjectRestore:Delete", "archived"),
        ("ObjectRestore:Completed", "restored"),
        ("ObjectRestore:Post", "metadata_updated"),
        ("ObjectTagging:Delete", "metadata_updated"),
        ("ObjectAcl:Put", "metadata_updated"),
        ("Replication:OperationFailedReplication", "metadata_updated"),
    ],
)
def test_s3_event_names_map_to_kinds_and_round_trip(name, kind):
    event = copy.deepcopy(load_event("s3__samcli__put.json"))
    event["Records"][0]["eventName"] = name
    ev = from_native(event)[0]
    assert ev.kind == kind
    assert to_native([ev]) == event


@pytest.mark.parametrize("key", ["my photo.jpg", "a+b/c=d&e.txt", "dir/ünï cødé%.bin", "x"])
def test_s3_local_event_renders_and_reads_back(key):
    local = StorageEvent(
        "uploads",
        key,
        "deleted",
        size=5,
        etag="abc",
        version="v1",
        time=datetime(2026, 5, 6, 7, 8, 9, 10000, tzinfo=UTC),
    )
    native = to_native(local)  # storage → s3 by default
    rec = native["Records"][0]
    assert rec["eventName"] == "ObjectRemoved:Delete"
    assert rec["eventTime"] == "2026-05-06T07:08:09.010Z"
    assert rec["s3"]["bucket"]["arn"] == "arn:aws:s3:::uploads"
    assert " " not in rec["s3"]["object"]["key"]
    assert source_of(native) == "s3"
    back = from_native(native)[0]
    assert back.values() == local.values()
    assert "key" not in back.extensions["s3"]["object"]


def test_s3_local_key_encoding_is_form_encoding():
    rec = to_native(StorageEvent("b", "a b/c+d.jpg"))["Records"][0]
    assert rec["s3"]["object"]["key"] == "a+b/c%2Bd.jpg"
    assert "size" not in rec["s3"]["object"]  # unknown values are left out, as S3 does


# -- S3 through EventBridge ------------------------------------------------------------
def test_s3_eventbridge_extensions():
    name = "s3_eventbridge__powertools__s3EventBridgeNotificationObjectExpiredEvent.json"
    ev = from_native(load_event(name))
    ext = ev.extensions
    assert ext["detail-type"] == "Object Deleted"
    assert ext["detail"]["reason"] == "Lifecycle Expiration"
    assert ext["detail"]["deletion-type"] == "Delete Marker Created"
    assert ext["detail"]["object"] == {"sequencer": "006408CAD69598B05E"}
    assert ext["resources"] == ["arn:aws:s3:::example-bucket"]
    assert ext["account"] == "111122223333"


def test_s3_eventbridge_key_is_not_url_decoded():
    name = "s3_eventbridge__powertools__s3EventBridgeNotificationObjectCreatedEvent.json"
    event = copy.deepcopy(load_event(name))
    event["detail"]["object"]["key"] = "a+b%20c.jpg"
    event["detail"]["object"]["version-id"] = "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"
    ev = from_native(event)
    assert ev.key == "a+b%20c.jpg"
    assert ev.version == "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"
    assert to_native(ev) == event


@pytest.mark.parametrize("kind", ["created", "deleted", "archived", "restored", "metadata_updated"])
def test_s3_eventbridge_local_event_renders_and_reads_back(kind):
    local = StorageEvent(
        "media", "a b.png", kind, size=3, etag="e", time=datetime(2026, 1, 1, tzinfo=UTC)
    )
    native = to_native(local, source="s3-eventbridge")
    assert native["source"] == "aws.s3"
    assert native["detail-type"] == s3_eventbridge.DEFAULT_TYPES[kind]
    assert native["detail"]["object"]["key"] == "a b.png"
    assert native["resources"] == ["arn:aws:s3:::media"]
    assert source_of(native) == "s3-eventbridge"
    assert from_native(native).values() == local.values()


# -- EventBridge -----------------------------------------------------------------------
def test_eventbridge_extensions_hold_the_non_cloudevents_fields():
    ev = from_native(load_event("eventbridge__powertools__eventBridgeEvent.json"))
    assert ev.extensions == {
        "version": "0",
        "account": "111122223333",
        "region": "us-west-1",
        "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
        "replay-name": "replay_archive",
    }
    attrs = ev.attributes()
    assert attrs["type"] == "EC2 Instance State-change Notification"
    assert attrs["replay-name"] == "replay_archive"


def test_eventbridge_local_event_renders_and_reads_back():
    local = CloudEvent(
        "e-1",
        "shop.orders",
        "OrderPlaced",
        {"order": 7},
        time=datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC),
        datacontenttype="application/json",
    )
    native = to_native(local)  # cloudevent → eventbridge by default
    assert native["detail-type"] == "OrderPlaced"
    assert native["detail"] == {"order": 7}
    assert native["time"] == "2026-03-04T05:06:07Z"
    assert native["account"] == "123456789012"
    assert source_of(native) == "eventbridge"
    assert from_native(native).values() == local.values()


def test_eventbridge_json_text_data_becomes_detail():
    local = CloudEvent("e-2", "s", "t", b'{"a": [1]}', time=datetime(2026, 1, 1, tzinfo=UTC))
    assert to_native(local)["detail"] == {"a": [1]}


# -- schedules -------------------------------------------------------------------------
def test_schedule_extensions_keep_source_and_rule_arn():
    ev = from_native(load_event("eventbridge__lambda-java-libs__cloudwatch_event.json"))
    assert ev.extensions == {
        "version": "0",
        "source": "aws.events",
        "account": "123456789012",
        "region": "eu-central-1",
        "resources": ["arn:aws:events:eu-central-1:123456789012:rule/demoschedule"],
        "detail": {},
    }


def test_scheduler_event_is_a_schedule():
    # EventBridge Scheduler's own envelope: source aws.scheduler, schedule/GROUP/NAME.
    event = {
        "version": "0",
        "id": "8bd1bd35-1d4a-4d8d-b1bf-2a9d5b1b3a7e",
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler",
        "account": "123456789012",
        "time": "2026-02-03T04:05:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:scheduler:us-east-1:123456789012:schedule/default/nightly"],
        "detail": "{}",
    }
    assert source_of(event) == "schedule"
    ev = from_native(event)
    assert ev.schedule == "nightly"
    assert ev.scheduled_time == _t("2026-02-03T04:05:00")
    assert to_native(ev) == event


def test_schedule_local_event_renders_a_rule_and_reads_back():
    local = ScheduleEvent("shop-cleanup", datetime(2026, 1, 1, 12, tzinfo=UTC), id="s-1")
    native = to_native(local)
    assert native["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/shop-cleanup"]
    assert (native["source"], native["detail-type"]) == ("aws.events", "Scheduled Event")
    assert native["time"] == "2026-01-01T12:00:00Z"
    assert source_of(native) == "schedule"
    assert from_native(native).values() == local.values()


# -- other providers -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("event", "source"),
    [
        (TopicMessage("i", "t", "b", provider="azure", extensions={"deliveryCount": 3}), "sns"),
        (StorageEvent("b", "k", provider="gcp", extensions={"generation": "1"}), "s3"),
        (StorageEvent("b", "k", provider="gcp", extensions={"generation": "1"}), "s3-eventbridge"),
        (CloudEvent("i", "s", "t", {}, provider="azure", extensions={"topic": "x"}), "eventbridge"),
        (
            ScheduleEvent(
                "s",
                datetime(2026, 1, 1, tzinfo=UTC),
                provider="azure",
                extensions={"isPastDue": False},
            ),
            "schedule",
        ),
    ],
)
def test_other_providers_extensions_do_not_leak(event, source):
    text = repr(to_native(event, source=source))
    for name in event.extensions:
        assert name not in text


# -- malformed events ------------------------------------------------------------------
def _mutated(name: str, mutate) -> Any:
    event = copy.deepcopy(load_event(name))
    mutate(event)
    return event


SNS = "sns__samcli__notification.json"
S3 = "s3__samcli__put.json"
S3EB = "s3_eventbridge__powertools__s3EventBridgeNotificationObjectCreatedEvent.json"
EB = "eventbridge__powertools-ts__examplePayload.json"
SCHED = "eventbridge__samcli__scheduled-event.json"


@pytest.mark.parametrize(
    ("name", "mutate", "source", "field"),
    [
        (
            SNS,
            lambda e: e["Records"][0]["Sns"].pop("MessageId"),
            "aws:sns",
            "Records[0].Sns.MessageId",
        ),
        (SNS, lambda e: e["Records"][0].pop("Sns"), "aws:sns", "Records[0].Sns"),
        (
            SNS,
            lambda e: e["Records"][0]["Sns"].update(TopicArn=7),
            "aws:sns",
            "Records[0].Sns.TopicArn",
        ),
        (
            SNS,
            lambda e: e["Records"][0]["Sns"].update(Timestamp="noon"),
            "aws:sns",
            "Records[0].Sns.Timestamp",
        ),
        (
            SNS,
            lambda e: e["Records"][0]["Sns"]["MessageAttributes"]["Test"].pop("Value"),
            "aws:sns",
            "Records[0].Sns.MessageAttributes.Test.Value",
        ),
        (
            S3,
            lambda e: e["Records"][0]["s3"]["object"].pop("key"),
            "aws:s3",
            "Records[0].s3.object.key",
        ),
        (S3, lambda e: e["Records"][0]["s3"].pop("bucket"), "aws:s3", "Records[0].s3.bucket"),
        (
            S3,
            lambda e: e["Records"][0]["s3"]["object"].update(size="big"),
            "aws:s3",
            "Records[0].s3.object.size",
        ),
        (
            S3,
            lambda e: e["Records"][0].update(eventName="ObjectLocked:Put"),
            "aws:s3",
            "Records[0].eventName",
        ),
        (
            S3,
            lambda e: e["Records"][0].update(eventTime="yesterday"),
            "aws:s3",
            "Records[0].eventTime",
        ),
        (
            S3EB,
            lambda e: e["detail"]["object"].pop("key"),
            "aws:s3-eventbridge",
            "detail.object.key",
        ),
        (
            S3EB,
            lambda e: e.update({"detail-type": "Object Locked"}),
            "aws:s3-eventbridge",
            "detail-type",
        ),
        (EB, lambda e: e.pop("detail-type"), "aws:eventbridge", "detail-type"),
        (EB, lambda e: e.update(time="soon"), "aws:eventbridge", "time"),
        (EB, lambda e: e.pop("detail"), "aws:eventbridge", "detail"),
        (SCHED, lambda e: e.update(resources=[]), "aws:schedule", "resources[0]"),
        (SCHED, lambda e: e.pop("resources"), "aws:schedule", "resources"),
        (SCHED, lambda e: e.update(time=0), "aws:schedule", "time"),
    ],
)
def test_malformed_fields_are_named(name, mutate, source, field):
    event = _mutated(name, mutate)
    # The source's own module: some of these no longer look like their source at all.
    parsed = module(source.removeprefix("aws:")).from_native(event)
    first = parsed[0] if isinstance(parsed, list) else parsed
    with pytest.raises(MalformedEventError) as info:
        first.values()
    err = info.value
    assert (err.provider, err.source, err.field) == ("aws", source, field)
    assert "KeyError" not in str(err)


@pytest.mark.parametrize("src", [sns, s3])
def test_records_must_be_a_list(src):
    with pytest.raises(MalformedEventError) as info:
        src.from_native({"Records": {"0": {}}})
    assert (info.value.source, info.value.field) == (src.EVENT_SOURCE, "Records")


# -- in-process Lambda handler ---------------------------------------------------------
def _handler(app: App, name: str | None = None):
    return handler(app, name, outputs=Outputs(MemoryDriver()))


def test_topic_handler_sees_the_message():
    app = App("shop")
    seen: list[TopicMessage] = []

    @app.topic("sns-lambda")
    def notify(msg, ctx):
        seen.append((msg.topic, msg.subject, msg.text, msg.attributes["Test"], ctx.function_name))

    assert _handler(app)(load_event("sns__powertools__snsEvent.json"), None) is None
    assert seen == [("sns-lambda", "TestInvoke", "Hello from SNS!", "TestString", "notify")]


def test_topic_filter_drops_messages_that_do_not_match():
    app = App("shop")
    seen: list[str] = []

    @app.topic("orders", filter={"kind": ["paid"]})
    def paid(msg):
        seen.append(msg.id)

    msgs = [
        TopicMessage("m1", "orders", "x", attributes={"kind": "paid"}),
        TopicMessage("m2", "orders", "y", attributes={"kind": "refunded"}),
    ]
    _handler(app)(to_native(msgs), None)
    assert seen == ["m1"]


def test_failing_topic_handler_raises_handler_error():
    app = App("shop")

    @app.topic("ExampleTopic")
    def explode(msg):
        raise ValueError("boom")

    with pytest.raises(HandlerError) as info:
        _handler(app)(load_event(SNS), None)
    err = info.value
    assert (err.function, err.provider, err.source) == ("explode", "aws", "aws:sns")
    assert "explode" in str(err) and "aws:sns" in str(err)
    assert isinstance(err.cause, ValueError)


def test_storage_handlers_are_routed_by_bucket_kind_and_suffix():
    app = App("media")
    seen: list[tuple[str, str, str]] = []

    @app.storage("sourcebucket", events=["created"], suffix=".jpg")
    def thumbnails(ev, ctx):
        seen.append(("thumbnails", ev.kind, ev.key))

    @app.storage("example-bucket", events=["deleted"], prefix="test/")
    def cleanup(ev, ctx):
        seen.append(("cleanup", ev.kind, ev.key))

    @app.storage("example-bucket", events=["restored"])
    def restored(ev, ctx):
        seen.append(("restored", ev.kind, ev.key))

    run = _handler(app)
    run(load_event("s3__lambda-dotnet__s3-event.json"), None)
    run(load_event("s3__samcli__delete.json"), None)
    run(
        load_event(
            "s3_eventbridge__powertools__s3EventBridgeNotificationObjectRestoreCompletedEvent.json"
        ),
        None,
    )
    assert seen == [
        ("thumbnails", "created", "HappyFace.jpg"),
        ("thumbnails", "created", "New File.jpg"),
        ("cleanup", "deleted", "test/key"),
        ("restored", "restored", "IMG_m7fzo3.jpg"),
    ]
    with pytest.raises(NoRouteError):
        run(load_event("s3__samcli__put.json"), None)  # created in example-bucket: no function


def test_schedule_routing():
    app = App("shop")
    seen: list[tuple[str, str, str, datetime]] = []

    @app.schedule("rate(1 hour)")
    def cleanup(ev, ctx):
        # The handler sees the schedule as declared (the same on every provider); the
        # rule that fired stays on the AWS view.
        seen.append((ctx.function_name, ev.schedule, ev.rule, ev.scheduled_time))
        return "done"

    # A rule named "<app>-<function>" binds by itself ...
    named = to_native(ScheduleEvent("shop-cleanup", datetime(2026, 1, 1, tzinfo=UTC), id="s1"))
    assert _handler(app)(named, None) == "done"
    # ... any other rule needs the function named.
    sample = load_event(SCHED)
    with pytest.raises(NoRouteError):
        _handler(app)(sample, None)
    assert _handler(app, "cleanup")(sample, None) == "done"
    assert seen == [
        ("cleanup", "rate(1 hour)", "shop-cleanup", datetime(2026, 1, 1, tzinfo=UTC)),
        ("cleanup", "rate(1 hour)", "ExampleRule", EPOCH),
    ]


def test_event_handler_sees_a_cloudevent():
    app = App("shop")

    @app.event(source="OrderService", type="OrderPurchased")
    def purchased(ev):
        return {"order": ev.data["id"], "region": ev.extensions["region"], "ct": ev.datacontenttype}

    @app.event(source="aws.ec2")
    def ec2(ev):
        return ev.type

    run = _handler(app)
    assert run(load_event(EB), None) == {
        "order": 10876546789,
        "region": "us-west-1",
        "ct": "application/json",
    }
    assert run(load_event("eventbridge__powertools__eventBridgeEvent.json"), None) == (
        "EC2 Instance State-change Notification"
    )
    with pytest.raises(NoRouteError):
        run(load_event("eventbridge__powertools-ts__gettingStartedEnvelopeEvent.json"), None)
