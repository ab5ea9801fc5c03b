"""Run a workflow locally whose Tasks are polyfn functions and outputs.

Resources resolve as follows:

* ``polyfn:function:NAME``: the function NAME of the App (or of ``functions``, a mapping
  of names to callables); its handler is called with the Task's input as the event (and
  a local :class:`~polyfn.context.Context` when it takes one) and returns the result.
  An exception fails the Task with the exception's class name as the error, so Retry and
  Catch match it by name (as Lambda reports ``errorType``).
* ``polyfn:send:QUEUE`` / ``polyfn:publish:TOPIC``: ``ctx.outputs.send`` / ``publish``
  with the input as the body; the result is ``{"MessageId": id}`` (as SQS and SNS return).

Functions that only serve workflows are registered with :func:`task` (no trigger).
An app carries its workflows with :func:`workflow` (``workflows(app)`` lists them), which
``polyfn dev`` (``POST /_polyfn/workflows/NAME``), ``LocalRuntime.start_workflow`` and the
test harness's ``polyfn.workflow(NAME, input)`` run.
"""

from __future__ import annotations

import asyncio
import itertools
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from polyfn.app import App, Function, _is_async, _takes_context
from polyfn.context import Context
from polyfn.outputs import OutputDriver, Outputs
from polyfn.outputs.memory import MemoryDriver

from .builder import FUNCTION, PUBLISH, SEND, Workflow, task_resources
from .errors import WorkflowError
from .interpreter import ExecutionResult, execute

_ids = itertools.count(1)
_registry: weakref.WeakKeyDictionary[App, dict[str, Workflow | dict | str]] = (
    weakref.WeakKeyDictionary()
)


def workflow(app: App, name: str, definition: Workflow | dict | str) -> Workflow | dict | str:
    """Register ``definition`` (a Workflow, ASL dict or JSON) as ``app``'s workflow ``name``;
    returns ``definition``. The definition is checked now: a bad one fails at import."""
    _asl(definition)
    _registry.setdefault(app, {})[name] = definition
    return definition


def workflows(app: App) -> dict[str, Workflow | dict | str]:
    """The workflows registered for ``app`` with :func:`workflow`, by name."""
    return dict(_registry.get(app, {}))


def task(app: App, name: str | None = None) -> Callable:
    """Register a handler as a workflow task of ``app`` (a function with no trigger)."""

    def decorate(handler: Callable) -> Callable:
        app.add_function(handler, name)  # picks up @app.outputs/@app.requires stacked below
        return handler

    return decorate


def _caller(fname: str, fn: Function | Callable, outputs: Outputs) -> Callable[[Any], Any]:
    if isinstance(fn, Function):
        handler, with_ctx, is_async = fn.handler, fn.takes_context, fn.is_async
    else:
        handler, with_ctx, is_async = fn, _takes_context(fn), _is_async(fn)

    def call(data: Any) -> Any:
        if with_ctx:
            ctx = Context(fname, f"wf-{next(_ids)}", "local", outputs=outputs)
            result = handler(data, ctx)
        else:
            result = handler(data)
        if is_async:
            result = asyncio.run(result)
        if hasattr(result, "model_dump"):
            result = result.model_dump(mode="json")
        return result

    return call


def resources(
    definition: Workflow | dict | str,
    app: App | None = None,
    *,
    functions: Mapping[str, Callable] | None = None,
    outputs: OutputDriver | None = None,
    extra: Mapping[str, Callable[[Any], Any]] | None = None,
) -> dict[str, Callable[[Any], Any]]:
    """The resources mapping ``execute`` needs for every polyfn Task of ``definition``."""
    asl = _asl(definition)
    port = Outputs(outputs if outputs is not None else MemoryDriver())
    found: dict[str, Callable[[Any], Any]] = dict(extra or {})
    for res in task_resources(asl):
        if res in found:
            continue
        if res.startswith(FUNCTION):
            fname = res[len(FUNCTION) :]
            fn: Any = (functions or {}).get(fname)
            if fn is None and app is not None:
                fn = app.functions.get(fname)
            if fn is None:
                raise WorkflowError(
                    "States.Runtime", f"Task resource {res!r}: no polyfn function {fname!r}"
                )
            found[res] = _caller(fname, fn, port)
        elif res.startswith(SEND):
            q = res[len(SEND) :]
            found[res] = lambda body, q=q: {"MessageId": port.send(q, body)}
        elif res.startswith(PUBLISH):
            t = res[len(PUBLISH) :]
            found[res] = lambda body, t=t: {"MessageId": port.publish(t, body)}
    return found


def _asl(definition: Workflow | dict | str) -> dict:
    if isinstance(definition, Workflow):
        return definition.to_asl()
    return Workflow.from_asl(definition).to_asl()


def run(
    definition: Workflow | dict | str,
    input: Any = None,
    app: App | None = None,
    *,
    functions: Mapping[str, Callable] | None = None,
    outputs: OutputDriver | None = None,
    extra: Mapping[str, Callable[[Any], Any]] | None = None,
    clock: Any = None,
    **kw: Any,
) -> ExecutionResult:
    """Execute ``definition`` locally with its Tasks bound to ``app``'s functions."""
    asl = _asl(definition)
    res = resources(asl, app, functions=functions, outputs=outputs, extra=extra)
    return execute(asl, {} if input is None else input, resources=res, clock=clock, **kw)
