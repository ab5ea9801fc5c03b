"""The AWS descriptors of an app with every trigger, output and store kind
(tests/deploy/full_app.py) and of samples/orders: the SAM template transformed by
aws-sam-translator and linted by cfn-lint; the serverless.yml packaged by the Serverless
Framework v3 itself (offline, fake credentials) and its CloudFormation linted.

Provider shapes relied on:
- SAM policy templates (SQSSendMessagePolicy, SNSPublishMessagePolicy, S3WritePolicy,
  EventBridgePutEventsPolicy, DynamoDBCrudPolicy):
  https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/serverless-policy-template-list.html
- DynamoDB table TimeToLiveSpecification:
  https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-dynamodb-table.html
- Serverless v3 events (sqs, sns, s3, schedule, stream, eventBridge, httpApi):
  https://www.serverless.com/framework/docs/providers/aws/events
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from polyfn.deploy import check_drift, sam_template, serverless_config, serverless_yaml
from polyfn.deploy.aws_resources import CHANGE_TABLE_KEY, env_name
from samples.orders.app import app as orders
from tests.deploy.full_app import app as full

FULL = "tests.deploy.full_app:app"
ORDERS = "samples.orders.app:app"
ROOT = Path(__file__).resolve().parents[2]
SLS = ROOT / "node_modules" / ".bin" / "serverless"


def _lint(template: dict) -> None:
    from cfnlint.api import lint_all

    matches = lint_all(json.dumps(template))
    for m in matches:
        if m.rule.id.startswith(("E", "W")):
            print(m)
    assert not [m for m in matches if m.rule.id.startswith("E")]


def _functions(t: dict) -> dict[str, dict]:
    return {
        r["Properties"]["Environment"]["Variables"]["POLYFN_FUNCTION"]: r["Properties"]
        for r in t["Resources"].values()
        if r["Type"] == "AWS::Serverless::Function"
    }


# --- SAM -------------------------------------------------------------------------------


@pytest.mark.parametrize("app,module", [(full, FULL), (orders, ORDERS)], ids=["full", "orders"])
def test_sam_transforms_and_lints(app, module, monkeypatch):
    pytest.importorskip("samtranslator")
    pytest.importorskip("cfnlint")
    from samtranslator.translator.transform import transform

    class ManagedPolicies:
        def load(self):
            return {}

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    template = sam_template(app, app_module=module, code_uri="s3://bucket/app.zip")
    cfn = transform(template, {}, ManagedPolicies())
    types = {r["Type"] for r in cfn["Resources"].values()}
    assert {"AWS::Lambda::Function", "AWS::IAM::Role"} <= types
    if app is full:
        assert {
            "AWS::Lambda::EventSourceMapping",
            "AWS::SNS::Subscription",
            "AWS::Events::Rule",
            "AWS::Scheduler::Schedule",
            "AWS::ApiGatewayV2::Api",
            "AWS::Kinesis::Stream",
        } <= types
        # The policy templates expanded into the role of `work`: its outputs' actions.
        role = next(
            r for k, r in cfn["Resources"].items() if k == "WorkFunctionRole"
        )  # SAM names the role <Function>Role
        actions = json.dumps(role["Properties"]["Policies"])
        for action in ("sqs:SendMessage", "sns:Publish", "s3:PutObject", "events:PutEvents"):
            assert action in actions
        assert "dynamodb:PutItem" in actions  # DynamoDBCrudPolicy of the stores
    _lint(cfn)


def test_sam_outputs_permissions_and_physical_names():
    t = sam_template(full, app_module=FULL)
    fns = _functions(t)
    work = fns["work"]
    assert work["Policies"] == [
        {"SQSSendMessagePolicy": {"QueueName": {"Fn::GetAtt": ["AuditQueue", "QueueName"]}}},
        {"SNSPublishMessagePolicy": {"TopicName": {"Fn::GetAtt": ["DoneTopic", "TopicName"]}}},
        {"S3WritePolicy": {"BucketName": {"Ref": "ReportsBucket"}}},
        {"EventBridgePutEventsPolicy": {"EventBusName": "default"}},
        {"DynamoDBCrudPolicy": {"TableName": {"Ref": "IdempotencyStoreTable"}}},
        {"DynamoDBCrudPolicy": {"TableName": {"Ref": "CircuitStateStoreTable"}}},
    ]
    env = work["Environment"]["Variables"]
    assert env["POLYFN_QUEUE_AUDIT"] == {"Ref": "AuditQueue"}  # the queue URL
    assert env["POLYFN_TOPIC_DONE"] == {"Ref": "DoneTopic"}  # the topic ARN
    assert env["POLYFN_BUCKET_REPORTS"] == {"Ref": "ReportsBucket"}  # the bucket name
    # An output-only queue and bucket are declared; the topic is on_done's trigger's.
    assert t["Resources"]["AuditQueue"]["Type"] == "AWS::SQS::Queue"
    assert t["Resources"]["ReportsBucket"]["Type"] == "AWS::S3::Bucket"
    assert fns["on_order_event"]["Policies"] == [
        {"EventBridgePutEventsPolicy": {"EventBusName": "partner-bus"}},
        {"DynamoDBCrudPolicy": {"TableName": {"Ref": "IdempotencyStoreTable"}}},
        {"DynamoDBCrudPolicy": {"TableName": {"Ref": "CircuitStateStoreTable"}}},
    ]
    # samples/orders: create_order sends to the queue process_order listens to.
    o = _functions(sam_template(orders, app_module=ORDERS))
    assert o["create_order"]["Policies"] == [
        {"SQSSendMessagePolicy": {"QueueName": {"Fn::GetAtt": ["OrdersQueue", "QueueName"]}}}
    ]
    assert o["create_order"]["Environment"]["Variables"]["POLYFN_QUEUE_ORDERS"] == {
        "Ref": "OrdersQueue"
    }
    assert "Policies" not in o["get_order"]
    assert set(o["process_order"]["Environment"]["Variables"]) == {
        "POLYFN_APP",
        "POLYFN_FUNCTION",
        "POLYFN_METRICS_NAMESPACE",
        "POLYFN_BUCKET_RECEIPTS",
        "POLYFN_TOPIC_ORDER_EVENTS",
    }


def test_sam_store_tables():
    t = sam_template(full, app_module=FULL)
    table = t["Resources"]["IdempotencyStoreTable"]
    assert table["Type"] == "AWS::DynamoDB::Table"
    props = table["Properties"]
    assert props["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert props["AttributeDefinitions"] == [{"AttributeName": "pk", "AttributeType": "S"}]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert env_name("circuit.state") == "CIRCUIT_STATE"
    try:  # the name the store itself reads (polyfn.patterns.backends)
        from polyfn.patterns.backends import resource_env
    except ImportError:
        resource_env = None
    if resource_env is not None:
        assert resource_env("circuit.state") == "POLYFN_STORE_" + env_name("circuit.state")
    for fn in _functions(t).values():  # every function knows every store's table
        env = fn["Environment"]["Variables"]
        assert env["POLYFN_STORE_IDEMPOTENCY"] == {"Ref": "IdempotencyStoreTable"}
        assert env["POLYFN_STORE_CIRCUIT_STATE"] == {"Ref": "CircuitStateStoreTable"}
    # The change trigger's table: key `id`, explicitly.
    customers = t["Resources"]["CustomersTable"]["Properties"]
    assert CHANGE_TABLE_KEY == "id"
    assert customers["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert customers["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}


def test_stores_stand_in_object(monkeypatch):
    """Descriptors read only ``app.stores`` names (any object with name/ttl will do)."""
    monkeypatch.setattr(
        orders, "stores", {"seen": SimpleNamespace(name="seen", ttl=60)}, raising=False
    )
    t = sam_template(orders, app_module=ORDERS)
    assert "SeenStoreTable" in t["Resources"]
    config = serverless_config(orders, app_module=ORDERS)
    assert config["functions"]["get_order"]["environment"]["POLYFN_STORE_SEEN"] == {
        "Ref": "SeenStoreTable"
    }


# --- Serverless ------------------------------------------------------------------------


def test_serverless_config_settings():
    c = serverless_config(full, app_module=FULL)
    assert c["frameworkVersion"] == "3"
    assert c["provider"]["runtime"] == "python3.12"
    fns = c["functions"]
    for name, fn in fns.items():
        assert fn["handler"] == "polyfn.adapters.aws.lambda_handler"
        assert fn["environment"]["POLYFN_APP"] == FULL
        assert fn["environment"]["POLYFN_FUNCTION"] == name
    # decorators apply bottom-up: the ANY route is the first trigger
    assert fns["files"]["events"] == [
        {"httpApi": {"method": "*", "path": "/any"}},
        {"httpApi": {"method": "GET", "path": "/files/{path+}"}},
    ]
    sqs = fns["work"]["events"][0]["sqs"]
    assert sqs["functionResponseType"] == "ReportBatchItemFailures"
    assert sqs["batchSize"] == 50 and sqs["maximumBatchingWindow"] == 1
    resources = c["resources"]["Resources"]
    redrive = resources["JobsQueue"]["Properties"]["RedrivePolicy"]
    assert redrive["maxReceiveCount"] == 4
    assert resources[redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]]["Type"] == ("AWS::SQS::Queue")
    sns = fns["on_done"]["events"][0]["sns"]
    assert sns["filterPolicy"] == {"kind": ["a", "b"], "level": ["1"]}
    s3 = [e["s3"] for e in fns["on_upload"]["events"]]
    assert [e["event"] for e in s3] == ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]
    assert all(e["existing"] is False for e in s3)
    assert s3[0]["rules"] == [{"prefix": "in/"}, {"suffix": ".csv"}]
    assert s3[0]["bucket"] == "${self:service}-${sls:stage}-uploads"
    assert fns["every_five"]["events"] == [{"schedule": {"rate": ["rate(5 minutes)"]}}]
    assert fns["weekday_morning"]["events"][0]["schedule"] == {
        "rate": ["cron(0 9 ? * 2-6 *)"],
        "method": "scheduler",
        "timezone": "Europe/Paris",
    }
    stream = fns["on_customer"]["events"][0]["stream"]
    assert stream["type"] == "dynamodb" and stream["startingPosition"] == "TRIM_HORIZON"
    assert fns["on_click"]["events"][0]["stream"]["type"] == "kinesis"
    bridge = fns["on_order_event"]["events"][0]["eventBridge"]
    assert bridge == {"pattern": {"source": ["shop.orders"], "detail-type": ["OrderPlaced"]}}
    statements = c["provider"]["iam"]["role"]["statements"]
    actions = {a for s in statements for a in s["Action"]}
    assert {"sqs:SendMessage", "sns:Publish", "s3:PutObject", "events:PutEvents"} <= actions
    assert "dynamodb:ConditionCheckItem" in actions
    # the output bucket (no trigger) is declared with the same physical name
    assert resources["ReportsBucket"]["Properties"]["BucketName"] == (
        "${self:service}-${sls:stage}-reports"
    )
    assert "UploadsBucket" not in resources  # the s3 event creates it
    assert fns["work"]["environment"]["POLYFN_BUCKET_REPORTS"] == (
        "${self:service}-${sls:stage}-reports"
    )


def test_serverless_yaml_reads_back():
    yaml = pytest.importorskip("yaml")
    for app, module in ((full, FULL), (orders, ORDERS)):
        text = serverless_yaml(app, app_module=module)
        assert yaml.safe_load(text) == serverless_config(app, app_module=module)


def _package(app, module: str, tmp_path: Path) -> tuple[dict, str]:
    """``serverless package`` on the generated serverless.yml, offline: the CloudFormation
    it would deploy, and its output."""
    service = tmp_path / "service"
    service.mkdir()
    (service / "serverless.yml").write_text(serverless_yaml(app, app_module=module))
    (service / "handler_placeholder.py").write_text("# the code is not what is checked\n")
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),  # Serverless writes its settings under HOME
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "SLS_TELEMETRY_DISABLED": "1",
        "SLS_NOTIFICATIONS_MODE": "off",
        "SLS_INTERACTIVE_SETUP_DISABLE": "1",
        "CI": "true",
    }
    proc = subprocess.run(
        [str(SLS), "package"],
        cwd=service,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    built = service / ".serverless" / "cloudformation-template-update-stack.json"
    return json.loads(built.read_text()), output


# Warnings of the v3 framework's own schema we accept (see aws_serverless.py): its runtime
# list predates python3.12; it does not list an intrinsic ARN for an existing event bus
# (compiled all the same: an object is taken as an existing bus).
KNOWN_WARNINGS = ("at 'provider.runtime'", ".eventBridge.eventBus': unsupported object format")


@pytest.mark.skipif(not SLS.exists() or not shutil.which("node"), reason="npm ci: serverless@3")
@pytest.mark.parametrize("app,module", [(full, FULL), (orders, ORDERS)], ids=["full", "orders"])
def test_serverless_package_lints(app, module, tmp_path):
    pytest.importorskip("cfnlint")
    cfn, output = _package(app, module, tmp_path)
    warnings = [line.strip() for line in output.splitlines() if line.strip().startswith("at '")]
    assert [w for w in warnings if not any(k in w for k in KNOWN_WARNINGS)] == [], output
    _lint(cfn)
    resources = cfn["Resources"]
    by_type: dict[str, list[dict]] = {}
    for r in resources.values():
        by_type.setdefault(r["Type"], []).append(r)
    functions = {
        r["Properties"]["Environment"]["Variables"]["POLYFN_FUNCTION"]: r["Properties"]
        for r in by_type["AWS::Lambda::Function"]
    }
    assert set(functions) == set(app.functions)
    for p in functions.values():
        assert p["Handler"] == "polyfn.adapters.aws.lambda_handler"
        assert p["Runtime"] == "python3.12"
    mappings = by_type["AWS::Lambda::EventSourceMapping"]
    assert all(
        m["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"] for m in mappings
    )
    policy = json.dumps(by_type["AWS::IAM::Role"])
    if app is orders:
        assert "sqs:SendMessage" in policy and "sns:Publish" in policy and "s3:PutObject" in policy
        (sub,) = by_type["AWS::SNS::Subscription"]
        assert sub["Properties"]["FilterPolicy"] == {"event": ["order-processed"]}
        buckets = [
            b for b in by_type["AWS::S3::Bucket"] if "NotificationConfiguration" in b["Properties"]
        ]
        (bucket,) = buckets
        assert bucket["Properties"]["BucketName"] == "orders-dev-receipts"
        (config,) = bucket["Properties"]["NotificationConfiguration"]["LambdaConfigurations"]
        assert config["Event"] == "s3:ObjectCreated:*"
        assert config["Filter"]["S3Key"]["Rules"] == [
            {"Name": "prefix", "Value": "receipts/"},
            {"Name": "suffix", "Value": ".json"},
        ]
        env = functions["process_order"]["Environment"]["Variables"]
        assert env["POLYFN_BUCKET_RECEIPTS"] == "orders-dev-receipts"
        (rule,) = by_type["AWS::Events::Rule"]
        assert rule["Properties"]["ScheduleExpression"] == "cron(0 2 * * ? *)"
    else:
        (schedule,) = by_type["AWS::Scheduler::Schedule"]
        assert schedule["Properties"]["ScheduleExpressionTimezone"] == "Europe/Paris"
        patterns = [r["Properties"].get("EventPattern") for r in by_type["AWS::Events::Rule"]]
        assert {"source": ["shop.orders"], "detail-type": ["OrderPlaced"]} in patterns
        assert "dynamodb:PutItem" in policy and "events:PutEvents" in policy
        assert "AWS::Kinesis::Stream" in by_type and "AWS::ApiGatewayV2::Api" in by_type
        tables = [t["Properties"] for t in by_type["AWS::DynamoDB::Table"]]
        assert sum("TimeToLiveSpecification" in t for t in tables) == 2


# --- drift -----------------------------------------------------------------------------


def test_drift_serverless(tmp_path):
    from polyfn.cli import main

    path = tmp_path / "serverless.yml"
    argv = ["deploy-config", "aws", ORDERS, "--format", "serverless", "--out", str(path)]
    assert main(argv) == 0
    assert check_drift(orders, path, "aws", "serverless", app_module=ORDERS) == []
    assert main([*argv, "--check"]) == 0
    path.write_text(path.read_text().replace("batchSize: 10", "batchSize: 3"))
    found = check_drift(orders, path, "aws", "serverless", app_module=ORDERS)
    assert len(found) == 1 and "batchSize" in found[0]
    assert main([*argv, "--check"]) == 1
    # the SAM format is not the serverless one
    assert main(["deploy-config", "aws", ORDERS, "--format", "terraform"]) == 2
