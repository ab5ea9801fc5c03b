"""The app's workflows, as the descriptors read them."""

from __future__ import annotations

import sys
from typing import Any

from polyfn.app import App


def app_workflows(app: App) -> dict[str, Any]:
    """The app's workflows by name (``polyfn.workflow.local.workflow``); none when
    polyfn.workflow.local was never imported: registering a workflow imports it, so an
    app without workflows never pays for it."""
    local = sys.modules.get("polyfn.workflow.local")
    return local.workflows(app) if local is not None else {}  # type: ignore[attr-defined]
