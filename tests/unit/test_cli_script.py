"""The installed console script, and the pieces of the command line without an app."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import ORDERS_DIR, run

import polyfn
from polyfn.cli import target

# `pip install -e .` puts the script beside the interpreter (/work/venv/bin, .venv/bin).
SCRIPT = Path(sys.executable).parent / "polyfn"


def test_console_script_help():
    assert SCRIPT.is_file(), f"{SCRIPT}: pip install -e . registers the polyfn script"
    done = subprocess.run([str(SCRIPT), "--help"], capture_output=True, text=True, check=True)
    for command in ("check", "invoke", "events"):
        assert command in done.stdout
    done = subprocess.run([str(SCRIPT), "--version"], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == f"polyfn {polyfn.__version__}"


def test_console_script_runs_a_folder_target_from_its_folder():
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [str(SCRIPT), "check", ORDERS_DIR, "--for", "aws", "--json"],
        capture_output=True,
        text=True,
        cwd=root,
    )
    assert done.returncode == 0, done.stderr
    assert '"aws": true' in done.stdout


def test_subcommand_help(capsys):
    for argv in (["invoke", "--help"], ["check", "--help"], ["events", "render", "--help"]):
        with pytest.raises(SystemExit) as exit:
            run(capsys, *argv)
        assert exit.value.code == 0
    out = capsys.readouterr().out
    assert "TypedData" in out  # events render documents the Azure JSON


def test_targets_resolve_to_one_module(tmp_path, monkeypatch):
    by_module = target.resolve("samples.orders.app:app")
    by_folder = target.resolve(ORDERS_DIR)
    by_file = target.resolve("samples/orders/app.py")
    assert by_module.module == by_folder.module == by_file.module == "samples.orders.app"
    assert target.load(by_folder) is target.load(by_module)
    monkeypatch.setenv("POLYFN_APP", "samples.orders.app")
    assert target.load_app(None).name == "orders"


def test_target_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "noapp_mod.py").write_text("x = 1\n")
    (tmp_path / "broken_mod.py").write_text("def oops(:\n")
    (tmp_path / "raising_mod.py").write_text("raise RuntimeError('boom at import')\n")
    cases = {
        str(tmp_path / "empty"): "holds no app.py",
        str(tmp_path / "noapp_mod.py"): "holds no polyfn App",
        str(tmp_path / "broken_mod.py"): "syntax error",
        str(tmp_path / "raising_mod.py"): "boom at import",
        "samples.orders.app:nothing": "has no attribute 'nothing'",
        "samples.orders.app:uuid": "not a polyfn App",
    }
    try:
        for spec, message in cases.items():
            with pytest.raises(target.CliError, match=message):
                target.load_app(spec)
    finally:
        for name in ("noapp_mod", "broken_mod", "raising_mod"):
            sys.modules.pop(name, None)
        if str(tmp_path) in sys.path:
            sys.path.remove(str(tmp_path))
