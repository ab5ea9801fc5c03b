"""One module per AWS event source; each translates native ⇄ neutral in both directions.

Every module defines ``KEY`` (``"sqs"``), ``EVENT_SOURCE`` (``"aws:sqs"``, the neutral
events' ``event_source``), ``KIND`` (the neutral kind it yields) and:

- ``from_native(event)``: a list of neutral events for sources whose payload holds
  ``Records`` (SQS, SNS, S3, DynamoDB, Kinesis), one neutral event otherwise (HTTP and
  EventBridge sources). Views are lazy: fields are read from the native dict on access.
- ``to_native(x, **options)``: the inverse, taking what ``from_native`` returned.

Batch sources with partial failures (SQS, Kinesis, DynamoDB) also define
``order(event)`` (see polyfn.dispatch) and ``batch_response(outcome, records)``.
HTTP sources define ``response(resp, event)`` (neutral → the source's response shape) and
``response_from_native(native)`` (the inverse).
"""
