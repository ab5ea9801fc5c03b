"""End-to-end fixtures: moto's server for AWS, a Lambda Runtime API per function, and the
official runtime interface client (awslambdaric) running polyfn's handler against both.

Everything listens on 127.0.0.1. Runtimes are started on first use and kept for the
session (a cold start per test would dominate the run time); moto is reset before each
test, so no state leaks between tests.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from .lambda_runtime_api import InvocationResult, RuntimeApi

REPO = Path(__file__).resolve().parents[2]
E2E = Path(__file__).resolve().parent
REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's account
HANDLER = "polyfn.adapters.aws.lambda_handler"
ORDERS_APP = "samples.orders.app:app"
PROBE_APP = "probe_app:app"  # tests/e2e is on the runtime's PYTHONPATH

ORDERS_QUEUE = "orders"
EVENTS_TOPIC = "order-events"
RECEIPTS_BUCKET = "receipts"
# Subscribed to the topic so that the tests can see what was published.
OBSERVER_QUEUE = "order-events-observer"

INVOKE_TIMEOUT = 20.0  # seconds: a hung runtime fails the test instead of hanging it
STOP_TIMEOUT = 5.0
_FAKE_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


# -- moto -----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    # werkzeug logs every request moto serves; failures are easier to read without them.
    access_log = logging.getLogger("werkzeug")
    level = access_log.level
    access_log.setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        access_log.setLevel(level)


@dataclass
class MotoAws:
    """boto3 clients on moto's server and the resources the sample app uses."""

    endpoint: str
    session: Any
    orders_queue_url: str = ""
    observer_queue_url: str = ""
    topic_arn: str = ""

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.endpoint, region_name=REGION)

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def create_resources(self) -> None:
        sqs, sns, s3 = self.client("sqs"), self.client("sns"), self.client("s3")
        self.orders_queue_url = sqs.create_queue(QueueName=ORDERS_QUEUE)["QueueUrl"]
        self.observer_queue_url = sqs.create_queue(QueueName=OBSERVER_QUEUE)["QueueUrl"]
        self.topic_arn = sns.create_topic(Name=EVENTS_TOPIC)["TopicArn"]
        observer_arn = sqs.get_queue_attributes(
            QueueUrl=self.observer_queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=self.topic_arn, Protocol="sqs", Endpoint=observer_arn)
        s3.create_bucket(Bucket=RECEIPTS_BUCKET)

    def receive(self, queue_url: str, count: int, wait_seconds: int = 5) -> list[dict[str, Any]]:
        """Up to ``count`` messages, long-polling (no sleeps) until they are there."""
        sqs = self.client("sqs")
        out: list[dict[str, Any]] = []
        while len(out) < count:
            got = sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=min(10, count - len(out)),
                WaitTimeSeconds=wait_seconds,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not got:
                break
            out.extend(got)
        return out

    def object_keys(self, bucket: str, prefix: str = "") -> list[str]:
        resp = self.client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix)
        return sorted(o["Key"] for o in resp.get("Contents", []))


@pytest.fixture(scope="session")
def _moto_aws(moto_endpoint: str) -> MotoAws:
    return MotoAws(moto_endpoint, boto3.session.Session(region_name=REGION, **_FAKE_CREDENTIALS))


@pytest.fixture
def aws(_moto_aws: MotoAws) -> MotoAws:
    """moto, emptied, with the sample app's queue, topic and bucket (and an observer
    queue subscribed to the topic)."""
    _moto_aws.reset()
    _moto_aws.create_resources()
    return _moto_aws


# -- runtimes ---------------------------------------------------------------------------------
class LambdaRuntime:
    """One function: its Runtime API and an awslambdaric process serving it."""

    def __init__(
        self,
        app: str,
        function: str,
        env: dict[str, str],
        log_path: Path,
        handler: str = HANDLER,
    ) -> None:
        self.app = app
        self.handler = handler
        self.function = function
        self.name = f"{app.split(':')[0].rsplit('.', 1)[-1]}-{function}".replace("_", "-")
        self.api = RuntimeApi(self.name, region=REGION, account=ACCOUNT).start()
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "awslambdaric", handler],
            env={**env, **self._lambda_env()},
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        # Waiting (not polling) for the process: if it dies, invocations fail at once.
        threading.Thread(target=self._watch, name=f"watch-{self.name}", daemon=True).start()

    def _lambda_env(self) -> dict[str, str]:
        # What Lambda sets for a Python function (the part awslambdaric and boto3 read).
        return {
            "AWS_LAMBDA_RUNTIME_API": self.api.address,
            "_HANDLER": self.handler,
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
            "AWS_LAMBDA_FUNCTION_NAME": self.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{self.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": "2024/01/01/[$LATEST]e2e",
            "AWS_LAMBDA_LOG_LEVEL": "INFO",
            "LAMBDA_TASK_ROOT": str(REPO),
            "POLYFN_APP": self.app,
            "POLYFN_FUNCTION": self.function,
        }

    def _watch(self) -> None:
        code = self.process.wait()
        self.api.abort(f"the runtime process exited with code {code}; log:\n{self.log_tail()}")

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        # The process writes straight to the file's descriptor: nothing to flush here.
        return self.log_path.read_text("utf-8", "replace")

    def log_tail(self, chars: int = 4000) -> str:
        return self.log()[-chars:]

    def invoke(self, event: Any, timeout: float = INVOKE_TIMEOUT, **kw: Any) -> InvocationResult:
        try:
            return self.api.invoke(event, timeout, **kw)
        except TimeoutError as e:
            self.stop()  # the next test gets a fresh runtime
            raise TimeoutError(f"{e}; runtime log:\n{self.log_tail()}") from None

    def stop(self) -> None:
        if self.alive:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT)
        self.api.close()
        self._log.close()


def base_env(moto_endpoint: str) -> dict[str, str]:
    """A clean environment: nothing of the developer's AWS setup (profiles, real keys,
    proxies) reaches the runtime; boto3 talks to moto through AWS_ENDPOINT_URL."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        "PYTHONPATH": os.pathsep.join([str(REPO), str(E2E)]),
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": _FAKE_CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": _FAKE_CREDENTIALS["aws_secret_access_key"],
        "AWS_SESSION_TOKEN": "testing",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL": moto_endpoint,
        "NO_PROXY": "127.0.0.1,localhost",
    }


@pytest.fixture(scope="session")
def lambda_function(
    moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., LambdaRuntime]]:
    """``lambda_function("create_order")``: the running runtime of one function of the
    sample app (``app=`` names another app), started on first use."""
    runtimes: dict[tuple[str, str], LambdaRuntime] = {}
    logs = tmp_path_factory.mktemp("lambda-logs")
    env = base_env(moto_endpoint)

    def get(function: str, app: str = ORDERS_APP) -> LambdaRuntime:
        runtime = runtimes.get((app, function))
        if runtime is None or not runtime.alive:
            if runtime is not None:
                runtime.stop()
            runtime = LambdaRuntime(app, function, env, logs / f"{app}-{function}.log")
            runtimes[(app, function)] = runtime
        return runtime

    try:
        yield get
    finally:
        for runtime in runtimes.values():
            runtime.stop()
