"""The wheel installs the adapters as polyfn.adapters.*, never as a top-level package."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
    )
    (path,) = out.glob("polyfn-*.whl")
    return zipfile.ZipFile(path)


def test_adapters_are_inside_polyfn(wheel):
    names = wheel.namelist()
    assert "polyfn/adapters/aws/entry.py" in names
    assert "polyfn/adapters/aws/sources/sqs.py" in names
    assert "polyfn/py.typed" in names
    assert not [n for n in names if n.startswith("adapters/")]


def test_core_depends_on_pydantic_only(wheel):
    meta = next(n for n in wheel.namelist() if n.endswith("METADATA"))
    requires = [
        line.split(":", 1)[1].strip()
        for line in wheel.read(meta).decode().splitlines()
        if line.startswith("Requires-Dist:")
    ]
    core = [r for r in requires if "extra ==" not in r]
    assert [r.split(">")[0].split("=")[0].strip() for r in core] == ["pydantic"]
    extras = {r.split("extra ==")[1].strip().strip("'\"") for r in requires if "extra ==" in r}
    assert {"aws", "azure", "gcp", "all", "dev"} <= extras


def test_core_imports_no_cloud_sdk():
    # Compared with what the interpreter had before: some google packages install .pth
    # files that create the "google" namespace at start-up, before any import of ours.
    code = (
        "import sys; before = set(sys.modules); "
        "import polyfn, polyfn.adapters.aws as aws; from polyfn import App, QueueMessage; "
        "sdks = ('boto3', 'botocore', 'azure', 'google', 'pydantic'); "
        "new = {m.split('.')[0] for m in set(sys.modules) - before}; "
        "print(','.join(m for m in sdks if m in new))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"imported at start-up: {out.stdout}"
