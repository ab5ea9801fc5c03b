"""The ``polyfn`` command line.

One module per command group registers its subcommand (``register(commands)``) and runs
it (``args.run(args)`` returns the exit status): dev.py, produce.py (``send``, ``publish``,
``put``), render.py (``events render``), check.py, invoke.py, deploy.py
(``deploy-config``). Exit status: 0 done, 1 the function failed (``check``: a trigger
the provider cannot run; ``deploy-config --check``: drift), 2 a usage error (bad
argument, event, target or app; nothing ran).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from polyfn.cli.console import error
from polyfn.cli.errors import USAGE, CliError
from polyfn.local.invoke import InvokeError

DESCRIPTION = """\
polyfn: write a serverless function once; run it on AWS Lambda, Azure Functions and
Google Cloud Functions, and locally.

TARGET (where a command needs the app) is module:attribute (samples.orders.app:app), a
module holding one App, a Python file, or a folder holding app.py (samples/orders);
default: $POLYFN_APP, else the current folder.
"""


def build_parser() -> argparse.ArgumentParser:
    from polyfn import __version__
    from polyfn.cli import check, deploy, dev, invoke, produce, render, replay

    parser = argparse.ArgumentParser(
        prog="polyfn",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"polyfn {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (dev, produce, check, invoke, render, deploy, replay):
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (the console script exits with it)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except CliError as e:
        error(str(e))
        return e.status
    except InvokeError as e:  # the library's usage error: an event or option it cannot take
        error(str(e))
        return USAGE
    except KeyboardInterrupt:
        return 130
