"""``polyfn events render --as P KIND JSON``: a neutral event as provider P delivers it."""

from __future__ import annotations

import argparse
from typing import Any

from polyfn.cli.console import print_json
from polyfn.cli.neutral import KINDS, events_from, read_json

PROVIDERS = ("aws", "azure", "gcp")

HELP = "print the native payload a provider delivers for a neutral event"
DESCRIPTION = """\
Print, as JSON, the payload provider P hands a function for a neutral event: the exact
input of that provider's adapter, for tests in any language.

JSON is the neutral event's fields (see README, "Neutral events") as a JSON object (an
array for a batch), @FILE, or - for stdin; it is validated by the event's own model.
`body` may be text (UTF-8), any other JSON value (sent as compact JSON), or given as
`body_base64`. `id` defaults to a random UUID, a schedule's `scheduled_time` to now.

  aws    the Lambda event (polyfn.adapters.aws.to_native). --source picks the event
         source: http: apigateway-v2 (default), apigateway-v1, alb, function-url;
         queue: sqs, kinesis; topic: sns; storage: s3, s3-eventbridge; schedule:
         schedule; change: dynamodb; event: eventbridge. An array is one event with
         several records (sqs, kinesis, sns, s3, dynamodb).
  azure  what the Functions host sends the Python worker: {"binding", "data",
         "triggerMetadata"}, data and metadata as the protocol's TypedData in protobuf
         JSON ({"string": ...}, {"json": "..."}, {"bytes": base64}, {"http": {...}}).
         --source: queue: queue (Storage, default), servicebus, eventhub; storage: blob
         (created), eventgrid; others have one trigger.
  gcp    the HTTP request functions-framework receives: {"method", "path",
         "query_string", "headers", "body"} (body parsed when JSON, else text, or
         body_base64). --mode: structured (default), binary (Eventarc), legacy (1st
         gen), push (Pub/Sub push subscription). --source for schedules: pubsub
         (default), http, eventarc.

examples:
  polyfn events render --as aws queue '{"queue": "orders", "body": {"id": 1}}'
  polyfn events render --as azure schedule '{"schedule": "rate(5 minutes)"}'
  polyfn events render --as gcp --mode binary storage @created.json
"""


def register(commands: Any) -> None:
    events = commands.add_parser(
        "events", help="neutral events as each provider delivers them", description=HELP
    )
    sub = events.add_subparsers(dest="events_command", metavar="COMMAND", required=True)
    p = sub.add_parser(
        "render",
        help=HELP,
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--as", dest="provider", choices=PROVIDERS, required=True, help="provider")
    p.add_argument("kind", choices=list(KINDS), metavar="KIND", help=", ".join(KINDS))
    p.add_argument("json", metavar="JSON", help="the event's fields: JSON, @FILE or -")
    p.add_argument("--source", help="the provider's event source or trigger (see above)")
    p.add_argument("--mode", help="gcp: structured, binary, legacy or push")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    events = events_from(args.kind, read_json(args.json))
    print_json(render(args.provider, args.kind, events, args.source, args.mode))
    return 0


def render(provider: str, kind: str, events: Any, source: str | None, mode: str | None) -> Any:
    from polyfn.cli.errors import CliError

    if mode is not None and provider != "gcp":
        raise CliError("--mode is for --as gcp")
    if provider == "aws":
        from polyfn.local.invoke.native import aws

        return aws.render(events, source)
    if provider == "azure":
        from polyfn.local.invoke.native import azure

        return azure.render(kind, events, source)
    from polyfn.local.invoke.native import gcp

    return gcp.render(kind, events, mode or "structured", source)
