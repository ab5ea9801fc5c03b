"""A Terraform ``main.tf`` deploying a polyfn app as Cloud Functions (2nd gen).

The same plan as the gcloud script (``polyfn.adapters.gcp.plan(app)``), as resources of
the Terraform google provider (docs: https://registry.terraform.io/providers/hashicorp/google/latest/docs):

- the source: ``google_storage_bucket`` + ``google_storage_bucket_object`` uploading
  ``var.source_archive`` (a zip with main.py serving ``polyfn.adapters.gcp.targets(app)``);
- one ``google_cloudfunctions2_function`` per target
  (https://registry.terraform.io/providers/hashicorp/google/latest/docs/resources/cloudfunctions2_function):
  ``build_config`` (runtime, entry point = the target, the source object),
  ``service_config`` and, for event targets, an ``event_trigger`` (Eventarc) with
  ``retry_policy = "RETRY_POLICY_RETRY"`` (polyfn fails a message by raising):
  Pub/Sub ``messagePublished`` on a ``google_pubsub_topic`` (queue, stream, topic,
  Pub/Sub schedule), Cloud Storage ``object.v1.*`` with a ``bucket`` filter on a
  ``google_storage_bucket`` (one function per event type: a trigger has one type; the
  second is named ``<target>-<kind>``), Firestore ``document.v1.written`` with
  ``database`` and a ``match-path-pattern`` ``document`` filter, or the event's own
  type and source filters;
- a ``google_cloud_scheduler_job`` per schedule (Pub/Sub target, or HTTP POST to the
  function's URI with ``GcpOptions(scheduler="http")``);
- a ``google_cloud_run_service_iam_member`` granting ``roles/run.invoker`` to
  ``allUsers`` for each public HTTP function (a 2nd-gen function is a Cloud Run service);
- with declared stores (``App.store``): a ``google_firestore_database`` ``(default)``
  (native mode; ``terraform import`` it when the project has one already) and
  ``POLYFN_STORE_BACKEND=firestore`` in every function's environment.

- workflows (``polyfn.workflow.local.workflow``, gcp_workflow_plan.py): the functions
  without a trigger as private HTTP functions; per workflow a ``google_service_account``,
  ``google_cloud_run_service_iam_member`` (``roles/run.invoker``) on each of its
  functions, ``google_pubsub_topic_iam_member`` (``roles/pubsub.publisher``) on each of
  its topics, and a ``google_workflows_workflow`` whose ``source_contents`` is the
  compiled YAML in a heredoc, the functions' URLs interpolated from their ``url``
  attribute (the YAML's own ``${...}`` escaped as ``$${...}``)
  (https://registry.terraform.io/providers/hashicorp/google/latest/docs/resources/workflows_workflow);

Not expressible here, written as comments: a queue's dead-letter policy lives on the
subscription Eventarc creates for the trigger (set it after ``apply`` as the gcloud
script does); a topic trigger's attribute filter runs in the function.
"""

from __future__ import annotations

import json
import re
from typing import Any

from polyfn.app import App
from polyfn.deploy.gcp_commands import RUNTIME
from polyfn.errors import DefinitionError

PUBSUB_PUBLISHED = "google.cloud.pubsub.topic.v1.messagePublished"


class Expr(str):
    """An HCL expression written as is (a reference, a function call)."""


def _value(v: Any, indent: int) -> str:
    if isinstance(v, Expr):
        return str(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return json.dumps(v)
    if isinstance(v, str):
        # A JSON string is an HCL quoted template once template sequences are escaped.
        return json.dumps(v).replace("${", "$${").replace("%{", "%%{")
    if isinstance(v, dict):
        pad = " " * (indent + 2)
        rows = [f"{pad}{json.dumps(k)} = {_value(x, indent + 2)}" for k, x in v.items()]
        return "{\n" + "\n".join(rows) + "\n" + " " * indent + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_value(x, indent) for x in v) + "]"
    raise TypeError(f"no HCL for {v!r}")


class Block:
    """``type "label" ... { body }``; the body's items are attributes (``key``, value) or
    nested blocks, in order."""

    def __init__(self, kind: str, *labels: str) -> None:
        self.kind = kind
        self.labels = labels
        self.items: list[Block | tuple[str, Any]] = []

    def set(self, key: str, value: Any) -> Block:
        self.items.append((key, value))
        return self

    def block(self, kind: str, *labels: str) -> Block:
        child = Block(kind, *labels)
        self.items.append(child)
        return child

    def text(self, indent: int = 0) -> str:
        pad = " " * indent
        head = " ".join([self.kind, *(json.dumps(label) for label in self.labels)])
        lines = [f"{pad}{head} {{"]
        for item in self.items:
            if isinstance(item, Block):
                lines.append(item.text(indent + 2))
            else:
                key, value = item
                lines.append(f"{pad}  {key} = {_value(value, indent + 2)}")
        lines.append(f"{pad}}}")
        return "\n".join(lines)


