"""The ``gcloud`` commands deploying a polyfn app as Cloud Functions (2nd gen).

One ``gcloud functions deploy`` per target of ``polyfn.adapters.gcp.plan(app)`` (entry
point: the target's name, served by a ``main.py`` doing
``globals().update(polyfn.adapters.gcp.targets(app))``); event-driven functions deploy
with ``--retry`` (polyfn fails a message by raising, and relies on redelivery). The
topics are created first; a queue's dead-letter policy is set on the subscription the
function's Eventarc trigger created; schedules get a Cloud Scheduler job. The buckets the
triggers watch and the queues, topics and buckets functions declare as outputs are created
too (an existing one is kept). An app with
declared stores (``App.store``) gets its Firestore database created first (``(default)``,
native mode, in the region; an existing one is kept: the command's failure is ignored)
and ``POLYFN_STORE_BACKEND=firestore`` in every function's environment; the stores'
collections are created by Firestore on first write. Source:
https://cloud.google.com/sdk/gcloud/reference/firestore/databases/create

Workflows (``polyfn.workflow.local.workflow``, gcp_workflow_plan.py): the functions
without a trigger deploy as private HTTP functions (``--trigger-http
--no-allow-unauthenticated``); each workflow gets a service account allowed to invoke
them (``gcloud functions add-invoker-policy-binding``) and to publish to its topics, its
definition written by a heredoc (compiled by polyfn.workflow.gcp_workflows, the
functions' URLs ``https://REGION-PROJECT.cloudfunctions.net/NAME``) and deployed with
``gcloud workflows deploy NAME --source=FILE --location=REGION``. Sources:
https://cloud.google.com/sdk/gcloud/reference/workflows/deploy
https://cloud.google.com/sdk/gcloud/reference/functions/add-invoker-policy-binding
https://cloud.google.com/functions/docs/calling/http (the cloudfunctions.net URL)
"""

from __future__ import annotations

import shlex
from typing import Any

from polyfn.app import App

RUNTIME = "python311"


def _q(value: Any) -> str:
    return shlex.quote(str(value))


