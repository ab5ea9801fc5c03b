"""The deployment descriptors of samples/orders: valid SAM (transformed, linted), an
Azure folder the worker indexes, gcloud commands, drift checks and the CLI."""

from __future__ import annotations

import importlib.util
import json
import sys

import pytest

from polyfn.cli import main
from polyfn.deploy import azure_app_folder, check_drift, gcloud_commands, sam_template
from samples.orders.app import app

MODULE = "samples.orders.app:app"


def _template() -> dict:
    return sam_template(app, app_module=MODULE)


def _events(template: dict) -> dict:
    return {
        name: event
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Serverless::Function"
        for name, event in [
            (r["Properties"]["Environment"]["Variables"]["POLYFN_FUNCTION"], e)
            for e in r["Properties"]["Events"].values()
        ]
    }


def test_sam_template_transforms_and_lints(monkeypatch):
    pytest.importorskip("samtranslator")
    pytest.importorskip("cfnlint")
    from samtranslator.translator.transform import transform

    class Policies:
        def load(self):
            return {}

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")  # the pseudo parameters' region
    # A local CodeUri is what `sam package` uploads: the translator wants the S3 form.
    template = sam_template(app, app_module=MODULE, code_uri="s3://bucket/orders.zip")
    cfn = transform(template, {}, Policies())
    assert "AWS::Serverless-2016-10-31" not in json.dumps(cfn.get("Transform", ""))
    types = {r["Type"] for r in cfn["Resources"].values()}
    assert "AWS::Lambda::EventSourceMapping" in types
    assert "AWS::Lambda::Function" in types
    from cfnlint.api import lint_all

    matches = lint_all(json.dumps(cfn))
    errors = [m for m in matches if m.rule.id.startswith("E")]
    for m in matches:
        print(m)
    assert not errors


def test_sam_template_settings():
    t = _template()
    events = _events(t)
    sqs = events["process_order"]
    assert sqs["Type"] == "SQS"
    assert sqs["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert sqs["Properties"]["BatchSize"] == 10
    queue = t["Resources"][sqs["Properties"]["Queue"]["Fn::GetAtt"][0]]
    redrive = queue["Properties"]["RedrivePolicy"]
    assert redrive["maxReceiveCount"] == 3
    assert t["Resources"][redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]]["Type"] == (
        "AWS::SQS::Queue"
    )
    sns = events["notify"]["Properties"]
    assert sns["FilterPolicy"] == {"event": ["order-processed"]}
    assert t["Resources"][sns["Topic"]["Ref"]]["Type"] == "AWS::SNS::Topic"
    s3 = events["index_receipt"]["Properties"]
    assert s3["Events"] == ["s3:ObjectCreated:*"]
    assert s3["Filter"]["S3Key"]["Rules"] == [
        {"Name": "prefix", "Value": "receipts/"},
        {"Name": "suffix", "Value": ".json"},
    ]
    assert t["Resources"][s3["Bucket"]["Ref"]]["Type"] == "AWS::S3::Bucket"
    assert events["nightly_report"]["Properties"]["Schedule"] == "cron(0 2 * * ? *)"
    assert events["get_order"]["Properties"] == {"Path": "/orders/{id}", "Method": "GET"}
    for r in t["Resources"].values():
        if r["Type"] == "AWS::Serverless::Function":
            assert r["Properties"]["Handler"] == "polyfn.adapters.aws.lambda_handler"
            assert r["Properties"]["Environment"]["Variables"]["POLYFN_APP"] == MODULE


def test_aws_schedules():
    from polyfn.deploy.aws_sam import aws_schedule

    assert aws_schedule("0 2 * * 1-5") == "cron(0 2 ? * 2-6 *)"
    assert aws_schedule("*/5 * * * *") == "cron(*/5 * * * ? *)"
    assert aws_schedule("rate(1 minute)") == "rate(1 minute)"
    assert aws_schedule("rate(2 hours)") == "rate(2 hours)"


