"""Through the functions-framework target, inside the Flask request that carries the
event, converted as functions-framework converts it (``cloudevents.http.from_http``, or
its background-event conversion for legacy and push bodies)."""

from __future__ import annotations

from typing import Any

from polyfn.errors import PolyfnError
from polyfn.local.invoke import Call, InvokeError, Outcome, body_json, describe, fail, http_failed

_STRUCTURED = "application/cloudevents+json"


def run(call: Call) -> Outcome:
    from polyfn.adapters.gcp import plan, targets

    try:
        specs = {s.name: s for s in plan(call.app)}
        target = targets(call.app, outputs=call.outputs)[call.deployed_name]
    except PolyfnError as e:
        raise InvokeError(f"the app cannot run on Google Cloud: {e}") from None
    except ImportError as e:
        raise InvokeError(
            f"the Google Cloud adapter needs {e.name}: pip install 'polyfn[gcp]'"
        ) from None
    spec = specs[call.deployed_name]
    requests = _requests(call, spec)
    if spec.signature == "http":
        outcome = Outcome("gcp http")
        results = [_http(target, r, outcome) for r in requests]
    else:
        mode = "native" if call.native is not None else call.mode or "binary"
        outcome = Outcome(f"gcp {spec.kind} cloudevent ({mode})")
        results = [_event(target, r, outcome) for r in requests]
    outcome.result = results[0] if len(results) == 1 else results
    return outcome


def _requests(call: Call, spec: Any) -> list[tuple[str, str, dict[str, str], bytes]]:
    """Each request functions-framework would receive, as (method, path, headers, body)."""
    from polyfn.local.invoke.native import gcp

    if call.native is not None:
        natives = call.native if isinstance(call.native, list) else [call.native]
        return [gcp.parse_request(n) for n in natives]
    options: dict[str, Any] = {}
    if call.trigger.KIND == "schedule":
        options["via"] = call.source or spec.settings.get("target", "pubsub")
    elif call.source is not None:
        raise InvokeError("--source: Google Cloud has one source of these events; leave it out")
    mode = call.mode or "binary"
    if mode not in gcp.MODES:
        raise InvokeError(f"--mode {mode!r}: one of {', '.join(gcp.MODES)}")
    return [
        gcp.parse_request(gcp.request_json(gcp.native_request(e, mode, **options)))
        for e in call.batch
    ]


def _context(request: tuple[str, str, dict[str, str], bytes]) -> Any:
    import flask

    method, path, headers, body = request
    return flask.Flask("polyfn-invoke").test_request_context(
        path, method=method, headers=headers, data=body
    )


def _http(target: Any, request: Any, outcome: Outcome) -> Any:
    import flask

    with _context(request) as ctx:
        try:
            response = ctx.app.make_response(target(flask.request._get_current_object()))
        except Exception as e:  # functions-framework answers 500
            fail(outcome, e)
            return {"status": 500}
    problem = http_failed(response.status_code)
    if problem:
        outcome.errors.append(problem)
    return {
        "status": response.status_code,
        "headers": dict(response.headers),
        "body": body_json(response.get_data()),
    }


def _event(target: Any, request: Any, outcome: Outcome) -> Any:
    import flask

    with _context(request):
        req = flask.request
        try:
            event = _cloud_event(req)
        except Exception as e:
            raise InvokeError(f"functions-framework would answer 400: {describe(e)}") from None
        try:
            target(event)
        except Exception as e:  # answered 500: Eventarc or Pub/Sub redelivers it
            fail(outcome, e)
            return {"status": 500}
    return {"status": 200, "body": "OK"}


def _cloud_event(request: Any) -> Any:
    """The CloudEvent functions-framework hands a CloudEvent function for this request."""
    from cloudevents.http import from_http

    if request.headers.get("ce-specversion") is not None or request.mimetype == _STRUCTURED:
        return from_http(request.headers, request.get_data())
    from functions_framework import event_conversion

    return event_conversion.background_event_to_cloud_event(request)
