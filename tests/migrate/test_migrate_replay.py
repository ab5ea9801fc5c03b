"""``polyfn replay`` and polyfn.migrate.replay: the official AWS samples (SQS, SNS, S3)
replayed on Azure and Google Cloud, a Google Pub/Sub CloudEvent on AWS, an Azure host
payload on AWS."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from polyfn.cli import main
from polyfn.local.invoke.native.azure_typed import host_json
from polyfn.migrate import replay
from tests.migrate.migrate_apps import FAIL_WHEN, SEEN, azure_payloads, replay_app

EVENTS = Path(__file__).resolve().parents[1] / "events"
TARGET = "tests.migrate.migrate_apps:replay_app"


def _replay(capsys, file: Path, source: str, target: str, *extra: str) -> tuple[int, list]:
    status = main(["replay", str(file), "--from", source, "--as", target, TARGET, "--json", *extra])
    return status, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("target", ["azure", "gcp"])
def test_sqs_sample_replayed_and_the_failed_record_is_reported(capsys, target):
    sample = EVENTS / "aws" / "sqs__powertools__sqsEvent.json"
    status, results = _replay(capsys, sample, "aws", target)
    assert status == 0
    (result,) = results
    ids = [r["messageId"] for r in json.loads(sample.read_text())["Records"]]
    assert result["function"] == "process_orders" and result["ids"] == ids and result["ok"]
    # Each message reached the Lambda handler as an SQS record with its own id and body.
    records = [r for who, e, _ in SEEN if who == "process_orders" for r in e["Records"]]
    assert [r["messageId"] for r in records] == ids
    assert [r["body"] for r in records] == ["Test message.", '{"message": "foo1"}']

    FAIL_WHEN.add("foo1")
    status, (result,) = _replay(capsys, sample, "aws", target)
    assert status == 1 and not result["ok"]
    # One invocation per message on both clouds: the second one failed, and only it.
    assert len(result["errors"]) == 1 and ids[1] in result["errors"][0]
    if target == "gcp":
        assert [r["status"] for r in result["result"]] == [200, 500]
    else:
        assert result["result"][0] is None and result["result"][1] is None


@pytest.mark.parametrize("target", ["azure", "gcp"])
def test_sns_sample_replayed(capsys, target):
    status, (result,) = _replay(
        capsys, EVENTS / "aws" / "sns__powertools__snsEvent.json", "aws", target
    )
    assert status == 0 and result["function"] == "on_notification"
    ((_, msg, ctx),) = [s for s in SEEN if s[0] == "on_notification"]
    original = json.loads((EVENTS / "aws" / "sns__powertools__snsEvent.json").read_text())
    sns = original["Records"][0]["Sns"]
    assert msg.provider == target  # it arrived through the target's inbound path
    assert msg.body.decode() == sns["Message"]
    assert msg.topic == "sns-lambda"
    assert ctx.provider == target
    # Not surviving on Azure Service Bus / Pub/Sub: the SNS signature, signing certificate
    # and unsubscribe URLs (SNS-only delivery metadata); the message id on Pub/Sub is
    # kept as the Pub/Sub messageId, on Service Bus as MessageId.
    assert msg.id == sns["MessageId"]


@pytest.mark.parametrize("target", ["azure", "gcp"])
def test_s3_sample_replayed(capsys, target):
    status, (result,) = _replay(capsys, EVENTS / "aws" / "s3__samcli__put.json", "aws", target)
    assert status == 0 and result["function"] == "on_object"
    ((_, event, _),) = [s for s in SEEN if s[0] == "on_object"]
    assert (event.bucket, event.key, event.kind) == ("example-bucket", "test/key", "created")
    assert event.provider == target


def test_gcp_pubsub_cloudevent_replayed_on_aws(capsys):
    sample = EVENTS / "gcp" / "conformance__pubsub_text-cloudevent-input.json"
    status, (result,) = _replay(capsys, sample, "gcp", "aws")
    assert status == 0
    assert result["function"] == "on_message" and result["via"] == "aws sqs"
    original = json.loads(sample.read_text())
    ((_, seen, _),) = [s for s in SEEN if s[0] == "on_message"]
    # The CloudEvent the functions-framework function saw after SQS, against the sample:
    message, want = seen.data["message"], original["data"]["message"]
    assert message["messageId"] == want["messageId"]
    assert message["attributes"] == want["attributes"]
    assert base64.b64decode(message["data"]) == base64.b64decode(want["data"])
    assert seen["type"] == original["type"]
    assert seen["source"].endswith("/topics/gcf-test")
    assert seen["time"] == original["time"]
    # Not surviving: the project in the source (//pubsub.googleapis.com/projects/
    # sample-project → polyfn's default project: SQS knows no Google project), the
    # subscription name (an SQS queue has one consumer), and message["@type"].
    assert seen["source"] != original["source"]

    FAIL_WHEN.add("test message 3")
    status, (result,) = _replay(capsys, sample, "gcp", "aws")
    assert status == 1
    assert result["result"] == {"batchItemFailures": [{"itemIdentifier": want["messageId"]}]}


def test_json_lines_and_a_human_report(capsys, tmp_path):
    lines = tmp_path / "captured.jsonl"
    sqs = json.loads((EVENTS / "aws" / "sqs__powertools__sqsEvent.json").read_text())
    s3 = json.loads((EVENTS / "aws" / "s3__samcli__put.json").read_text())
    lines.write_text(json.dumps(sqs) + "\n\n" + json.dumps(s3) + "\n")
    status = main(["replay", str(lines), "--from", "aws", "--as", "none", TARGET])
    out = capsys.readouterr().out
    assert status == 0
    assert "#1 process_orders [aws → none via local queue]: ok" in out
    assert "#2 on_object" in out and "2 ok, 0 failed" in out


def test_an_unroutable_event_fails_and_the_others_run(capsys, tmp_path):
    sqs = json.loads((EVENTS / "aws" / "sqs__powertools__sqsEvent.json").read_text())
    other = json.loads(json.dumps(sqs))
    for r in other["Records"]:
        r["eventSourceARN"] = r["eventSourceARN"].replace("my-queue", "nobody-reads-this")
    file = tmp_path / "two.json"
    file.write_text(json.dumps([other, sqs]))
    status, results = _replay(capsys, file, "aws", "azure")
    assert status == 1
    assert [r["ok"] for r in results] == [False, True]
    assert "nobody-reads-this" in results[0]["errors"][0]


def test_azure_host_payload_replayed_on_aws_through_the_library():
    inv, binding = azure_payloads().invocation("queue__host__message.json")
    captured = host_json(inv, binding)  # as `polyfn events render --as azure` prints it
    (result,) = replay(replay_app, [captured], source="azure", target="aws")
    assert result.ok and result.function == "process_azure_orders" and result.via == "aws sqs"
    (record,) = next(e for who, e, _ in SEEN if who == "process_orders")["Records"]
    assert record["messageId"] == "6f1c7a8e-3b0d-4e51-9a7c-2d5e8f4b1a90"
    assert record["body"] == '{"orderId":"ord-1001","amount":42.5}'


def test_usage_errors():
    with pytest.raises(ValueError, match="source"):
        replay(replay_app, [], source="ibm", target="aws")
    assert main(["replay", "/nonexistent.json", "--from", "aws", "--as", "gcp", TARGET]) == 2


def test_the_library_replays_without_importing_the_command_line():
    """polyfn.migrate is a library: replaying (every target, the runners of polyfn.local.
    invoke) loads nothing of polyfn.cli."""
    import subprocess
    import sys

    code = f"""
import json, sys
from pathlib import Path
from polyfn.migrate import replay
from tests.migrate.migrate_apps import replay_app
sample = json.loads(Path({str(EVENTS / "aws" / "sqs__powertools__sqsEvent.json")!r}).read_text())
for target in ("aws", "azure", "gcp", "none"):
    (result,) = replay(replay_app, [sample], source="aws", target=target)
    assert result.ok, (target, result.errors)
    assert result.via, target
cli = sorted(m for m in sys.modules if m == "polyfn.cli" or m.startswith("polyfn.cli."))
assert not cli, cli
print("ok")
"""
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"