def tf_name(name: str) -> str:
    """A Terraform resource name (letters, digits, ``_``, ``-``; not a digit first)."""
    out = re.sub(r"[^A-Za-z0-9_-]", "_", name)
    return out if out[:1].isalpha() or out[:1] == "_" else "_" + out


def terraform_blocks(app: App, *, runtime: str = RUNTIME) -> list[Block | str]:
    """The blocks of main.tf (and ``#`` comment lines), in order."""
    from polyfn.adapters.gcp import plan
    from polyfn.deploy.gcp_workflow_plan import plan_gcp_workflows

    stores = bool(getattr(app, "stores", None))
    out: list[Block | str] = []
    tf = Block("terraform")
    tf.block("required_providers").set(
        "google", Expr('{\n      source = "hashicorp/google"\n    }')
    )
    out.append(tf)
    for var, description, default in (
        ("project", "the Google Cloud project", None),
        ("region", "the functions' region", None),
        ("source_archive", "the zip of the function source (main.py, the app)", "source.zip"),
    ):
        b = Block("variable", var).set("type", Expr("string")).set("description", description)
        if default is not None:
            b.set("default", default)
        out.append(b)
    out.append(
        Block("provider", "google")
        .set("project", Expr("var.project"))
        .set("region", Expr("var.region"))
    )
    source = f"{tf_name(app.name)}_source"
    out.append(
        Block("resource", "google_storage_bucket", source)
        .set("name", Expr(f'"${{var.project}}-{_dns(app.name)}-source"'))
        .set("location", Expr("var.region"))
        .set("uniform_bucket_level_access", True)
    )
    out.append(
        Block("resource", "google_storage_bucket_object", source)
        .set("name", Expr('"source-${filemd5(var.source_archive)}.zip"'))
        .set("bucket", Expr(f"google_storage_bucket.{source}.name"))
        .set("source", Expr("var.source_archive"))
    )
    if stores:
        out.append(
            Block("resource", "google_firestore_database", "stores")
            .set("name", "(default)")
            .set("location_id", Expr("var.region"))
            .set("type", "FIRESTORE_NATIVE")
        )
    topics: dict[str, Block] = {}
    buckets: dict[str, Block] = {}
    functions: list[Block | str] = []
    after: list[Block | str] = []

    def topic(name: str) -> Expr:
        if name not in topics:
            topics[name] = Block("resource", "google_pubsub_topic", tf_name(name)).set("name", name)
        return Expr(f"google_pubsub_topic.{tf_name(name)}.id")

    for spec in plan(app, tasks=True):
        s = spec.settings
        trigger = s["trigger"]
        types: list[str | None] = [None]
        if trigger == "bucket":
            types = list(s["event_types"])
        for i, event_type in enumerate(types):
            name = spec.name if i == 0 else f"{spec.name}-{event_type.rsplit('.', 1)[-1]}"  # type: ignore[union-attr]
            fn = Block("resource", "google_cloudfunctions2_function", tf_name(name))
            fn.set("name", name).set("location", Expr("var.region"))
            build = fn.block("build_config")
            build.set("runtime", runtime).set("entry_point", spec.name)
            build.block("source").block("storage_source").set(
                "bucket", Expr(f"google_storage_bucket.{source}.name")
            ).set("object", Expr(f"google_storage_bucket_object.{source}.name"))
            service = fn.block("service_config")
            if stores:
                service.set("environment_variables", {"POLYFN_STORE_BACKEND": "firestore"})
            if trigger == "http" or (trigger == "scheduler" and s.get("target") == "http"):
                if s.get("allow_unauthenticated", trigger == "http"):
                    after.append(_public(name))
            else:
                _event_trigger(fn, spec.name, s, event_type, topic, buckets)
            functions.append(fn)
        attempts = s.get("max_delivery_attempts")
        if attempts:
            topic(f"{s['topic']}-dead-letter")
            after.append(
                f"# {spec.name}: dead-letter {s['topic']} to {s['topic']}-dead-letter after "
                f"{attempts} attempts: set it on the subscription of the function's Eventarc "
                "trigger after apply"
            )
        if s.get("subscription_filter"):
            after.append(
                f"# {spec.name}: filter {s['subscription_filter']} (applied by polyfn in the "
                "function)"
            )
        if trigger == "scheduler":
            job = Block("resource", "google_cloud_scheduler_job", tf_name(spec.name))
            job.set("name", spec.name).set("region", Expr("var.region"))
            job.set("schedule", s["schedule"]).set("time_zone", s["time_zone"])
            if s.get("target") == "http":
                fn_ref = f"google_cloudfunctions2_function.{tf_name(spec.name)}"
                job.block("http_target").set("http_method", "POST").set(
                    "uri", Expr(f"{fn_ref}.service_config[0].uri")
                )
            else:
                job.block("pubsub_target").set("topic_name", topic(s["topic"])).set(
                    "data", Expr('base64encode("{}")')
                )
            after.append(job)
    # The URLs are placeholders in the compiled YAML, replaced by references once escaped.
    flows = plan_gcp_workflows(app, lambda fn: _URL_MARK.format(fn), _PROJECT_MARK)
    for wf in flows:
        for t in wf.topics:
            topic(t)
        after.extend(_workflow(wf))
    return out + list(topics.values()) + list(buckets.values()) + functions + after


