"""Migration bridges: keep native handlers while moving between clouds, and replay
captured native events of one cloud on another.

Wrap a native handler and register it with the usual decorators; it then runs on every
cloud polyfn runs on (native event of the host → neutral → the handler's own cloud's
native event → the handler → its answer back)::

    from polyfn import App
    from polyfn.migrate import from_azure, from_functions_framework, from_lambda

    import legacy_lambda, legacy_azure, legacy_gcp

    app = App("shop")
    # A Lambda SQS handler answering batchItemFailures: batch=True hands it the whole
    # batch as one SQS event; the reported failures become the failed records.
    app.queue("orders", batch=True)(from_lambda(legacy_lambda.handler))
    # An API Gateway (HTTP API) handler, answering statusCode/headers/cookies/body.
    app.post("/orders")(from_lambda(legacy_lambda.create_order, source="apigateway-v2"))
    # An Azure function (v1 function or v2 FunctionBuilder) on a queue trigger.
    app.queue("receipts")(from_azure(legacy_azure.write_receipt))
    # A functions-framework HTTP function; Flask's return values all work.
    app.get("/hello")(from_functions_framework(legacy_gcp.hello))

The app then deploys as usual to any cloud (``polyfn.adapters.aws.handler``,
``polyfn.adapters.azure.function_app``, ``polyfn.adapters.gcp.targets``).

``replay(app, native_events, source="aws", target="gcp")`` runs captured native events
of one cloud through another's inbound path (``polyfn replay FILE --from aws --as gcp``).

Nothing here is imported until used: each name loads its module (and the adapter it
needs) on first access.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .aws import from_lambda
    from .azure import from_azure
    from .gcp import from_functions_framework
    from .replays import ReplayResult, replay

_WHERE = {
    "from_lambda": "aws",
    "from_azure": "azure",
    "from_functions_framework": "gcp",
    "replay": "replays",
    "ReplayResult": "replays",
}

__all__ = ["ReplayResult", "from_azure", "from_functions_framework", "from_lambda", "replay"]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'polyfn.migrate' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
