"""``polyfn dev [TARGET]``: the app with every trigger live on this machine, its HTTP
routes and the control endpoints on one port, reloading as its files change."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from polyfn.cli.console import console
from polyfn.cli.errors import CliError
from polyfn.cli.target import AppRef, load, resolve

HELP = "run the app locally: HTTP, queues, topics, storage, schedules, live"
DESCRIPTION = """\
Run the app on this machine with every trigger live: its HTTP routes are served on
--host:--port, and an embedded broker (SQLite in --state-dir, crash-safe) delivers its
queues, topics, storage events, schedules, change streams and bus events.

--as P delivers everything through provider P's adapter: each request and event is
rendered as P's native payload and enters through P's inbound path, as in the cloud.
Without it (none), polyfn's neutral dispatcher runs the handlers.

--clock virtual freezes time: it moves only when told (POST /_polyfn/clock), so a
nightly schedule fires the moment a test moves the clock a day.

Edits to the app's .py files take effect on the next event, keeping the broker's state;
a file that does not import is reported and the previous code keeps serving
(--no-reload turns this off).

--emulators starts cloud emulators for handlers that call a provider's SDK directly,
and sets the variables the SDKs read before the app is imported: aws (moto's server:
AWS_ENDPOINT_URL, fake credentials, AWS_REGION if unset), azure (Azurite from
./node_modules/.bin or PATH: AzureWebJobsStorage, AZURE_STORAGE_CONNECTION_STRING), gcp
(polyfn's Pub/Sub emulator: PUBSUB_EMULATOR_HOST, GOOGLE_CLOUD_PROJECT if unset). The
default, auto, starts gcp's under --as gcp and nothing otherwise; none starts nothing.

Control endpoints, on the same port:
  GET  /_polyfn/health            {"status": "ready"} once the app runs
  POST /_polyfn/clock             {"advance_seconds": N} (--clock virtual)
  GET  /_polyfn/idle?timeout=S    returns when nothing is pending (504 after S seconds)
  POST /_polyfn/send, /_polyfn/publish; PUT|GET|DELETE /_polyfn/objects/BUCKET/KEY
  GET  /_polyfn/queues, /_polyfn/schedules, /_polyfn/emulators

Feed it from another terminal with polyfn send, polyfn publish and polyfn put.

examples:
  polyfn dev samples/orders
  polyfn dev samples/orders --as aws --port 0 --clock virtual
  polyfn dev samples/orders --emulators aws,azure,gcp
"""

PROVIDERS = ("aws", "azure", "gcp", "none")
AUTO = "auto"
DEFAULT_STATE_DIR = ".polyfn/state"
READY_LINE = "polyfn dev: serving {url}"
"""Printed once the port is bound (``--port 0``: the one the system chose); tests parse it."""


def register(commands: Any) -> None:
    p = commands.add_parser(
        "dev",
        help=HELP,
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("target", metavar="TARGET", nargs="?", help="the app (see polyfn --help)")
    p.add_argument(
        "--as",
        dest="provider",
        choices=PROVIDERS,
        default="none",
        help="deliver through this provider's adapter (default: none, the neutral path)",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=8080, help="port (default 8080; 0: any free port)")
    p.add_argument(
        "--state-dir",
        default=DEFAULT_STATE_DIR,
        metavar="DIR",
        help=f"the broker's folder; one polyfn dev at a time (default {DEFAULT_STATE_DIR})",
    )
    p.add_argument(
        "--clock",
        choices=("real", "virtual"),
        default="real",
        help="virtual: time moves only through POST /_polyfn/clock (default real)",
    )
    p.add_argument("--no-reload", dest="reload", action="store_false", help="no hot reload")
    p.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="json: one JSON object per line, with the correlation ids (trace, span, "
        "invocation, event) the deployed functions log under POLYFN_LOG_FORMAT=json",
    )
    p.add_argument(
        "--emulators",
        default=AUTO,
        metavar="LIST",
        help="cloud emulators to start for direct SDK calls: a comma list of aws, azure, "
        "gcp; all; none (default auto: gcp under --as gcp, else none)",
    )
    p.set_defaults(run=run_command)


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {value!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port}: between 0 and 65535")
    return port


def run_command(args: argparse.Namespace) -> int:
    from polyfn.local.broker import StateDirLocked
    from polyfn.local.clock import RealClock, VirtualClock
    from polyfn.local.runtime import LocalRuntime
    from polyfn.local.server import DevServer

    # In JSON, stdout carries the log lines alone (after the ready line); the tables go to stderr.
    out = console(stderr=args.log_format == "json")
    _line_buffered()  # a parent reading our stdout sees each line as it is printed
    ref = resolve(args.target)
    wanted = _emulator_names(args.emulators, args.provider)
    try:
        server = DevServer(args.host, args.port)
    except OSError as e:
        raise CliError(f"cannot listen on {args.host}:{args.port}: {e.strerror or e}") from None
    server.start()
    with ExitStack() as stack:  # unwinds: the emulators, then the server
        stack.callback(server.stop)
        print(READY_LINE.format(url=server.url), flush=True)
        # Before the app is imported: SDK clients it makes at import time read the env.
        emulators = _start_emulators(out, wanted, args.host, auto=args.emulators == AUTO)
        stack.callback(emulators.close)
        server.emulators = emulators.describe()
        app = load(ref)
        clock = VirtualClock() if args.clock == "virtual" else RealClock()
        provider = None if args.provider == "none" else args.provider
        rt = LocalRuntime(app, provider=provider, state_dir=args.state_dir, clock=clock)
        log_view = JsonLogView() if args.log_format == "json" else LogView(out)
        rt.on_delivery(log_view.delivery)
        with _logs(log_view):
            try:
                rt.start()
            except StateDirLocked:
                raise CliError(
                    f"the state dir {args.state_dir!r} is in use by another polyfn dev; stop "
                    "it, or give this one its own --state-dir"
                ) from None
            try:
                server.ready(rt)
                show_functions(out, rt, server.url, args.clock)
                show_emulators(out, emulators)
                reloader = _reloader(ref, rt, log_view, args.state_dir) if args.reload else None
                _wait_for_signal()
                out.print("[dim]polyfn dev: stopping[/]")
                if reloader is not None:
                    reloader.stop()
            finally:
                server.runtime = None
                rt.stop()
    return 0


def _emulator_names(value: str, provider: str) -> tuple[str, ...]:
    from polyfn.local.emulators import parse_names

    if value == AUTO:
        return ("gcp",) if provider == "gcp" else ()
    try:
        return parse_names(value)
    except ValueError as e:
        raise CliError(f"--emulators: {e}") from None


def _start_emulators(out: Any, names: tuple[str, ...], host: str, auto: bool) -> Any:
    from polyfn.local.emulators import EmulatorError, Emulators, start_emulators

    try:
        return start_emulators(names, host)
    except EmulatorError as e:
        if not auto:
            raise CliError(str(e)) from None
        # Not asked for by name: the app may not need it, so say why and go on.
        out.print(f"[yellow]no emulator started:[/] {_escape(str(e))} (--emulators none: quiet)")
        return Emulators()


def _line_buffered() -> None:
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(line_buffering=True)


def _wait_for_signal() -> None:
    """Block until Ctrl-C or SIGTERM (the main thread sleeps on an event; the handler,
    run between its waits, sets it)."""
    stop = threading.Event()

    def handler(signum: int, frame: Any) -> None:
        stop.set()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(3600):
            pass
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def _reloader(ref: AppRef, rt: Any, view: LogView, state_dir: str) -> Any:
    from polyfn.local.reload import Reloader

    folder = ref.path.parent if ref.path is not None else _module_folder(ref.module)
    if folder is None:
        return None
    reloader = Reloader(
        folder,
        lambda: load(ref),
        rt.reload,
        on_reload=view.reloaded,
        on_error=view.reload_failed,
        ignore=[state_dir],
    )
    reloader.start()  # armed when it returns: the line below promises edits are seen
    view.out.print(f"[dim]watching {folder} for changes ({reloader.mode})[/]")
    return reloader


def _module_folder(module: str) -> Path | None:
    file = getattr(sys.modules.get(module), "__file__", None)
    return Path(file).parent if file else None


# -- what it prints --------------------------------------------------------------------------
def show_emulators(out: Any, emulators: Any) -> None:
    from rich.table import Table

    if not emulators.running:
        return
    table = Table(title="emulators", title_justify="left")
    table.add_column("cloud", style="bold cyan")
    table.add_column("emulator")
    table.add_column("endpoints")
    table.add_column("environment")
    for e in emulators.running:
        endpoints = "\n".join(f"{k} {v}" for k, v in e.endpoints.items())
        env = "\n".join(_short_env(k, v) for k, v in e.env.items())
        table.add_row(e.name, e.product, endpoints, env)
    out.print(table)


def _short_env(name: str, value: str) -> str:
    # A connection string fills the screen; its endpoints are in the column beside it.
    shown = value if len(value) <= 60 else "(long: GET /_polyfn/emulators shows it)"
    return f"{name}={shown}"


def show_functions(out: Any, rt: Any, url: str, clock: str) -> None:
    from rich.table import Table

    table = Table(title=f"{rt.app.name} on polyfn dev", title_justify="left")
    table.add_column("function", style="bold cyan")
    table.add_column("trigger")
    table.add_column("listens on")
    queues = {(c.function.name, c.index): c.queue for c in rt.consumers}
    for fn in rt.app.functions.values():
        for index, trigger in enumerate(fn.triggers):
            where = listens_on(trigger, url, queues.get((fn.name, index)))
            table.add_row(fn.name, trigger.KIND, where)
    out.print(table)
    provider = rt.provider or "none (neutral dispatcher)"
    out.print(
        f"provider: [bold]{provider}[/]  clock: [bold]{clock}[/]  "
        f"state: {rt.broker.state_dir}  control: {url}/_polyfn/health"
    )


def listens_on(trigger: Any, url: str, queue: str | None) -> str:
    """Where a trigger takes its events locally, for people."""
    kind = trigger.KIND
    via = f"  [dim](queue {queue})[/]" if queue and queue != getattr(trigger, "name", None) else ""
    if kind == "http":
        return f"{' '.join(trigger.methods)} {url}{trigger.route}"
    if kind in ("queue", "stream"):
        return f"{kind} {trigger.name}"
    if kind == "topic":
        flt = f" filter {trigger.filter}" if trigger.filter else ""
        return f"topic {trigger.name}{flt}{via}"
    if kind == "storage":
        what = f"{trigger.prefix or ''}*{trigger.suffix or ''}"
        return f"bucket {trigger.bucket} {what} ({', '.join(trigger.events)}){via}"
    if kind == "schedule":
        return f"{trigger.expression} {trigger.timezone}{via}"
    if kind == "change":
        return f"table {trigger.source}{via}"
    if kind == "event":
        return f"bus {trigger.bus} source={trigger.source} type={trigger.type}{via}"
    return queue or ""


class LogView:
    """Coloured lines: one per delivery, the handlers' logs, reloads."""

    def __init__(self, out: Any) -> None:
        self.out = out

    def _print(self, text: str) -> None:
        self.out.print(f"[dim]{time.strftime('%H:%M:%S')}[/] {text}", soft_wrap=True)

    def delivery(self, report: Any) -> None:
        n = len(report.ids)
        what = f"{n} message{'s' if n != 1 else ''}"
        ids = ", ".join(i[:12] for i in report.ids[:3]) + (", ..." if n > 3 else "")
        if report.dead_lettered:
            verdict = f"[magenta]dead-lettered {len(report.dead_lettered)}[/]"
        elif report.failed:
            verdict = f"[red]failed {len(report.failed)}[/]"
        else:
            verdict = "[green]ok[/]"
        self._print(
            f"[bold cyan]{report.function}[/] {report.trigger} \\[{report.provider}] "
            f"{verdict} {what} ({ids}) {report.seconds * 1000:.1f} ms"
        )

    def record(self, record: logging.LogRecord, text: str) -> None:
        name = record.name
        if name.startswith("polyfn.fn."):
            who = f"[bold cyan]{name[len('polyfn.fn.') :]}[/]"
        else:
            who = f"[dim]{name}[/]"
        colour = {"WARNING": "yellow", "ERROR": "red", "CRITICAL": "red"}.get(record.levelname)
        level = f"[{colour}]{record.levelname.lower()}[/] " if colour else ""
        self._print(f"{who} {level}{_escape(text)}")

    def reloaded(self, changed: list[str]) -> None:
        names = ", ".join(Path(p).name for p in changed)
        self._print(f"[green]reloaded[/] ({_escape(names)})")

    def reload_failed(self, error: BaseException) -> None:
        from polyfn.local.reload import describe_error

        text = str(error) if isinstance(error, CliError) else describe_error(error)
        self._print(f"[red]reload failed, the previous code keeps serving:[/] {_escape(text)}")


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


class JsonLogView(LogView):
    """``--log-format json``: the deliveries and every log record as JSON lines."""

    def __init__(self) -> None:
        from polyfn.observe.logs import JsonFormatter

        self.formatter = JsonFormatter()
        self._lock = threading.Lock()  # delivery threads log at once: whole lines only

    def _write(self, text: str) -> None:
        with self._lock:
            sys.stdout.write(text + "\n")
            sys.stdout.flush()

    def _line(self, fields: dict[str, Any]) -> None:
        import json
        from datetime import UTC, datetime

        stamp = datetime.now(UTC).isoformat(timespec="milliseconds")  # as JsonFormatter's
        line = {"time": stamp, "level": "INFO", "logger": "polyfn.dev", **fields}
        self._write(json.dumps(line, default=str))

    def _print(self, text: str) -> None:
        from rich.text import Text

        self._line({"message": Text.from_markup(text).plain})

    def delivery(self, report: Any) -> None:
        verdict = "dead-lettered" if report.dead_lettered else "failed" if report.failed else "ok"
        self._line(
            {
                "message": f"{report.function} {report.trigger} {verdict}",
                "function": report.function,
                "trigger": str(report.trigger),
                "provider": report.provider,
                "verdict": verdict,
                "ids": list(report.ids),
                "failed": list(report.failed),
                "ms": round(report.seconds * 1000, 3),
            }
        )

    def record(self, record: logging.LogRecord, text: str) -> None:
        self._write(text)


class _ViewHandler(logging.Handler):
    def __init__(self, view: LogView) -> None:
        super().__init__(logging.INFO)
        self.view = view
        formatter = getattr(view, "formatter", None)
        self.setFormatter(formatter or logging.Formatter("%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if record.name == "polyfn.local" and record.exc_info:
                # The runtime's note of a failure repeats the traceback polyfn's dispatcher
                # (or the adapter) logged just before: the message alone is enough.
                record = logging.makeLogRecord({**record.__dict__, "exc_info": None})
                record.exc_text = None
            self.view.record(record, self.format(record))
        except Exception:
            self.handleError(record)


@contextmanager
def _logs(view: LogView) -> Iterator[None]:
    """polyfn's and the handlers' logs (INFO and up) through the view while serving (in
    JSON, every logger's: handlers may log through their own module's logger)."""
    logger = logging.getLogger() if isinstance(view, JsonLogView) else logging.getLogger("polyfn")
    handler = _ViewHandler(view)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
