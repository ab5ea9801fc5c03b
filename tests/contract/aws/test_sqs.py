"""SQS (standard and FIFO) against AWS's published sample events.

Sources: tests/events/aws/sqs__* (SAM CLI generate-event, Powertools test events,
Lambda developer guide); provenance in tests/events/aws/PROVENANCE.md.
"""

from __future__ import annotations

import copy
import hashlib
from datetime import UTC, datetime

import pytest
from conftest import aws_event_files, load_event

from polyfn import App, MalformedEventError, QueueMessage, Retry
from polyfn.adapters.aws import from_native, handler, to_native
from polyfn.adapters.aws.translate import source_of
from polyfn.outputs import Outputs
from polyfn.outputs.memory import MemoryDriver

SQS_FILES = aws_event_files("sqs")


@pytest.mark.parametrize("path", SQS_FILES, ids=lambda p: p.name)
def test_sample_is_recognised_and_round_trips(path):
    event = load_event(path)
    assert source_of(event) == "sqs"
    messages = from_native(event)
    assert len(messages) == len(event["Records"])
    for msg, rec in zip(messages, event["Records"], strict=True):
        assert msg.id == rec["messageId"]
        assert msg.text == rec["body"]
        assert msg.body == rec["body"].encode()
        assert msg.delivery_count == int(rec["attributes"]["ApproximateReceiveCount"])
        assert msg.queue == rec["eventSourceARN"].rsplit(":", 1)[1]
        assert msg.group_id == rec["attributes"].get("MessageGroupId")
        sent = int(rec["attributes"]["SentTimestamp"])
        assert msg.enqueued_at == datetime.fromtimestamp(sent / 1000, UTC)
        assert msg.native is rec
        assert msg.extensions["receiptHandle"] == rec["receiptHandle"]
    assert to_native(messages) == event


def test_message_attributes_keep_types():
    event = load_event("sqs__powertools__sqsEvent.json")
    msg = from_native(event)[0]
    native = event["Records"][0]["messageAttributes"]
    for name, attr in native.items():
        if attr["dataType"].startswith("Binary"):
            assert isinstance(msg.attributes[name], bytes)
        else:
            assert msg.attributes[name] == attr["stringValue"]


def test_fifo_group_and_sequence():
    event = load_event("sqs__powertools__snsSqsFifoEvent.json")
    msg = from_native(event)[0]
    attrs = event["Records"][0]["attributes"]
    assert msg.group_id == attrs["MessageGroupId"]
    assert msg.extensions["attributes"]["SequenceNumber"] == attrs["SequenceNumber"]
    assert msg.extensions["attributes"]["MessageDeduplicationId"] == attrs["MessageDeduplicationId"]


def test_local_message_renders_a_realistic_record_and_reads_back():
    sent = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    local = QueueMessage(
        "m-1",
        '{"a": 1}',
        attributes={"k": "v", "b": b"\x00\x01"},
        delivery_count=2,
        enqueued_at=sent,
        queue="orders.fifo",
        group_id="g1",
    )
    native = to_native([local])
    rec = native["Records"][0]
    assert rec["eventSource"] == "aws:sqs"
    assert rec["eventSourceARN"].endswith(":orders.fifo")
    assert rec["md5OfBody"] == hashlib.md5(b'{"a": 1}').hexdigest()
    assert rec["attributes"]["MessageGroupId"] == "g1"
    back = from_native(native)[0]
    assert back.values() == local.values()
    assert back == local


