"""A Serverless Framework v3 ``serverless.yml`` for a polyfn app.

The same coverage as the SAM template (aws_sam.py), from the same plan
(aws_resources.plan_app): one function per polyfn function, handler
``polyfn.adapters.aws.lambda_handler``, ``POLYFN_APP``/``POLYFN_FUNCTION`` and the
physical-name variables in its environment, the queues, topics, tables and streams as
CloudFormation under ``resources``. Event sources (Serverless v3 event docs,
https://www.serverless.com/framework/docs/providers/aws/events — read for v3):

==========  ===============================================================================
http        ``httpApi`` (method, path; ``*`` for any method)
queue       ``sqs`` on the declared queue's ARN, ``batchSize``, ``functionResponseType:
            ReportBatchItemFailures``; the queue's dead-letter queue (``RedrivePolicy``)
            in ``resources`` when ``max_deliveries``
topic       ``sns`` on the declared topic (``arn`` is an intrinsic: ``topicName`` names it
            for Serverless' logical ids), ``filterPolicy``
storage     ``s3`` with ``existing: false``: Serverless creates the bucket (it must, to add
            the notification without a custom resource), named
            ``${self:service}-${sls:stage}-<bucket>``; one entry per event type; the
            prefix/suffix as ``rules``
schedule    ``schedule`` with ``rate: [rate()|cron()]``; a time zone other than UTC uses
            ``method: scheduler`` (EventBridge Scheduler) and ``timezone``
change      ``stream`` (type dynamodb) on the declared table's stream
stream      ``stream`` (type kinesis) on the declared stream
event       ``eventBridge`` with the ``pattern``; a bus other than ``default`` by its ARN
            (Serverless would create a bus given by name)
==========  ===============================================================================

Permissions: Serverless v3 has one role for the service, so the statements
(``provider.iam.role.statements``) grant the union of the functions' declared outputs —
``sqs:SendMessage``, ``sns:Publish``, ``s3:PutObject``, ``events:PutEvents`` — and the
CRUD actions of SAM's ``DynamoDBCrudPolicy`` on every store table.

Workflows (``polyfn.workflow.local.workflow``): Serverless v3 declares state machines only
through a plugin (serverless-step-functions), so each is a plain CloudFormation
``AWS::StepFunctions::StateMachine`` under ``resources`` — ``DefinitionString`` is
``Fn::Sub`` over the compiled definition (aws_workflows.py) with the functions' ARNs
(``GetAtt`` of Serverless' ``<Name>LambdaFunction``: ``-`` → ``Dash``, ``_`` →
``Underscore``, first letter upper-cased), the queues' URLs and the topics' ARNs — and
its own ``AWS::IAM::Role`` (trusting ``states.amazonaws.com``) allowing
``lambda:InvokeFunction`` on those functions, ``sqs:SendMessage`` and ``sns:Publish`` on
those queues and topics. Sources:
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-stepfunctions-statemachine.html
https://github.com/serverless/serverless/blob/v3/lib/plugins/aws/lib/naming.js
(``getNormalizedFunctionName``, ``getLambdaLogicalId``)

``runtime: python3.12``: Lambda runs it; the v3 framework's own configuration schema
predates it and prints a warning (``configValidationMode: warn``, the default) — the
template it packages is unaffected.
"""

from __future__ import annotations

import re
from typing import Any

from polyfn.app import App
from polyfn.deploy.aws_resources import (
    BATCH_FAILURES,
    DYNAMODB_CRUD,
    HANDLER,
    FunctionPlan,
    Source,
    base_env,
    plan_app,
)
from polyfn.deploy.aws_workflows import WorkflowPlan, definition_string, plan_workflows
from polyfn.deploy.yaml_text import to_yaml

RUNTIME = "python3.12"


def service_name(app: App) -> str:
    """The service: the app's name, lower-case letters, digits and ``-`` (it prefixes the
    S3 bucket names, which allow no more)."""
    name = re.sub(r"[^a-z0-9-]+", "-", app.name.lower()).strip("-") or "polyfn"
    return name if name[0].isalpha() else "app-" + name


