"""``polyfn invoke FUNCTION [TARGET]``: run one function once, in-process, through a
provider's inbound path, and show its answer and its outputs."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from polyfn.cli.console import console, jsonable, print_json
from polyfn.cli.errors import FAILED, CliError
from polyfn.cli.neutral import events_from, kind_of
from polyfn.cli.target import load_app
from polyfn.errors import DefinitionError
from polyfn.local.invoke import PROVIDERS, Call, Outcome, output_json, run

HELP = "run one function once, in-process, through a provider's adapter"
DESCRIPTION = """\
Run FUNCTION of the app once, in this process, with one event, and print its answer and
what it sent (outputs are kept in memory, not delivered). Exits 1 when the function
failed: it raised, a record of a batch failed, or it answered HTTP 500 or above.

--as P runs it through provider P's inbound path, exactly as P would:
  aws    the Lambda handler, with the Lambda event (API Gateway HTTP API, SQS, SNS, S3,
         EventBridge, DynamoDB Streams, Kinesis for streams; --source picks another)
  azure  the function app, invoked as the Functions host and the Python worker do
  gcp    the functions-framework target, inside the HTTP request that carries the event
         (--mode binary by default, as Eventarc sends it; structured, legacy, push)
  none   (default) no adapter: polyfn's neutral dispatcher

--event is the neutral event's fields as JSON (a file, - for stdin, or inline JSON; an
array is a batch), validated by the event's model. Fields the trigger fixes default to
it: the queue, topic, bucket, change source or schedule, the HTTP method and (for a
route without parameters) path. `body` may be text, any JSON value (sent as JSON) or
`body_base64`. With --native, the file is the provider's own payload instead, as
`polyfn events render` prints it.

examples:
  polyfn invoke create_order samples/orders --as aws --event '{"body": {"items": [1]}}'
  polyfn invoke process_order samples.orders.app:app --as azure --event order.json
  polyfn invoke nightly_report samples/orders --as gcp
"""


def register(commands: Any) -> None:
    p = commands.add_parser(
        "invoke",
        help=HELP,
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("function", metavar="FUNCTION", help="the function's name")
    p.add_argument("target", metavar="TARGET", nargs="?", help="the app (see polyfn --help)")
    p.add_argument("--event", "-e", metavar="FILE|-|JSON", help="the event (default: {})")
    p.add_argument(
        "--as", dest="provider", choices=PROVIDERS, default="none", help="provider (default: none)"
    )
    p.add_argument("--native", action="store_true", help="--event is the provider's payload")
    p.add_argument("--source", help="aws: the event source; gcp schedules: pubsub, http, eventarc")
    p.add_argument("--mode", help="gcp: binary (default), structured, legacy or push")
    p.add_argument(
        "--trigger", type=int, default=1, metavar="N", help="the function's Nth trigger (default 1)"
    )
    p.add_argument("--json", action="store_true", help="print the outcome as JSON")
    p.set_defaults(run=run_command)


def run_command(args: argparse.Namespace) -> int:
    out = None if args.json else console()  # without rich: the install hint, before running
    call = prepare(args)
    with _logs(plain=args.json):
        outcome = run(args.provider, call)
    if out is None:
        print_json(as_json(call, args.provider, outcome))
    else:
        show(out, call, outcome)
    return 0 if outcome.ok else FAILED


def prepare(args: argparse.Namespace) -> Call:
    app = load_app(args.target)
    try:
        fn = app.function(args.function)
    except DefinitionError as e:
        raise CliError(str(e)) from None
    if not 1 <= args.trigger <= len(fn.triggers):
        raise CliError(f"function {fn.name!r} has {len(fn.triggers)} trigger(s): --trigger 1..")
    index = args.trigger - 1
    trigger = fn.triggers[index]
    data = read_event(args.event) if args.event is not None else None
    call = Call(app, fn, trigger, index, source=args.source, mode=args.mode)
    if args.native:
        if args.provider == "none":
            raise CliError("--native needs --as aws, azure or gcp")
        if data is None:
            raise CliError("--native needs --event: the provider's payload")
        call.native = data
        return call
    data = {} if data is None else data
    if trigger.KIND == "http" and "{" in trigger.route:
        items = data if isinstance(data, list) else [data]
        if any(isinstance(i, dict) and "path" not in i for i in items):
            raise CliError(
                f"the route {trigger.route!r} has parameters: give the request's path, "
                f'e.g. --event \'{{"path": "{_example(trigger.route)}"}}\''
            )
    call.events = events_from(kind_of(trigger), data, trigger)
    return call


def read_event(value: str) -> Any:
    """Inline JSON, a file (also @FILE), or - for stdin."""
    from polyfn.cli.neutral import read_json

    if value == "-" or value.startswith("@"):
        return read_json(value)
    if value.lstrip()[:1] in ("{", "["):
        return read_json(value)
    if not Path(value).is_file():
        raise CliError(f"--event: no such file {value!r} (or give the event as inline JSON)")
    return read_json("@" + value)


def _example(route: str) -> str:
    import re

    return re.sub(r"\{([^}+]+)\+?\}", lambda m: "1" if m.group(1) == "id" else m.group(1), route)


@contextlib.contextmanager
def _logs(plain: bool) -> Iterator[None]:
    """The handler's logs (and polyfn's record of a failure) on stderr while it runs."""
    root = logging.getLogger()
    handler: logging.Handler
    if plain or not sys.stderr.isatty():
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    else:
        from rich.logging import RichHandler

        handler = RichHandler(console=console(stderr=True), show_path=False, show_time=False)
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def as_json(call: Call, provider: str, outcome: Outcome) -> dict[str, Any]:
    return {
        "function": call.function.name,
        "as": provider,
        "via": outcome.via,
        "ok": outcome.ok,
        "result": outcome.result,
        "errors": outcome.errors,
        "outputs": [output_json(s) for s in call.driver.sent],
    }


def show(out: Any, call: Call, outcome: Outcome) -> None:
    from rich.json import JSON
    from rich.table import Table

    out.print(f"[bold]{call.function.name}[/] ← [cyan]{outcome.via}[/]")
    if outcome.result is not None:
        out.print(JSON(json.dumps(outcome.result, default=jsonable)))
    if call.driver.sent:
        table = Table("#", "output", "target", "body", "options", title_justify="left")
        table.title = f"outputs ({len(call.driver.sent)}, kept in memory)"
        for i, sent in enumerate(call.driver.sent, 1):
            item = output_json(sent)
            body = item.pop("body")
            kind, target = item.pop("kind"), item.pop("target")
            text = body if isinstance(body, str) else json.dumps(body)
            extra = json.dumps(item, default=jsonable) if item else ""
            table.add_row(str(i), kind, target, text, extra)
        out.print(table)
    else:
        out.print("[dim]no outputs[/]")
    if outcome.ok:
        out.print("[green]✓ succeeded[/]")
    else:
        for problem in outcome.errors:
            out.print(f"[red]✗ failed:[/] {_escape(problem)}")


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
