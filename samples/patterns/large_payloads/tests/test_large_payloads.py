"""A 500 KiB report crosses the queue by reference: the message itself is a small stub
with a ``dataref`` attribute, and the consumer reads back the same bytes.

Limits: SQS https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html,
Azure Queue Storage 64 KiB https://learn.microsoft.com/en-us/azure/storage/queues/storage-queues-introduction,
Pub/Sub 10 MB https://cloud.google.com/pubsub/quotas; ``dataref``:
https://github.com/cloudevents/spec/blob/main/cloudevents/extensions/dataref.md.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from polyfn import App
from samples.patterns.large_payloads import app as sample

SCHEME = {None: "polyfn", "aws": "s3", "azure": "az", "gcp": "gs"}


@pytest.fixture
def polyfn_app() -> App:
    return sample.app


@pytest.mark.polyfn_providers
def test_a_500_kib_report_crosses_the_queue_by_reference(polyfn: Any) -> None:
    expected = sample.build_report("r-1", 17000)
    assert 490 * 1024 < len(expected) < 520 * 1024

    answer = polyfn.http("POST", "/reports", json={"id": "r-1", "rows": 17000})
    assert answer.status == 200 and answer.json()["bytes"] == len(expected)
    polyfn.idle()

    (message,) = polyfn.sent("reports")  # what the queue carried: a small JSON stub
    key = "polyfn-payloads/" + hashlib.sha256(expected).hexdigest()
    dataref = f"{SCHEME[polyfn.provider]}://payloads/{key}"
    assert len(message.body) < 300
    assert message.json() == {
        "dataref": dataref,
        "size": len(expected),
        "sha256": hashlib.sha256(expected).hexdigest(),
    }
    if polyfn.provider != "azure":  # Queue Storage messages have no attributes: the stub
        assert message.attributes["dataref"] == dataref  # alone carries it there
        assert message.attributes["report"] == "r-1"
    assert polyfn.objects("payloads") == {key: expected}

    summary = polyfn.object_json("report-index", "r-1.json")  # what the consumer read
    assert summary["bytes"] == len(expected) and summary["rows"] == 17000
    assert summary["sha256"] == hashlib.sha256(expected).hexdigest()
    assert summary["dataref"] == dataref


@pytest.mark.polyfn_providers
def test_a_small_report_travels_in_the_message(polyfn: Any) -> None:
    polyfn.http("POST", "/reports", json={"id": "r-2", "rows": 10})
    polyfn.idle()
    (message,) = polyfn.sent("reports")
    assert message.body == sample.build_report("r-2", 10)
    assert "dataref" not in message.attributes
    assert polyfn.objects("payloads") == {}
    assert polyfn.object_json("report-index", "r-2.json")["dataref"] is None
