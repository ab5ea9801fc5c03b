"""Brokers on a virtual clock, in a per-test state dir (so that tests can reopen it)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from polyfn.local.broker import Broker
from polyfn.local.clock import VirtualClock

START = datetime(2024, 1, 1, tzinfo=UTC)  # a Monday, midnight


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(START)


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def open_broker(state_dir: Path, clock: VirtualClock) -> Iterator[Callable[..., Broker]]:
    """Opens a broker on the test's state dir; closes every one at the end."""
    opened: list[Broker] = []

    def open_(**kwargs: object) -> Broker:
        broker = Broker(state_dir, kwargs.pop("clock", clock), **kwargs)  # type: ignore[arg-type]
        opened.append(broker)
        return broker

    yield open_
    for broker in opened:
        broker.close()


@pytest.fixture
def broker(open_broker: Callable[..., Broker]) -> Broker:
    return open_broker()
