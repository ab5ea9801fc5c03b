"""``polyfn dev --emulators``: moto, Azurite and the Pub/Sub emulator start with the
variables the SDKs read set before the app is imported, so a handler calling boto3,
azure-storage-queue or google-cloud-pubsub directly reaches them; what it sent is then
read back from the emulators by this test, through ``GET /_polyfn/emulators``.

Azurite comes from the repository's node_modules (``npm ci``, as CI runs it): when it is
missing the test fails rather than skips.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .dev_process import SafeDev
from .test_dev_server import REPO, Dev

pytestmark = pytest.mark.e2e

AZURITE = REPO / "node_modules" / ".bin" / "azurite"

APP = '''
"""Handlers that step outside polyfn: each calls a cloud SDK with no configuration but
the environment."""

import os

from polyfn import App

app = App("sdk-calls")
WATCHED = (
    "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_REGION", "PUBSUB_EMULATOR_HOST",
    "GOOGLE_CLOUD_PROJECT", "AzureWebJobsStorage",
)
AT_IMPORT = {name: os.environ.get(name) for name in WATCHED}


@app.get("/env")
def env(req, ctx):
    return {"at_import": AT_IMPORT}


@app.post("/aws")
def aws(req, ctx):
    import boto3

    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="direct")["QueueUrl"]
    sent = sqs.send_message(QueueUrl=url, MessageBody=req.body.decode())
    return {"queue_url": url, "message_id": sent["MessageId"]}


@app.post("/gcp")
def gcp(req, ctx):
    from google.cloud import pubsub_v1

    project = os.environ["GOOGLE_CLOUD_PROJECT"]
    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    topic = publisher.topic_path(project, "direct")
    subscription = subscriber.subscription_path(project, "direct-sub")
    publisher.create_topic(name=topic)
    subscriber.create_subscription(name=subscription, topic=topic)
    message_id = publisher.publish(topic, req.body).result(10)
    return {"subscription": subscription, "message_id": message_id}


@app.post("/azure")
def azure(req, ctx):
    from azure.storage.queue import QueueClient

    queue = QueueClient.from_connection_string(os.environ["AzureWebJobsStorage"], "direct")
    queue.create_queue()
    sent = queue.send_message(req.body.decode())
    return {"message_id": sent.id}
'''


@pytest.fixture
def sdk_app(tmp_path: Path) -> Path:
    folder = tmp_path / "sdkapp"
    folder.mkdir()
    (folder / "app.py").write_text(textwrap.dedent(APP))
    return folder


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Any]:
    started: list[Dev] = []

    def run(*args: str) -> Dev:
        state = tmp_path / f"state{len(started)}"
        # cwd: the repository, whose ./node_modules/.bin/azurite polyfn dev looks for.
        dev = SafeDev(*args, "--no-reload", "--state-dir", str(state), cwd=REPO)
        started.append(dev)
        return dev

    yield run
    for dev in started:
        dev.stop()
    for dev in started:
        assert dev.proc.returncode == 0, dev.output


def test_handlers_reach_moto_azurite_and_pubsub(start, sdk_app, monkeypatch):
    if not AZURITE.exists():
        pytest.fail(
            f"Azurite is not installed at {AZURITE.relative_to(REPO)}: run `npm ci "
            "--no-audit --no-fund` at the repository root (.ci/run does)",
            pytrace=False,
        )
    dev = start(str(sdk_app), "--emulators", "aws,azure,gcp")
    status, emulators = dev.call("GET", "/_polyfn/emulators")
    assert status == 200 and sorted(emulators) == ["aws", "azure", "gcp"], emulators
    dev.wait_for(r"emulators")  # the table people read
    aws, azure, gcp = emulators["aws"], emulators["azure"], emulators["gcp"]
    assert aws["emulator"] == "moto" and azure["emulator"] == "Azurite"
    for where in [*aws["endpoints"].values(), *azure["endpoints"].values()]:
        assert where.startswith("http://127.0.0.1:"), where
    assert gcp["endpoints"]["pubsub"].startswith("127.0.0.1:")

    # The variables were set before the app was imported.
    status, env = dev.call("GET", "/env")
    assert status == 200
    at_import = env["at_import"]
    assert at_import["AWS_ENDPOINT_URL"] == aws["endpoints"]["all services"]
    assert at_import["AWS_ACCESS_KEY_ID"] == "testing"
    assert at_import["AWS_REGION"] == aws["env"]["AWS_REGION"]
    assert at_import["PUBSUB_EMULATOR_HOST"] == gcp["endpoints"]["pubsub"]
    assert at_import["GOOGLE_CLOUD_PROJECT"] == gcp["env"]["GOOGLE_CLOUD_PROJECT"]
    assert at_import["AzureWebJobsStorage"] == azure["env"]["AzureWebJobsStorage"]
    assert "devstoreaccount1" in at_import["AzureWebJobsStorage"]

    # Each handler's SDK call lands in its emulator; read it back from outside.
    status, sent = dev.call("POST", "/aws", "to moto", {"content-type": "text/plain"})
    assert status == 200, (sent, dev.output)
    import boto3

    sqs = boto3.client(
        "sqs",
        endpoint_url=aws["endpoints"]["all services"],
        region_name=aws["env"]["AWS_REGION"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    got = sqs.receive_message(QueueUrl=sent["queue_url"], WaitTimeSeconds=5)["Messages"]
    assert [(m["MessageId"], m["Body"]) for m in got] == [(sent["message_id"], '"to moto"')]

    status, sent = dev.call("POST", "/gcp", "to pubsub", {"content-type": "text/plain"})
    assert status == 200, (sent, dev.output)
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", gcp["endpoints"]["pubsub"])
    from google.cloud import pubsub_v1

    with pubsub_v1.SubscriberClient() as subscriber:
        pulled = subscriber.pull(
            subscription=sent["subscription"], max_messages=10, timeout=10
        ).received_messages
    assert [(m.message.message_id, m.message.data) for m in pulled] == [
        (sent["message_id"], b'"to pubsub"')
    ]

    status, sent = dev.call("POST", "/azure", "to azurite", {"content-type": "text/plain"})
    assert status == 200, (sent, dev.output)
    from azure.storage.queue import QueueClient

    queue = QueueClient.from_connection_string(azure["env"]["AzureWebJobsStorage"], "direct")
    got = list(queue.receive_messages())
    assert [(m.id, m.content) for m in got] == [(sent["message_id"], '"to azurite"')]


def test_gcp_emulator_by_default_under_as_gcp_and_none_by_default_otherwise(start, sdk_app):
    dev = start(str(sdk_app), "--as", "gcp")
    status, emulators = dev.call("GET", "/_polyfn/emulators")
    assert (status, sorted(emulators)) == (200, ["gcp"])
    status, env = dev.call("GET", "/env")
    assert env["at_import"]["PUBSUB_EMULATOR_HOST"] == emulators["gcp"]["endpoints"]["pubsub"]
    assert env["at_import"]["AWS_ENDPOINT_URL"] == os.environ.get("AWS_ENDPOINT_URL")

    dev = start(str(sdk_app), "--as", "gcp", "--emulators", "none")
    assert dev.call("GET", "/_polyfn/emulators") == (200, {})
    status, env = dev.call("GET", "/env")
    assert env["at_import"]["PUBSUB_EMULATOR_HOST"] == os.environ.get("PUBSUB_EMULATOR_HOST")
