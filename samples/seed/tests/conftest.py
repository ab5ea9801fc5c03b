"""The seed app's tests run its App (``polyfn_app``) on the local runtime through the
``polyfn`` fixture of the polyfn pytest plugin (a fresh state dir, hence fresh stores,
per test)."""

from __future__ import annotations

import pytest

from polyfn import App


@pytest.fixture
def polyfn_app() -> App:
    from samples.orderflow import app as orderflow
    from samples.seed import app as seed

    orderflow.reset()  # the workflow's in-memory stock and payment gateway
    seed.TRACES.clear()
    return seed.app
