"""``polyfn check``: every trigger, and what each provider makes of it (or why not)."""

from __future__ import annotations

import sys
import textwrap

import pytest
from cli_helpers import ORDERS, ORDERS_DIR, run, run_json


@pytest.fixture
def odd_app(tmp_path):
    """An app with triggers some providers cannot run: ``rate(7 minutes)`` (no cron fires
    every 7 minutes: Azure and Google schedule by cron), a FIFO batch larger than SQS FIFO
    takes, and an object-restored event Cloud Storage does not have."""
    path = tmp_path / "odd_app.py"
    path.write_text(
        textwrap.dedent(
            """
            from polyfn import App

            app = App("odd")

            @app.schedule("rate(7 minutes)")
            def every7(event):
                return {"at": event.scheduled_time.isoformat()}

            @app.queue("jobs", fifo=True, batch_size=50)
            def job(msg):
                pass

            @app.storage("archive", events=["restored"])
            def restored(event):
                pass

            @app.get("/ping")
            def ping(req):
                return {"ok": True}
            """
        )
    )
    yield str(path)
    sys.modules.pop("odd_app", None)
    if str(tmp_path) in sys.path:
        sys.path.remove(str(tmp_path))


@pytest.mark.parametrize("target", [ORDERS, ORDERS_DIR])
def test_table_of_the_sample(capsys, target):
    code, out, _ = run(capsys, "check", target)
    assert code == 0
    for function in ("create_order", "get_order", "process_order", "notify", "nightly_report"):
        assert function in out
    assert "SQS queue orders" in out
    assert 'Timer NCRONTAB "0 0 2 * * *"' in out
    assert "Queue Storage queueTrigger orders" in out
    assert "Pub/Sub messagePublished on topic orders" in out
    assert "every trigger runs" in out


def test_json_report_of_the_sample(capsys):
    report = run_json(capsys, "check", ORDERS, "--json")
    assert report["supported"] == {"aws": True, "azure": True, "gcp": True}
    by_name = {t["function"]: t for t in report["triggers"]}
    assert len(by_name) == 6
    nightly = by_name["nightly_report"]["providers"]
    assert nightly["aws"]["as"] == "EventBridge rule cron(0 2 * * ? *)"
    assert nightly["azure"]["as"] == 'Timer NCRONTAB "0 0 2 * * *"'
    assert nightly["gcp"]["as"].startswith('Cloud Scheduler "0 2 * * *"')
    assert by_name["notify"]["providers"]["azure"]["as"].startswith(
        "Service Bus topic order-events"
    )


@pytest.mark.parametrize("provider", ["aws", "azure", "gcp"])
def test_for_a_provider_that_runs_everything(capsys, provider):
    code, _, _ = run(capsys, "check", ORDERS, "--for", provider)
    assert code == 0


def test_for_azure_fails_on_a_schedule_azure_cannot_express(capsys, odd_app):
    code, out, _ = run(capsys, "check", odd_app, "--for", "azure")
    assert code == 1
    assert "rate(7 minutes)" in out
    assert "no cron expression fires exactly this often" in out
    report = run_json(capsys, "check", odd_app, "--for", "azure", "--json", status=1)
    cells = {t["function"]: t["providers"]["azure"] for t in report["triggers"]}
    assert not cells["every7"]["supported"]
    assert cells["job"] == {"supported": True, "as": "Service Bus queue jobs, sessions"}
    assert cells["ping"]["supported"]
    assert report["supported"] == {"azure": False}


def test_each_provider_says_why(capsys, odd_app):
    report = run_json(capsys, "check", odd_app, "--json")
    cells = {t["function"]: t["providers"] for t in report["triggers"]}
    assert cells["every7"]["aws"] == {"supported": True, "as": "EventBridge rule rate(7 minutes)"}
    assert not cells["every7"]["gcp"]["supported"]
    assert "at most 10" in cells["job"]["aws"]["reason"]
    assert "no 'restored' event" in cells["restored"]["gcp"]["reason"]
    assert cells["restored"]["aws"]["as"] == "S3 bucket archive: s3:ObjectRestore:Completed"
    assert report["supported"] == {"aws": False, "azure": False, "gcp": False}
    code, _, _ = run(capsys, "check", odd_app)
    assert code == 0  # without --for, a report, not a verdict


