"""Drift: a descriptor on disk against the one the app generates now.

``aws``: the SAM template (JSON, or YAML without CloudFormation's short tags) or the
serverless.yml (``fmt="serverless"``), compared as data; ``azure``: the app folder's files
(the JSON files as data); ``gcp``: the shell script, line by line (whitespace at line ends
ignored), or main.tf (``fmt="terraform"``) line by line with runs of whitespace as one
(``terraform fmt`` aligns the ``=`` signs).
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

from polyfn.app import App


def _load(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        import yaml  # the gcp extra has pyyaml

        return yaml.safe_load(text)


def _diff(a: Any, b: Any, path: str = "") -> list[str]:
    """Differences between ``a`` (on disk) and ``b`` (generated), by JSON path."""
    where = path or "/"
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for key in sorted(set(a) | set(b), key=str):
            sub = f"{path}/{key}"
            if key not in b:
                out.append(f"{sub}: not generated (only on disk)")
            elif key not in a:
                out.append(f"{sub}: missing on disk")
            else:
                out.extend(_diff(a[key], b[key], sub))
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [
            d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in _diff(x, y, f"{path}/{i}")
        ]
    if a != b:
        return [f"{where}: {json.dumps(a)} on disk, {json.dumps(b)} generated"]
    return []


def _text_diff(on_disk: str, fresh: str, name: str, squeeze: bool = False) -> list[str]:
    def norm(line: str) -> str:
        return " ".join(line.split()) if squeeze else line.rstrip()

    a = [norm(line) for line in on_disk.strip().splitlines()]
    b = [norm(line) for line in fresh.strip().splitlines()]
    return [
        f"{name}: {line}"
        for line in difflib.unified_diff(a, b, "on disk", "generated", lineterm="", n=0)
        if not line.startswith(("---", "+++", "@@"))
    ]


def check_drift(
    app: App,
    descriptor_path: str | Path,
    provider: str,
    fmt: str | None = None,
    **options: Any,
) -> list[str]:
    """The differences between the descriptor at ``descriptor_path`` (a file; for azure,
    the folder) and a fresh one of ``app``; ``fmt`` the descriptor's format (aws: ``sam``
    or ``serverless``; gcp: ``commands`` or ``terraform``; default the first); ``options``
    are the generator's (``app_module``, ``code_uri``, ``project``, ...). Empty when they
    agree."""
    path = Path(descriptor_path)
    if provider == "aws" and fmt == "serverless":
        from polyfn.deploy.aws_serverless import serverless_config

        if not path.is_file():
            return [f"{path}: missing"]
        return _diff(_load(path.read_text(encoding="utf-8")), serverless_config(app, **options))
    if provider == "gcp" and fmt == "terraform":
        from polyfn.deploy.gcp_terraform import terraform_main

        if not path.is_file():
            return [f"{path}: missing"]
        text = path.read_text(encoding="utf-8")
        return _text_diff(text, terraform_main(app, **options), path.name, squeeze=True)
    from polyfn.deploy import FORMATS

    if fmt is not None and fmt != FORMATS.get(provider, (None,))[0]:
        raise ValueError(f"format: {fmt!r} is not one of {provider!r}'s descriptor formats")
    if provider == "aws":
        from polyfn.deploy.aws_sam import sam_template

        if not path.is_file():
            return [f"{path}: missing"]
        return _diff(_load(path.read_text(encoding="utf-8")), sam_template(app, **options))
    if provider == "azure":
        from polyfn.deploy.azure_folder import azure_files

        out: list[str] = []
        for name, text in azure_files(app, **options).items():
            file = path / name
            if not file.is_file():
                out.append(f"{name}: missing")
            elif name.endswith(".json"):
                disk = _load(file.read_text(encoding="utf-8"))
                out.extend(f"{name}{d}" for d in _diff(disk, json.loads(text)))
            else:
                out.extend(_text_diff(file.read_text(encoding="utf-8"), text, name))
        return out
    if provider == "gcp":
        from polyfn.deploy.gcp_commands import gcloud_script

        if not path.is_file():
            return [f"{path}: missing"]
        return _text_diff(
            path.read_text(encoding="utf-8"), gcloud_script(app, **options), path.name
        )
    raise ValueError(f"provider: {provider!r} is not aws, azure or gcp")
