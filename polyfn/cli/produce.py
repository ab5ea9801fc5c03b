"""``polyfn send``, ``polyfn publish``, ``polyfn put``: feed a running ``polyfn dev``.

They talk to its control endpoints rather than opening the broker themselves: the state
dir is locked by the one process that runs the app (two processes delivering from one
SQLite broker would each think they own the leases).
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote

from polyfn.cli.errors import FAILED, CliError

DEFAULT_URL = "http://127.0.0.1:8080"
TIMEOUT = 30.0

_ABOUT = f"""\
It goes to the `polyfn dev` running at --url (default: $POLYFN_URL, else {DEFAULT_URL}):
the broker's state dir belongs to that one process, so other commands hand it their
messages over HTTP rather than opening the broker themselves. Prints the message id.
"""


def register(commands: Any) -> None:
    raw = argparse.RawDescriptionHelpFormatter
    send = commands.add_parser(
        "send",
        help="queue a message on a running polyfn dev",
        description="Queue BODY on QUEUE.\n\n" + _ABOUT,
        formatter_class=raw,
    )
    send.add_argument("queue", metavar="QUEUE")
    _body(send)
    _attrs(send)
    send.add_argument("--group", help="the message group (FIFO queues, stream partition key)")
    _url(send)
    send.set_defaults(run=run_send)

    publish = commands.add_parser(
        "publish",
        help="publish a message on a topic of a running polyfn dev",
        description="Publish BODY on TOPIC: every subscription whose filter takes it gets "
        "a copy.\n\n" + _ABOUT,
        formatter_class=raw,
    )
    publish.add_argument("topic", metavar="TOPIC")
    _body(publish)
    _attrs(publish)
    publish.add_argument("--subject", help="the message's subject")
    _url(publish)
    publish.set_defaults(run=run_publish)

    put = commands.add_parser(
        "put",
        help="store a file in a bucket of a running polyfn dev (raises its storage event)",
        description="Store FILE (- for stdin) as KEY in BUCKET; functions watching the "
        "bucket get its storage event.\n\n" + _ABOUT.replace("message id", "object's version"),
        formatter_class=raw,
    )
    put.add_argument("bucket", metavar="BUCKET")
    put.add_argument("key", metavar="KEY")
    put.add_argument("file", metavar="FILE")
    put.add_argument("--content-type", help="default: guessed from KEY")
    _url(put)
    put.set_defaults(run=run_put)


def _body(p: argparse.ArgumentParser) -> None:
    p.add_argument("body", metavar="BODY", help="the message body as text; - reads stdin")


def _attrs(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--attr",
        action="append",
        default=[],
        metavar="K=V",
        help="a message attribute (repeat for more)",
    )


def _url(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--url",
        default=None,
        help=f"the running polyfn dev (default: $POLYFN_URL, else {DEFAULT_URL})",
    )


def base_url(args: argparse.Namespace) -> str:
    return (args.url or os.environ.get("POLYFN_URL") or DEFAULT_URL).rstrip("/")


def parse_attrs(values: list[str]) -> dict[str, str] | None:
    out: dict[str, str] = {}
    for value in values:
        name, eq, text = value.partition("=")
        if not eq or not name:
            raise CliError(f"--attr {value!r}: write it as NAME=VALUE")
        out[name] = text
    return out or None


def _read_body(value: str) -> str:
    return sys.stdin.read() if value == "-" else value


def run_send(args: argparse.Namespace) -> int:
    payload: dict[str, Any] = {"queue": args.queue, "body": _read_body(args.body)}
    if (attrs := parse_attrs(args.attr)) is not None:
        payload["attributes"] = attrs
    if args.group:
        payload["group_id"] = args.group
    answer = request(base_url(args), "POST", "/_polyfn/send", json.dumps(payload).encode())
    print(answer["id"])
    return 0


def run_publish(args: argparse.Namespace) -> int:
    payload: dict[str, Any] = {"topic": args.topic, "body": _read_body(args.body)}
    if (attrs := parse_attrs(args.attr)) is not None:
        payload["attributes"] = attrs
    if args.subject:
        payload["subject"] = args.subject
    answer = request(base_url(args), "POST", "/_polyfn/publish", json.dumps(payload).encode())
    print(answer["id"])
    return 0


def run_put(args: argparse.Namespace) -> int:
    if args.file == "-":
        data = sys.stdin.buffer.read()
    else:
        try:
            data = Path(args.file).read_bytes()
        except OSError as e:
            raise CliError(f"cannot read {args.file!r}: {e.strerror or e}") from None
    content_type = (
        args.content_type or mimetypes.guess_type(args.key)[0] or "application/octet-stream"
    )
    path = f"/_polyfn/objects/{quote(args.bucket, safe='')}/{quote(args.key)}"
    answer = request(base_url(args), "PUT", path, data, content_type)
    print(answer.get("version") or f"{args.bucket}/{args.key}")
    return 0


def request(
    url: str, method: str, path: str, body: bytes, content_type: str = "application/json"
) -> dict[str, Any]:
    """One control request; CliError with the server's reason on a refusal, or a hint
    when nothing listens."""
    req = urllib.request.Request(
        url + path, data=body, method=method, headers={"content-type": content_type}
    )
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
            return json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as e:
        raise CliError(f"polyfn dev refused it: {_reason(e)}", FAILED) from None
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise CliError(
            f"no polyfn dev answers at {url} ({reason}); start one (polyfn dev TARGET) or "
            "point --url / $POLYFN_URL at it",
            FAILED,
        ) from None


def _reason(e: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(e.read())["error"])
    except Exception:
        return f"HTTP {e.code} {e.reason}"
