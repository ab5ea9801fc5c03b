"""The README's first command: the orders sample through each adapter."""

from __future__ import annotations

import json

import pytest

from samples.orders import demo


def _steps(out: str) -> dict[str, str]:
    steps: dict[str, str] = {}
    for block in out.split("\n== ")[1:]:
        title, _, body = block.partition("\n")
        steps[title] = body
    return steps


def test_demo_on_aws(capsys: pytest.CaptureFixture[str]) -> None:
    assert demo.main([]) == 0
    steps = _steps(capsys.readouterr().out)
    batch = steps["queue batch of 3  [aws:queue]"]
    assert json.loads(batch[: batch.rindex("}") + 1]) == {
        "batchItemFailures": [{"itemIdentifier": "msg-bad"}]
    }
    assert '"statusCode": 400' in steps["POST /orders o-3  [aws:apigateway-v2]"]
    assert '"report_for": "2026-11-27"' in steps["nightly schedule  [aws:schedule]"]


def test_demo_on_azure(capsys: pytest.CaptureFixture[str]) -> None:
    assert demo.main(["azure"]) == 0
    steps = _steps(capsys.readouterr().out)
    assert '"status": 400' in steps["POST /orders o-3  [azure:httpTrigger]"]
    assert "no items" in steps["queue message msg-bad  [Azure Functions]"]
    assert steps["queue message msg-0  [azure:queueTrigger]"].startswith("(no result)")
    assert "object created receipts/o-1.json  [azure:blobTrigger]" in steps
