"""Neutral events: value construction, helpers, multi-dicts and pydantic integration."""

from __future__ import annotations

from datetime import UTC, datetime

import pydantic
import pytest

from polyfn import (
    ChangeEvent,
    CloudEvent,
    Headers,
    HttpRequest,
    HttpResponse,
    QueryParams,
    QueueMessage,
    StorageEvent,
    TopicMessage,
)
from polyfn.events import as_response


def test_headers_are_case_insensitive_and_multi_valued():
    h = Headers([("Accept", "a/b"), ("accept", "c/d"), ("X-Id", "1")])
    assert h["ACCEPT"] == "a/b, c/d"
    assert h.get_all("accept") == ["a/b", "c/d"]
    assert "x-id" in h and list(h) == ["Accept", "X-Id"]
    assert h == {"accept": ["a/b", "c/d"], "x-id": "1"}


def test_query_keeps_repeated_keys_last_wins():
    q = QueryParams({"tag": ["a", "b"], "page": "2"})
    assert q["tag"] == "b" and q.get_all("tag") == ["a", "b"] and q["page"] == "2"
    assert q.multi_items() == [("tag", "a"), ("tag", "b"), ("page", "2")]


def test_http_request_body_helpers():
    req = HttpRequest(
        "post", "/x", body='{"a": [1, 2]}', headers={"Content-Type": "application/json"}
    )
    assert req.method == "POST" and req.body == b'{"a": [1, 2]}'
    assert req.text == '{"a": [1, 2]}' and req.json() == {"a": [1, 2]}
    assert req.headers["content-type"] == "application/json"

    class Body(pydantic.BaseModel):
        a: list[int]

    assert req.json(Body) == Body(a=[1, 2])


@pytest.mark.parametrize(
    ("result", "status", "body", "ctype"),
    [
        ({"a": 1}, 200, b'{"a":1}', "application/json"),
        ([1], 200, b"[1]", "application/json"),
        ("hi", 200, b"hi", "text/plain; charset=utf-8"),
        (b"\x00", 200, b"\x00", "application/octet-stream"),
        (None, 204, b"", None),
        (HttpResponse(b"x", 201, {"content-type": "a/b"}), 201, b"x", "a/b"),
    ],
)
def test_handler_results_become_responses(result, status, body, ctype):
    resp = as_response(result)
    assert (resp.status, resp.body, resp.headers.get("content-type")) == (status, body, ctype)


def test_events_compare_on_neutral_fields_only():
    a = QueueMessage("1", "x", queue="q", provider="aws", extensions={"receiptHandle": "r"})
    b = QueueMessage("1", b"x", queue="q", provider="azure", extensions={"dequeueCount": 1})
    assert a == b
    assert a != QueueMessage("2", "x", queue="q")
    assert a.to_dict()["provider"] == "aws"


def test_pydantic_validates_and_serialises_neutral_events():
    msg = QueueMessage.validate({"id": "1", "body": "hello", "queue": "q", "delivery_count": "3"})
    assert isinstance(msg, QueueMessage) and msg.delivery_count == 3 and msg.body == b"hello"
    with pytest.raises(pydantic.ValidationError, match="delivery_count"):
        QueueMessage.validate({"id": "1", "delivery_count": "many"})

    class Envelope(pydantic.BaseModel):
        event: StorageEvent

    env = Envelope.model_validate(
        {"event": {"bucket": "b", "key": "k", "kind": "created", "size": 3}}
    )
    assert env.event == StorageEvent("b", "k", size=3)
    dumped = env.model_dump()
    assert dumped["event"]["bucket"] == "b" and dumped["event"]["kind"] == "created"
    schema = StorageEvent.model().model_json_schema()
    assert set(schema["properties"]) >= {"bucket", "key", "kind", "size", "etag", "version"}
    with pytest.raises(pydantic.ValidationError):
        StorageEvent.validate({"bucket": "b", "key": "k", "kind": "exploded"})


def test_other_events_construct_with_defaults():
    t = datetime(2026, 1, 1, tzinfo=UTC)
    assert TopicMessage("1", "t", "b").attributes == {}
    ch = ChangeEvent("1", "users", "modify", keys={"id": 1}, old={"n": 1}, new={"n": 2}, time=t)
    assert ch.values()["source"] == "users"
    ce = CloudEvent("1", "src", "type", {"x": 1}, subject="s", extensions={"region": "eu"})
    assert ce.attributes() == {
        "specversion": "1.0",
        "id": "1",
        "source": "src",
        "type": "type",
        "subject": "s",
        "region": "eu",
    }


def test_change_events_validate_despite_their_keys_field():
    ch = ChangeEvent.validate(
        {
            "id": "1",
            "source": "users",
            "operation": "insert",
            "keys": {"id": 1},
            "new": {"id": 1, "n": "a"},
        }
    )
    assert ch.keys == {"id": 1} and ch.operation == "insert"