def bucket_name(bucket: str) -> str:
    """The physical name of a neutral bucket: unique per service and stage."""
    part = re.sub(r"[^a-z0-9.-]+", "-", bucket.lower()).strip("-.") or "bucket"
    return "${self:service}-${sls:stage}-" + part


def serverless_config(
    app: App,
    *,
    runtime: str = RUNTIME,
    app_module: str | None = None,
) -> dict[str, Any]:
    """The serverless.yml deploying ``app`` as data; ``app_module`` is what
    ``POLYFN_APP`` names (default: ``<app name>:app``)."""
    module = app_module or f"{app.name}:app"
    resources, plans = plan_app(app)
    triggered = {s["bucket"] for p in plans for _, s in p.sources if s.kind == "s3"}
    bucket_ids = {
        logical: name
        for p in plans
        for logical, name in [(s["bucket"], s["name"]) for _, s in p.sources if s.kind == "s3"]
        + [(o.logical, o.name) for o in p.outputs if o.kind == "bucket"]
    }
    for logical, name in bucket_ids.items():
        if logical in triggered:
            del resources[logical]  # the s3 event creates it
        else:
            resources[logical]["Properties"]["BucketName"] = bucket_name(name)
    functions: dict[str, Any] = {}
    statements: list[dict[str, Any]] = []
    for plan in plans:
        fn = plan.function
        env: dict[str, Any] = {"POLYFN_APP": module, "POLYFN_FUNCTION": fn.name, **base_env(app)}
        for o in plan.outputs:
            if o.kind == "bucket":
                env[o.env] = bucket_name(o.name)  # type: ignore[index]
            elif o.env:
                env[o.env] = {"Ref": o.logical}
        env.update({f"POLYFN_STORE_{n}": {"Ref": t} for n, t in plan.stores.items()})
        functions[fn.name] = {
            "handler": HANDLER,
            "environment": env,
            "events": [e for _, s in plan.sources for e in _events(s)],
        }
        for statement in _statements(plan):
            if statement not in statements:
                statements.append(statement)
    for wf in plan_workflows(app, resources):
        resources[wf.logical + "Role"] = _state_machine_role(wf)
        resources[wf.logical] = _state_machine(wf)
    provider: dict[str, Any] = {"name": "aws", "runtime": runtime}
    if statements:
        provider["iam"] = {"role": {"statements": statements}}
    config: dict[str, Any] = {
        "service": service_name(app),
        "frameworkVersion": "3",
        "provider": provider,
        "functions": functions,
    }
    if resources:
        config["resources"] = {"Resources": resources}
    return config


def serverless_yaml(app: App, *, runtime: str = RUNTIME, app_module: str | None = None) -> str:
    """serverless.yml's text."""
    header = f"polyfn app {app.name} (generated by polyfn deploy-config aws --format serverless)"
    return to_yaml(serverless_config(app, runtime=runtime, app_module=app_module), header)


def lambda_logical_id(function: str) -> str:
    """Serverless v3's logical id of a function's ``AWS::Lambda::Function``."""
    name = function.replace("-", "Dash").replace("_", "Underscore")
    return name[:1].upper() + name[1:] + "LambdaFunction"


def _function_arn(function: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [lambda_logical_id(function), "Arn"]}


def _state_machine(wf: WorkflowPlan) -> dict[str, Any]:
    text = definition_string(wf)
    subs = wf.substitutions(_function_arn)
    definition: Any = {"Fn::Sub": [text, subs]} if subs else {"Fn::Sub": text}
    return {
        "Type": "AWS::StepFunctions::StateMachine",
        "Properties": {
            "DefinitionString": definition,
            "RoleArn": {"Fn::GetAtt": [wf.logical + "Role", "Arn"]},
        },
    }


