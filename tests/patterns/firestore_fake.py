"""A minimal in-process Firestore gRPC server: a test double of Google's service.

No Firestore emulator can run here (Google's emulators are Java jars downloaded at
install time), so the tests point the REAL google-cloud-firestore client at this server
through ``FIRESTORE_EMULATOR_HOST``. It speaks the real wire protocol, with the message
types google-cloud-firestore ships (google.cloud.firestore_v1.types), and implements only
what FirestoreStore uses:

- ``BatchGetDocuments`` (DocumentReference.get): ``found`` or ``missing`` per name;
- ``Commit`` (create / update / delete): all writes of a commit apply atomically, after
  every precondition holds. Precondition semantics follow
  https://cloud.google.com/firestore/docs/reference/rpc/google.firestore.v1#precondition:
  ``exists: true`` — the document must exist (else NOT_FOUND), ``exists: false`` — it
  must not (else ALREADY_EXISTS, which the client's ``create`` documents as Conflict);
  ``update_time`` — it must exist and have been last updated at exactly that time (else
  FAILED_PRECONDITION). An ``update_mask`` updates only the listed top-level fields
  (a listed field missing from the document is deleted); no mask replaces the document
  (https://cloud.google.com/firestore/docs/reference/rpc/google.firestore.v1#write).
  Update times are microsecond-aligned and strictly increasing, as Firestore's are.

Anything else (transactions, transforms, field masks on reads, nested field paths)
answers UNIMPLEMENTED, so a client change that needs more fails loudly instead of
passing against a fake that silently ignores it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
from google.cloud.firestore_v1.types import firestore as fs
from google.protobuf.timestamp_pb2 import Timestamp

SERVICE = "google.firestore.v1.Firestore"
# The raw protobuf classes behind google-cloud-firestore's proto-plus types.
BatchGetRequest = fs.BatchGetDocumentsRequest.pb()
BatchGetResponse = fs.BatchGetDocumentsResponse.pb()
CommitRequest = fs.CommitRequest.pb()
CommitResponse = fs.CommitResponse.pb()


@dataclass
class _Doc:
    fields: dict[str, Any]  # name → google.firestore.v1.Value (protobuf)
    create_time: datetime
    update_time: datetime


def _ts(t: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(t)
    return ts


class FakeFirestore:
    """The server's state and its two RPCs; :meth:`start` serves them on 127.0.0.1."""

    def __init__(self) -> None:
        self.docs: dict[str, _Doc] = {}
        self.calls: list[str] = []  # RPC names, in order: what the client really used
        self._lock = threading.Lock()
        self._last = datetime.fromtimestamp(0, UTC)
        self._server: grpc.Server | None = None
        self.port = 0

    def _tick(self) -> datetime:
        # datetime has microsecond resolution: aligned as Firestore's update times are.
        self._last = max(datetime.now(UTC), self._last + timedelta(microseconds=1))
        return self._last

    # --- RPCs -------------------------------------------------------------------------

    def batch_get_documents(self, req: Any, ctx: grpc.ServicerContext) -> Iterator[Any]:
        self.calls.append("BatchGetDocuments")
        if req.WhichOneof("consistency_selector") or req.HasField("mask"):
            ctx.abort(grpc.StatusCode.UNIMPLEMENTED, "fake: transactions/read_time/mask")
        with self._lock:
            read_time = self._tick()
            found = {name: self.docs.get(name) for name in req.documents}
        for name, doc in found.items():
            resp = BatchGetResponse(read_time=_ts(read_time))
            if doc is None:
                resp.missing = name
            else:
                resp.found.name = name
                for k, v in doc.fields.items():
                    resp.found.fields[k].CopyFrom(v)
                resp.found.create_time.CopyFrom(_ts(doc.create_time))
                resp.found.update_time.CopyFrom(_ts(doc.update_time))
            yield resp

    def commit(self, req: Any, ctx: grpc.ServicerContext) -> Any:
        self.calls.append("Commit")
        if req.transaction:
            ctx.abort(grpc.StatusCode.UNIMPLEMENTED, "fake: transactions")
        with self._lock:
            now = self._tick()
            staged = dict(self.docs)  # applied only if every write passes
            for w in req.writes:
                op = w.WhichOneof("operation")
                if op not in ("update", "delete") or len(w.update_transforms):
                    ctx.abort(grpc.StatusCode.UNIMPLEMENTED, f"fake: write {op} / transforms")
                name = w.update.name if op == "update" else w.delete
                current = staged.get(name)
                self._check(w, name, current, ctx)
                if op == "delete":
                    staged.pop(name, None)
                    continue
                fields = self._updated_fields(w, current, ctx)
                staged[name] = _Doc(fields, current.create_time if current else now, now)
            self.docs = staged
        resp = CommitResponse(commit_time=_ts(now))
        for _ in req.writes:
            resp.write_results.add().update_time.CopyFrom(_ts(now))
        return resp

    @staticmethod
    def _check(w: Any, name: str, current: _Doc | None, ctx: grpc.ServicerContext) -> None:
        if not w.HasField("current_document"):
            return
        pre = w.current_document
        kind = pre.WhichOneof("condition_type")
        if kind == "exists":
            if pre.exists and current is None:
                ctx.abort(grpc.StatusCode.NOT_FOUND, f"No document to update: {name}")
            if not pre.exists and current is not None:
                ctx.abort(grpc.StatusCode.ALREADY_EXISTS, f"Document already exists: {name}")
        elif kind == "update_time" and (
            current is None or _ts(current.update_time) != pre.update_time
        ):
            ctx.abort(
                grpc.StatusCode.FAILED_PRECONDITION,
                f"the stored version of {name} does not match the required base version",
            )

    @staticmethod
    def _updated_fields(w: Any, current: _Doc | None, ctx: grpc.ServicerContext) -> dict:
        given = {k: v for k, v in w.update.fields.items()}
        if not w.HasField("update_mask"):
            return given
        fields = dict(current.fields) if current else {}
        for path in w.update_mask.field_paths:
            if "." in path or "`" in path:
                ctx.abort(grpc.StatusCode.UNIMPLEMENTED, f"fake: nested field path {path}")
            if path in given:
                fields[path] = given[path]
            else:
                fields.pop(path, None)
        return fields

    # --- serving -------------------------------------------------------------------------

    def start(self) -> str:
        """Serve on a free loopback port; returns ``host:port`` for FIRESTORE_EMULATOR_HOST."""
        handlers = {
            "BatchGetDocuments": grpc.unary_stream_rpc_method_handler(
                self.batch_get_documents,
                request_deserializer=BatchGetRequest.FromString,
                response_serializer=BatchGetResponse.SerializeToString,
            ),
            "Commit": grpc.unary_unary_rpc_method_handler(
                self.commit,
                request_deserializer=CommitRequest.FromString,
                response_serializer=CommitResponse.SerializeToString,
            ),
        }
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
        self.port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        self._server = server
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop(grace=None)
            self._server = None
