"""The app's workflows in every descriptor (tests/deploy/workflow_app.py: function, Map,
send and publish Tasks; samples/orderflow: the order workflow).

Provider shapes relied on:
- SAM ``AWS::Serverless::StateMachine`` (Definition, DefinitionSubstitutions, Policies;
  LambdaInvokePolicy, SQSSendMessagePolicy, SNSPublishMessagePolicy):
  https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-resource-statemachine.html
  https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/serverless-policy-template-list.html
- ``AWS::StepFunctions::StateMachine`` (DefinitionString, RoleArn):
  https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-stepfunctions-statemachine.html
- Serverless v3 Lambda logical ids (``<Name>LambdaFunction``, ``-`` → ``Dash``, ``_`` →
  ``Underscore``): node_modules/serverless/lib/plugins/aws/lib/naming.js
- ``gcloud workflows deploy``: https://cloud.google.com/sdk/gcloud/reference/workflows/deploy
- ``google_workflows_workflow``, ``google_service_account``,
  ``google_pubsub_topic_iam_member``:
  https://registry.terraform.io/providers/hashicorp/google/latest/docs/resources/workflows_workflow
  https://registry.terraform.io/providers/hashicorp/google/latest/docs/resources/google_service_account
  https://registry.terraform.io/providers/hashicorp/google/latest/docs/resources/pubsub_topic_iam
- Durable Functions' DFApp bindings (orchestrationTrigger, activityTrigger, durableClient):
  https://learn.microsoft.com/azure/azure-functions/durable/durable-functions-bindings?pivots=python
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from polyfn import App
from polyfn.deploy import (
    azure_files,
    check_drift,
    gcloud_commands,
    gcloud_script,
    sam_template,
    serverless_config,
    terraform_main,
)
from polyfn.deploy.aws_serverless import lambda_logical_id
from polyfn.errors import DefinitionError
from polyfn.outputs import Outputs
from polyfn.outputs.memory import MemoryDriver
from polyfn.workflow import gcp_workflows, stepfunctions
from polyfn.workflow.local import task, workflow
from samples.orderflow import app as orderflow
from tests.deploy import workflow_app as flows
from tests.deploy.test_aws_descriptors import SLS, _lint, _package
from tests.deploy.test_gcp_azure_descriptors import SCHEMA, _parse, _resources

FLOWS = "tests.deploy.workflow_app:app"
ORDERFLOW = "samples.orderflow.app:app"
WORKFLOWS_SCHEMA = Path(__file__).resolve().parents[1] / "workflow/data/gcp_workflows.schema.json"
SUBS = re.compile(r"\$\{([A-Za-z0-9]+)\}")


def _arn(fn: str) -> str:
    return f"arn:aws:lambda:us-east-1:123456789012:function:{fn}"


def _resolved(definition: dict, values: dict[str, str]) -> dict:
    """The definition with its ``${Key}`` placeholders replaced by ``values``."""
    text = SUBS.sub(lambda m: values[m.group(1)], json.dumps(definition))
    return json.loads(text)


# --- AWS: SAM ----------------------------------------------------------------------------


@pytest.mark.parametrize("app,module", [(flows.app, FLOWS), (orderflow.app, ORDERFLOW)])
def test_sam_state_machine_per_workflow_transforms_and_lints(app, module, monkeypatch):
    pytest.importorskip("samtranslator")
    pytest.importorskip("cfnlint")
    from samtranslator.translator.transform import transform

    class ManagedPolicies:
        def load(self):
            return {}

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    template = sam_template(app, app_module=module, code_uri="s3://bucket/app.zip")
    machines = {
        k: r
        for k, r in template["Resources"].items()
        if r["Type"] == "AWS::Serverless::StateMachine"
    }
    from polyfn.workflow.local import workflows

    assert len(machines) == len(workflows(app))
    cfn = transform(copy.deepcopy(template), {}, ManagedPolicies())  # it edits its input
    by_type: dict[str, list] = {}
    for key, r in cfn["Resources"].items():
        by_type.setdefault(r["Type"], []).append((key, r))
    assert len(by_type["AWS::StepFunctions::StateMachine"]) == len(machines)
    _lint(cfn)
    for name, definition in workflows(app).items():
        props = machines[f"{name[0].upper()}{name[1:]}StateMachine"]["Properties"]
        subs = props["DefinitionSubstitutions"]
        # Each placeholder is a function's ARN (GetAtt of its Lambda), a queue's URL or a
        # topic's ARN (Ref of the declared resource); the rest is stepfunctions.compile's.
        values, functions = {}, {}
        for key, value in subs.items():
            if "Fn::GetAtt" in value:
                logical = value["Fn::GetAtt"][0]
                assert template["Resources"][logical]["Type"] == "AWS::Serverless::Function"
                fn = template["Resources"][logical]["Properties"]["Environment"]["Variables"][
                    "POLYFN_FUNCTION"
                ]
                functions[fn] = logical
                values[key] = _arn(fn)
            else:
                logical = value["Ref"]
                kind = template["Resources"][logical]["Type"]
                assert kind in ("AWS::SQS::Queue", "AWS::SNS::Topic")
                values[key] = f"{kind}:{logical}"
        expected = stepfunctions.compile(
            definition,
            function_arn=_arn,
            queue_url=lambda q: f"AWS::SQS::Queue:{q[0].upper()}{q[1:]}Queue",
            topic_arn=lambda t: "AWS::SNS::Topic:OrderEventsTopic",
        )
        assert _resolved(props["Definition"], values) == expected
        invoke = [
            p["LambdaInvokePolicy"]["FunctionName"]["Ref"]
            for p in props["Policies"]
            if "LambdaInvokePolicy" in p
        ]
        assert sorted(invoke) == sorted(functions.values())
    if app is flows.app:
        (key, role) = next(
            (k, r) for k, r in by_type["AWS::IAM::Role"] if k == "FulfilStateMachineRole"
        )
        actions = json.dumps(role["Properties"]["Policies"])
        for action in ("lambda:InvokeFunction", "sqs:SendMessage", "sns:Publish"):
            assert action in actions


def test_sam_task_functions_are_plain_lambdas_configured_by_name():
    t = sam_template(orderflow.app, app_module=ORDERFLOW)
    fn = t["Resources"]["ChargePaymentFunction"]["Properties"]
    assert fn["Handler"] == "polyfn.adapters.aws.lambda_handler"
    assert fn["Environment"]["Variables"]["POLYFN_FUNCTION"] == "charge_payment"
    assert fn["Events"] == {}  # Step Functions invokes it; no event source


def test_a_task_must_be_a_trigger_less_function_of_the_app():
    app = App("bad")

    @app.post("/x")
    def handler(req):
        return {}

    from polyfn.workflow.builder import Task, Workflow

    workflow(app, "uses-http", Workflow(Task("T", function="handler", end=True)))
    for build in (
        lambda: sam_template(app),
        lambda: serverless_config(app),
        lambda: gcloud_commands(app, project="p", region="r"),
    ):
        with pytest.raises(DefinitionError, match=r"workflow 'uses-http'.*'handler' has triggers"):
            build()
    other = App("missing")
    task(other, name="t")(lambda x: x)
    workflow(other, "w", Workflow(Task("T", function="nope", end=True)))
    with pytest.raises(DefinitionError, match="no function 'nope'"):
        sam_template(other)


# --- AWS: Serverless -----------------------------------------------------------------------


def test_serverless_state_machine_is_raw_cloudformation():
    config = serverless_config(flows.app, app_module=FLOWS)
    assert "plugins" not in config and "stepFunctions" not in config
    resources = config["resources"]["Resources"]
    machine = resources["FulfilStateMachine"]
    assert machine["Type"] == "AWS::StepFunctions::StateMachine"
    text, subs = machine["Properties"]["DefinitionString"]["Fn::Sub"]
    assert subs["PackItemsArn"] == {"Fn::GetAtt": ["PackDashitemsLambdaFunction", "Arn"]}
    assert subs["PriceItemArn"] == {"Fn::GetAtt": ["PriceUnderscoreitemLambdaFunction", "Arn"]}
    assert subs["ShipmentsQueueUrl"] == {"Ref": "ShipmentsQueue"}
    assert subs["OrderEventsTopicArn"] == {"Ref": "OrderEventsTopic"}
    values = {"PackItemsArn": _arn("pack-items"), "PriceItemArn": _arn("price_item")}
    values |= {"ShipmentsQueueUrl": "q", "OrderEventsTopicArn": "t"}
    expected = stepfunctions.compile(
        flows.fulfil(), function_arn=_arn, queue_url=lambda q: "q", topic_arn=lambda t: "t"
    )
    assert _resolved(json.loads(text), values) == expected
    role = resources["FulfilStateMachineRole"]["Properties"]
    principal = role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
    assert principal == {"Service": "states.amazonaws.com"}
    assert lambda_logical_id("a-b_c") == "ADashbUnderscorecLambdaFunction"


def test_serverless_fn_sub_escapes_literal_placeholders():
    app = App("literal")
    task(app, name="t")(lambda x: x)
    from polyfn.workflow.builder import Pass, Task, Workflow

    workflow(
        app,
        "w",
        Workflow(Pass("P", result={"note": "${NotAVariable}"}), Task("T", function="t", end=True)),
    )
    text, subs = serverless_config(app)["resources"]["Resources"]["WStateMachine"]["Properties"][
        "DefinitionString"
    ]["Fn::Sub"]
    assert "${!NotAVariable}" in text and "${TArn}" in text and set(subs) == {"TArn"}


@pytest.mark.skipif(not SLS.exists() or not shutil.which("node"), reason="npm ci: serverless@3")
def test_serverless_package_resolves_the_state_machine(tmp_path):
    """``serverless package`` (v3, offline) compiles the file: the GetAtt targets are the
    functions it generates, and cfn-lint passes on the result."""
    pytest.importorskip("cfnlint")
    cfn, output = _package(flows.app, FLOWS, tmp_path)
    _lint(cfn)
    resources = cfn["Resources"]
    machine = resources["FulfilStateMachine"]["Properties"]
    _, subs = machine["DefinitionString"]["Fn::Sub"]
    for value in subs.values():
        target = value.get("Fn::GetAtt", [value.get("Ref")])[0]
        assert target in resources, (target, output)
    assert resources["PackDashitemsLambdaFunction"]["Type"] == "AWS::Lambda::Function"


# --- GCP -------------------------------------------------------------------------------------


def _heredocs(script: str) -> dict[str, str]:
    return dict(re.findall(r"cat > (\S+) <<'POLYFN_EOF'\n(.*?)\nPOLYFN_EOF\n", script, re.S))


def test_gcloud_script_deploys_tasks_privately_and_each_workflow(tmp_path):
    yaml = pytest.importorskip("yaml")
    jsonschema = pytest.importorskip("jsonschema")
    script = gcloud_script(flows.app, project="shop", region="europe-west1")
    for fn in ("pack-items", "price_item"):
        deploy = re.search(rf"gcloud functions deploy {fn} .*?(?=\ngcloud|\n#|$)", script, re.S)
        assert deploy and "--trigger-http" in deploy.group(0)
        assert "--no-allow-unauthenticated" in deploy.group(0)
    assert "gcloud pubsub topics create shipments" in script
    assert "gcloud pubsub topics create order-events" in script
    account = "polyfn-wf-fulfil@shop.iam.gserviceaccount.com"
    assert (
        "gcloud functions add-invoker-policy-binding pack-items --region=europe-west1 "
        f"--member=serviceAccount:{account} --project=shop"
    ) in script
    publisher = "gcloud pubsub topics add-iam-policy-binding order-events --member="
    assert f"{publisher}serviceAccount:{account} --role=roles/pubsub.publisher" in script
    assert (
        "gcloud workflows deploy fulfil --source=workflow-fulfil.yaml --location=europe-west1 "
        f"--service-account={account} --project=shop"
    ) in script
    docs = _heredocs(script)
    assert set(docs) == {"workflow-fulfil.yaml", "workflow-refund.yaml"}
    schema = json.loads(WORKFLOWS_SCHEMA.read_text())
    expected = gcp_workflows.compile(
        flows.fulfil().to_asl(),
        function_url=lambda n: f"https://europe-west1-shop.cloudfunctions.net/{n}",
        project="shop",
    )
    doc = yaml.safe_load(docs["workflow-fulfil.yaml"])
    jsonschema.validate(doc, schema)
    assert doc == expected
    # The shell writes the file as is (the quoted delimiter expands nothing).
    blocks = re.findall(r"cat > \S+ <<'POLYFN_EOF'\n.*?\nPOLYFN_EOF\n", script, re.S)
    (tmp_path / "deploy.sh").write_text("".join(blocks))
    subprocess.run(["sh", "deploy.sh"], cwd=tmp_path, check=True, timeout=30)
    written = (tmp_path / "workflow-fulfil.yaml").read_text()
    assert yaml.safe_load(written) == expected and "${state}" in written


def test_terraform_workflows_parse_and_fit_the_provider_schema():
    yaml = pytest.importorskip("yaml")
    schema = {
        **SCHEMA,
        "google_workflows_workflow": {
            "name",
            "region",
            "description",
            "service_account",
            "source_contents",
        },
        "google_service_account": {"account_id", "display_name"},
        "google_pubsub_topic_iam_member": {"topic", "role", "member"},
    }
    text = terraform_main(flows.app)
    resources = _resources(_parse(text))
    for (kind, name), body in resources.items():
        assert kind in schema, kind
        assert set(body) <= schema[kind], (kind, name)
    refs = re.findall(r"\$\{(google_[a-z0-9_]+)\.([\w-]+)\.", json.dumps(list(resources.values())))
    for kind, name in refs:
        assert (kind, name) in resources, (kind, name)
    fn = {n: b for (k, n), b in resources.items() if k == "google_cloudfunctions2_function"}
    assert "event_trigger" not in fn["pack-items"] and "event_trigger" not in fn["price_item"]
    public = {
        b["service"]
        for (k, _), b in resources.items()
        if k.endswith("iam_member") and b["member"] == "allUsers"
    }
    assert public == {"${google_cloudfunctions2_function.take_order.name}"}
    invokers = [
        b
        for (k, n), b in resources.items()
        if k == "google_cloud_run_service_iam_member" and n.startswith("fulfil_workflow_")
    ]
    assert {b["role"] for b in invokers} == {"roles/run.invoker"} and len(invokers) == 2
    wf = resources[("google_workflows_workflow", "fulfil")]
    assert wf["service_account"] == "${google_service_account.fulfil_workflow.email}"
    # The heredoc: the workflow's own ${...} escaped; the URLs and project interpolated.
    source = re.search(r'"fulfil" \{.*?source_contents = <<EOT\n(.*?)\nEOT', text, re.S).group(1)
    source = re.sub(
        r"(?<!\$)\$\{google_cloudfunctions2_function\.([\w-]+)\.url\}",
        lambda m: f"https://fn/{m.group(1)}",
        source,
    )
    source = source.replace("$${", "${").replace("%%{", "%{")
    assert re.search(r"(?<!\$)\$\{var\.project\}", source)
    source = source.replace("${var.project}", "p")
    expected = gcp_workflows.compile(
        flows.fulfil().to_asl(), function_url=lambda n: f"https://fn/{n}", project="p"
    )
    assert yaml.safe_load(source) == expected


# --- Azure -----------------------------------------------------------------------------------


def test_azure_function_app_is_a_dfapp_with_orchestrators_activities_and_starters():
    df = pytest.importorskip("azure.durable_functions")
    from polyfn.adapters.azure import function_app
    from polyfn.adapters.azure.durable import ActivityError

    driver = MemoryDriver()
    fa = function_app(flows.durable_app, outputs=Outputs(driver))
    assert isinstance(fa, df.DFApp)
    found = {f.get_function_name(): f for f in fa.get_functions()}
    bindings = {n: sorted(b.type for b in f.get_bindings()) for n, f in found.items()}
    assert bindings == {
        "take_order": ["http", "httpTrigger"],
        "pack-items": ["activityTrigger"],  # once, though both workflows use price_item
        "price_item": ["activityTrigger"],
        "fulfil": ["orchestrationTrigger"],
        "refund": ["orchestrationTrigger"],
        "start_fulfil": ["durableClient", "http", "httpTrigger"],
        "start_refund": ["durableClient", "http", "httpTrigger"],
    }
    trigger = json.loads(found["start_fulfil"].get_function_json())["bindings"]
    http = next(b for b in trigger if b["type"] == "httpTrigger")
    assert http["route"] == "workflows/fulfil" and http["methods"] == ["POST"]
    # An activity runs the handler with the app's outputs (not a memory stand-in).
    price = found["price_item"].get_user_function()
    assert price({"sku": "pen"}, None) == {"sku": "pen", "price": 3}
    assert [(m.kind, m.target, json.loads(m.body)) for m in driver.sent] == [
        ("publish", "prices", {"sku": "pen"})
    ]
    with pytest.raises(ActivityError) as info:
        price({"sku": "gone"}, None)
    assert info.value.error == "OutOfStock"
    # The Python worker's load-time checks of parameters against bindings pass
    # (polyfn.adapters.azure.worker reproduces them).
    from polyfn.adapters.azure.worker import Worker

    loaded = Worker(function_app(flows.durable_app, outputs=Outputs(MemoryDriver())))
    assert set(loaded.functions) == set(bindings)


def test_azure_starter_starts_an_instance_with_the_body():
    pytest.importorskip("azure.durable_functions")
    import asyncio

    import azure.functions as func

    from polyfn.adapters.azure import function_app

    fa = function_app(flows.durable_app, outputs=Outputs(MemoryDriver()))
    starter = {f.get_function_name(): f for f in fa.get_functions()}["start_refund"]
    user = starter.get_user_function().client_function
    calls = []

    class Client:
        async def start_new(self, name, client_input=None):
            calls.append((name, client_input))
            return "id-1"

        def create_check_status_response(self, req, instance):
            return func.HttpResponse(instance, status_code=202)

    req = func.HttpRequest("POST", "/workflows/refund", body=b'{"sku": "pen"}', headers={})
    resp = asyncio.run(user(req, client=Client()))
    assert resp.status_code == 202 and calls == [("refund", {"sku": "pen"})]
    bad = func.HttpRequest("POST", "/workflows/refund", body=b"{", headers={})
    assert asyncio.run(user(bad, client=Client())).status_code == 400


def test_azure_rejects_send_and_publish_tasks_and_lists_durable():
    pytest.importorskip("azure.durable_functions")
    from polyfn.adapters.azure import function_app

    with pytest.raises(DefinitionError, match=r"azure workflow 'fulfil'.*polyfn:(send|publish):"):
        function_app(flows.app, outputs=Outputs(MemoryDriver()))
    files = azure_files(flows.durable_app, app_module="tests.deploy.workflow_app:durable_app")
    assert "azure-functions-durable" in files["requirements.txt"].splitlines()
    plain = App("plain")
    assert "durable" not in azure_files(plain, app_module="x:plain")["requirements.txt"]


def test_azure_without_durable_leaves_workflows_out_with_a_warning(monkeypatch, caplog):
    import azure.functions as func

    from polyfn.adapters.azure import function_app, workflows

    monkeypatch.setattr(workflows, "durable_available", lambda: False)
    fa = function_app(flows.durable_app, outputs=Outputs(MemoryDriver()))
    assert type(fa) is func.FunctionApp
    assert [f.get_function_name() for f in fa.get_functions()] == ["take_order"]
    assert "workflows ['fulfil', 'refund'] left out" in caplog.text


# --- drift -----------------------------------------------------------------------------------


def test_drift_covers_the_workflows(tmp_path):
    from polyfn.workflow.builder import Task, Workflow

    app = App("drifting")

    @task(app)
    def step(x):
        return x

    name = "step"
    workflow(app, "w", Workflow(Task("T", function=name, end=True)))
    written = {
        ("aws", "sam"): json.dumps(sam_template(app, app_module="m:app")),
        ("aws", "serverless"): json.dumps(serverless_config(app, app_module="m:app")),
        ("gcp", "commands"): gcloud_script(app, project="p", region="r"),
        ("gcp", "terraform"): terraform_main(app),
    }
    options = {
        ("aws", "sam"): {"app_module": "m:app"},
        ("aws", "serverless"): {"app_module": "m:app"},
        ("gcp", "commands"): {"project": "p", "region": "r"},
        ("gcp", "terraform"): {},
    }
    for (provider, fmt), text in written.items():
        path = tmp_path / f"{provider}-{fmt}"
        path.write_text(text)
        assert check_drift(app, path, provider, fmt, **options[(provider, fmt)]) == []
    # The workflow changes: every descriptor has drifted.
    workflow(app, "w", Workflow(Task("T2", function=name, end=True)))
    for provider, fmt in written:
        path = tmp_path / f"{provider}-{fmt}"
        found = check_drift(app, path, provider, fmt, **options[(provider, fmt)])
        assert found, (provider, fmt)
