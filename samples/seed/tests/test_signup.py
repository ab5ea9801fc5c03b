"""Signup: HTTP → ``user-created`` topic → ``emails`` queue → the email worker, one
welcome email per user even when the topic delivers twice, and one trace all the way
(W3C trace context, https://www.w3.org/TR/trace-context/#traceparent-header)."""

from __future__ import annotations

import pytest

from samples.seed import app as seed

ADA = {"id": "ada", "email": "ada@example.com", "name": "Ada"}
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
# W3C trace context header (https://www.w3.org/TR/trace-context/#traceparent-header).
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


@pytest.mark.polyfn_providers
def test_signup_sends_one_welcome_email_even_if_delivered_twice(polyfn):
    assert polyfn.http("POST", "/users", json=ADA).status == 201
    polyfn.idle()
    (announced,) = polyfn.published("user-created")

    # At-least-once: the topic hands the same announcement over again.
    polyfn.publish("user-created", announced.body, attributes={"event": "user-created"})
    polyfn.idle()

    assert len(polyfn.deliveries_of("welcome_user")) == 2
    (email,) = polyfn.sent("emails")
    assert email.json() == {"to": "ada@example.com", "template": "welcome", "user": "ada"}
    (sent,) = polyfn.objects("outbox", "sent/").values()
    assert b"ada@example.com" in sent
    assert [r.ok for r in polyfn.deliveries_of("send_email")] == [True]


@pytest.mark.polyfn_providers("neutral", "aws", "gcp")
def test_the_signup_trace_reaches_the_email_worker(polyfn):
    response = polyfn.http("POST", "/users", json=ADA, headers={"traceparent": TRACEPARENT})
    assert response.status == 201
    polyfn.idle()
    (announced,) = polyfn.published("user-created")
    assert TRACE_ID in announced.attributes["traceparent"]
    assert seed.TRACES == [TRACE_ID]  # HTTP → SNS/Pub/Sub → SQS/Pub/Sub: one trace


@pytest.mark.polyfn_providers("azure")
def test_on_azure_the_trace_reaches_the_topic_consumer_not_the_email_worker(polyfn):
    # welcome_user declares the emails queue, so on Azure its message goes out through a
    # queue output binding, which carries a body and nothing else: a Storage queue message
    # has no attributes at all (https://learn.microsoft.com/rest/api/storageservices/put-message),
    # and polyfn drops the traceparent attribute rather than leave the binding. The email
    # worker then continues the trace the Functions host gives the invocation.
    response = polyfn.http("POST", "/users", json=ADA, headers={"traceparent": TRACEPARENT})
    assert response.status == 201
    polyfn.idle()
    (announced,) = polyfn.published("user-created")  # a Service Bus topic: carried
    assert TRACE_ID in announced.attributes["traceparent"]
    assert len(seed.TRACES) == 1 and seed.TRACES != [TRACE_ID]