def test_other_providers_extensions_do_not_leak():
    msg = QueueMessage("x", "b", queue="q", provider="azure", extensions={"dequeue_count": 3})
    rec = to_native([msg])["Records"][0]
    assert "dequeue_count" not in rec


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda r: r.pop("messageId"), "Records[0].messageId"),
        (lambda r: r.pop("body"), "Records[0].body"),
        (
            lambda r: r["attributes"].update(ApproximateReceiveCount="x"),
            "Records[0].attributes.ApproximateReceiveCount",
        ),
        (
            lambda r: r["attributes"].update(SentTimestamp="yesterday"),
            "Records[0].attributes.SentTimestamp",
        ),
    ],
)
def test_malformed_fields_are_named(mutate, field):
    event = copy.deepcopy(load_event("sqs__samcli__receive-message.json"))
    mutate(event["Records"][0])
    msg = from_native(event)[0]
    with pytest.raises(MalformedEventError) as info:
        msg.values()
    err = info.value
    assert (err.provider, err.source, err.field) == ("aws", "aws:sqs", field)
    assert "KeyError" not in str(err)


def _batch(n: int, fifo: bool = False, groups: tuple[str, ...] = ("g",)) -> dict:
    msgs = [
        QueueMessage(
            f"id-{i}",
            f'{{"n": {i}}}',
            queue="work" + (".fifo" if fifo else ""),
            group_id=groups[i % len(groups)] if fifo else None,
        )
        for i in range(n)
    ]
    return to_native(msgs)


def _app(fail: set[int], seen: list[int], retry: bool = False) -> App:
    app = App("t")

    @app.queue("work")
    def work(msg, ctx):
        n = msg.json()["n"]
        seen.append(n)
        if n in fail:
            raise (Retry("later") if retry else ValueError(f"bad {n}"))

    @app.queue("work.fifo", fifo=True)
    def work_fifo(msg, ctx):
        work(msg, ctx)

    return app


def _handler(app: App):
    return handler(app, outputs=Outputs(MemoryDriver()))


def test_one_failing_record_in_ten_is_the_only_batch_item_failure():
    seen: list[int] = []
    result = _handler(_app({6}, seen))(_batch(10), None)
    assert result == {"batchItemFailures": [{"itemIdentifier": "id-6"}]}
    assert seen == list(range(10))  # the others still ran


def test_retry_marks_the_record_failed():
    seen: list[int] = []
    result = _handler(_app({2, 3}, seen, retry=True))(_batch(5), None)
    assert result == {"batchItemFailures": [{"itemIdentifier": "id-2"}, {"itemIdentifier": "id-3"}]}


def test_all_good_gives_empty_failures():
    assert _handler(_app(set(), []))(_batch(3), None) == {"batchItemFailures": []}


def test_fifo_failure_skips_the_rest_of_its_group_only():
    seen: list[int] = []
    event = _batch(6, fifo=True, groups=("a", "b"))  # a: 0,2,4  b: 1,3,5
    result = _handler(_app({2}, seen))(event, None)
    failed = [f["itemIdentifier"] for f in result["batchItemFailures"]]
    assert failed == ["id-2", "id-4"]  # 4 is after 2 in group a: not run, redelivered in order
    assert seen == [0, 1, 2, 3, 5]


def test_malformed_record_is_reported_failed_not_lost():
    seen: list[int] = []
    event = _batch(3)
    del event["Records"][1]["body"]
    result = _handler(_app(set(), seen))(event, None)
    assert result == {"batchItemFailures": [{"itemIdentifier": "id-1"}]}
    assert seen == [0, 2]


def test_batch_handler_returns_failed_ids():
    app = App("t")

    @app.queue("work", batch=True)
    def work(messages, ctx):
        assert len(messages) == 4
        return [m.id for m in messages if m.json()["n"] % 2]

    result = _handler(app)(_batch(4), None)
    assert result == {"batchItemFailures": [{"itemIdentifier": "id-1"}, {"itemIdentifier": "id-3"}]}


def test_record_without_id_fails_the_whole_batch_with_the_typed_error():
    seen: list[int] = []
    event = _batch(3)
    del event["Records"][2]["messageId"]
    with pytest.raises(MalformedEventError) as info:
        _handler(_app(set(), seen))(event, None)
    assert (info.value.source, info.value.field) == ("aws:sqs", "Records[2].messageId")
    assert seen == []  # nothing ran, so the redelivered batch has no duplicates
