"""An Azure Functions app folder for a polyfn app (Python v2 programming model).

``function_app.py`` is two lines (the worker indexes the FunctionApp of
``polyfn.adapters.azure.function_app``); ``host.json`` is
``polyfn.adapters.azure.host_json(app)``; ``local.settings.json`` runs it locally against
Azurite (``UseDevelopmentStorage=true``); an app with declared stores (``App.store``) gets
``POLYFN_STORE_BACKEND=azure-table`` there (the store creates its table on first use, in
the ``AzureWebJobsStorage`` account) — the same setting belongs in the deployed app's
application settings. An app with workflows (``polyfn.workflow.local.workflow``) runs them
on Durable Functions (``polyfn.adapters.azure.workflows``): requirements.txt lists
azure-functions-durable, and the extension bundle host.json names carries the Durable
Task extension (its state lives in the ``AzureWebJobsStorage`` account).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from polyfn.app import App
from polyfn.deploy.workflows import app_workflows

REQUIREMENTS = "azure-functions\npolyfn[azure]\n"
DURABLE = "azure-functions-durable\n"


def azure_files(app: App, *, app_module: str) -> dict[str, str]:
    """The folder's files by name → text."""
    from polyfn.adapters.azure import host_json  # imports azure.functions

    module = json.dumps(app_module)  # double quotes: what formatters leave alone
    imports = "from polyfn.adapters.azure import function_app\n\n"
    function_app = f"{imports}app = function_app({module})\n"
    settings: dict[str, Any] = {
        "IsEncrypted": False,
        "Values": {
            "AzureWebJobsStorage": "UseDevelopmentStorage=true",
            "FUNCTIONS_WORKER_RUNTIME": "python",
            "AzureWebJobsFeatureFlags": "EnableWorkerIndexing",
        },
    }
    if getattr(app, "stores", None):
        settings["Values"]["POLYFN_STORE_BACKEND"] = "azure-table"
    return {
        "function_app.py": function_app,
        "host.json": json.dumps(host_json(app), indent=2, sort_keys=True) + "\n",
        "requirements.txt": REQUIREMENTS + (DURABLE if app_workflows(app) else ""),
        "local.settings.json": json.dumps(settings, indent=2) + "\n",
    }


def azure_app_folder(app: App, target_dir: str | Path, *, app_module: str) -> list[Path]:
    """Write the folder's files into ``target_dir`` (created); returns their paths."""
    folder = Path(target_dir)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in azure_files(app, app_module=app_module).items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
