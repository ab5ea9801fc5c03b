"""Lambda Function URL → HttpRequest, and back.

Function URLs deliver the HTTP API payload format 2.0
(https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html; tests/events/aws/
lambda_url__*), so the view is apigateway_v2's. A Function URL has no routes: ``routeKey``
is always ``$default`` and ``pathParameters`` null, so both stay in the extensions, and
``route`` / ``path_params`` start as None / {} for the adapter to fill from the app's route.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, cast

from polyfn.events.http import HttpRequest, HttpResponse

from .. import defaults
from . import apigateway_v2 as _v2

if TYPE_CHECKING:
    from .. import native_types

KEY = "function-url"
EVENT_SOURCE = "aws:function-url"
KIND = "http"

# What a Function URL id looks like: 32 lower-case letters and digits.
URL_ID = "p0lyfn1ur1abcdefghijklmnopqrstuv"


class FunctionUrlRequest(_v2.HttpApiRequest):
    """A lazy view of a Function URL event (see apigateway_v2.HttpApiRequest)."""

    __slots__ = ()
    event_source = EVENT_SOURCE
    _routed: ClassVar[bool] = False

    def __init__(self, event: dict[str, Any]) -> None:
        self._e = event
        self._route = None
        self._pp = {}


def from_native(event: dict[str, Any]) -> HttpRequest:
    return FunctionUrlRequest(event)


def _local_fields(request: HttpRequest, now: datetime) -> dict[str, Any]:
    domain = f"{URL_ID}.lambda-url.{defaults.region()}.on.aws"
    # AuthType NONE: the caller is "anonymous" (with AWS_IAM it is the caller's account).
    ctx = _v2.http_context(
        request, now, api_id=URL_ID, domain=domain, account="anonymous", route_key="$default"
    )
    return {"version": "2.0", "routeKey": "$default", "requestContext": ctx}


def to_native(request: HttpRequest, **_: Any) -> native_types.LambdaFunctionUrlEvent:
    return cast(
        "native_types.LambdaFunctionUrlEvent",
        _v2.render(request, EVENT_SOURCE, _local_fields, routed=False),
    )


def response(resp: HttpResponse, event: dict[str, Any]) -> native_types.LambdaFunctionUrlResult:
    return _v2.response(resp, event)


def response_from_native(native: Any) -> HttpResponse:
    return _v2.response_from_native(native)
