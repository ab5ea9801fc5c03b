"""The pytest plugin (entry point ``pytest11: polyfn``): fixtures that run the app
in-process on the local runtime, and the ``polyfn_providers`` marker.

Fixtures (override any of them in a conftest.py):

- ``polyfn_app``: the App under test, from ``--polyfn-app module:attr``, the
  ``polyfn_app`` ini option or $POLYFN_APP;
- ``polyfn_provider``: None (neutral), "aws", "azure" or "gcp" — from the marker or
  ``--polyfn-as``;
- ``polyfn_clock``: a VirtualClock at ``START``; ``polyfn_options``: adapter options;
- ``polyfn`` (alias ``local_runtime``): a started :class:`~polyfn.testing.Harness` with a
  fresh state dir under ``tmp_path``, stopped at teardown.

``@pytest.mark.polyfn_providers`` runs a test once per provider (neutral, aws, azure, gcp;
or the ones named: ``@pytest.mark.polyfn_providers("aws", "gcp")``).

Nothing here imports the runtime until a fixture runs: projects that do not use the
fixtures pay for an option parser and a marker.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from polyfn.app import App
    from polyfn.local.clock import VirtualClock
    from polyfn.testing.harness import Harness

MARKER = "polyfn_providers"
PROVIDERS: tuple[str | None, ...] = (None, "aws", "azure", "gcp")
NAMES = {None: "neutral", "aws": "aws", "azure": "azure", "gcp": "gcp"}
START = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
"""Where the virtual clock of ``polyfn_clock`` starts: fixed, so tests are repeatable."""
APP_ENV = "POLYFN_APP"
_SAVED_DIRS = pytest.StashKey[list[Path]]()


def _provider(name: str | None) -> str | None:
    if name in (None, "neutral", "none"):
        return None
    if name not in PROVIDERS:
        raise pytest.UsageError(f"polyfn provider {name!r}: one of neutral, aws, azure, gcp")
    return name


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("polyfn")
    group.addoption(
        "--polyfn-app",
        metavar="MODULE:ATTR",
        help=f"the polyfn App the polyfn fixtures run (else the polyfn_app ini option, ${APP_ENV})",
    )
    group.addoption(
        "--polyfn-as",
        metavar="PROVIDER",
        choices=["neutral", "aws", "azure", "gcp"],
        help="run every polyfn test through this provider's adapter only",
    )
    parser.addini("polyfn_app", "the polyfn App (module:attr) the polyfn fixtures run")
    parser.addini(
        "polyfn_sample_events",
        "folders (relative to the rootdir) holding <provider>/<file>.json sample events",
        type="paths",
        default=[],
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(*providers): run the test once per provider (neutral, aws, azure, gcp by "
        "default), the polyfn fixture delivering through that provider's adapter",
    )
    from polyfn.testing import config as settings

    dirs = config.getini("polyfn_sample_events") or [config.rootpath / "tests" / "events"]
    config.stash[_SAVED_DIRS] = list(settings.sample_dirs)
    settings.sample_dirs[:] = [Path(d) for d in dirs]


def pytest_unconfigure(config: pytest.Config) -> None:
    # A nested run (pytester) must not leave its folders to the outer one.
    if _SAVED_DIRS in config.stash:
        from polyfn.testing import config as settings

        settings.sample_dirs[:] = config.stash[_SAVED_DIRS]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marker = metafunc.definition.get_closest_marker(MARKER)
    if marker is None or "polyfn_provider" not in metafunc.fixturenames:
        return
    wanted = [_provider(p) for p in marker.args] or list(PROVIDERS)
    forced = metafunc.config.getoption("polyfn_as")
    params: list[Any] = wanted
    if forced is not None:
        only = _provider(forced)
        reason = f"--polyfn-as {forced}: not among the test's providers"
        marks = [] if only in wanted else [pytest.mark.skip(reason=reason)]
        params = [pytest.param(only, marks=marks)]
    ids = [NAMES[p.values[0] if hasattr(p, "values") else p] for p in params]
    metafunc.parametrize("polyfn_provider", params, indirect=True, ids=ids)


@pytest.fixture
def polyfn_provider(request: pytest.FixtureRequest) -> str | None:
    """The provider whose adapter the ``polyfn`` fixture delivers through."""
    if hasattr(request, "param"):
        return request.param
    forced = request.config.getoption("polyfn_as")
    return None if forced is None else _provider(forced)


@pytest.fixture
def polyfn_app(request: pytest.FixtureRequest) -> App:
    """The App under test. Override this fixture to build one in code."""
    target = (
        request.config.getoption("polyfn_app")
        or request.config.getini("polyfn_app")
        or os.environ.get(APP_ENV)
    )
    if not target:
        pytest.fail(
            "no polyfn app to run: pass --polyfn-app module:attr, set the polyfn_app ini "
            f"option or ${APP_ENV}, or override the polyfn_app fixture",
            pytrace=False,
        )
    from polyfn.loader import load_app

    return load_app(target)


@pytest.fixture
def polyfn_clock() -> VirtualClock:
    """The virtual clock the runtime runs on (starts at START)."""
    from polyfn.local.clock import VirtualClock

    return VirtualClock(START)


@pytest.fixture
def polyfn_options(polyfn_provider: str | None) -> Any:
    """The adapter's options (``AzureOptions``, ``GcpOptions``) for ``polyfn_provider``;
    None: the adapter's defaults."""
    return None


@pytest.fixture
def polyfn(
    polyfn_app: App,
    polyfn_provider: str | None,
    polyfn_clock: VirtualClock,
    polyfn_options: Any,
    tmp_path: Path,
) -> Iterator[Harness]:
    """The app running on the local runtime: a fresh broker under ``tmp_path``, the
    virtual clock, deliveries through ``polyfn_provider``'s adapter."""
    from polyfn.testing.harness import Harness

    runtime = Harness(
        polyfn_app,
        provider=polyfn_provider,
        state_dir=tmp_path / "polyfn-state",
        clock=polyfn_clock,
        options=polyfn_options,
    )
    runtime.start()
    try:
        yield runtime
    finally:
        runtime.stop()


@pytest.fixture
def local_runtime(polyfn: Harness) -> Harness:
    """Another name for ``polyfn``."""
    return polyfn
