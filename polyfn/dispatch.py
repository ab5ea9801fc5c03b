"""Running a handler on neutral events, with per-record verdicts for batches."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from polyfn.app import Function
from polyfn.context import CURRENT, Context
from polyfn.errors import HandlerError
from polyfn.events.http import HttpRequest, HttpResponse, as_response
from polyfn.results import BatchOutcome, BatchResult, HttpError, RecordFailure, Retry

log = logging.getLogger("polyfn")

#: Spans around invocations, batches and records: set by polyfn.observe.otel.enable_tracing.
observer: Any = None

# How a batch keeps order when a record fails:
UNORDERED = "unordered"  # each record stands alone (SQS standard, SNS, Pub/Sub)
BY_GROUP = "group"  # later records of the same group_id are skipped (SQS FIFO)
IN_ORDER = "ordered"  # every later record is skipped (Kinesis, DynamoDB Streams)


def call(fn: Function, event: Any, ctx: Context) -> Any:
    """Call the handler as it was declared (with or without ctx, sync or async)."""
    result = fn.handler(event, ctx) if fn.takes_context else fn.handler(event)
    if fn.is_async:
        import asyncio  # only apps with async handlers pay for importing asyncio

        result = asyncio.run(result)
    return result


def _finish(ctx: Context, token: Any) -> None:
    CURRENT.reset(token)
    if ctx._metrics is not None:
        ctx._metrics.flush()


def run_event(fn: Function, event: Any, ctx: Context) -> Any:
    """One event, one call; a failure is re-raised naming function, provider and source."""
    token = CURRENT.set(ctx)
    ctx._event = event
    try:
        if observer is None:
            return call(fn, event, ctx)
        with observer.invocation(fn, ctx, event):
            return call(fn, event, ctx)
    except Exception as e:
        raise HandlerError(fn.name, event.provider, event.event_source, e) from e
    finally:
        _finish(ctx, token)


def run_task(fn: Function, data: Any, ctx: Context, provider: str) -> Any:
    """A workflow task (a function with no trigger): JSON ``data`` in, the handler's JSON
    result out (a pydantic model as its JSON form). A failure re-raises the handler's own
    exception, with a note naming the function: its class name is the error a workflow's
    Retry and Catch match (Step Functions' errorType, Cloud Workflows' ``error``)."""
    token = CURRENT.set(ctx)
    try:
        if observer is None:
            result = call(fn, data, ctx)
        else:
            with observer.invocation(fn, ctx, None):
                result = call(fn, data, ctx)
    except Exception as e:
        e.add_note(f"polyfn: function {fn.name!r} failed as a workflow task on {provider}")
        raise
    finally:
        _finish(ctx, token)
    if hasattr(result, "model_dump"):
        result = result.model_dump(mode="json")
    return result


def run_http(fn: Function, request: HttpRequest, ctx: Context) -> HttpResponse:
    """An HTTP call never escapes as an exception: HttpError gives its status, anything
    else is logged with its traceback and answered 500."""
    token = CURRENT.set(ctx)
    ctx._event = request
    try:
        if observer is None:
            return _answer(fn, request, ctx)
        with observer.invocation(fn, ctx, request) as span:
            response = _answer(fn, request, ctx)
            observer.http_status(span, response.status)
            return response
    finally:
        _finish(ctx, token)


def _answer(fn: Function, request: HttpRequest, ctx: Context) -> HttpResponse:
    try:
        return as_response(call(fn, request, ctx))
    except HttpError as e:
        resp = HttpResponse.from_json({"error": e.message or str(e.status)}, e.status)
        for k, v in e.headers.items():
            resp.headers[k] = v
        return resp
    except Exception:
        log.exception(
            "function %r failed on %s %s %s %s",
            fn.name,
            request.provider,
            request.event_source,
            request.method,
            request.path,
        )
        return HttpResponse.from_json({"error": "internal server error"}, 500)


def run_batch(
    fn: Function, records: Sequence[Any], ctx: Context, order: str = UNORDERED
) -> BatchOutcome:
    """Run a batch; records whose handler raised (or raised Retry) are reported failed.

    With ``order`` BY_GROUP or IN_ORDER, the records after a failure in the same group
    (or all of them) are not run and are reported failed too, so that redelivery keeps
    their order.
    """
    # Every record's id is read first: a record without one cannot be reported failed on
    # its own, so its typed error fails the whole batch before any handler runs, and the
    # provider redelivers the batch (then dead-letters it) rather than losing the record.
    ids = [r.id for r in records]
    outcome = BatchOutcome(len(records))
    token = CURRENT.set(ctx)
    ctx._batch = records
    try:
        if observer is None:
            _run(fn, records, ids, ctx, order, outcome)
        else:
            with observer.batch(fn, ctx, records):
                _run(fn, records, ids, ctx, order, outcome)
    finally:
        ctx._event = None
        _finish(ctx, token)
    return outcome


def _run(
    fn: Function,
    records: Sequence[Any],
    ids: list[str],
    ctx: Context,
    order: str,
    outcome: BatchOutcome,
) -> None:
    if fn.batch:
        _run_whole_batch(fn, records, ids, ctx, outcome)
    else:
        _run_each(fn, records, ids, ctx, order, outcome)


def _run_each(
    fn: Function,
    records: Sequence[Any],
    ids: list[str],
    ctx: Context,
    order: str,
    outcome: BatchOutcome,
) -> None:
    blocked: set[str | None] = set()
    stop_all = False
    # The common handler (sync, takes ctx) is called directly: one frame less per record.
    direct = fn.handler if fn.takes_context and not fn.is_async else None
    for index, record in enumerate(records):
        group = getattr(record, "group_id", None) if order == BY_GROUP else None
        if stop_all or (order == BY_GROUP and group is not None and group in blocked):
            outcome.failures.append(RecordFailure(index, ids[index], None))
            continue
        ctx._event = record  # what the record's trace, span and log lines come from
        try:
            if observer is not None:
                with observer.record(fn, ctx, record):
                    call(fn, record, ctx)
            elif direct is not None:
                direct(record, ctx)
            else:
                call(fn, record, ctx)
        except Exception as e:
            _log_record_failure(fn, record, index, e)
            outcome.failures.append(RecordFailure(index, ids[index], e))
            if order == IN_ORDER:
                stop_all = True
            elif order == BY_GROUP and group is not None:
                blocked.add(group)


def _run_whole_batch(
    fn: Function, records: Sequence[Any], ids: list[str], ctx: Context, outcome: BatchOutcome
) -> None:
    try:
        failed = BatchResult.of(call(fn, list(records), ctx)).failed
    except Exception as e:
        _log_record_failure(fn, None, -1, e)
        outcome.failures.extend(RecordFailure(i, rid, e) for i, rid in enumerate(ids))
        return
    index_of = {rid: i for i, rid in enumerate(ids)}
    for rid in failed:
        if rid not in index_of:
            raise HandlerError(
                fn.name,
                records[0].provider if records else "?",
                records[0].event_source if records else "?",
                ValueError(f"batch handler reported unknown record id {rid!r}"),
            )
        outcome.failures.append(RecordFailure(index_of[rid], rid, None))


def _log_record_failure(fn: Function, record: Any, index: int, error: Exception) -> None:
    if isinstance(error, Retry):
        log.info("function %r asked to retry record %s: %s", fn.name, index, error)
        return
    where = "batch" if record is None else f"record {index} ({record.id})"
    provider = getattr(record, "provider", "?")
    source = getattr(record, "event_source", "?")
    log.error(
        "function %r failed on %s %s %s: %s: %s",
        fn.name,
        provider,
        source,
        where,
        type(error).__name__,
        error,
        exc_info=error,
    )
