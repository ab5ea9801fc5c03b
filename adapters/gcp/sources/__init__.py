"""One module per Google Cloud event source; each translates native ⇄ neutral.

"Native" on Google Cloud is what functions-framework hands a function: a Flask request
(HTTP functions), a ``cloudevents`` CloudEvent (CloudEvent functions), or ``(data,
context)`` (legacy background functions). Every module defines ``EVENT_SOURCE``
(``"gcp:pubsub"``, the neutral events' ``event_source``), ``KIND`` and:

- ``from_native(...)``: the neutral event from the native form(s) it accepts;
- ``to_native(event, ...)``: the inverse, as a CloudEvent (and, where Google still
  delivers it, the legacy ``(data, context)`` form), for tests, bridges and the local
  runtime.

HTTP also defines ``response(resp)`` (neutral → a Flask response) and
``response_from_native``.
"""
