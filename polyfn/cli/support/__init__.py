"""Which providers can run each trigger of an app, and as what: ``polyfn check``.

Azure and Google Cloud answer with their adapters' own planning (``plan(app)``, which
raises DefinitionError for what the provider cannot express); AWS, whose adapter plans
nothing ahead, with a mirror of its event sources and their limits (aws.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

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

    def supported(self, provider: str) -> bool:
        return not self.problems.get(provider) and all(r.cells[provider].ok for r in self.rows)


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
    return Report(rows, problems)
