"""The orderflow sample's tests run its App (``polyfn_app``) with the polyfn pytest plugin."""

from __future__ import annotations

import pytest

from polyfn import App


@pytest.fixture
def polyfn_app() -> App:
    from samples.orderflow import app as flow

    flow.reset()
    return flow.app
