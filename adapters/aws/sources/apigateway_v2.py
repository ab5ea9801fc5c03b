"""API Gateway HTTP API, payload format 2.0 → HttpRequest, and back.

Shape: https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
(tests/events/aws/apigw_v2__*). Lambda Function URLs use the same payload: function_url.py
subclasses the view defined here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, cast
from urllib.parse import parse_qsl, urlencode

from polyfn.events.http import HttpRequest, HttpResponse
from polyfn.events.multidict import Headers, QueryParams

from .. import defaults
from .._fields import malformed, need
from . import _http
from ._http import ABSENT

if TYPE_CHECKING:
    from .. import native_types

KEY = "apigateway-v2"
EVENT_SOURCE = "aws:apigateway-v2"
KIND = "http"

# Top-level fields rendered again from the neutral fields (see _http's docstring).
_DERIVED = frozenset(
    {
        "routeKey",
        "rawPath",
        "rawQueryString",
        "headers",
        "queryStringParameters",
        "cookies",
        "pathParameters",
        "body",
    }
)


class HttpApiRequest(_http.RoutedView):
    """A lazy view of an HTTP API (payload 2.0) event.

    ``route`` and ``path_params`` are writable: the adapter fills them in when the API's
    ``$default`` route delivered the request and the app's own route matched it.
    """

    __slots__ = ()
    event_source = EVENT_SOURCE
    _routed: ClassVar[bool] = True  # routeKey / pathParameters carry the route

    @property
    def native(self) -> native_types.APIGatewayProxyEventV2:  # type: ignore[override]
        return cast("native_types.APIGatewayProxyEventV2", self._e)

    @property
    def method(self) -> str:  # type: ignore[override]
        try:
            return self._e["requestContext"]["http"]["method"].upper()
        except (KeyError, TypeError, AttributeError):
            ctx = need(self._e, "requestContext", self.event_source, "")
            http = need(ctx, "http", self.event_source, "requestContext")
            method = need(http, "method", self.event_source, "requestContext.http")
            raise malformed(
                self.event_source, "requestContext.http.method", f"not a string: {method!r}"
            ) from None

    @property
    def path(self) -> str:  # type: ignore[override]
        try:
            return self._e["rawPath"]
        except KeyError:
            raise malformed(self.event_source, "rawPath") from None

    def _read_route(self) -> str | None:
        key = self._e.get("routeKey")
        if not key or key == "$default":
            return None
        _, sep, route = key.partition(" ")  # "GET /pets/{id}" → "/pets/{id}"
        return route if sep else key

    def _read_query(self) -> QueryParams:
        raw = self._e.get("rawQueryString")
        return QueryParams(parse_qsl(raw, keep_blank_values=True) if raw else None)

    def _read_headers(self) -> Headers:
        # Repeated headers arrive comma-joined; they stay one value.
        return _http.headers_single(_http.mapping(self._e, "headers", self.event_source))

    def _read_cookies(self) -> dict[str, str]:
        raw = self._e.get("cookies") or []
        if not isinstance(raw, list):
            raise malformed(self.event_source, "cookies", "expected a list") from None
        return _http.cookies_from_list(raw)

    @property
    def client_ip(self) -> str | None:  # type: ignore[override]
        ctx = self._e.get("requestContext") or {}
        return (ctx.get("http") or {}).get("sourceIp")

    def _derived(self) -> tuple[frozenset[str], dict[str, Any]]:
        e = self._e
        derived = _DERIVED if self._routed else _DERIVED - {"routeKey", "pathParameters"}
        # What the unmodified event renders to (a fresh view).
        rendered, _ = derived_fields(type(self)(e), e.get("isBase64Encoded"), lower=False)
        return derived, rendered


def from_native(event: dict[str, Any]) -> HttpRequest:
    return HttpApiRequest(event)


# -- neutral → native ------------------------------------------------------------------
def derived_fields(
    request: HttpRequest, flag: Any, *, lower: bool, routed: bool | None = None
) -> tuple[dict[str, Any], bool]:
    """The derived top-level fields of the 2.0 payload, and whether the body is base64."""
    if routed is None:
        routed = getattr(request, "_routed", True)
    multi = _http.multi_lower(request.headers) if lower else request.headers.to_multi()
    pairs = request.query.multi_items()
    qsp: dict[str, str] = {}
    for k, v in pairs:
        qsp[k] = f"{qsp[k]},{v}" if k in qsp else v
    body, b64 = _http.render_body(request.body, flag) if request.body else (ABSENT, False)
    out = {
        "rawPath": request.path,
        "rawQueryString": urlencode(pairs),
        "headers": {name: ",".join(values) for name, values in multi.items()},
        "queryStringParameters": qsp or ABSENT,
        "cookies": [f"{k}={v}" for k, v in request.cookies.items()] or ABSENT,
        "body": body,
    }
    if routed:
        route = request.route
        out["routeKey"] = f"{request.method} {route}" if route else "$default"
        out["pathParameters"] = dict(request.path_params) or ABSENT
    return out, b64


def render(
    request: HttpRequest,
    event_source: str,
    local_fields: Callable[[HttpRequest, datetime], dict[str, Any]],
    *,
    routed: bool,
) -> dict[str, Any]:
    """The 2.0 payload of ``request`` as ``event_source`` delivers it: exact for a request
    that came from that source, realistic defaults (``local_fields``) otherwise."""
    if not _http.same_source(request, event_source):
        fields, b64 = derived_fields(request, None, lower=True, routed=routed)
        out = _http.assemble(fields, {})
        out.update(local_fields(request, datetime.now(UTC)))
        out["isBase64Encoded"] = b64
        return out
    ext = request.extensions
    fields, b64 = derived_fields(request, ext.get("isBase64Encoded"), lower=False, routed=routed)
    out = _http.assemble(fields, ext)
    if b64:
        out["isBase64Encoded"] = True
    ctx = out.get("requestContext")
    http = ctx.get("http") if isinstance(ctx, dict) else None
    if isinstance(http, dict) and (
        str(http.get("method", "")).upper() != request.method
        or http.get("sourceIp") != request.client_ip
    ):
        http = {**http, "method": request.method}
        if request.client_ip is not None:
            http["sourceIp"] = request.client_ip
        out["requestContext"] = {**ctx, "http": http}
    return out


def http_context(
    request: HttpRequest, now: datetime, *, api_id: str, domain: str, account: str, route_key: str
) -> dict[str, Any]:
    """A 2.0 ``requestContext`` for a request that never was on AWS."""
    return {
        "accountId": account,
        "apiId": api_id,
        "domainName": domain,
        "domainPrefix": api_id,
        "http": {
            "method": request.method,
            "path": request.path,
            "protocol": "HTTP/1.1",
            "sourceIp": request.client_ip or _http.LOCALHOST,
            "userAgent": request.headers.get("user-agent", ""),
        },
        "requestId": _http.request_id(),
        "routeKey": route_key,
        "stage": "$default",
        "time": _http.request_time(now),
        "timeEpoch": _http.epoch_ms(now),
    }


def _local_fields(request: HttpRequest, now: datetime) -> dict[str, Any]:
    route_key = f"{request.method} {request.route}" if request.route else "$default"
    domain = f"{_http.API_ID}.execute-api.{defaults.region()}.amazonaws.com"
    ctx = http_context(
        request,
        now,
        api_id=_http.API_ID,
        domain=domain,
        account=defaults.ACCOUNT,
        route_key=route_key,
    )
    return {"version": "2.0", "requestContext": ctx}


def to_native(request: HttpRequest, **_: Any) -> native_types.APIGatewayProxyEventV2:
    return cast(
        "native_types.APIGatewayProxyEventV2",
        render(request, EVENT_SOURCE, _local_fields, routed=True),
    )


# -- responses -------------------------------------------------------------------------
def response(resp: HttpResponse, event: dict[str, Any]) -> native_types.APIGatewayProxyResultV2:
    """The 2.0 response: single-valued headers (repeats comma-joined), ``cookies`` apart."""
    if "set-cookie" in resp.headers:
        multi, cookies = _http.split_cookies(resp)
    else:
        multi, cookies = resp.headers.to_multi(), resp.cookies
    body, b64 = _http.response_body(resp)
    return {
        "statusCode": resp.status,
        "headers": {name: ",".join(values) for name, values in multi.items()},
        "cookies": cookies,
        "body": body,
        "isBase64Encoded": b64,
    }


def response_from_native(native: Any) -> HttpResponse:
    if not isinstance(native, dict) or "statusCode" not in native:
        # Payload 2.0 lets a function return any JSON value: API Gateway answers it as a
        # 200 application/json body.
        text = native if isinstance(native, str) else json.dumps(native)
        return HttpResponse(text, 200, {"content-type": "application/json"})
    headers = _http.headers_single(native.get("headers"))
    cookies = list(native.get("cookies") or ()) + _http.cookies_out_of(headers)
    return HttpResponse(_http.decode_response_body(native), native["statusCode"], headers, cookies)
