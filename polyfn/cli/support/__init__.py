"""Which providers can run each trigger of an app, and as what: ``polyfn check``.

Azure and Google Cloud answer with their adapters' own planning (``plan(app)``, which
raises DefinitionError for what the provider cannot express); AWS, whose adapter plans
nothing ahead, with a mirror of its event sources and their limits (aws.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from polyfn.app import App

PROVIDERS = ("aws", "azure", "gcp")


@dataclass(frozen=True, slots=True)
class Cell:
    """One trigger on one provider: supported, and as what (or why not)."""

    ok: bool
    text: str


@dataclass(slots=True)
class Row:
    function: str
    index: int
    trigger: str
    cells: dict[str, Cell] = field(default_factory=dict)


@dataclass(slots=True)
class Report:
    rows: list[Row]
    problems: dict[str, list[str]]
    """Per provider, what stops the app as a whole (not one trigger) from running there."""
    verdicts: dict[str, list[Any]] = field(default_factory=dict)
    """Per provider, the verdict (polyfn.capabilities.Verdict) on every capability a
    function declared with ``@app.requires``, for each of its triggers."""

    def unmet(self, provider: str) -> list[Any]:
        """The declared capabilities ``provider`` cannot honour."""
        return [v for v in self.verdicts.get(provider, ()) if not v.honoured]

    def supported(self, provider: str) -> bool:
        return (
            not self.problems.get(provider)
            and all(r.cells[provider].ok for r in self.rows)
            and not self.unmet(provider)
        )


def check(app: App, providers: tuple[str, ...] = PROVIDERS) -> Report:
    from polyfn.cli.support import aws, planned
    from polyfn.cli.support.describe import describe

    rows = [
        Row(fn.name, i, describe(t, fn))
        for fn in app.functions.values()
        for i, t in enumerate(fn.triggers)
    ]
    problems: dict[str, list[str]] = {}
    for provider in providers:
        if provider == "aws":
            cells, problems[provider] = aws.cells(app), []
        else:
            cells, problems[provider] = planned.cells(app, provider)
        for row in rows:
            row.cells[provider] = cells[(row.function, row.index)]
    return Report(rows, problems, {p: verdicts(app, p) for p in providers})


def verdicts(app: App, provider: str) -> list[Any]:
    """Every declared capability of every function, per trigger, on ``provider`` (the
    adapters' default options: Azure queues on Queue Storage unless FIFO)."""
    from polyfn.capabilities import honours
    from polyfn.cli.support.describe import describe

    out = []
    for fn in app.functions.values():
        if not fn.requires:
            continue
        for t in fn.triggers:
            for v in honours(provider, fn, t, app=app):
                v.trigger = describe(t, fn)  # as the table shows it
                out.append(v)
    return out