def gcloud_commands(app: App, *, project: str, region: str, source: str = ".") -> list[str]:
    """The commands (and ``#`` comments), in order."""
    from polyfn.adapters.gcp import plan
    from polyfn.deploy.gcp_workflow_plan import plan_gcp_workflows

    where = f"--project={_q(project)}"
    loc = f"--region={_q(region)}"
    topics: list[str] = []
    deploys: list[str] = []
    after: list[str] = []
    stores = bool(getattr(app, "stores", None))
    first: list[str] = []
    if stores:
        first.append(
            "# the stores' Firestore database (an existing one is kept)\n"
            f"gcloud firestore databases create --location={_q(region)} {where} || true"
        )
    specs = plan(app, tasks=True)
    flows = plan_gcp_workflows(app, lambda fn: function_url(fn, project, region), project)
    for spec in specs:
        s = spec.settings
        name = spec.name
        cmd = [
            f"gcloud functions deploy {_q(name)} --gen2 --runtime={RUNTIME}",
            f"--entry-point={_q(name)} --source={_q(source)} {loc} {where}",
        ]
        trigger = s["trigger"]
        if trigger == "http" or (trigger == "scheduler" and s.get("target") == "http"):
            cmd.append("--trigger-http")
            public = s.get("allow_unauthenticated", trigger == "http")
            cmd.append("--allow-unauthenticated" if public else "--no-allow-unauthenticated")
        else:
            if trigger in ("topic", "scheduler"):
                topic = s["topic"]
                topics.append(topic)
                cmd.append(f"--trigger-topic={_q(topic)}")
            elif trigger == "bucket":
                types = s["event_types"]
                cmd.append(f"--trigger-event-filters={_q(f'type={types[0]}')}")
                cmd.append(f"--trigger-event-filters={_q('bucket=' + s['bucket'])}")
                for extra in types[1:]:
                    after.append(f"# {name}: {extra} needs a function of its own (one type each)")
            elif trigger == "firestore":
                cmd.append(f"--trigger-event-filters={_q('type=' + s['event_types'][0])}")
                cmd.append(f"--trigger-event-filters={_q('database=' + s['database'])}")
                cmd.append(
                    f"--trigger-event-filters-path-pattern={_q('document=' + s['document'])}"
                )
            elif trigger == "eventarc":
                for key, value in s["event_filters"].items():
                    cmd.append(f"--trigger-event-filters={_q(f'{key}={value}')}")
            cmd.append("--retry")
        if stores:
            cmd.append("--set-env-vars=POLYFN_STORE_BACKEND=firestore")
        deploys.append(" \\\n    ".join(cmd))
        attempts = s.get("max_delivery_attempts")
        if attempts:
            dead = f"{s['topic']}-dead-letter"
            topics.append(dead)
            after.append(
                f"# {name}: dead-letter {s['topic']} after {attempts} attempts\n"
                f"TRIGGER=$(gcloud functions describe {_q(name)} --gen2 {loc} {where} "
                "--format='value(eventTrigger.trigger)')\n"
                f'SUBSCRIPTION=$(gcloud eventarc triggers describe "$TRIGGER" {where} '
                "--format='value(transport.pubsub.subscription)')\n"
                f'gcloud pubsub subscriptions update "$SUBSCRIPTION" {where} '
                f"--dead-letter-topic={_q(dead)} --max-delivery-attempts={attempts}"
            )
        if s.get("subscription_filter"):
            after.append(
                f"# {name}: filter {s['subscription_filter']} (applied by polyfn in the function)"
            )
        if trigger == "scheduler":
            job = [
                f"gcloud scheduler jobs create {'http' if s.get('target') == 'http' else 'pubsub'}",
                f"{_q(name)} --location={_q(region)} {where}",
                f"--schedule={_q(s['schedule'])} --time-zone={_q(s['time_zone'])}",
            ]
            if s.get("target") == "http":
                job.append(
                    f'--uri="$(gcloud functions describe {_q(name)} --gen2 {loc} {where} '
                    "--format='value(serviceConfig.uri)')\" --http-method=POST"
                )
            else:
                job.append(f"--topic={_q(s['topic'])} --message-body='{{}}'")
            after.append(" \\\n    ".join(job))
    buckets: list[str] = []
    for spec in specs:
        if spec.settings["trigger"] == "bucket":
            buckets.append(spec.settings["bucket"])
    for fn in app.functions.values():
        # What functions only write to exists before they run (Pub/Sub serves queues).
        topics.extend([*fn.outputs.queues, *fn.outputs.topics])
        buckets.extend(fn.outputs.buckets)
    for wf in flows:
        topics.extend(wf.topics)  # what the workflows publish to
    creates = [
        f"gcloud pubsub topics create {_q(t)} {where} || true"  # exists already: fine
        for t in dict.fromkeys(topics)
    ]
    creates += [
        f"gcloud storage buckets create {_q('gs://' + b)} --location={_q(region)} {where} || true"
        for b in dict.fromkeys(buckets)
    ]
    workflows = [_workflow(wf, project, region) for wf in flows]
    return first + creates + deploys + after + workflows


def function_url(name: str, project: str, region: str) -> str:
    """A function's URL (2nd gen functions answer on it too)."""
    return f"https://{region}-{project}.cloudfunctions.net/{name}"


def _workflow(wf: Any, project: str, region: str) -> str:
    where = f"--project={_q(project)}"
    account = f"{wf.account_id}@{project}.iam.gserviceaccount.com"
    member = _q(f"serviceAccount:{account}")
    file = f"workflow-{wf.name}.yaml"
    lines = [
        f"# workflow {wf.name}: runs as {account}",
        f"gcloud iam service-accounts create {_q(wf.account_id)} {where} || true",
    ]
    lines += [
        f"gcloud functions add-invoker-policy-binding {_q(fn)} --region={_q(region)} "
        f"--member={member} {where}"
        for fn in wf.functions
    ]
    lines += [
        f"gcloud pubsub topics add-iam-policy-binding {_q(t)} --member={member} "
        f"--role=roles/pubsub.publisher {where}"
        for t in wf.topics
    ]
    # A quoted delimiter: the shell expands nothing (Workflows' own ${...} stay as they are).
    lines.append(f"cat > {_q(file)} <<'POLYFN_EOF'\n{wf.yaml().rstrip()}\nPOLYFN_EOF")
    lines.append(
        f"gcloud workflows deploy {_q(wf.name)} --source={_q(file)} --location={_q(region)} "
        f"--service-account={_q(account)} {where}"
    )
    return "\n".join(lines)


def gcloud_script(app: App, *, project: str, region: str, source: str = ".") -> str:
    """The commands as a shell script."""
    lines = gcloud_commands(app, project=project, region=region, source=source)
    head = f"#!/bin/sh\n# polyfn app {app.name} (generated by polyfn deploy-config gcp)\nset -e\n"
    return head + "\n".join(lines) + "\n"
