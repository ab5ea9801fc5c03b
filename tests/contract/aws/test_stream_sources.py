"""DynamoDB Streams and Kinesis Data Streams against AWS's published sample events.

Sources: tests/events/aws/dynamodb__* and kinesis__* (SAM CLI generate-event, Powertools
test events, aws-lambda-go and aws-lambda-dotnet test data); provenance in
tests/events/aws/PROVENANCE.md.
"""

from __future__ import annotations

import base64
import copy
from datetime import UTC, datetime

import pytest
from conftest import aws_event_files, load_event

from polyfn import App, ChangeEvent, MalformedEventError, QueueMessage, Retry
from polyfn.adapters.aws import from_native, handler, to_native
from polyfn.adapters.aws.sources import dynamodb, kinesis
from polyfn.adapters.aws.translate import source_of
from polyfn.dispatch import IN_ORDER
from polyfn.outputs import Outputs
from polyfn.outputs.memory import MemoryDriver

DYNAMODB_FILES = aws_event_files("dynamodb")
KINESIS_FILES = aws_event_files("kinesis")


def json_equal(a, b) -> bool:
    """``==`` as JSON means it: like Python's, except that a bool is not a number
    (``True == 1`` in Python). Numbers compare by value, so the Powertools sample's
    ``1693997155.0`` equals the ``1693997155`` rendered back (the same JSON number)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict):
        return (
            isinstance(b, dict)
            and a.keys() == b.keys()
            and all(json_equal(v, b[k]) for k, v in a.items())
        )
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(json_equal, a, b))
    if isinstance(a, str):
        return type(b) is str and a == b
    return a == b


def _table(arn: str) -> str:
    return arn.split(":table/")[1].split("/")[0] if ":table/" in arn else arn.rsplit(":", 1)[-1]


def _read_error(name: str, mutate, read) -> MalformedEventError:
    """What ``read`` raises on the second record of sample ``name`` broken by ``mutate``."""
    event = copy.deepcopy(load_event(name))
    mutate(event["Records"][1])
    view = from_native(event)[1]
    with pytest.raises(MalformedEventError) as info:
        read(view)
    assert "KeyError" not in str(info.value)
    return info.value


# -- DynamoDB Streams: every sample ----------------------------------------------------
@pytest.mark.parametrize("path", DYNAMODB_FILES, ids=lambda p: p.name)
def test_dynamodb_sample_is_recognised_and_round_trips(path):
    event = load_event(path)
    assert source_of(event) == "dynamodb"
    changes = from_native(event)
    assert len(changes) == len(event["Records"])
    ops = {"INSERT": "insert", "MODIFY": "modify", "REMOVE": "remove"}
    for change, rec in zip(changes, event["Records"], strict=True):
        db = rec["dynamodb"]
        assert isinstance(change, ChangeEvent)
        assert (change.provider, change.event_source) == ("aws", "aws:dynamodb")
        assert change.id == rec["eventID"]
        assert change.operation == ops[rec["eventName"]]
        assert change.source == _table(rec["eventSourceARN"])
        assert change.sequence == db["SequenceNumber"]
        if "ApproximateCreationDateTime" in db:
            assert change.time == datetime.fromtimestamp(db["ApproximateCreationDateTime"], UTC)
        else:
            assert change.time is None
        assert set(change.keys) == set(db["Keys"])
        assert (change.new is None) == ("NewImage" not in db)
        assert (change.old is None) == ("OldImage" not in db)
        assert change.native is rec
        ext = change.extensions
        assert ext["eventVersion"] == rec["eventVersion"]
        assert ext["awsRegion"] == rec["awsRegion"]
        assert ext["eventSourceARN"] == rec["eventSourceARN"]
        assert ext["dynamodb"] == {
            "SizeBytes": db["SizeBytes"],
            "StreamViewType": db["StreamViewType"],
        }
    back = to_native(changes)
    assert back == event
    assert json_equal(back, event)
    assert json_equal(dynamodb.to_native(from_native(back)), event)


def test_dynamodb_samcli_operations_and_images():
    changes = from_native(load_event("dynamodb__samcli__update.json"))
    assert [c.operation for c in changes] == ["insert", "modify", "remove"]
    assert {c.source for c in changes} == {"ExampleTableWithStream"}
    insert, modify, remove = changes
    assert insert.keys == {"Id": 101} and type(insert.keys["Id"]) is int
    assert insert.new == {"Message": "New item!", "Id": 101} and insert.old is None
    assert modify.old == {"Message": "New item!", "Id": 101}
    assert modify.new == {"Message": "This item has changed", "Id": 101}
    assert remove.old == {"Message": "This item has changed", "Id": 101} and remove.new is None
    assert insert.time == datetime(2015, 4, 9, tzinfo=UTC)
    assert [c.sequence for c in changes] == [
        "4421584500000000017450439091",
        "4421584500000000017450439092",
        "4421584500000000017450439093",
    ]
    assert "attributeTypes" not in insert.extensions  # S and N only: nothing ambiguous


def test_dynamodb_powertools_quirks():
    # Not real ARNs ("eventsource_arn"), a float creation time, and one record without it.
    first, second = from_native(load_event("dynamodb__powertools__dynamoStreamEvent.json"))
    assert first.source == "eventsource_arn"
    assert second.source == "source_arn"
    assert first.time == datetime(2023, 9, 6, 10, 45, 55, tzinfo=UTC)
    assert second.time is None
    assert "ApproximateCreationDateTime" not in to_native([second])["Records"][0]["dynamodb"]


def test_dynamodb_lambda_go_decodes_every_type():
    event = load_event("dynamodb__lambda-go__dynamodb-event.json")
    first, second = from_native(event)
    assert first.keys == {"val": "data", "key": "binary"}
    assert first.source == "Example-Table"
    assert first.extensions["userIdentity"] == {
        "type": "Service",
        "principalId": "dynamodb.amazonaws.com",
    }
    new = second.new
    assert new["String"] == "Hello"
    assert new["Binary"] == b"\x00\x01*A"
    assert new["b2"] == base64.b64decode("test")
    assert new["Boolean"] is True
    assert new["Null"] is None and "Null" in new
    assert new["IntegerNumber"] == 123 and type(new["IntegerNumber"]) is int
    assert new["FloatNumber"] == 123.45 and type(new["FloatNumber"]) is float
    assert new["List"] == ["Cookies", "Coffee", 3.14159]
    assert new["Map"] == {"Name": "Joe", "Age": 35}
    assert new["NumberSet"] == [1234, 567.8]
    assert new["StringSet"] == ["Giraffe", "Zebra"]
    assert new["EmptyStringSet"] == []
    assert new["BinarySet"] == [b"\x00\x01*A", b"\x00\x01*A"]  # duplicates kept, as sent
    assert new["asdf2"] == [b"\x00\x01*A", b"A*\x01\x00", b"\x00\x01*A"]
    assert second.extensions["attributeTypes"] == {
        "NewImage": {
            "asdf2": "BS",
            "BinarySet": "BS",
            "NumberSet": "NS",
            "StringSet": "SS",
            "EmptyStringSet": "SS",
        }
    }
    # Decoded once, then the same object.
    assert second.new is new


def test_dynamodb_lambda_dotnet_nested_map_and_remove():
    insert, remove = from_native(load_event("dynamodb__lambda-dotnet__dynamodb-event.json"))
    assert insert.new["misc1"] == []
    assert insert.new["misc2"] == {
        "ItemsEmpty": [],
        "ItemsNonEmpty": ["Cookies", "Coffee", 3.14159],
        "ItemBoolean": False,
        "ItemNumberSet": [0, 50, 150],
        "ItemNull": None,
        "ItemStringSet": ["Hippo", "Zebra"],
    }
    assert insert.extensions["attributeTypes"] == {
        "NewImage": {"asdf2": "BS", "misc2": {"M": {"ItemNumberSet": "NS", "ItemStringSet": "SS"}}}
    }
    assert remove.operation == "remove"
    assert remove.new is None
    assert remove.old["asdf1"] == b"\x00\x01*A"
    assert remove.extensions["dynamodb"]["StreamViewType"] == "OLD_IMAGE"
    assert remove.extensions["userIdentity"]["principalId"] == "dynamodb.amazonaws.com"


def test_dynamodb_exact_number_text_survives_the_round_trip():
    event = copy.deepcopy(load_event("dynamodb__samcli__update.json"))
    image = event["Records"][0]["dynamodb"]["NewImage"]
    image["Price"] = {"N": "1.50"}
    image["Big"] = {"N": "123456789012345678901234567890123456"}
    image["Tiny"] = {"N": "-2.5E-7"}
    change = from_native(event)[0]
    assert change.new["Price"] == 1.5
    assert change.new["Big"] == 123456789012345678901234567890123456
    assert change.extensions["attributeTypes"] == {
        "NewImage": {"Price": {"N": "1.50"}, "Tiny": {"N": "-2.5E-7"}}
    }
    assert to_native(from_native(event)) == event


# -- DynamoDB Streams: neutral → native ------------------------------------------------
def test_local_change_renders_a_realistic_record_and_reads_back():
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    local = ChangeEvent(
        "id",
        "orders",
        "modify",
        keys={"pk": "order#1", "sk": 7},
        old={"pk": "order#1", "sk": 7, "total": 10},
        new={
            "pk": "order#1",
            "sk": 7,
            "total": 12.5,
            "paid": True,
            "note": None,
            "blob": b"\x00\x01",
            "lines": [{"sku": "A", "qty": 2}],
            "tags": {"red", "blue"},
        },
        sequence="100",
        time=when,
    )
    native = to_native(local)
    assert source_of(native) == "dynamodb"
    rec = native["Records"][0]
    assert rec["eventID"] == "id"
    assert rec["eventName"] == "MODIFY"
    assert rec["eventSource"] == "aws:dynamodb"
    assert rec["eventVersion"] == "1.1"
    assert rec["eventSourceARN"].startswith("arn:aws:dynamodb:")
    assert ":123456789012:table/orders/stream/" in rec["eventSourceARN"]
    db = rec["dynamodb"]
    assert db["ApproximateCreationDateTime"] == int(when.timestamp())
    assert db["Keys"] == {"pk": {"S": "order#1"}, "sk": {"N": "7"}}
    assert db["OldImage"]["total"] == {"N": "10"}
    assert db["NewImage"]["total"] == {"N": "12.5"}
    assert db["NewImage"]["paid"] == {"BOOL": True}
    assert db["NewImage"]["note"] == {"NULL": True}
    assert db["NewImage"]["blob"] == {"B": "AAE="}
    assert db["NewImage"]["lines"] == {"L": [{"M": {"sku": {"S": "A"}, "qty": {"N": "2"}}}]}
    assert db["NewImage"]["tags"] == {"SS": ["blue", "red"]}
    assert db["SequenceNumber"] == "100"
    assert db["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert db["SizeBytes"] > 0
    back = from_native(native)[0]
    assert back.source == "orders"
    assert back.new["tags"] == ["blue", "red"]  # a set comes back as the list DynamoDB sent
    expected = local.values() | {"new": local.new | {"tags": ["blue", "red"]}}
    assert back.values() == expected
    # ... and the record read back renders the same record again.
    assert to_native(from_native(native)) == native


def test_local_changes_get_defaults():
    insert = ChangeEvent("a", "t", "insert", keys={"id": 1}, new={"id": 1})
    remove = ChangeEvent("b", "t", "remove", keys={"id": 1})
    before = datetime.now(UTC).replace(microsecond=0)
    records = to_native([insert, remove])["Records"]
    assert [r["eventName"] for r in records] == ["INSERT", "REMOVE"]
    seqs = [r["dynamodb"]["SequenceNumber"] for r in records]
    assert all(s.isdigit() for s in seqs) and int(seqs[0]) < int(seqs[1])
    assert records[1]["dynamodb"]["StreamViewType"] == "KEYS_ONLY"
    assert "NewImage" not in records[1]["dynamodb"] and "OldImage" not in records[1]["dynamodb"]
    assert from_native({"Records": records})[0].time >= before


def test_other_providers_extensions_do_not_leak_into_dynamodb():
    change = ChangeEvent(
        "x",
        "orders",
        "insert",
        keys={"id": "1"},
        provider="azure",
        event_source="azure:cosmosdb",
        extensions={"_lsn": 4, "dynamodb": {"SizeBytes": 1}},
    )
    rec = dynamodb.to_native([change])["Records"][0]
    assert "_lsn" not in rec
    assert rec["dynamodb"]["StreamViewType"] == "KEYS_ONLY"
    assert rec["eventSourceARN"].endswith(":table/orders/stream/2024-01-01T00:00:00.000")


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda r: r.pop("eventID"), "Records[1].eventID"),
        (lambda r: r.update(eventName="UPSERT"), "Records[1].eventName"),
        (lambda r: r.pop("dynamodb"), "Records[1].dynamodb"),
        (lambda r: r["dynamodb"].pop("Keys"), "Records[1].dynamodb.Keys"),
        (
            lambda r: r["dynamodb"].update(ApproximateCreationDateTime="today"),
            "Records[1].dynamodb.ApproximateCreationDateTime",
        ),
        (
            lambda r: r["dynamodb"]["NewImage"]["Map"]["M"]["Age"].update(N="thirty"),
            "Records[1].dynamodb.NewImage.Map.M.Age.N",
        ),
        (
            lambda r: r["dynamodb"]["NewImage"]["List"]["L"].append({"B": "not base64!"}),
            "Records[1].dynamodb.NewImage.List.L[3].B",
        ),
        (
            lambda r: r["dynamodb"]["NewImage"].update(Weird={"X": 1}),
            "Records[1].dynamodb.NewImage.Weird",
        ),
    ],
)
def test_dynamodb_malformed_fields_are_named(mutate, field):
    err = _read_error(
        "dynamodb__lambda-go__dynamodb-event.json", mutate, lambda c: (c.values(), c.extensions)
    )
    assert (err.provider, err.source, err.field) == ("aws", "aws:dynamodb", field)


def test_dynamodb_records_must_be_a_list():
    with pytest.raises(MalformedEventError) as info:
        dynamodb.from_native({"Records": {"eventSource": "aws:dynamodb"}})
    assert info.value.field == "Records"


# -- Kinesis: every sample ---------------------------------------------------------------
@pytest.mark.parametrize("path", KINESIS_FILES, ids=lambda p: p.name)
def test_kinesis_sample_is_recognised_and_round_trips(path):
    event = load_event(path)
    assert source_of(event) == "kinesis"
    messages = from_native(event)
    assert len(messages) == len(event["Records"])
    for msg, rec in zip(messages, event["Records"], strict=True):
        k = rec["kinesis"]
        assert isinstance(msg, QueueMessage)
        assert (msg.provider, msg.event_source) == ("aws", "aws:kinesis")
        assert msg.id == k["sequenceNumber"]
        assert msg.body == base64.b64decode(k["data"])
        assert msg.group_id == k["partitionKey"]
        assert msg.enqueued_at == datetime.fromtimestamp(k["approximateArrivalTimestamp"], UTC)
        assert msg.delivery_count == 1
        assert msg.attributes == {}
        assert msg.native is rec
        ext = msg.extensions
        assert ext["eventID"] == rec["eventID"]
        assert ext["invokeIdentityArn"] == rec["invokeIdentityArn"]
        assert ext["kinesis"] == {"kinesisSchemaVersion": k["kinesisSchemaVersion"]}
    back = to_native(messages)
    assert back == event
    assert json_equal(back, event)


def test_kinesis_values():
    msgs = from_native(load_event("kinesis__lambda-go__kinesis-event.json"))
    assert [m.text for m in msgs] == ["Hello World", "Hello World"]
    assert {m.queue for m in msgs} == {"simple-stream"}
    assert msgs[0].group_id == "s1"
    assert msgs[0].enqueued_at == datetime(2016, 12, 2, 1, 18, 43, 477000, tzinfo=UTC)
    one = from_native(load_event("kinesis__powertools__kinesisStreamEventOneRecord.json"))[0]
    assert one.json() == {"message": "test message", "username": "test"}
    assert one.queue == "lambda-stream"
    # The SAM CLI sample's ARN is a placeholder: its last segment is the name.
    sam = from_native(load_event("kinesis__samcli__get-records.json"))[0]
    assert sam.queue == "EXAMPLE"
    assert sam.text == "Hello, this is a test 123."


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda r: r["kinesis"].update(data="%%% not base64"), "Records[1].kinesis.data"),
        (lambda r: r["kinesis"].update(data=12), "Records[1].kinesis.data"),
        (lambda r: r["kinesis"].pop("data"), "Records[1].kinesis.data"),
        (lambda r: r["kinesis"].pop("sequenceNumber"), "Records[1].kinesis.sequenceNumber"),
        (lambda r: r.pop("kinesis"), "Records[1].kinesis"),
        (
            lambda r: r["kinesis"].update(approximateArrivalTimestamp="now"),
            "Records[1].kinesis.approximateArrivalTimestamp",
        ),
    ],
)
def test_kinesis_malformed_fields_are_named(mutate, field):
    err = _read_error("kinesis__powertools__kinesisStreamEvent.json", mutate, lambda m: m.values())
    assert (err.provider, err.source, err.field) == ("aws", "aws:kinesis", field)


# -- Kinesis: neutral → native -----------------------------------------------------------
def test_local_message_renders_a_kinesis_record_and_reads_back():
    arrived = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    local = QueueMessage(
        "4955", b'{"n": 1}', queue="clicks", group_id="user-1", enqueued_at=arrived
    )
    native = to_native([local], source="kinesis")
    assert source_of(native) == "kinesis"
    rec = native["Records"][0]
    assert rec["kinesis"] == {
        "kinesisSchemaVersion": "1.0",
        "partitionKey": "user-1",
        "sequenceNumber": "4955",
        "data": base64.b64encode(b'{"n": 1}').decode(),
        "approximateArrivalTimestamp": arrived.timestamp(),
    }
    assert rec["eventSourceARN"].endswith(":123456789012:stream/clicks")
    assert rec["eventID"] == "shardId-000000000000:4955"
    assert rec["eventName"] == "aws:kinesis:record"
    back = from_native(native)[0]
    assert back.values() == local.values()
    assert to_native(from_native(native)) == native


def test_local_message_without_partition_key_uses_its_id():
    rec = kinesis.to_native(QueueMessage("7", "x", queue="s"))["Records"][0]
    assert rec["kinesis"]["partitionKey"] == "7"
    assert isinstance(rec["kinesis"]["approximateArrivalTimestamp"], float)


def test_other_sources_extensions_do_not_leak_into_kinesis():
    sqs_msg = QueueMessage(
        "m",
        "b",
        queue="q",
        provider="aws",
        event_source="aws:sqs",
        extensions={"receiptHandle": "rh", "attributes": {"SenderId": "x"}},
    )
    azure_msg = QueueMessage("m", "b", queue="q", provider="azure", extensions={"dequeue_count": 3})
    for rec in kinesis.to_native([sqs_msg, azure_msg])["Records"]:
        assert not {"receiptHandle", "attributes", "dequeue_count"} & set(rec)
        assert rec["eventSourceARN"].endswith(":stream/q")


# -- in-process handlers: ordered partial failures ---------------------------------------
def _handler(app: App):
    return handler(app, outputs=Outputs(MemoryDriver()))


def test_order_is_in_order():
    assert dynamodb.order(load_event("dynamodb__samcli__update.json")) == IN_ORDER
    assert kinesis.order(load_event("kinesis__samcli__get-records.json")) == IN_ORDER


@pytest.mark.parametrize("retry", [False, True])
def test_dynamodb_middle_failure_stops_the_batch_and_reports_its_sequence(retry):
    event = load_event("dynamodb__samcli__update.json")
    seen: list[str] = []
    app = App("t")

    @app.change("ExampleTableWithStream")
    def on_change(change, ctx):
        seen.append(change.operation)
        if change.operation == "modify":
            raise Retry("later") if retry else ValueError("boom")

    result = _handler(app)(event, None)
    assert result == {"batchItemFailures": [{"itemIdentifier": "4421584500000000017450439092"}]}
    assert seen == ["insert", "modify"]  # the REMOVE after it was not run


def test_dynamodb_all_good_and_first_failure():
    event = load_event("dynamodb__samcli__update.json")
    app = App("t")
    seen: list[str] = []

    @app.change("ExampleTableWithStream")
    def on_change(change):
        seen.append(change.id)

    assert _handler(app)(event, None) == {"batchItemFailures": []}
    assert len(seen) == 3

    app2 = App("t2")

    @app2.change("ExampleTableWithStream")
    def fail_all(change):
        raise ValueError("no")

    assert _handler(app2)(event, None) == {
        "batchItemFailures": [{"itemIdentifier": "4421584500000000017450439091"}]
    }


def test_dynamodb_batch_handler_reports_the_lowest_failed_sequence():
    event = load_event("dynamodb__samcli__update.json")
    app = App("t")

    @app.change("ExampleTableWithStream", batch=True)
    def on_changes(changes):
        assert [c.operation for c in changes] == ["insert", "modify", "remove"]
        return [changes[2].id, changes[1].id]

    assert _handler(app)(event, None) == {
        "batchItemFailures": [{"itemIdentifier": "4421584500000000017450439092"}]
    }


def _three_kinesis_records() -> dict:
    # The lambda-go sample's two records plus a third, copied from the second with the
    # next sequence number, so that a failure can sit in the middle.
    event = copy.deepcopy(load_event("kinesis__lambda-go__kinesis-event.json"))
    third = copy.deepcopy(event["Records"][1])
    seq = "49568167373333333335555555555555555555555555555555555555"
    third["kinesis"].update(sequenceNumber=seq, data=base64.b64encode(b"third").decode())
    third["eventID"] = f"shardId-000000000000:{seq}"
    event["Records"].append(third)
    event["Records"][1]["kinesis"]["data"] = base64.b64encode(b"second").decode()
    return event


def test_kinesis_middle_failure_stops_the_batch_and_reports_its_sequence():
    event = _three_kinesis_records()
    seen: list[str] = []
    app = App("t")

    @app.stream("simple-stream")
    def on_record(msg, ctx):
        seen.append(msg.text)
        if msg.text == "second":
            raise ValueError("boom")

    result = _handler(app)(event, None)
    assert result == {
        "batchItemFailures": [
            {"itemIdentifier": "49568167373333333334444444444444444444444444444444444444"}
        ]
    }
    assert seen == ["Hello World", "second"]  # "third" was not run


def test_kinesis_malformed_record_fails_in_order():
    event = _three_kinesis_records()
    event["Records"][1]["kinesis"]["data"] = "!!not base64!!"
    seen: list[str] = []
    app = App("t")

    @app.stream("simple-stream")
    def on_record(msg):
        seen.append(msg.text)

    result = _handler(app)(event, None)
    assert result == {
        "batchItemFailures": [
            {"itemIdentifier": "49568167373333333334444444444444444444444444444444444444"}
        ]
    }
    assert seen == ["Hello World"]


def test_kinesis_sample_all_good():
    event = load_event("kinesis__powertools__kinesisStreamEvent.json")
    seen: list[str] = []
    app = App("t")

    @app.stream("lambda-stream")
    def on_record(msg):
        seen.append(msg.text)

    assert _handler(app)(event, None) == {"batchItemFailures": []}
    assert seen == ["Hello, this is a test.", "This is only a test."]
