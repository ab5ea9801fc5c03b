"""API Gateway REST API proxy integration (payload format 1.0) → HttpRequest, and back.

Shape: https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
(tests/events/aws/apigw_v1__*). The multi-value maps are the truth (the single-value
``headers`` / ``queryStringParameters`` repeat their last values); query values arrive
URL-decoded; cookies are read from the ``Cookie`` header.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from polyfn.events.http import HttpRequest, HttpResponse
from polyfn.events.multidict import Headers, QueryParams

from .. import defaults
from . import _http

if TYPE_CHECKING:
    from .. import native_types

KEY = "apigateway-v1"
EVENT_SOURCE = "aws:apigateway-v1"
KIND = "http"

_DERIVED = frozenset(
    {
        "httpMethod",
        "path",
        "resource",
        "pathParameters",
        "headers",
        "multiValueHeaders",
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "body",
    }
)


class RestApiRequest(_http.RoutedView):
    """A lazy view of a REST API proxy event. ``route`` is the API's resource
    (``/{proxy+}``); it and ``path_params`` are writable."""

    __slots__ = ()
    event_source = EVENT_SOURCE

    @property
    def native(self) -> native_types.APIGatewayProxyEvent:  # type: ignore[override]
        return cast("native_types.APIGatewayProxyEvent", self._e)

    def _read_route(self) -> str | None:
        return self._e.get("resource")

    def _read_query(self) -> QueryParams:
        multi = _http.mapping(self._e, "multiValueQueryStringParameters", EVENT_SOURCE)
        if multi:
            return QueryParams(multi)
        single = _http.mapping(self._e, "queryStringParameters", EVENT_SOURCE)
        return _http.query_single(single)

    def _read_headers(self) -> Headers:
        multi = _http.mapping(self._e, "multiValueHeaders", EVENT_SOURCE)
        if multi:
            return Headers(multi)
        return _http.headers_single(_http.mapping(self._e, "headers", EVENT_SOURCE))

    @property
    def client_ip(self) -> str | None:  # type: ignore[override]
        ctx = self._e.get("requestContext") or {}
        return (ctx.get("identity") or {}).get("sourceIp")

    def _derived(self) -> tuple[frozenset[str], dict[str, Any]]:
        e = self._e
        rendered, _ = derived_fields(RestApiRequest(e), e.get("isBase64Encoded"))
        return _DERIVED, rendered


def from_native(event: dict[str, Any]) -> HttpRequest:
    return RestApiRequest(event)


# -- neutral → native ------------------------------------------------------------------
def derived_fields(
    request: HttpRequest, flag: Any, *, local: bool = False
) -> tuple[dict[str, Any], bool]:
    multi = _http.with_cookie_header(request.headers.to_multi(), request.cookies)
    query = request.query.to_multi()
    body, b64 = _http.render_body(request.body, flag) if request.body else (None, False)
    route, params = request.route, dict(request.path_params)
    if local and route is None:
        # Without a route, the request went through a greedy proxy resource.
        if request.path == "/":
            route = "/"
        else:
            route = "/{proxy+}"
            params = {"proxy": request.path.lstrip("/"), **params}
    out = {
        "httpMethod": request.method,
        "path": request.path,
        "resource": route,
        "pathParameters": params or None,
        # API Gateway's single-value maps hold each name's last value.
        "headers": {name: values[-1] for name, values in multi.items()} or None,
        "multiValueHeaders": multi or None,
        "queryStringParameters": {name: values[-1] for name, values in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "body": body,
    }
    return out, b64


def _local_context(request: HttpRequest, resource: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "resourceId": "a1b2c3",
        "resourcePath": resource,
        "httpMethod": request.method,
        "extendedRequestId": _http.request_id(),
        "requestTime": _http.request_time(now),
        "path": request.path,
        "accountId": defaults.ACCOUNT,
        "protocol": "HTTP/1.1",
        "stage": "$default",
        "domainPrefix": _http.API_ID,
        "requestTimeEpoch": _http.epoch_ms(now),
        "requestId": _http.uuid_id(),
        "identity": {
            "cognitoIdentityPoolId": None,
            "accountId": None,
            "cognitoIdentityId": None,
            "caller": None,
            "sourceIp": request.client_ip or _http.LOCALHOST,
            "principalOrgId": None,
            "accessKey": None,
            "cognitoAuthenticationType": None,
            "cognitoAuthenticationProvider": None,
            "userArn": None,
            "userAgent": request.headers.get("user-agent"),
            "user": None,
        },
        "domainName": f"{_http.API_ID}.execute-api.{defaults.region()}.amazonaws.com",
        "apiId": _http.API_ID,
    }


def to_native(request: HttpRequest, **_: Any) -> native_types.APIGatewayProxyEvent:
    if not _http.same_source(request, EVENT_SOURCE):
        fields, b64 = derived_fields(request, None, local=True)
        out = _http.assemble(fields, {})
        out["stageVariables"] = None
        out["requestContext"] = _local_context(request, fields["resource"])
        out["isBase64Encoded"] = b64
        return cast("native_types.APIGatewayProxyEvent", out)
    ext = request.extensions
    fields, b64 = derived_fields(request, ext.get("isBase64Encoded"))
    out = _http.assemble(fields, ext)
    if b64:
        out["isBase64Encoded"] = True
    ctx = out.get("requestContext")
    identity = ctx.get("identity") if isinstance(ctx, dict) else None
    if isinstance(identity, dict) and identity.get("sourceIp") != request.client_ip:
        out["requestContext"] = {**ctx, "identity": {**identity, "sourceIp": request.client_ip}}
    return cast("native_types.APIGatewayProxyEvent", out)


# -- responses -------------------------------------------------------------------------
def response(resp: HttpResponse, event: dict[str, Any]) -> native_types.APIGatewayProxyResult:
    """Single-valued headers in ``headers``, repeated ones and ``Set-Cookie`` in
    ``multiValueHeaders`` (API Gateway merges the two)."""
    multi, cookies = _http.split_cookies(resp)
    single: dict[str, str] = {}
    repeated: dict[str, list[str]] = {}
    for name, values in multi.items():
        if len(values) == 1:
            single[name] = values[0]
        else:
            repeated[name] = values
    if cookies:
        repeated["Set-Cookie"] = list(cookies)
    body, b64 = _http.response_body(resp)
    return {
        "statusCode": resp.status,
        "headers": single,
        "multiValueHeaders": repeated,
        "body": body,
        "isBase64Encoded": b64,
    }


def merged_headers(native: dict[str, Any]) -> Headers:
    """``headers`` and ``multiValueHeaders`` merged as API Gateway does: a name in both
    keeps the multi-value list."""
    multi = native.get("multiValueHeaders") or {}
    headers = Headers(multi)
    for name, value in (native.get("headers") or {}).items():
        if name not in headers:
            headers.add(name, value)
    return headers


def response_from_native(native: dict[str, Any]) -> HttpResponse:
    headers = merged_headers(native)
    cookies = _http.cookies_out_of(headers)
    return HttpResponse(
        _http.decode_response_body(native), native.get("statusCode", 200), headers, cookies
    )
