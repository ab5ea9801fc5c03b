"""Through the function app, as the Functions host and the Python worker invoke it:
``Worker(function_app(app)).invoke(name, event)``."""

from __future__ import annotations

from typing import Any

from polyfn.errors import PolyfnError
from polyfn.local.invoke import Call, InvokeError, Outcome, body_json, fail, http_failed


def run(call: Call) -> Outcome:
    from polyfn.local.invoke.native import azure
    from polyfn.local.invoke.native.azure_typed import host_invocation

    adapter = azure.import_adapter()
    from polyfn.adapters.azure.worker import Worker

    try:
        # Output bindings are delivered to the same memory, as the host delivers them.
        with azure.quiet_indexing():
            fa = adapter.function_app(call.app, outputs=call.outputs)
            worker = Worker(fa, deliver=call.driver)
    except PolyfnError as e:
        raise InvokeError(f"the app cannot run on Azure: {e}") from None
    name = call.deployed_name
    binding = worker.function(name).trigger
    if call.native is not None:
        payloads: list[Any] = [_with_route_params(host_invocation(call.native), binding)]
    elif azure.is_many(binding):
        payloads = [call.batch]
    else:  # one message per invocation, as the host delivers them
        payloads = list(call.batch)
    outcome = Outcome(f"azure {binding['type']}")
    results = []
    for payload in payloads:
        try:
            answer = worker.invoke(name, payload)
        except Exception as e:  # a failed invocation: the host retries it
            fail(outcome, e)
            results.append(None)
            continue
        result = _answer(answer)
        if isinstance(result, dict) and "status" in result:
            problem = http_failed(result["status"])
            if problem:
                outcome.errors.append(problem)
        results.append(result)
    outcome.result = results[0] if len(results) == 1 else results
    return outcome


def _with_route_params(inv: Any, binding: dict[str, Any]) -> Any:
    """The host computes an HTTP request's route parameters from the invoked function's
    route; a payload rendered without the app (``events render``) has none."""
    data = inv.data
    if binding["type"] != "httpTrigger" or data.type != "http" or data.value.get("params"):
        return inv
    from types import SimpleNamespace
    from urllib.parse import urlsplit

    from azure.functions.meta import Datum

    from polyfn.adapters.azure.sources.http import route_params

    path = urlsplit(data.value["url"].value).path or "/"
    params = route_params(SimpleNamespace(path_params={}, path=path), binding)  # type: ignore[arg-type]
    data.value["params"] = {k: Datum(v, "string") for k, v in params.items()}
    return inv


def _answer(answer: Any) -> Any:
    if answer is not None and hasattr(answer, "status_code"):  # func.HttpResponse
        return {
            "status": answer.status_code,
            "headers": dict(answer.headers),
            "body": body_json(answer.get_body()),
        }
    return answer