def test_aws_schedules_in_eventbridge_syntax():
    from polyfn.cli.support.aws import aws_schedule

    assert aws_schedule("@weekly") == "cron(0 0 ? * 1 *)"
    assert aws_schedule("30 9 * * 1-5") == "cron(30 9 ? * 2-6 *)"
    assert aws_schedule("0 0 1 * *") == "cron(0 0 1 * ? *)"
    assert aws_schedule("rate(1 hour)") == "rate(1 hour)"


def test_unknown_target(capsys):
    code, _, err = run(capsys, "check", "no/such/folder")
    assert code == 2
    assert "no such file or folder" in err


@pytest.fixture
def caps_app(tmp_path):
    """Functions declaring what they rely on (``@app.requires``): an ordered, partially
    failing FIFO queue of up to 300 KB messages (Azure: Service Bus holds 256 KB on the
    Standard tier), an Event Hubs-style stream needing partial batch failures (Azure's Event
    Hubs trigger has none) and a queue whose declared outputs must not be sent twice
    (only Azure output bindings promise it)."""
    path = tmp_path / "caps_app.py"
    path.write_text(
        textwrap.dedent(
            """
            from polyfn import App

            app = App("caps")

            @app.queue("payments", fifo=True)
            @app.requires(ordered=True, partial_batch=True, max_payload=300_000)
            def pay(msg):
                pass

            @app.requires(partial_batch=True)
            @app.stream("clicks")
            def clicks(msg):
                pass

            @app.outputs(queues=["receipts"])
            @app.requires(exactly_once_output=True)
            @app.queue("orders")
            def order(msg, ctx):
                pass
            """
        )
    )
    yield str(path)
    sys.modules.pop("caps_app", None)
    if str(tmp_path) in sys.path:
        sys.path.remove(str(tmp_path))


def test_for_fails_on_a_capability_the_provider_cannot_honour(capsys, caps_app):
    code, out, _ = run(capsys, "check", caps_app, "--for", "azure")
    assert code == 1
    flat = " ".join(out.split())  # rich wraps long lines
    assert (
        "✗ Azure: function 'clicks' (stream clicks (batch 100, from latest)): partial_batch" in flat
    )
    assert "on Azure (Event Hubs): the batch has no partial failure" in flat
    assert "instead: make the handler idempotent" in flat
    assert "function 'pay' (queue payments (FIFO, batch 10)): max_payload=300000" in flat
    assert "2 of 5 declared capabilities cannot be honoured" in flat
    assert "every trigger runs" not in flat
    code, out, _ = run(capsys, "check", caps_app, "--for", "aws")
    assert code == 1
    flat = " ".join(out.split())
    assert "function 'order' (queue orders (batch 10)): exactly_once_output on AWS" in flat
    assert "'pay'" not in flat.split("└")[-1]  # AWS honours everything pay asks


def test_capabilities_in_the_json_report(capsys, caps_app):
    report = run_json(capsys, "check", caps_app, "--json")
    assert report["supported"] == {"aws": False, "azure": False, "gcp": False}
    assert all(
        t["providers"][p]["supported"] for t in report["triggers"] for p in report["supported"]
    )
    unmet = {
        p: sorted((v["function"], v["capability"]) for v in vs if not v["honoured"])
        for p, vs in report["capabilities"].items()
    }
    assert unmet == {
        "aws": [("order", "exactly_once_output")],
        "azure": [("clicks", "partial_batch"), ("pay", "max_payload")],
        "gcp": [("order", "exactly_once_output")],
    }
    azure = {(v["function"], v["capability"]): v for v in report["capabilities"]["azure"]}
    assert azure[("order", "exactly_once_output")]["honoured"]
    assert azure[("pay", "ordered")]["service"] == "Service Bus queue with sessions"
    assert azure[("pay", "max_payload")]["source"].startswith("https://learn.microsoft.com/")
    assert azure[("pay", "max_payload")]["trigger"] == "queue payments (FIFO, batch 10)"
    code, _, _ = run(capsys, "check", caps_app)
    assert code == 0  # without --for, a report, not a verdict


def test_the_sample_declares_nothing_and_reports_no_capabilities(capsys):
    report = run_json(capsys, "check", ORDERS, "--json", "--for", "gcp")
    assert report["capabilities"] == {"gcp": []}
    assert report["supported"] == {"gcp": True}
