"""Running one function once, in-process, through a provider's inbound path: what
``polyfn invoke`` and ``polyfn.migrate.replay`` share (a library: it imports nothing of
the command line).

Each runner module takes a :class:`Call` and returns an :class:`Outcome`: aws.py (the
Lambda handler), azure.py (the function app as the host and the worker invoke it),
gcp.py (functions-framework targets inside a Flask request), neutral.py (the neutral
dispatcher, no adapter; provider ``"none"``). Outputs go to the call's MemoryDriver.
native/ renders neutral events as each provider's payload, as JSON, and reads it back.
An event, payload or option a call cannot take raises :class:`InvokeError` (nothing ran).
"""

from __future__ import annotations

import base64
import importlib
import logging
from dataclasses import dataclass, field
from typing import Any

from polyfn.app import App, Function
from polyfn.errors import PolyfnError
from polyfn.outputs import Outputs
from polyfn.outputs.memory import MemoryDriver, Sent
from polyfn.triggers import Trigger

PROVIDERS = ("aws", "azure", "gcp", "none")


class InvokeError(PolyfnError):
    """An event, native payload or option the invocation cannot take: nothing ran.
    (``polyfn`` reports it as a usage error, exit status 2.)"""


@dataclass(slots=True)
class Call:
    """One invocation: the function and trigger, and either neutral ``events`` (an event
    or a list) or a ``native`` payload as ``events render`` prints it."""

    app: App
    function: Function
    trigger: Trigger
    index: int
    events: Any = None
    native: Any = None
    source: str | None = None
    mode: str | None = None
    driver: MemoryDriver = field(default_factory=MemoryDriver)

    @property
    def outputs(self) -> Outputs:
        return Outputs(self.driver)

    @property
    def deployed_name(self) -> str:
        """The function's name on Azure and Google Cloud: a second trigger is ``name_2``."""
        return self.function.name if self.index == 0 else f"{self.function.name}_{self.index + 1}"

    @property
    def batch(self) -> list[Any]:
        return self.events if isinstance(self.events, list) else [self.events]


@dataclass(slots=True)
class Outcome:
    """What came back: the provider's answer (JSON-able), and what failed."""

    via: str
    result: Any = None
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def run(provider: str, call: Call) -> Outcome:
    """Run ``call`` through ``provider``'s inbound path (``"none"``: the neutral one)."""
    if provider not in PROVIDERS:
        raise InvokeError(f"provider {provider!r}: one of {', '.join(PROVIDERS)}")
    module = importlib.import_module(f"{__name__}.{'neutral' if provider == 'none' else provider}")
    return module.run(call)


def fail(outcome: Outcome, error: BaseException) -> None:
    """Record a failed invocation, and log the handler's traceback: adapters log a failed
    record of a batch themselves, a failed single event only raises."""
    from polyfn.errors import HandlerError

    outcome.errors.append(describe(error))
    cause = error.cause if isinstance(error, HandlerError) else error
    # Logged as "polyfn.cli": the name `polyfn invoke` and `polyfn replay` have shown.
    logging.getLogger("polyfn.cli").error(
        "%s", describe(error), exc_info=(type(cause), cause, cause.__traceback__)
    )


def describe(error: BaseException) -> str:
    """A failure in one line: polyfn's errors name function, provider and source."""
    from polyfn.errors import PolyfnError

    if isinstance(error, PolyfnError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def http_failed(status: int) -> str | None:
    """An HTTP answer of 500 and above is a failed invocation (4xx are answers)."""
    return f"answered HTTP {status}" if status >= 500 else None


def body_json(body: bytes) -> Any:
    """A body as the text it is, or ``{"base64": ...}`` when it is not UTF-8."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(body).decode("ascii")}


def output_json(sent: Sent) -> dict[str, Any]:
    """One output the function sent, as JSON: kind, target, body and the options set."""
    options = {k: v for k, v in sent.options.items() if v not in (None, {}, 0, "")}
    if "event" in options:
        event = options.pop("event")
        options["event"] = event.attributes()
    return {"kind": sent.kind, "target": sent.target, "body": body_json(sent.body), **options}
