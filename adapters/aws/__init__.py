"""The AWS Lambda adapter.

- ``handler(app, "name")``: the Lambda handler of one function (or, without a name, of
  every function, routed by event);
- ``lambda_handler``: a ready-made handler configured by ``POLYFN_APP`` / ``POLYFN_FUNCTION``;
- ``from_native(event)`` / ``to_native(neutral, source=...)``: translation both ways.
"""

from __future__ import annotations

from .entry import handler, lambda_handler
from .translate import from_native, response_from_native, response_to_native, to_native

__all__ = [
    "from_native",
    "handler",
    "lambda_handler",
    "response_from_native",
    "response_to_native",
    "to_native",
]