def test_azure_folder_indexes(tmp_path, monkeypatch):
    pytest.importorskip("azure.functions")
    files = azure_app_folder(app, tmp_path, app_module=MODULE)
    assert {p.name for p in files} == {
        "function_app.py",
        "host.json",
        "requirements.txt",
        "local.settings.json",
    }
    settings = json.loads((tmp_path / "local.settings.json").read_text())["Values"]
    assert settings["AzureWebJobsStorage"] == "UseDevelopmentStorage=true"
    assert settings["FUNCTIONS_WORKER_RUNTIME"] == "python"
    assert settings["AzureWebJobsFeatureFlags"] == "EnableWorkerIndexing"
    assert json.loads((tmp_path / "host.json").read_text())["version"] == "2.0"
    spec = importlib.util.spec_from_file_location(
        "_written_function_app", tmp_path / "function_app.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    functions = module.app.get_functions()
    names = {f.get_function_name() for f in functions}
    assert names == set(app.functions)
    triggers = {f.get_function_name(): f.get_trigger().get_binding_name() for f in functions}
    assert triggers["create_order"] == "httpTrigger"
    assert triggers["nightly_report"] == "timerTrigger"


def test_gcloud_commands():
    commands = gcloud_commands(app, project="p", region="europe-west1")
    text = "\n".join(commands)
    deploys = {c.split()[3]: c for c in commands if c.startswith("gcloud functions deploy")}
    assert set(deploys) == set(app.functions)
    assert "--trigger-http" in deploys["create_order"]
    assert "--trigger-http" in deploys["get_order"]
    assert "--trigger-topic=orders" in deploys["process_order"]
    assert "--retry" in deploys["process_order"]
    assert "--trigger-topic=order-events" in deploys["notify"]
    assert "type=google.cloud.storage.object.v1.finalized" in deploys["index_receipt"]
    assert "bucket=receipts" in deploys["index_receipt"]
    assert "--trigger-topic=nightly_report" in deploys["nightly_report"]
    assert "--dead-letter-topic=orders-dead-letter" in text
    assert "gcloud scheduler jobs create pubsub" in text
    # The watched bucket and what functions write to exist before they run.
    assert "gcloud storage buckets create gs://receipts --location=europe-west1" in text
    creates = [c for c in commands if c.startswith("gcloud pubsub topics create")]
    assert {c.split()[4] for c in creates} >= {"orders", "order-events"}
    assert commands.index(creates[0]) < min(commands.index(c) for c in deploys.values())
    for c in deploys.values():
        assert "--gen2" in c and "--runtime=python311" in c


def _write(provider: str, path, *extra: str) -> None:
    assert main(["deploy-config", provider, MODULE, "--out", str(path), *extra]) == 0


def test_drift_aws(tmp_path):
    path = tmp_path / "template.json"
    _write("aws", path)
    options = {"app_module": MODULE}
    assert check_drift(app, path, "aws", **options) == []
    template = json.loads(path.read_text())
    template["Resources"]["ProcessOrderFunction"]["Properties"]["Events"]["Queue"]["Properties"][
        "BatchSize"
    ] = 5
    path.write_text(json.dumps(template))
    found = check_drift(app, path, "aws", **options)
    assert len(found) == 1 and "BatchSize" in found[0]


def test_drift_azure_and_gcp(tmp_path):
    pytest.importorskip("azure.functions")
    _write("azure", tmp_path / "azure")
    assert check_drift(app, tmp_path / "azure", "azure", app_module=MODULE) == []
    (tmp_path / "azure" / "requirements.txt").write_text("azure-functions\n")
    assert check_drift(app, tmp_path / "azure", "azure", app_module=MODULE)
    script = tmp_path / "deploy.sh"
    _write("gcp", script, "--project", "p", "--region", "r")
    assert check_drift(app, script, "gcp", project="p", region="r") == []
    script.write_text(script.read_text().replace("--retry", "", 1))
    assert check_drift(app, script, "gcp", project="p", region="r")


def test_cli_check_exit_codes(tmp_path, capsys):
    path = tmp_path / "template.json"
    _write("aws", path)
    assert main(["deploy-config", "aws", MODULE, "--out", str(path), "--check"]) == 0
    path.write_text(path.read_text().replace('"BatchSize": 10', '"BatchSize": 7'))
    assert main(["deploy-config", "aws", MODULE, "--out", str(path), "--check"]) == 1
    assert "BatchSize" in capsys.readouterr().out
    assert main(["deploy-config", "aws", MODULE, "--check"]) == 2
    assert main(["deploy-config", "gcp", MODULE]) == 0
    assert "gcloud functions deploy" in capsys.readouterr().out
    assert sys.modules.get("samples.orders.app") is not None


def test_azure_folder_indexes_every_trigger_kind(tmp_path):
    """The folder deploy-config writes, indexed as the worker does (get_functions()),
    has one function per trigger with the binding Microsoft documents for it."""
    pytest.importorskip("azure.functions")
    from tests.deploy.every_trigger_app import app as every

    azure_app_folder(every, tmp_path, app_module="tests.deploy.every_trigger_app:app")
    spec = importlib.util.spec_from_file_location("_every_app", tmp_path / "function_app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    triggers = {
        f.get_function_name(): f.get_trigger().get_binding_name()
        for f in module.app.get_functions()
    }
    assert triggers == {
        "http_fn": "httpTrigger",
        "queue_fn": "queueTrigger",
        "fifo_fn": "serviceBusTrigger",
        "topic_fn": "serviceBusTrigger",
        "blob_fn": "blobTrigger",
        "deleted_fn": "eventGridTrigger",
        "timer_fn": "timerTrigger",
        "change_fn": "cosmosDBTrigger",
        "stream_fn": "eventHubTrigger",
        "event_fn": "eventGridTrigger",
    }
