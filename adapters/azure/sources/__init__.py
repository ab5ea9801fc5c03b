"""One module per Azure Functions trigger type; each translates native ⇄ neutral.

"Native" on Azure is the object the Python worker hands the function after its binding
converter decoded the host's payload (``azure.functions.QueueMessage``, ...). Every
module defines ``EVENT_SOURCE`` (``"azure:queue"``, the neutral events' ``event_source``),
``KIND`` (the neutral kind it yields), ``BINDING`` (the trigger binding type,
``"queueTrigger"``) and:

- ``from_native(obj, binding)``: the neutral event (a list for cardinality "many"
  triggers and Cosmos DB document lists) from the worker's object. ``binding`` is the
  trigger's binding settings as indexed (``{"queueName": "orders", ...}``), for what the
  object does not carry itself (the queue, topic or container name).
- ``to_native(event, binding)``: the inverse — the azure.functions object a function
  would have received (tests, bridges).
- ``to_host(event, binding)``: what the Functions host sends the worker for this event:
  a ``HostInvocation`` (the trigger ``Datum`` and the trigger metadata ``Datum``s), so a
  test or the local runtime can decode it with the library's own converter exactly as
  the worker does.

HTTP also defines ``response(resp)`` (neutral → ``func.HttpResponse``) and
``response_from_native(func.HttpResponse)``.
"""
