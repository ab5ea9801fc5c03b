"""An app's workflows as Step Functions state machines (what aws_sam.py and
aws_serverless.py share).

Each workflow registered with ``polyfn.workflow.local.workflow(app, NAME, definition)``
becomes one state machine whose definition is ``polyfn.workflow.stepfunctions.compile``'s,
its resources left as placeholders the template fills in:

=========================  ===========================================================
``polyfn:function:F``      ``${FArn}``: the ARN of the app's Lambda function F (the
                           direct Lambda integration: the state's input is the event,
                           a raised exception's class name is the error)
``polyfn:send:Q``          ``${QQueueUrl}``: the URL of the declared queue Q
``polyfn:publish:T``       ``${TTopicArn}``: the ARN of the declared topic T
=========================  ===========================================================

(``F``, ``Q``, ``T`` as CloudFormation logical ids: ``order-events`` → ``OrderEvents``.)
SAM fills them with ``DefinitionSubstitutions``, the Serverless file with ``Fn::Sub`` over
``DefinitionString``. Sources:
https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-resource-statemachine.html
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-stepfunctions-statemachine.html

A Task's function must be a workflow task (``polyfn.workflow.local.task``: no trigger):
the Lambda entry hands such a function the raw state input. A function with triggers
expects its triggers' events, so naming one in a Task is a DefinitionError.
"""

from __future__ import annotations

import json
from typing import Any

from polyfn.app import App
from polyfn.deploy.aws_resources import declare_queue, declare_topic, logical_id
from polyfn.deploy.workflows import app_workflows
from polyfn.errors import DefinitionError


class WorkflowPlan:
    """One workflow: its compiled definition (placeholders in), and what it uses —
    ``functions``: polyfn function name → placeholder key; ``queues`` / ``topics``: the
    declared resource's logical id → placeholder key."""

    __slots__ = ("definition", "functions", "logical", "name", "queues", "topics")

    def __init__(self, name: str) -> None:
        self.name = name
        self.logical = logical_id(name, "StateMachine")
        self.definition: dict[str, Any] = {}
        self.functions: dict[str, str] = {}
        self.queues: dict[str, str] = {}
        self.topics: dict[str, str] = {}

    def substitutions(self, function_arn: Any) -> dict[str, Any]:
        """Placeholder key → value; ``function_arn(name)`` is the intrinsic of a function's
        ARN (its logical id differs between SAM and Serverless)."""
        out: dict[str, Any] = {key: function_arn(fn) for fn, key in self.functions.items()}
        out.update({key: {"Ref": q} for q, key in self.queues.items()})
        out.update({key: {"Ref": t} for t, key in self.topics.items()})
        return out


def plan_workflows(app: App, resources: dict[str, Any]) -> list[WorkflowPlan]:
    """A plan per workflow of ``app``; declares the queues and topics they send and
    publish to in ``resources``."""
    found = app_workflows(app)
    if not found:
        return []
    from polyfn.workflow import stepfunctions

    plans = []
    for name, definition in found.items():
        plan = WorkflowPlan(name)

        def function_arn(fn: str, plan: WorkflowPlan = plan, workflow: str = name) -> str:
            _check_task(app, workflow, fn)
            key = plan.functions.setdefault(fn, logical_id(fn, "Arn"))
            return "${" + key + "}"

        def queue_url(q: str, plan: WorkflowPlan = plan) -> str:
            key = plan.queues.setdefault(declare_queue(resources, q), logical_id(q, "QueueUrl"))
            return "${" + key + "}"

        def topic_arn(t: str, plan: WorkflowPlan = plan) -> str:
            key = plan.topics.setdefault(declare_topic(resources, t), logical_id(t, "TopicArn"))
            return "${" + key + "}"

        plan.definition = stepfunctions.compile(
            definition, function_arn=function_arn, queue_url=queue_url, topic_arn=topic_arn
        )
        plans.append(plan)
    return plans


def _check_task(app: App, workflow: str, fn: str) -> None:
    function = app.functions.get(fn)
    if function is None:
        raise DefinitionError(
            f"aws workflow {workflow!r}: Task resource 'polyfn:function:{fn}': the app has "
            f"no function {fn!r}"
        )
    if function.triggers:
        raise DefinitionError(
            f"aws workflow {workflow!r}: Task resource 'polyfn:function:{fn}': {fn!r} has "
            "triggers, so its Lambda expects their events; register the Task's function "
            "with polyfn.workflow.local.task (no trigger)"
        )


def definition_string(plan: WorkflowPlan) -> str:
    """The definition as JSON text for ``Fn::Sub``: a literal ``${`` in it is escaped
    (``${!``), the placeholders are not."""
    text = json.dumps(plan.definition, indent=2).replace("${", "${!")
    for key in [*plan.functions.values(), *plan.queues.values(), *plan.topics.values()]:
        text = text.replace("${!" + key + "}", "${" + key + "}")
    return text
