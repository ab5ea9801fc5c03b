"""Legacy native handlers (as users wrote them for one cloud) wrapped with polyfn.migrate,
and the official sample events they are fed (tests/events/*/PROVENANCE.md)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import azure.functions as func
import functions_framework

from polyfn import App
from polyfn.migrate import from_azure, from_functions_framework, from_lambda

EVENTS = Path(__file__).resolve().parents[1] / "events"
SEEN: list[Any] = []  # what each legacy handler received: (name, native event, context)
FAIL_WHEN: set[str] = set()  # bodies (substrings) the legacy handlers fail on


def aws_sample(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / "aws" / name).read_text(encoding="utf-8"))


def gcp_sample(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / "gcp" / name).read_text(encoding="utf-8"))


def azure_payloads() -> Any:
    """tests/contract/azure/azure_host_payloads.py: the host payload loader (not a package)."""
    path = Path(__file__).resolve().parents[1] / "contract" / "azure" / "azure_host_payloads.py"
    spec = importlib.util.spec_from_file_location("azure_host_payloads", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fails(body: Any) -> bool:
    text = body.decode() if isinstance(body, bytes) else str(body)
    return any(marker in text for marker in FAIL_WHEN)


# -- AWS Lambda handlers ----------------------------------------------------------------
def process_orders(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """An SQS handler with ReportBatchItemFailures."""
    SEEN.append(("process_orders", event, context))
    failures = [{"itemIdentifier": r["messageId"]} for r in event["Records"] if _fails(r["body"])]
    return {"batchItemFailures": failures}


def api_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) handler."""
    SEEN.append(("api_handler", event, context))
    return {
        "statusCode": 201,
        "headers": {"content-type": "application/json", "x-order": "o-1"},
        "cookies": ["session=abc; Path=/; HttpOnly", "theme=dark"],
        "body": json.dumps({"path": event["rawPath"], "body": event.get("body")}),
    }


# -- Azure functions ----------------------------------------------------------------------
def azure_queue(msg: func.QueueMessage) -> None:
    """A v1-style Queue Storage function."""
    SEEN.append(("azure_queue", msg, None))
    if _fails(msg.get_body()):
        raise ValueError(f"cannot process {msg.id}")


v2 = func.FunctionApp()


@v2.queue_trigger(arg_name="msg", queue_name="my-queue", connection="AzureWebJobsStorage")
def azure_queue_v2(msg: func.QueueMessage, context: func.Context) -> None:
    """A v2-model function: the decorator returns a FunctionBuilder."""
    SEEN.append(("azure_queue_v2", msg, context))


# -- functions-framework functions ------------------------------------------------------------
@functions_framework.http
def hello(request: Any) -> Any:
    SEEN.append(
        (
            "hello",
            {
                "method": request.method,
                "path": request.path,
                "args": request.args.to_dict(flat=False),
                "headers": dict(request.headers),
                "cookies": dict(request.cookies),
                "data": request.get_data(as_text=True),
            },
            None,
        )
    )
    if request.args.get("missing"):
        from flask import abort

        abort(404)
    return (
        {"path": request.path, "parameter1": request.args.getlist("parameter1")},
        202,
        {"X-Hello": "1"},
    )


@functions_framework.cloud_event
def on_message(cloud_event: Any) -> None:
    SEEN.append(("on_message", cloud_event, None))
    import base64

    if _fails(base64.b64decode(cloud_event.data["message"].get("data") or "")):
        raise RuntimeError("nack")


# -- the apps ---------------------------------------------------------------------------------
lambda_app = App("lambda-app")  # Lambda handlers everywhere
lambda_app.queue("orders", batch=True)(from_lambda(process_orders))
lambda_app.queue("testqueue", name="process_sb_orders")(from_lambda(process_orders))
lambda_app.post("/my/path")(from_lambda(api_handler))

azure_app = App("azure-app")  # Azure functions everywhere
azure_app.queue("my-queue")(from_azure(azure_queue))
azure_app.queue("my-queue", name="v2_function")(from_azure(azure_queue_v2))

gcp_app = App("gcp-app")  # functions-framework functions everywhere
gcp_app.post("/my/path")(from_functions_framework(hello))
gcp_app.queue("gcf-test")(from_functions_framework(on_message))

# What `polyfn replay` runs the official AWS samples on: SQS (queue my-queue), SNS (topic
# sns-lambda) and S3 (bucket example-bucket) samples, each through a Lambda handler.
replay_app = App("replay-app")
replay_app.queue("my-queue", batch=True)(from_lambda(process_orders))


@replay_app.topic("sns-lambda")
def on_notification(msg: Any, ctx: Any) -> None:
    SEEN.append(("on_notification", msg, ctx))


@replay_app.storage("example-bucket")
def on_object(event: Any, ctx: Any) -> dict[str, Any]:
    SEEN.append(("on_object", event, ctx))
    return {"bucket": event.bucket, "key": event.key}


replay_app.queue("gcf-test")(from_functions_framework(on_message))
replay_app.queue("orders", batch=True, name="process_azure_orders")(from_lambda(process_orders))