def _state_machine_role(wf: WorkflowPlan) -> dict[str, Any]:
    statements: list[dict[str, Any]] = []
    if wf.functions:
        arns = [_function_arn(fn) for fn in wf.functions]
        statements.append(
            {"Effect": "Allow", "Action": ["lambda:InvokeFunction"], "Resource": arns}
        )
    if wf.queues:
        arns = [{"Fn::GetAtt": [q, "Arn"]} for q in wf.queues]
        statements.append({"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": arns})
    if wf.topics:
        arns = [{"Ref": t} for t in wf.topics]
        statements.append({"Effect": "Allow", "Action": ["sns:Publish"], "Resource": arns})
    props: dict[str, Any] = {
        "AssumeRolePolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "states.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    }
    if statements:
        props["Policies"] = [
            {
                "PolicyName": "polyfn-workflow",
                "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
            }
        ]
    return {"Type": "AWS::IAM::Role", "Properties": props}


def _arn(service: str, resource: str) -> dict[str, Any]:
    """``arn:<partition>:<service>:<region>:<account>:<resource>`` (regional services)."""
    return {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                f":{service}:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                f":{resource}",
            ],
        ]
    }


def _statements(plan: FunctionPlan) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for o in plan.outputs:
        if o.kind == "queue":
            action, resource = "sqs:SendMessage", {"Fn::GetAtt": [o.logical, "Arn"]}
        elif o.kind == "topic":
            action, resource = "sns:Publish", {"Ref": o.logical}
        elif o.kind == "bucket":
            objects = f":s3:::{bucket_name(o.name)}/*"
            action = "s3:PutObject"
            resource = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, objects]]}
        else:
            action, resource = "events:PutEvents", _arn("events", f"event-bus/{o.name}")
        out.append({"Effect": "Allow", "Action": [action], "Resource": [resource]})
    for table in plan.stores.values():
        arn = {"Fn::GetAtt": [table, "Arn"]}
        indexes = {"Fn::Join": ["/", [arn, "index", "*"]]}
        out.append({"Effect": "Allow", "Action": DYNAMODB_CRUD, "Resource": [arn, indexes]})
    return out


def _events(s: Source) -> list[dict[str, Any]]:
    if s.kind == "http":
        method = "*" if s["method"] == "ANY" else s["method"]
        return [{"httpApi": {"method": method, "path": s["path"]}}]
    if s.kind == "sqs":
        sqs: dict[str, Any] = {
            "arn": {"Fn::GetAtt": [s["queue"], "Arn"]},
            "batchSize": s["batch_size"],
            "functionResponseType": BATCH_FAILURES[0],
        }
        if s["window"]:
            sqs["maximumBatchingWindow"] = s["window"]
        return [{"sqs": sqs}]
    if s.kind == "sns":
        # topicName only names Serverless' logical ids here: letters, digits, _ and -.
        sns: dict[str, Any] = {
            "arn": {"Ref": s["topic"]},
            "topicName": re.sub(r"[^\w-]", "-", s["name"]),
        }
        if s["filter"]:
            sns["filterPolicy"] = s["filter"]
        return [{"sns": sns}]
    if s.kind == "s3":
        out = []
        for event in s["events"]:
            s3: dict[str, Any] = {
                "bucket": bucket_name(s["name"]),
                "event": event,
                "existing": False,
            }
            if s["rules"]:
                s3["rules"] = [{k: v} for k, v in s["rules"]]
            out.append({"s3": s3})
        return out
    if s.kind == "schedule":
        schedule: dict[str, Any] = {"rate": [s["expression"]]}
        if s["timezone"]:
            schedule.update(method="scheduler", timezone=s["timezone"])
        return [{"schedule": schedule}]
    if s.kind in ("dynamodb", "kinesis"):
        stream = {
            "type": s.kind,
            "arn": s["arn"],
            "batchSize": s["batch_size"],
            "startingPosition": s["start"],
            "functionResponseType": BATCH_FAILURES[0],
        }
        return [{"stream": stream}]
    assert s.kind == "eventbridge", s.kind
    bridge: dict[str, Any] = {"pattern": s["pattern"]}
    if s["bus"] != "default":
        bridge["eventBus"] = _arn("events", f"event-bus/{s['bus']}")
    return [{"eventBridge": bridge}]
