"""``polyfn check [TARGET]``: every trigger of the app, and whether (and as what) each
provider runs it."""

from __future__ import annotations

import argparse
from typing import Any

from polyfn.cli.console import console, print_json
from polyfn.cli.errors import FAILED
from polyfn.cli.support import PROVIDERS, Report, check
from polyfn.cli.target import load_app

HELP = "report every trigger's support on AWS, Azure and Google Cloud"
DESCRIPTION = """\
Load the app and print every function and trigger with, for each provider, what it
becomes there (AWS: SQS queue orders; Azure: Queue Storage queueTrigger, Timer NCRONTAB
"0 0 2 * * *"; Google Cloud: Pub/Sub messagePublished ...) or why it cannot run there.
Azure and Google Cloud answer with their adapters' own deployment planning; AWS with the
Lambda adapter's event sources and the services' limits.

Functions that declare what they rely on (@app.requires(partial_batch=, ordered=,
exactly_once_output=, max_payload=, max_duration=)) are checked too: each capability a
provider cannot honour for a function's trigger is listed with why and what to do
instead (docs/capabilities.md has the whole table).

With --for P, only P is checked, and the exit status is 1 when P cannot run some
trigger or honour some declared capability: a check for CI before deploying to P.
"""
_NAMES = {"aws": "AWS", "azure": "Azure", "gcp": "Google Cloud"}


def register(commands: Any) -> None:
    p = commands.add_parser(
        "check",
        help=HELP,
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("target", metavar="TARGET", nargs="?", help="the app (see polyfn --help)")
    p.add_argument(
        "--for",
        dest="provider",
        choices=PROVIDERS,
        help="check one provider; exit 1 if unsupported",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    app = load_app(args.target)
    providers = (args.provider,) if args.provider else PROVIDERS
    if not args.json:
        out = console()  # fails early, with the install hint, when rich is missing
    report = check(app, providers)
    if args.json:
        print_json(as_json(app.name, report, providers))
    else:
        show(out, app.name, report, providers)
    if args.provider and not report.supported(args.provider):
        return FAILED
    return 0


def as_json(app: str, report: Report, providers: tuple[str, ...]) -> dict[str, Any]:
    return {
        "app": app,
        "triggers": [
            {
                "function": row.function,
                "trigger": row.trigger,
                "providers": {
                    p: {"supported": c.ok, ("as" if c.ok else "reason"): c.text}
                    for p, c in row.cells.items()
                },
            }
            for row in report.rows
        ],
        "problems": {p: report.problems[p] for p in providers if report.problems[p]},
        "capabilities": {p: [v.as_json() for v in report.verdicts.get(p, ())] for p in providers},
        "supported": {p: report.supported(p) for p in providers},
    }


def show(out: Any, app: str, report: Report, providers: tuple[str, ...]) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"app {app!r}: {len(report.rows)} trigger(s)", title_justify="left")
    table.add_column("function", style="bold")
    table.add_column("trigger")
    for p in providers:
        table.add_column(_NAMES[p])
    for row in report.rows:
        cells = [
            f"[green]✓[/] {escape(c.text)}" if c.ok else f"[red]✗ {escape(c.text)}[/]"
            for c in (row.cells[p] for p in providers)
        ]
        table.add_row(row.function, escape(row.trigger), *cells)
    out.print(table)
    for p in providers:
        for problem in report.problems[p]:
            out.print(f"[red]✗ {_NAMES[p]}:[/] {escape(problem)}")
        unmet = report.unmet(p)
        for verdict in unmet:
            out.print(f"[red]✗ {_NAMES[p]}:[/] {escape(verdict.line())}")
        bad = sum(not r.cells[p].ok for r in report.rows)
        if report.supported(p):
            out.print(f"[green]✓ {_NAMES[p]}: every trigger runs[/]")
        elif bad:
            out.print(f"[red]✗ {_NAMES[p]}: {bad} of {len(report.rows)} trigger(s) cannot run[/]")
        if unmet:
            declared = len(report.verdicts[p])
            out.print(
                f"[red]✗ {_NAMES[p]}: {len(unmet)} of {declared} declared capabilities "
                "cannot be honoured[/]"
            )
