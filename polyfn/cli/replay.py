"""``polyfn replay FILE --from P --as Q [TARGET]``: run captured native events of one
cloud through another cloud's inbound path (polyfn.migrate.replay)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from polyfn.cli.console import jsonable, print_json
from polyfn.cli.errors import FAILED, CliError
from polyfn.cli.target import load_app
from polyfn.errors import DefinitionError

HELP = "replay captured native events of one cloud on another"
DESCRIPTION = """\
Read captured native events of the --from cloud (one JSON event, a JSON array of events,
or JSON Lines; - for stdin), translate each to neutral events with that cloud's adapter,
route them in the app and run them through the --as cloud's inbound path, exactly as
`polyfn invoke --as` does. Prints, per event, the function, the verdict and the answer;
exits 1 when any event failed (it raised, a record failed, HTTP 500 and above, or it
could not be translated or routed).

--from aws    Lambda events (API Gateway, ALB, Function URL, SQS, SNS, S3, EventBridge,
              DynamoDB Streams, Kinesis)
--from gcp    CloudEvents (structured JSON), legacy background events, Pub/Sub push
              bodies, or HTTP requests as `polyfn events render --as gcp` prints them
--from azure  host invocations as `polyfn events render --as azure` prints them
              ({"binding", "data", "triggerMetadata"})

examples:
  polyfn replay sqs-batch.json --from aws --as gcp samples/orders
  polyfn replay captured.jsonl --from gcp --as aws myapp:app --json
"""


class _Intermixed(argparse.ArgumentParser):
    """``FILE --from P --as Q TARGET``: argparse takes the positionals of one stretch of
    the command line at a time, so TARGET after the options would be left over; this
    parser reads positionals wherever they are (``parse_known_intermixed_args``)."""

    _mixing = False

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        if self._mixing:  # parse_known_intermixed_args calls back here
            return super().parse_known_args(args, namespace)
        self._mixing = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._mixing = False


def register(commands: Any) -> None:
    p = commands.add_parser(
        "replay",
        help=HELP,
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", metavar="FILE", help="the captured events (JSON, array, JSON Lines, -)")
    p.add_argument("target", metavar="TARGET", nargs="?", help="the app (see polyfn --help)")
    p.add_argument(
        "--from",
        dest="source",
        required=True,
        choices=("aws", "azure", "gcp"),
        help="the cloud the events were captured on",
    )
    p.add_argument(
        "--as",
        dest="provider",
        required=True,
        choices=("aws", "azure", "gcp", "none"),
        help="the cloud whose inbound path runs them (none: the neutral dispatcher)",
    )
    p.add_argument("--function", metavar="NAME", help="run every event on this function")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(run=run_command)
    p.__class__ = _Intermixed


def run_command(args: argparse.Namespace) -> int:
    from polyfn.cli.invoke import _logs
    from polyfn.migrate import replay

    app = load_app(args.target)
    if args.function is not None:
        try:
            app.function(args.function)
        except DefinitionError as e:
            raise CliError(str(e)) from None
    events = read_events(args.file)
    with _logs(plain=True):
        results = replay(
            app, events, source=args.source, target=args.provider, function=args.function
        )
    if args.json:
        print_json([r.to_json() for r in results])
    else:
        show(results, args.source, args.provider)
    return 0 if results and all(r.ok for r in results) else FAILED


def read_events(file: str) -> list[Any]:
    """One JSON value (an array is a list of events), or JSON Lines."""
    if file == "-":
        text, where = sys.stdin.read(), "stdin"
    else:
        try:
            text, where = Path(file).read_text(encoding="utf-8"), file
        except OSError as e:
            raise CliError(f"cannot read {file!r}: {e.strerror}") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return _json_lines(text, where)
    return value if isinstance(value, list) else [value]


def _json_lines(text: str, where: str) -> list[Any]:
    events = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError as e:
            raise CliError(f"{where}:{number}: not JSON (nor JSON Lines): {e.msg}") from None
    if not events:
        raise CliError(f"{where}: no events")
    return events


def show(results: list[Any], source: str, target: str) -> None:
    out = sys.stdout
    if not results:
        out.write(f"no events replayed ({source} → {target})\n")
    for r in results:
        verdict = "ok" if r.ok else "FAILED"
        via = f" via {r.via}" if r.via else ""
        out.write(f"#{r.index + 1} {r.function or '-'} [{source} → {target}{via}]: {verdict}\n")
        if r.ids:
            out.write(f"  events: {', '.join(r.ids)}\n")
        if r.result is not None:
            out.write(f"  result: {json.dumps(r.result, default=jsonable)}\n")
        for o in r.outputs:
            out.write(f"  output: {json.dumps(o, default=jsonable)}\n")
        for problem in r.errors:
            out.write(f"  error: {problem}\n")
    failed = sum(not r.ok for r in results)
    out.write(f"{len(results) - failed} ok, {failed} failed\n")
