"""The orders sample's own tests, as a polyfn user writes them: the app runs in-process on
the local runtime (fresh broker, virtual clock) through the ``polyfn`` fixture."""

from __future__ import annotations

import pytest

ORDER = {"id": "o-1", "items": [{"sku": "apple", "price": 3, "qty": 2}]}


@pytest.mark.polyfn_providers  # once neutral, once through each of aws, azure, gcp
def test_an_order_is_processed_stored_and_announced(polyfn):
    response = polyfn.http("POST", "/orders", json=ORDER)
    assert response.status == 200
    assert response.json()["id"] == "o-1"

    polyfn.idle()  # the queue, the bucket and the topic have run their functions

    receipt = polyfn.object_json("receipts", "receipts/o-1.json")
    assert receipt["order"] == "o-1" and receipt["total"] == 6
    (announced,) = polyfn.published("order-events")
    assert announced.json() == receipt
    assert announced.attributes["event"] == "order-processed"
    for function in ("process_order", "index_receipt", "notify"):
        assert polyfn.ran(function)


def test_a_bad_order_is_refused(polyfn):
    response = polyfn.http("POST", "/orders", json={"id": "o-2"})
    assert response.status == 400
    assert polyfn.sent("orders") == []


@pytest.mark.polyfn_providers
def test_an_order_without_items_lands_in_the_dead_letter_queue(polyfn):
    polyfn.send("orders", {"id": "o-9", "items": []})  # slips past the HTTP validation

    polyfn.settle(check=False)  # jumps the clock over each retry's backoff

    (dead,) = polyfn.dead_letters("orders")
    assert dead.json() == {"id": "o-9", "items": []}
    # max_deliveries=3; on Google, Pub/Sub's dead-letter policy takes 5 attempts at least.
    assert len(polyfn.failures) == (5 if polyfn.provider == "gcp" else 3)
    assert polyfn.objects("receipts") == {}


@pytest.mark.polyfn_providers
def test_the_nightly_report_runs_when_a_day_passes(polyfn):
    polyfn.advance("1d")
    polyfn.idle()
    assert [r.function for r in polyfn.deliveries] == ["nightly_report"]
