"""Broker storage: a folder per bucket, storage events, key safety, crash recovery."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from polyfn.events.storage import StorageEvent
from polyfn.local.broker import Broker, InvalidKey, ObjectNotFound
from polyfn.local.clock import VirtualClock


def test_put_writes_the_file_and_records_a_created_event(broker: Broker, clock: VirtualClock):
    info = broker.put("photos", "2024/01/cat.jpg", b"meow", metadata={"owner": "ann"})
    assert info.etag == hashlib.md5(b"meow").hexdigest()
    assert (info.size, info.content_type, info.metadata) == (4, "image/jpeg", {"owner": "ann"})
    path = broker.state_dir / "buckets" / "photos" / "2024" / "01" / "cat.jpg"
    assert path.read_bytes() == b"meow"

    (record,) = broker.next_events(["storage"])
    event = record.event
    assert isinstance(event, StorageEvent)
    assert event == StorageEvent(
        "photos",
        "2024/01/cat.jpg",
        "created",
        size=4,
        etag=info.etag,
        version=info.version,
        time=clock.now(),
    )
    assert event.extensions == {"content_type": "image/jpeg", "metadata": {"owner": "ann"}}


def test_get_head_list(broker: Broker):
    broker.put("b", "a.txt", b"1", content_type="text/x-custom")
    broker.put("b", "dir/b.txt", b"22")
    broker.put("b", "dir/c.txt", b"333")
    broker.put("other", "z", b"z")
    got = broker.get("b", "dir/b.txt")
    assert (got.data, got.info.size) == (b"22", 2)
    assert broker.head("b", "a.txt").content_type == "text/x-custom"  # type: ignore[union-attr]
    assert broker.head("b", "missing") is None
    assert [o.key for o in broker.list("b")] == ["a.txt", "dir/b.txt", "dir/c.txt"]
    assert [o.key for o in broker.list("b", "dir/")] == ["dir/b.txt", "dir/c.txt"]
    assert broker.list("nope") == []
    assert broker.buckets() == ["b", "other"]
    with pytest.raises(ObjectNotFound):
        broker.get("b", "missing")


def test_overwrite_gets_a_new_version(broker: Broker):
    first = broker.put("b", "k", b"one")
    second = broker.put("b", "k", b"two")
    assert int(second.version) > int(first.version)
    assert broker.get("b", "k").data == b"two"
    assert [e.event.version for e in broker.next_events()] == [first.version, second.version]


def test_delete_removes_the_file_and_records_a_deleted_event(broker: Broker):
    info = broker.put("b", "deep/er/k.bin", b"data")
    broker.ack_event(broker.next_events()[0])
    assert broker.delete("b", "deep/er/k.bin")
    assert not (broker.state_dir / "buckets" / "b" / "deep").exists()  # empty folders go
    (record,) = broker.next_events()
    assert (record.event.kind, record.event.size, record.event.etag) == ("deleted", 4, info.etag)
    assert not broker.delete("b", "deep/er/k.bin")  # nothing there: no event
    assert broker.next_events() == []


@pytest.mark.parametrize(
    "key",
    ["", "/etc/passwd", "../escape", "a/../../b", "a//b", "a/./b", "trailing/", "a\\b", "n\x00l"],
)
def test_unsafe_keys_are_refused(broker: Broker, key: str):
    with pytest.raises(InvalidKey):
        broker.put("b", key, b"x")
    assert not list((broker.state_dir / "buckets").rglob("*"))


@pytest.mark.parametrize("bucket", ["", "..", ".hidden", "a/b", "a\\b"])
def test_unsafe_bucket_names_are_refused(broker: Broker, bucket: str):
    with pytest.raises(InvalidKey):
        broker.put(bucket, "k", b"x")


def test_keys_that_are_folders_of_other_keys_are_refused(broker: Broker):
    broker.put("b", "a/b", b"x")
    with pytest.raises(InvalidKey):
        broker.put("b", "a", b"x")
    with pytest.raises(InvalidKey):
        broker.put("b", "a/b/c", b"x")
    assert [o.key for o in broker.list("b")] == ["a/b"]
    assert len(broker.next_events()) == 1


def test_symlinks_cannot_lead_out_of_a_bucket(broker: Broker, tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    bucket = broker.state_dir / "buckets" / "b"
    bucket.mkdir(parents=True)
    (bucket / "link").symlink_to(outside)
    with pytest.raises(InvalidKey):
        broker.put("b", "link/x", b"x")
    assert not list(outside.iterdir())


def test_objects_survive_a_restart(open_broker):
    broker = open_broker()
    broker.put("b", "k", b"kept")
    broker.close()
    again = open_broker()
    assert again.get("b", "k").data == b"kept"
    assert len(again.next_events()) == 1


def test_recovery_finishes_a_put_interrupted_after_its_intent(open_broker, state_dir: Path):
    broker = open_broker()
    broker.put("b", "k", b"old")
    broker.ack_event(broker.next_events()[0])
    # What a kill -9 between the intent and the rename leaves behind:
    tmp = state_dir / "tmp" / "crashed.part"
    tmp.write_bytes(b"new")
    with broker._write() as db:
        db.execute(
            "INSERT INTO file_intents (op, bucket, key, tmp, size, etag, content_type, metadata) "
            "VALUES ('put', 'b', 'k', 'crashed.part', 3, ?, 'text/plain', '{}')",
            (hashlib.md5(b"new").hexdigest(),),
        )
    (state_dir / "tmp" / "orphan.part").write_bytes(b"a put that never got its intent")
    broker.close()

    again = open_broker()
    assert again.get("b", "k").data == b"new"
    (record,) = again.next_events()
    assert (record.event.kind, record.event.etag) == ("created", hashlib.md5(b"new").hexdigest())
    assert not list((state_dir / "tmp").iterdir())


def test_recovery_finishes_a_put_interrupted_after_its_rename(open_broker, state_dir: Path):
    broker = open_broker()
    with broker._write() as db:
        db.execute(
            "INSERT INTO file_intents (op, bucket, key, tmp, size, etag, content_type, metadata) "
            "VALUES ('put', 'b', 'k', 'gone.part', 3, 'e', 'text/plain', '{}')"
        )
    target = state_dir / "buckets" / "b" / "k"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"new")  # renamed, but the object row was not written
    broker.close()

    again = open_broker()
    assert again.get("b", "k").data == b"new"
    assert again.head("b", "k").etag == "e"  # type: ignore[union-attr]
    assert len(again.next_events()) == 1


def test_recovery_finishes_an_interrupted_delete(open_broker, state_dir: Path):
    broker = open_broker()
    broker.put("b", "k", b"x")
    broker.ack_event(broker.next_events()[0])
    with broker._write() as db:
        db.execute("INSERT INTO file_intents (op, bucket, key) VALUES ('delete', 'b', 'k')")
    broker.close()

    again = open_broker()
    assert again.head("b", "k") is None
    assert not (state_dir / "buckets" / "b" / "k").exists()
    assert [e.event.kind for e in again.next_events()] == ["deleted"]
