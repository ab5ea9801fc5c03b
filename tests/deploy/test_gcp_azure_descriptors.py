"""Google Cloud: the Terraform main.tf (parsed with python-hcl2, its resources and
attributes checked against the Terraform google provider's documented schema) and the
stores' settings in the gcloud script; Azure: the stores' app setting; drift of main.tf.

Terraform google provider docs (the attributes and blocks checked below):
- https://registry.terraform.io/providers/hashicorp/google/latest/docs/resources/cloudfunctions2_function
- https://registry.terraform.io/providers/hashicorp/google/latest/docs/resources/pubsub_topic
- https://registry.terraform.io/providers/hashicorp/google/latest/docs/resources/storage_bucket
- https://registry.terraform.io/providers/hashicorp/google/latest/docs/resources/storage_bucket_object
- https://registry.terraform.io/providers/hashicorp/google/latest/docs/resources/cloud_scheduler_job
- https://registry.terraform.io/providers/hashicorp/google/latest/docs/resources/firestore_database
- https://registry.terraform.io/providers/hashicorp/google/latest/docs/resources/cloud_run_service_iam
Event types and filters (Eventarc, Cloud Functions 2nd gen):
- https://cloud.google.com/functions/docs/calling/storage
- https://cloud.google.com/firestore/docs/extend-with-functions-2nd-gen
"""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest

from polyfn.deploy import check_drift, gcloud_commands, terraform_main
from samples.orders.app import app as orders
from tests.deploy.full_app import app as full

ORDERS = "samples.orders.app:app"

# The attributes / nested blocks polyfn writes, each allowed by the provider's schema.
SCHEMA: dict[str, set[str]] = {
    "google_cloudfunctions2_function": {
        "name",
        "location",
        "description",
        "build_config",
        "service_config",
        "event_trigger",
        "labels",
        "project",
    },
    "google_pubsub_topic": {"name", "labels", "message_retention_duration", "project"},
    "google_storage_bucket": {"name", "location", "uniform_bucket_level_access", "project"},
    "google_storage_bucket_object": {"name", "bucket", "source", "content_type"},
    "google_cloud_scheduler_job": {
        "name",
        "region",
        "schedule",
        "time_zone",
        "pubsub_target",
        "http_target",
        "description",
    },
    "google_firestore_database": {"name", "location_id", "type", "project"},
    "google_cloud_run_service_iam_member": {"location", "service", "role", "member"},
}
BUILD_CONFIG = {"runtime", "entry_point", "source", "environment_variables"}
EVENT_TRIGGER = {
    "trigger_region",
    "event_type",
    "event_filters",
    "pubsub_topic",
    "service_account_email",
    "retry_policy",
}
EVENT_FILTER = {"attribute", "value", "operator"}
RETRY_POLICIES = {"RETRY_POLICY_UNSPECIFIED", "RETRY_POLICY_DO_NOT_RETRY", "RETRY_POLICY_RETRY"}


def _parse(text: str) -> dict:
    hcl2 = pytest.importorskip("hcl2")
    options = hcl2.SerializationOptions(
        strip_string_quotes=True, explicit_blocks=False, with_comments=False
    )
    return hcl2.loads(text, serialization_options=options)


def _resources(doc: dict) -> dict[tuple[str, str], dict]:
    return {
        (kind, name): body
        for entry in doc["resource"]
        for kind, named in entry.items()
        for name, body in named.items()
    }


@pytest.mark.parametrize("app", [full, orders], ids=["full", "orders"])
def test_terraform_parses_and_fits_the_provider_schema(app):
    from polyfn.adapters.gcp import plan

    doc = _parse(terraform_main(app))
    assert doc["terraform"][0]["required_providers"][0]["google"]["source"] == ("hashicorp/google")
    assert {next(iter(v)) for v in doc["variable"]} == {"project", "region", "source_archive"}
    resources = _resources(doc)
    for (kind, name), body in resources.items():
        assert kind in SCHEMA, kind
        assert set(body) <= SCHEMA[kind], (kind, name, set(body) - SCHEMA[kind])
    # Every reference names a declared resource or variable.
    text = json.dumps(doc)
    for kind, name in re.findall(r"\$\{(?:[a-z0-9]+\()?(google_[a-z0-9_]+)\.([\w-]+)\.", text):
        assert (kind, name) in resources, (kind, name)
    functions = {
        name: body
        for (kind, name), body in resources.items()
        if kind == "google_cloudfunctions2_function"
    }
    targets = {spec.name for spec in plan(app)}
    assert targets <= {f["name"] for f in functions.values()}
    for body in functions.values():
        (build,) = body["build_config"]
        assert set(build) <= BUILD_CONFIG
        assert build["runtime"] == "python311" and build["entry_point"] in targets
        (storage,) = build["source"][0]["storage_source"]
        assert set(storage) == {"bucket", "object"}
        for trigger in body.get("event_trigger", []):
            assert set(trigger) <= EVENT_TRIGGER
            assert trigger["retry_policy"] in RETRY_POLICIES
            for f in trigger.get("event_filters", []):
                assert set(f) <= EVENT_FILTER
            if trigger["event_type"].startswith("google.cloud.pubsub."):
                assert trigger["pubsub_topic"].startswith("${google_pubsub_topic.")


