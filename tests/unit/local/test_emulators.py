"""``polyfn.local.emulators``: the names ``--emulators`` takes, the messages when an
emulator is not installed or fails, the variables set (and restored), and Azurite's
start-up read from its output (a stand-in script plays Azurite here; the e2e tests run the
real one)."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from polyfn.cli import build_parser
from polyfn.cli.dev import _emulator_names
from polyfn.cli.errors import CliError
from polyfn.local.emulators import (
    AZURE_ACCOUNT,
    EmulatorError,
    find_azurite,
    parse_names,
    start_emulators,
)

FAKE_AZURITE = """#!{python}
import sys, time
print("Azurite Blob service is starting at http://127.0.0.1:0", flush=True)
for service, port in (("Blob", 10001), ("Queue", 10002), ("Table", 10003)):
    print(f"Azurite {{service}} service is successfully listening at http://127.0.0.1:{{port}}",
          flush=True)
time.sleep(60)
"""
WEBJOBS = "AzureWebJobsStorage"  # the Functions host's name, as it spells it
BROKEN_AZURITE = """#!{python}
import sys
print("error: node too old", flush=True)
sys.exit(3)
"""


def _script(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "azurite"
    path.write_text(text.format(python=sys.executable))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def no_azurite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No ./node_modules and nothing on PATH."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    return tmp_path


def test_names():
    assert parse_names("aws,gcp") == ("aws", "gcp")
    assert parse_names(" GCP , aws,gcp ") == ("gcp", "aws")
    assert parse_names("none") == ()
    assert parse_names("all") == ("aws", "azure", "gcp")
    for bad, shown in [("bogus", "bogus"), ("aws,s3", "s3"), ("", "''"), ("none,aws", "none")]:
        with pytest.raises(ValueError, match=f"unknown emulator {shown}.*aws, azure, gcp"):
            parse_names(bad)


def test_dev_default_is_gcp_under_as_gcp_only():
    assert build_parser().parse_args(["dev"]).emulators == "auto"
    assert _emulator_names("auto", "gcp") == ("gcp",)
    assert _emulator_names("auto", "aws") == ()
    assert _emulator_names("auto", "none") == ()
    assert _emulator_names("none", "gcp") == ()
    assert _emulator_names("aws,azure", "none") == ("aws", "azure")
    with pytest.raises(CliError, match="--emulators: unknown emulator gpc"):
        _emulator_names("gpc", "gcp")


def test_missing_moto_server_names_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "moto.server", None)  # import fails
    with pytest.raises(EmulatorError, match=r"pip install 'moto\[server\]'"):
        start_emulators(["aws"])


def test_missing_pubsub_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "polyfn.local.pubsub.server", None)
    with pytest.raises(EmulatorError, match=r"pip install 'polyfn\[gcp\]'"):
        start_emulators(["gcp"])


def test_missing_azurite_says_npm_install(no_azurite):
    with pytest.raises(EmulatorError, match="`npm install azurite`") as e:
        find_azurite()
    assert "Node.js" in str(e.value)


def test_azurite_found_in_node_modules_then_on_path(no_azurite, monkeypatch):
    on_path = _script(no_azurite / "bin", FAKE_AZURITE)
    monkeypatch.setenv("PATH", str(on_path.parent))
    assert find_azurite() == str(on_path)
    local = _script(no_azurite / "node_modules" / ".bin", FAKE_AZURITE)
    assert find_azurite() == str(local)


def test_azurite_exiting_reports_its_output(no_azurite):
    _script(no_azurite / "node_modules" / ".bin", BROKEN_AZURITE)
    with pytest.raises(EmulatorError, match="Azurite exited:\nerror: node too old"):
        start_emulators(["azure"])


def test_a_failed_start_stops_the_others_and_restores_the_environment(no_azurite, monkeypatch):
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", "mine:1")
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    with pytest.raises(EmulatorError, match="npm install azurite"):
        start_emulators(["gcp", "azure"])
    assert os.environ["PUBSUB_EMULATOR_HOST"] == "mine:1"
    assert "GOOGLE_CLOUD_PROJECT" not in os.environ


def test_azurite_ports_come_from_its_output_and_env_is_restored(no_azurite, monkeypatch):
    _script(no_azurite / "node_modules" / ".bin", FAKE_AZURITE)
    monkeypatch.setenv(WEBJOBS, "UseDevelopmentStorage=true")
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING", raising=False)
    with start_emulators(["azure"]) as emulators:
        (azurite,) = emulators.running
        assert azurite.endpoints == {
            "blob": "http://127.0.0.1:10001",
            "queue": "http://127.0.0.1:10002",
            "table": "http://127.0.0.1:10003",
        }
        connection = os.environ[WEBJOBS]
        assert f"QueueEndpoint=http://127.0.0.1:10002/{AZURE_ACCOUNT};" in connection
        assert os.environ["AZURE_STORAGE_CONNECTION_STRING"] == connection
        assert emulators.describe()["azure"]["env"]["AzureWebJobsStorage"] == connection
    assert os.environ[WEBJOBS] == "UseDevelopmentStorage=true"
    assert "AZURE_STORAGE_CONNECTION_STRING" not in os.environ


def test_aws_forces_endpoint_and_keys_but_keeps_the_users_region(monkeypatch):
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALKEY")
    with start_emulators(["aws"]) as emulators:
        url = emulators.running[0].endpoints["all services"]
        assert url.startswith("http://127.0.0.1:")
        assert os.environ["AWS_ENDPOINT_URL"] == url
        assert os.environ["AWS_ACCESS_KEY_ID"] == "testing"
        assert (os.environ["AWS_REGION"], os.environ["AWS_DEFAULT_REGION"]) == (
            "eu-west-1",
            "eu-west-1",
        )
    assert os.environ["AWS_ACCESS_KEY_ID"] == "AKIAREALKEY"
    assert "AWS_DEFAULT_REGION" not in os.environ
