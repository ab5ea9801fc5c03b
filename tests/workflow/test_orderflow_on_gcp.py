"""The order workflow sample compiles for Google Cloud Workflows and the result is valid
against Google's published Workflows schema (tests/workflow/data/PROVENANCE.md)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from polyfn.workflow import gcp_workflows
from samples.orderflow.workflow import order_workflow

SCHEMA = Path(__file__).parent / "data" / "gcp_workflows.schema.json"


def test_order_workflow_compiles_to_valid_gcp_workflows_yaml():
    doc = gcp_workflows.compile(order_workflow().to_asl(), project="shop")
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    steps = [next(iter(step)) for step in doc["main"]["steps"]]
    # Every state of the sample is a step, in the definition's order of appearance.
    for state in ("ValidateOrder", "CheckInventory", "ChargePayment", "NotifyCustomer"):
        assert state in steps
    text = gcp_workflows.to_yaml(doc)
    assert "http.post" in text and "retry" in text and "except" in text
