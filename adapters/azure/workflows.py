"""An app's workflows on Durable Functions: what ``function_app(app)`` adds when the app
registered workflows (``polyfn.workflow.local.workflow``) and azure-functions-durable is
installed. The FunctionApp is then a ``azure.durable_functions.DFApp`` (a FunctionApp
subclass) and each workflow ``NAME`` gets:

- an orchestrator function ``NAME`` (``orchestrationTrigger``): durable.py's
  :func:`~polyfn.adapters.azure.durable.orchestrator` interpreting the definition;
- one activity function (``activityTrigger``) per polyfn function its Tasks name,
  named after the function (``<function>_task`` when an Azure function of the app has
  that name already) and registered once however many workflows use it. It calls the
  handler with the Task's input and the function's context, its outputs going through
  the app's drivers like any other function's; a failure raises durable.py's
  ActivityError carrying the exception's class name, which Retry and Catch match. Other
  Task resources (``polyfn:send``/``publish``) are a DefinitionError: the orchestrator
  runs functions only (send or publish from a task function instead);
- an HTTP starter ``start_NAME`` (``POST /workflows/NAME``, ``durableClient`` input):
  the JSON body is the input of a new instance (``client.start_new``), the answer the
  check-status response (202 with the status query URLs).

Sources (the DFApp API: ``orchestration_trigger``, ``activity_trigger``,
``durable_client_input``, ``start_new``, ``create_check_status_response``):
https://learn.microsoft.com/azure/azure-functions/durable/durable-functions-overview?pivots=python
https://learn.microsoft.com/azure/azure-functions/durable/durable-functions-instance-management?pivots=python
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

import azure.functions as func

from polyfn.app import App
from polyfn.context import CURRENT
from polyfn.errors import DefinitionError
from polyfn.outputs import Outputs

from .context import make_context

log = logging.getLogger("polyfn")

STARTER_ROUTE = "workflows/{name}"


def app_workflows(app: App) -> dict[str, Any]:
    """The app's workflows by name (none when polyfn.workflow.local was never imported:
    registering a workflow imports it, so an app without workflows never pays for it)."""
    local = sys.modules.get("polyfn.workflow.local")
    return local.workflows(app) if local is not None else {}  # type: ignore[attr-defined]


def durable_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("azure.durable_functions") is not None


def new_app(level: func.AuthLevel) -> func.FunctionApp:
    """A DFApp (imported only here: apps without workflows never load it)."""
    import azure.durable_functions as df

    return df.DFApp(http_auth_level=level)


def register_workflows(
    fa: Any,
    app: App,
    flows: dict[str, Any],
    taken: set[str],
    outputs: Outputs,
    timeout: int | None,
    auth_level: str,
) -> None:
    """Add the orchestrators, activities and starters of ``flows`` to ``fa`` (a DFApp);
    ``taken``: the names of the app's Azure functions already registered."""
    from polyfn.workflow.builder import FUNCTION, Workflow, task_resources

    from .durable import orchestrator

    activities: dict[str, str] = {}  # polyfn function → activity name

    def activity_name(fn: str) -> str:
        name = activities.get(fn)
        if name is None:
            name = fn if fn not in taken else f"{fn}_task"
            if name in taken:
                raise DefinitionError(
                    f"azure workflow activity {name!r}: name: taken by another Azure function"
                )
            _register_activity(fa, app, fn, name, outputs, timeout)
            activities[fn] = name
            taken.add(name)
        return name

    for name, definition in flows.items():
        for what in (name, f"start_{name}"):
            if what in taken:
                raise DefinitionError(
                    f"azure workflow {name!r}: name: {what!r} is taken by another Azure function"
                )
            taken.add(what)
        asl = definition.to_asl() if isinstance(definition, Workflow) else definition
        asl = Workflow.from_asl(asl).to_asl()
        for res in sorted(task_resources(asl)):
            if not res.startswith(FUNCTION):
                # durable.py's orchestrator runs polyfn functions only: fail now, not
                # when an instance reaches the Task.
                raise DefinitionError(
                    f"azure workflow {name!r}: Task resource {res!r}: Durable Functions "
                    "runs polyfn:function:* Tasks only (send or publish from a task function)"
                )
            activity_name(res[len(FUNCTION) :])
        fn = orchestrator(asl, activity_name=lambda f: activities[f])
        fn.__name__ = fn.__qualname__ = name
        fa.orchestration_trigger(context_name="context", orchestration=name)(fn)
        _register_starter(fa, name, auth_level)


def _register_activity(
    fa: Any, app: App, fname: str, name: str, outputs: Outputs, timeout: int | None
) -> None:
    from polyfn.dispatch import call

    from .durable import ActivityError

    fn = app.functions.get(fname)
    if fn is None:
        raise DefinitionError(
            f"azure workflow activity {fname!r}: Task resource 'polyfn:function:{fname}': "
            f"the app has no function {fname!r}"
        )

    def activity(payload: Any, context: func.Context) -> Any:
        ctx = make_context(fn.name, context, outputs, timeout)
        token = CURRENT.set(ctx)
        try:
            result = call(fn, payload, ctx)
        except Exception as e:
            log.error(
                "function %r failed as a workflow activity on azure: %s: %s",
                fn.name,
                type(e).__name__,
                e,
            )
            raise ActivityError(type(e).__name__, str(e)) from e
        finally:
            CURRENT.reset(token)
        if hasattr(result, "model_dump"):
            result = result.model_dump(mode="json")
        return result

    activity.__annotations__ = {"payload": Any, "context": func.Context, "return": Any}
    activity.__name__ = activity.__qualname__ = name
    fa.activity_trigger(input_name="payload", activity=name)(activity)


def _register_starter(fa: Any, workflow: str, auth_level: str) -> None:
    async def starter(req: func.HttpRequest, client: Any) -> func.HttpResponse:
        body = req.get_body()
        try:
            data = json.loads(body) if body else None
        except ValueError as e:
            message = f"azure workflow {workflow!r} starter: body: not JSON: {e}"
            return func.HttpResponse(
                json.dumps({"error": message}), status_code=400, mimetype="application/json"
            )
        instance = await client.start_new(workflow, client_input=data)
        return client.create_check_status_response(req, instance)

    starter.__annotations__ = {"req": func.HttpRequest, "client": str, "return": func.HttpResponse}
    starter.__name__ = starter.__qualname__ = f"start_{workflow}"
    with_client = fa.durable_client_input(client_name="client")(starter)
    fa.route(
        route=STARTER_ROUTE.format(name=workflow),
        methods=["POST"],
        auth_level=auth_level,
        trigger_arg_name="req",
        binding_arg_name="$return",
    )(with_client)
