"""Per-invocation cost of polyfn's Azure adapter over calling the handler directly.

(Not named ``azure.py``: with this folder on ``sys.path`` that module would shadow the
``azure`` namespace package, and ``import azure.functions`` would fail.)

Everything runs in this one process with ``timeit``, as in per_event.py: ``autorange``
picks each row's loop count, then ``repeat`` rounds go round-robin over the rows of a
section; the median per call is reported in microseconds. Each variant's result is
checked before it is timed.

- Storage queue message: the handler called directly, the Azure function the worker
  calls (the wrapper ``function_app(app)`` registered), that wrapper after the library's
  converter decoded the host's payload, and azure.functions alone (converter + a plain
  ``def main(msg: func.QueueMessage)``), the peer;
- HTTP ``GET /items/{id}``: ``func.HttpRequest`` in, ``func.HttpResponse`` out, through
  polyfn and through a plain azure.functions function.

The goal (from the issue): the adapter adds under 20 us per queue message.

    python bench/azure_event.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import json
import logging
import threading
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

try:  # run as a script, or imported by run.py (which puts this folder on sys.path)
    from per_event import Row, per_call_us, table
except ImportError:  # imported as bench.azure_event
    from .per_event import Row, per_call_us, table

ROOT = Path(__file__).resolve().parent.parent
GOAL_US = 20.0
ITEM = {"name": "widget", "price": 4.5}

# The message of tests/events/azure/queue__host__message.json.
MESSAGE_ID = "6f1c7a8e-3b0d-4e51-9a7c-2d5e8f4b1a90"
MESSAGE_BODY = b'{"orderId":"ord-1001","amount":42.5}'
INSERTED = datetime(2024, 5, 1, 9, 30, 12, tzinfo=UTC)


# -- the worker's context ----------------------------------------------------------------
class _Trace:
    """azure_functions_worker/bindings/tracecontext.py: what ``context.trace_context`` is."""

    def __init__(self, trace_parent: str, trace_state: str) -> None:
        self.trace_parent = trace_parent
        self.trace_state = trace_state
        self.attributes: dict[str, str] = {}


class _Retry:
    retry_count = 0
    max_retry_count = 0
    exception = None


def worker_context(function_name: str) -> Any:
    """What the Python worker passes as ``context`` (azure_functions_worker/bindings/
    context.py: read-only properties over private attributes), built once: the worker
    builds one per invocation whether polyfn runs or not."""
    import azure.functions as func

    class WorkerContext(func.Context):
        def __init__(self) -> None:
            self.__trace = _Trace("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "")
            self.__retry = _Retry()

        @property
        def invocation_id(self) -> str:
            return "0f7d4a62-8a4c-4b7e-9d4c-5b0c1c3e2a11"

        @property
        def function_name(self) -> str:
            return function_name

        @property
        def function_directory(self) -> str:
            return "/home/site/wwwroot"

        @property
        def thread_local_storage(self) -> Any:
            return threading.local

        @property
        def trace_context(self) -> Any:
            return self.__trace

        @property
        def retry_context(self) -> Any:
            return self.__retry

    return WorkerContext()


def _indexed(fa: Any) -> Callable[..., Any]:
    """The one function of a FunctionApp as the worker indexes and calls it."""
    (fn,) = fa.get_functions()
    return fn.get_user_function()


class _Seen:
    """Where every queue variant writes what it read: the same small cost in each row,
    and proof (checked before timing) that each row read the id and the body."""

    __slots__ = ("body", "id")

    def __init__(self) -> None:
        self.id: str | None = None
        self.body: bytes | None = None


# -- Storage queue -----------------------------------------------------------------------
def queue_rows(repeat: int) -> list[Row]:
    import azure.functions as func
    from azure.functions import meta

    from polyfn import App, Context, QueueMessage
    from polyfn.adapters.azure import function_app
    from polyfn.adapters.azure.sources import queue as azure_queue

    seen = _Seen()
    app = App("bench")

    @app.queue("orders")
    def read(msg: QueueMessage, ctx: Context) -> None:
        seen.id, seen.body = msg.id, msg.body

    wrapper = _indexed(function_app(app))
    context = worker_context("read")

    # (i) the baseline: the handler on a neutral message and context built beforehand.
    neutral = QueueMessage(MESSAGE_ID, MESSAGE_BODY, queue="orders", enqueued_at=INSERTED)
    neutral_ctx = Context("read", "0f7d4a62-8a4c-4b7e-9d4c-5b0c1c3e2a11", "azure")

    # What the host sends (the message text and the trigger metadata as Datums), and the
    # converter the worker decodes it with.
    host = azure_queue.to_host(neutral)
    data, metadata = host.data, host.trigger_metadata
    converter = meta.get_binding_registry().get(azure_queue.BINDING)
    native = converter.decode(data, trigger_metadata=metadata)
    assert isinstance(native, func.QueueMessage)

    def direct() -> None:
        read(neutral, neutral_ctx)

    def wrapped() -> None:
        wrapper(event=native, context=context)

    def worker_path() -> None:
        wrapper(event=converter.decode(data, trigger_metadata=metadata), context=context)

    # (iv) the peer: azure.functions without polyfn.
    def main(msg: func.QueueMessage) -> None:
        seen.id, seen.body = msg.id, msg.get_body()

    def peer() -> None:
        main(converter.decode(data, trigger_metadata=metadata))

    def decode_only() -> None:
        converter.decode(data, trigger_metadata=metadata)

    fns = {
        "(i)   handler(msg, ctx) directly, neutral message": direct,
        "(ii)  polyfn Azure function(func.QueueMessage, ctx)": wrapped,
        "(iii) converter decode + polyfn Azure function": worker_path,
        "(iv)  converter decode + plain def main(msg)": peer,
        "(v)   converter decode alone": decode_only,
    }
    for label, fn in fns.items():
        if label.startswith("(v) "):
            continue
        seen.id = seen.body = None
        fn()
        assert (seen.id, seen.body) == (MESSAGE_ID, MESSAGE_BODY), label
    notes = {"(iv)": "the peer: azure-functions alone", "(v)": "for reference"}
    return [
        Row(label, us, notes.get(label.split()[0], ""))
        for label, us in per_call_us(fns, repeat).items()
    ]


# -- HTTP --------------------------------------------------------------------------------
def http_rows(repeat: int) -> list[Row]:
    import azure.functions as func

    from polyfn import App, Context, HttpRequest
    from polyfn.adapters.azure import function_app
    from polyfn.adapters.azure.sources import http as azure_http

    expected = {"id": "42", **ITEM}
    app = App("bench")

    @app.get("/items/{id}")
    def get_item(req: HttpRequest, ctx: Context) -> dict[str, Any]:
        return {"id": req.path_params["id"], **ITEM}

    wrapper = _indexed(function_app(app))
    context = worker_context("get_item")

    # A browser-like GET /items/42?verbose=1, as the converter hands it to the function.
    neutral = HttpRequest(
        "GET",
        "/api/items/42",
        route="/items/{id}",
        path_params={"id": "42"},
        query=[("verbose", "1")],
        headers=[
            ("accept", "application/json"),
            ("accept-encoding", "gzip, deflate, br"),
            ("host", "bench-fn.azurewebsites.net"),
            ("user-agent", "curl/8.5.0"),
            ("x-forwarded-for", "203.0.113.7:51234"),
            ("x-forwarded-proto", "https"),
        ],
        extensions={"url": "https://bench-fn.azurewebsites.net/api/items/42?verbose=1"},
        provider="azure",
        event_source=azure_http.EVENT_SOURCE,
    )
    native = azure_http.to_native(neutral, {"type": azure_http.BINDING, "route": "items/{id}"})
    assert isinstance(native, func.HttpRequest)
    neutral_ctx = Context("get_item", "0f7d4a62-8a4c-4b7e-9d4c-5b0c1c3e2a11", "azure")

    def direct() -> Any:
        return get_item(neutral, neutral_ctx)

    def wrapped() -> Any:
        return wrapper(req=native, context=context)

    # The peer: a plain azure.functions HTTP function.
    def main(req: func.HttpRequest) -> func.HttpResponse:
        body = json.dumps({"id": req.route_params["id"], **ITEM})
        return func.HttpResponse(body, status_code=200, mimetype="application/json")

    def peer() -> Any:
        return main(native)

    assert direct() == expected
    for who, fn in (("polyfn", wrapped), ("plain", peer)):
        resp = fn()
        assert isinstance(resp, func.HttpResponse), who
        assert resp.status_code == 200, who
        assert json.loads(resp.get_body()) == expected, who
        assert resp.mimetype == "application/json" or resp.headers.get(
            "content-type", ""
        ).startswith("application/json"), who

    fns = {
        "(i)   handler(req, ctx) directly, returns a dict": direct,
        "(ii)  polyfn Azure function: func.HttpRequest -> func.HttpResponse": wrapped,
        "(iii) plain def main(req) -> func.HttpResponse": peer,
    }
    notes = {"(iii)": "the peer: azure-functions alone"}
    return [
        Row(label, us, notes.get(label.split()[0], ""))
        for label, us in per_call_us(fns, repeat).items()
    ]


# -- report ------------------------------------------------------------------------------
def _find(rows: list[Row], prefix: str) -> float:
    return next(r.us for r in rows if r.label.startswith(prefix) and r.us is not None)


def goal_lines(queue: list[Row], http: list[Row]) -> list[str]:
    lines = []
    for what, ours, base in (
        ("adapter over the handler: (ii) - (i)", "(ii) ", "(i) "),
        ("worker path over azure.functions alone: (iii) - (iv)", "(iii)", "(iv)"),
    ):
        over = _find(queue, ours) - _find(queue, base)
        verdict = "PASS" if over < GOAL_US else "MISS"
        lines.append(f"goal: queue message, {what} < {GOAL_US:.0f} us: {over:.2f} us  {verdict}")
    lines.append(
        f"HTTP (reference, no goal): polyfn over the plain function (ii) - (iii): "
        f"{_find(http, '(ii) ') - _find(http, '(iii)'):.2f} us; over the handler (ii) - (i): "
        f"{_find(http, '(ii) ') - _find(http, '(i) '):.2f} us"
    )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="timeit rounds per row")
    args = parser.parse_args(argv)
    # azure.functions warns about auth levels on non-HTTP apps; keep the table readable.
    warnings.simplefilter("ignore")
    logging.disable(logging.CRITICAL)

    queue = queue_rows(args.repeat)
    http = http_rows(args.repeat)
    out = [
        f"Azure Functions, per invocation (median of {args.repeat} timeit rounds, "
        "microseconds per call)",
        "",
    ]
    out += table("Storage queue message: the handler reads the message id and body", queue)
    out.append("")
    out += table("HTTP GET /items/{id}: func.HttpRequest -> func.HttpResponse", http)
    out.append("")
    out += goal_lines(queue, http)
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