_URL_MARK = "@@polyfn-url:{}@@"
_PROJECT_MARK = "@@polyfn-project@@"


def _workflow(wf: Any) -> list[Block]:
    account = tf_name(f"{wf.name}_workflow")
    email = Expr(f"google_service_account.{account}.email")
    member = Expr(f'"serviceAccount:${{google_service_account.{account}.email}}"')
    blocks = [
        Block("resource", "google_service_account", account)
        .set("account_id", wf.account_id)
        .set("display_name", f"polyfn workflow {wf.name}")
    ]
    for fn in wf.functions:
        ref = f"google_cloudfunctions2_function.{tf_name(fn)}"
        blocks.append(
            Block("resource", "google_cloud_run_service_iam_member", tf_name(f"{account}_{fn}"))
            .set("location", Expr(f"{ref}.location"))
            .set("service", Expr(f"{ref}.name"))
            .set("role", "roles/run.invoker")
            .set("member", member)
        )
    for t in wf.topics:
        blocks.append(
            Block("resource", "google_pubsub_topic_iam_member", tf_name(f"{account}_{t}"))
            .set("topic", Expr(f"google_pubsub_topic.{tf_name(t)}.id"))
            .set("role", "roles/pubsub.publisher")
            .set("member", member)
        )
    text = wf.yaml().replace("${", "$${").replace("%{", "%%{")
    for fn in wf.functions:
        ref = "${google_cloudfunctions2_function." + tf_name(fn) + ".url}"
        text = text.replace(_URL_MARK.format(fn), ref)
    text = text.replace(_PROJECT_MARK, "${var.project}")
    if "\nEOT\n" in "\n" + text:
        raise DefinitionError(f"gcp workflow {wf.name!r}: a line of its YAML is 'EOT'")
    blocks.append(
        Block("resource", "google_workflows_workflow", tf_name(wf.name))
        .set("name", wf.name)
        .set("region", Expr("var.region"))
        .set("description", f"polyfn workflow {wf.name}")
        .set("service_account", email)
        .set("source_contents", Expr("<<EOT\n" + text.rstrip("\n") + "\nEOT"))
    )
    return blocks


def _event_trigger(
    fn: Block,
    name: str,
    s: dict[str, Any],
    event_type: str | None,
    topic: Any,
    buckets: dict[str, Block],
) -> None:
    trigger = s["trigger"]
    event = fn.block("event_trigger")
    event.set("trigger_region", Expr("var.region"))
    if trigger in ("topic", "scheduler"):
        event.set("event_type", PUBSUB_PUBLISHED).set("pubsub_topic", topic(s["topic"]))
    elif trigger == "bucket":
        bucket = s["bucket"]
        if bucket not in buckets:
            buckets[bucket] = (
                Block("resource", "google_storage_bucket", tf_name(bucket))
                .set("name", bucket)
                .set("location", Expr("var.region"))
                .set("uniform_bucket_level_access", True)
            )
        event.set("event_type", event_type)
        _filter(event, "bucket", Expr(f"google_storage_bucket.{tf_name(bucket)}.name"))
    elif trigger == "firestore":
        event.set("event_type", s["event_types"][0])
        _filter(event, "database", s["database"])
        _filter(event, "document", s["document"], "match-path-pattern")
    else:  # eventarc
        filters = dict(s["event_filters"])
        if "type" not in filters:
            raise DefinitionError(
                f"gcp function {name!r}: event trigger: type: an Eventarc trigger needs an "
                "event type (terraform)"
            )
        event.set("event_type", filters.pop("type"))
        for key, value in filters.items():
            _filter(event, key, value)
    event.set("retry_policy", "RETRY_POLICY_RETRY")


def _filter(event: Block, attribute: str, value: Any, operator: str | None = None) -> None:
    f = event.block("event_filters").set("attribute", attribute).set("value", value)
    if operator:
        f.set("operator", operator)


def _public(name: str) -> Block:
    ref = f"google_cloudfunctions2_function.{tf_name(name)}"
    return (
        Block("resource", "google_cloud_run_service_iam_member", f"{tf_name(name)}_public")
        .set("location", Expr(f"{ref}.location"))
        .set("service", Expr(f"{ref}.name"))
        .set("role", "roles/run.invoker")
        .set("member", "allUsers")
    )


def _dns(name: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-") or "app"


def terraform_main(app: App, *, runtime: str = RUNTIME) -> str:
    """main.tf's text."""
    head = f"# polyfn app {app.name} (generated by polyfn deploy-config gcp --format terraform)"
    parts = [b if isinstance(b, str) else b.text() for b in terraform_blocks(app, runtime=runtime)]
    return head + "\n\n" + "\n\n".join(parts) + "\n"
