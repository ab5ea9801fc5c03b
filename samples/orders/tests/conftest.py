"""The orders sample's tests run its App (``polyfn_app``); the ``polyfn`` fixture and the
``polyfn_providers`` marker come from the polyfn pytest plugin."""

from __future__ import annotations

import pytest

from polyfn import App


@pytest.fixture
def polyfn_app() -> App:
    from samples.orders.app import app

    return app
