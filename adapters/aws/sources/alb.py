"""Application Load Balancer target → HttpRequest, and back.

Shape: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html
(tests/events/aws/alb__*). A target group sends either single-value ``headers`` /
``queryStringParameters`` or, with multi-value headers enabled, ``multiValueHeaders`` /
``multiValueQueryStringParameters``; the answer must use the same mode. Unlike API Gateway,
ALB passes query names and values still URL-encoded: the neutral query is decoded. The
client address is the first hop of ``X-Forwarded-For``. An ALB has no routes, so ``route``
and ``path_params`` start as None / {} for the adapter to fill from the app's route.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote_plus, unquote_plus

from polyfn.events.http import HttpRequest, HttpResponse
from polyfn.events.multidict import Headers, QueryParams

from .. import defaults
from . import _http

if TYPE_CHECKING:
    from .. import native_types

KEY = "alb"
EVENT_SOURCE = "aws:alb"
KIND = "http"

_SINGLE = frozenset({"httpMethod", "path", "headers", "queryStringParameters", "body"})
_MULTI = frozenset(
    {"httpMethod", "path", "multiValueHeaders", "multiValueQueryStringParameters", "body"}
)


class AlbRequest(_http.HttpView):
    """A lazy view of an ALB event; ``route`` and ``path_params`` are plain attributes."""

    __slots__ = ()
    event_source = EVENT_SOURCE

    @property
    def multi_value(self) -> bool:
        """True when the target group has multi-value headers enabled."""
        return "multiValueHeaders" in self._e

    @property
    def native(self) -> native_types.ALBEvent:  # type: ignore[override]
        return cast("native_types.ALBEvent", self._e)

    def _read_query(self) -> QueryParams:
        q = QueryParams()
        if self.multi_value:
            multi = _http.mapping(self._e, "multiValueQueryStringParameters", EVENT_SOURCE)
            for name, values in (multi or {}).items():
                for value in values:
                    q.add(unquote_plus(name), unquote_plus(value))
        else:
            single = _http.mapping(self._e, "queryStringParameters", EVENT_SOURCE)
            for name, value in (single or {}).items():
                q.add(unquote_plus(name), unquote_plus(value))
        return q

    def _read_headers(self) -> Headers:
        if self.multi_value:
            return Headers(_http.mapping(self._e, "multiValueHeaders", EVENT_SOURCE))
        return _http.headers_single(_http.mapping(self._e, "headers", EVENT_SOURCE))

    @property
    def client_ip(self) -> str | None:  # type: ignore[override]
        return _http.first_hop(self.headers.get("x-forwarded-for"))

    def _derived(self) -> tuple[frozenset[str], dict[str, Any]]:
        e, multi = self._e, self.multi_value
        rendered, _ = derived_fields(AlbRequest(e), e.get("isBase64Encoded"), multi)
        return (_MULTI if multi else _SINGLE), rendered


def from_native(event: dict[str, Any]) -> HttpRequest:
    return AlbRequest(event)


# -- neutral → native ------------------------------------------------------------------
def _enc(text: str) -> str:
    return quote_plus(text, safe="")


def derived_fields(
    request: HttpRequest, flag: Any, multi_value: bool, *, lower: bool = False
) -> tuple[dict[str, Any], bool]:
    headers = _http.multi_lower(request.headers) if lower else request.headers.to_multi()
    headers = _http.with_cookie_header(headers, request.cookies, "cookie")
    if lower and request.client_ip and "x-forwarded-for" not in headers:
        headers["x-forwarded-for"] = [request.client_ip]
    query = request.query.to_multi()
    body, b64 = _http.render_body(request.body, flag) if request.body else ("", False)
    out: dict[str, Any] = {"httpMethod": request.method, "path": request.path, "body": body}
    if multi_value:
        out["multiValueHeaders"] = headers
        out["multiValueQueryStringParameters"] = {
            _enc(k): [_enc(v) for v in values] for k, values in query.items()
        }
    else:
        # Single-value mode delivers each name's last value.
        out["headers"] = {name: values[-1] for name, values in headers.items()}
        out["queryStringParameters"] = {_enc(k): _enc(values[-1]) for k, values in query.items()}
    return out, b64


def to_native(
    request: HttpRequest, *, multi_value: bool | None = None, **_: Any
) -> native_types.ALBEvent:
    """``multi_value``: the target group's multi-value headers setting; by default the
    original event's for a request that came from an ALB, else off (ALB's default)."""
    same = _http.same_source(request, EVENT_SOURCE)
    if multi_value is None:
        native = request.native
        multi_value = same and isinstance(native, dict) and "multiValueHeaders" in native
    if not same:
        fields, b64 = derived_fields(request, None, multi_value, lower=True)
        out = _http.assemble(fields, {})
        arn = (
            f"arn:aws:elasticloadbalancing:{defaults.region()}:{defaults.ACCOUNT}:"
            "targetgroup/polyfn-target/0123456789abcdef"
        )
        out["requestContext"] = {"elb": {"targetGroupArn": arn}}
        out["isBase64Encoded"] = b64
        return cast("native_types.ALBEvent", out)
    ext = request.extensions
    fields, b64 = derived_fields(request, ext.get("isBase64Encoded"), multi_value)
    out = _http.assemble(fields, ext)
    if b64:
        out["isBase64Encoded"] = True
    return cast("native_types.ALBEvent", out)


# -- responses -------------------------------------------------------------------------
def response(resp: HttpResponse, event: dict[str, Any]) -> native_types.ALBResult:
    """The ALB response, in the mode of the request ``event``."""
    multi, cookies = _http.split_cookies(resp)
    out: native_types.ALBResult = {
        "statusCode": resp.status,
        "statusDescription": _http.status_line(resp.status),
    }
    if "multiValueHeaders" in event:
        if cookies:
            multi["Set-Cookie"] = list(cookies)
        out["multiValueHeaders"] = multi
    else:
        headers = {name: ", ".join(values) for name, values in multi.items()}
        for name, cookie in zip(
            _http.case_variants("set-cookie", len(cookies)), cookies, strict=True
        ):
            headers[name] = cookie
        out["headers"] = headers
    out["body"], out["isBase64Encoded"] = _http.response_body(resp)
    return out


def response_from_native(native: dict[str, Any]) -> HttpResponse:
    headers = Headers(native.get("multiValueHeaders") or native.get("headers") or None)
    cookies = _http.cookies_out_of(headers)
    return HttpResponse(
        _http.decode_response_body(native), native.get("statusCode", 200), headers, cookies
    )
