"""Where the command line writes: rich for people, plain JSON for programs.

rich is in the ``local`` extra; it is imported only by the commands that draw tables, so
that ``polyfn events render`` (JSON for test suites) runs on the core alone.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from polyfn.cli.errors import CliError
from polyfn.local.invoke import body_json

# Piped output (a file, a test's capture) gets room for the tables instead of the
# 80 columns rich assumes when it cannot ask a terminal ($COLUMNS still decides).
_PIPE_WIDTH = 200


def console(stderr: bool = False) -> Any:
    """A rich Console on stdout (or stderr), made per command so it writes to the
    streams of the moment (pytest swaps them)."""
    try:
        from rich.console import Console
    except ImportError:
        raise CliError(
            "this command prints with rich, which is not installed: pip install 'polyfn[local]'"
        ) from None
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() or "COLUMNS" in os.environ else _PIPE_WIDTH
    return Console(file=stream, width=width, highlight=False, soft_wrap=False)


def print_json(value: Any) -> None:
    """Indented JSON on stdout: what ``events render`` and ``--json`` promise."""
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False, default=jsonable) + "\n")


def jsonable(value: Any) -> Any:
    """JSON for what json.dumps does not know: datetimes as ISO 8601, bytes as UTF-8
    text or, when not text, ``{"base64": ...}``, other objects as their dict or str."""
    if isinstance(value, bytes | bytearray):
        return body_json(bytes(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def error(message: str) -> None:
    sys.stderr.write(f"polyfn: {message}\n")
