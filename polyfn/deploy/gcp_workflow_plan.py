"""An app's workflows as Google Cloud Workflows (what gcp_commands.py and gcp_terraform.py
share).

Each workflow registered with ``polyfn.workflow.local.workflow(app, NAME, definition)`` is
compiled by polyfn.workflow.gcp_workflows: a Task's ``polyfn:function:F`` is an
``http.post`` with OIDC auth to the function F's URL (a private HTTP target,
``polyfn.adapters.gcp.plan(app, tasks=True)``), ``polyfn:send:Q`` / ``polyfn:publish:T``
publish to the Pub/Sub topic Q / T. The workflow runs as its own service account
(:func:`account_id`), granted ``roles/run.invoker`` on its functions (a 2nd-gen function
is a Cloud Run service) and ``roles/pubsub.publisher`` on its topics. Sources:
https://cloud.google.com/workflows/docs/authentication (OIDC to Cloud Run functions)
https://cloud.google.com/sdk/gcloud/reference/workflows/deploy

A Task's function must be a workflow task (``polyfn.workflow.local.task``: no trigger):
its target takes the JSON body as the handler's input; a function with triggers gets an
HTTP request or an event instead, so naming one in a Task is a DefinitionError.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from polyfn.app import App
from polyfn.deploy.workflows import app_workflows
from polyfn.errors import DefinitionError

# Workflow names: a letter, then letters, digits, "_" and "-" (64 at most).
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")


class GcpWorkflow:
    """One workflow: its compiled document, the functions it calls and the topics it
    publishes to, in the order the definition names them."""

    __slots__ = ("document", "functions", "name", "topics")

    def __init__(self, name: str) -> None:
        self.name = name
        self.document: dict[str, Any] = {}
        self.functions: list[str] = []
        self.topics: list[str] = []

    @property
    def account_id(self) -> str:
        return account_id(self.name)

    def yaml(self) -> str:
        from polyfn.workflow.gcp_workflows import to_yaml

        return to_yaml(self.document)


def account_id(workflow: str) -> str:
    """The workflow's service account id: ``polyfn-wf-<name>`` (6 to 30 lower-case
    letters, digits and ``-``)."""
    part = re.sub(r"[^a-z0-9-]+", "-", workflow.lower())
    return ("polyfn-wf-" + part)[:30].rstrip("-")


def plan_gcp_workflows(
    app: App, function_url: Callable[[str], str], project: str
) -> list[GcpWorkflow]:
    """The app's workflows compiled with ``function_url(name)`` as each function's URL and
    ``projects/<project>/topics/<name>`` as each topic."""
    found = app_workflows(app)
    if not found:
        return []
    from polyfn.workflow.builder import Workflow
    from polyfn.workflow.gcp_workflows import compile

    out = []
    for name, definition in found.items():
        if not _NAME.match(name):
            raise DefinitionError(
                f"gcp workflow {name!r}: name: Workflows names are a letter, then letters, "
                "digits, _ and - (64 at most)"
            )
        wf = GcpWorkflow(name)

        def url(fn: str, wf: GcpWorkflow = wf) -> str:
            _check_task(app, wf.name, fn)
            if fn not in wf.functions:
                wf.functions.append(fn)
            return function_url(fn)

        def topic(t: str, wf: GcpWorkflow = wf) -> str:
            if t not in wf.topics:
                wf.topics.append(t)
            return f"projects/{project}/topics/{t}"

        asl = definition.to_asl() if isinstance(definition, Workflow) else definition
        wf.document = compile(asl, function_url=url, topic_path=topic, project=project)
        out.append(wf)
    return out


def _check_task(app: App, workflow: str, fn: str) -> None:
    function = app.functions.get(fn)
    if function is None:
        raise DefinitionError(
            f"gcp workflow {workflow!r}: Task resource 'polyfn:function:{fn}': the app has "
            f"no function {fn!r}"
        )
    if function.triggers:
        raise DefinitionError(
            f"gcp workflow {workflow!r}: Task resource 'polyfn:function:{fn}': {fn!r} has "
            "triggers, so its target expects their events; register the Task's function "
            "with polyfn.workflow.local.task (no trigger)"
        )
