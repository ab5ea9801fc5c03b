"""The committed deployment descriptors in samples/seed/deploy/ are what
``polyfn deploy-config`` writes for the app today: the drift check passes for each, so
they never go stale. Regenerate them with the commands in samples/seed/README.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from polyfn.cli import main

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
TARGET = "samples.seed.app:app"

DESCRIPTORS = [
    ("aws", "sam", "aws/template.json"),
    ("aws", "serverless", "aws/serverless.yml"),
    ("azure", "folder", "azure"),
    ("gcp", "commands", "gcp/deploy.sh"),
    ("gcp", "terraform", "gcp/main.tf"),
]


@pytest.mark.parametrize(("provider", "fmt", "out"), DESCRIPTORS, ids=[d[2] for d in DESCRIPTORS])
def test_the_committed_descriptor_has_not_drifted(provider, fmt, out, capsys):
    argv = ["deploy-config", provider, TARGET, "--format", fmt, "--out", str(DEPLOY / out)]
    code = main([*argv, "--check"])
    assert code == 0, capsys.readouterr()
