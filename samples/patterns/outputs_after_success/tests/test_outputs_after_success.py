"""A failed attempt publishes nothing; its successful retry publishes once.

Why it matters: on AWS and Google Cloud, outputs go out while the handler runs, so a
send made before a failure is delivered and the retry sends it again (docs/capabilities.md,
exactly_once_output; https://cloud.google.com/functions/docs/bestpractices/retries).
Azure output bindings are written after the function returns
(https://learn.microsoft.com/en-us/azure/azure-functions/functions-triggers-bindings).
"""

from __future__ import annotations

from typing import Any

import pytest

from polyfn import App, HandlerError
from polyfn.testing import queue_message
from samples.patterns.outputs_after_success import app as sample

ORDER = {"id": "o-7"}


@pytest.fixture
def polyfn_app() -> App:
    sample.PRINTER.__init__()  # type: ignore[misc]
    return sample.app


@pytest.mark.polyfn_providers
def test_a_failed_attempt_publishes_nothing(polyfn: Any) -> None:
    sample.PRINTER.jams = 1
    # One attempt, no retry; the failed record raises a HandlerError under every provider.
    with pytest.raises(HandlerError):
        polyfn.invoke("ship", queue_message(ORDER, queue="to-ship"))
    assert sample.PRINTER.jams == 0 and sample.PRINTER.printed == []  # it ran, and jammed
    assert polyfn.published("shipments") == []


@pytest.mark.polyfn_providers
def test_the_retry_publishes_once(polyfn: Any) -> None:
    sample.PRINTER.jams = 1
    polyfn.send("to-ship", ORDER)
    polyfn.settle(check=False)  # the jam fails delivery 1; the queue redelivers

    assert [f.function for f in polyfn.failures] == ["ship"]
    assert sample.PRINTER.printed == ["o-7"]
    (announced,) = polyfn.published("shipments")
    assert announced.json() == {"order_id": "o-7", "status": "label-printed"}
    assert len(polyfn.deliveries_of("tell_customer")) == 1  # the customer is told once


@pytest.mark.polyfn_providers
def test_without_the_decorator_the_failed_attempt_announces_too(polyfn: Any) -> None:
    sample.PRINTER.jams = 1
    polyfn.send("to-ship-unguarded", ORDER)
    polyfn.settle(check=False)
    # One for the jam and one for the retry; on Azure the declared topic is an output
    # binding, which the host writes only when the function succeeds.
    assert len(polyfn.published("shipments")) == (1 if polyfn.provider == "azure" else 2)