def test_terraform_full_app_triggers():
    r = _resources(_parse(terraform_main(full)))
    fn = {n: b for (k, n), b in r.items() if k == "google_cloudfunctions2_function"}
    (work,) = fn["work"]["event_trigger"]
    assert work["event_type"] == "google.cloud.pubsub.topic.v1.messagePublished"
    assert work["pubsub_topic"] == "${google_pubsub_topic.jobs.id}"
    assert ("google_pubsub_topic", "jobs-dead-letter") in r
    # one function per Cloud Storage event type, both on the declared bucket
    uploads = [fn["on_upload"], fn["on_upload-deleted"]]
    types = [u["event_trigger"][0]["event_type"] for u in uploads]
    assert types == [
        "google.cloud.storage.object.v1.finalized",
        "google.cloud.storage.object.v1.deleted",
    ]
    for u in uploads:
        assert u["build_config"][0]["entry_point"] == "on_upload"
        assert u["event_trigger"][0]["event_filters"] == [
            {"attribute": "bucket", "value": "${google_storage_bucket.uploads.name}"}
        ]
    (customer,) = fn["on_customer"]["event_trigger"]
    assert customer["event_type"] == "google.cloud.firestore.document.v1.written"
    assert customer["event_filters"] == [
        {"attribute": "database", "value": "(default)"},
        {"attribute": "document", "value": "customers/{docId}", "operator": "match-path-pattern"},
    ]
    (partner,) = fn["on_partner_event"]["event_trigger"]
    assert partner["event_type"] == "PartnerEvent"
    job = r[("google_cloud_scheduler_job", "weekday_morning")]
    assert job["schedule"] == "0 9 * * 1-5" and job["time_zone"] == "Europe/Paris"
    assert job["pubsub_target"][0]["topic_name"] == "${google_pubsub_topic.weekday_morning.id}"
    public = r[("google_cloud_run_service_iam_member", "files_public")]
    assert public["member"] == "allUsers" and public["role"] == "roles/run.invoker"
    # stores: the database, and the backend in every function's environment
    db = r[("google_firestore_database", "stores")]
    assert db["name"] == "(default)" and db["type"] == "FIRESTORE_NATIVE"
    for body in fn.values():
        env = body["service_config"][0]["environment_variables"]
        assert env == {"POLYFN_STORE_BACKEND": "firestore"}
    # samples/orders has no stores: no database, no variable
    plain = _resources(_parse(terraform_main(orders)))
    assert not [k for k in plain if k[0] == "google_firestore_database"]
    assert "POLYFN_STORE_BACKEND" not in terraform_main(orders)


def test_gcloud_stores():
    commands = gcloud_commands(full, project="p", region="europe-west1")
    assert commands[0].endswith(
        "gcloud firestore databases create --location=europe-west1 --project=p || true"
    )
    deploys = [c for c in commands if c.startswith("gcloud functions deploy")]
    assert deploys and all("--set-env-vars=POLYFN_STORE_BACKEND=firestore" in c for c in deploys)
    plain = "\n".join(gcloud_commands(orders, project="p", region="r"))
    assert "firestore databases create" not in plain and "POLYFN_STORE_BACKEND" not in plain


def test_azure_stores_setting(monkeypatch):
    pytest.importorskip("azure.functions")
    from polyfn.deploy import azure_files

    settings = json.loads(azure_files(orders, app_module=ORDERS)["local.settings.json"])
    assert "POLYFN_STORE_BACKEND" not in settings["Values"]
    monkeypatch.setattr(
        orders, "stores", {"seen": SimpleNamespace(name="seen", ttl=None)}, raising=False
    )
    settings = json.loads(azure_files(orders, app_module=ORDERS)["local.settings.json"])
    assert settings["Values"]["POLYFN_STORE_BACKEND"] == "azure-table"


def test_drift_terraform(tmp_path):
    from polyfn.cli import main

    path = tmp_path / "main.tf"
    argv = ["deploy-config", "gcp", ORDERS, "--format", "terraform", "--out", str(path)]
    assert main(argv) == 0
    assert check_drift(orders, path, "gcp", "terraform") == []
    # terraform fmt aligns the = signs: not drift
    path.write_text(path.read_text().replace("  name = ", "  name     = "))
    assert check_drift(orders, path, "gcp", "terraform") == []
    assert main([*argv, "--check"]) == 0
    path.write_text(path.read_text().replace("RETRY_POLICY_RETRY", "RETRY_POLICY_DO_NOT_RETRY", 1))
    found = check_drift(orders, path, "gcp", "terraform")
    assert len(found) == 2 and all("RETRY_POLICY" in line for line in found)
    assert main([*argv, "--check"]) == 1
    with pytest.raises(ValueError, match="format"):
        check_drift(orders, path, "gcp", "serverless")
