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
from .._fields import malformed, without
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


class AlbRequest(HttpRequest):
    """A lazy view of an ALB event; ``route`` and ``path_params`` are plain attributes."""

    __slots__ = ("_body", "_cookies", "_e", "_ext", "_headers", "_query")
    provider = "aws"
    event_source = EVENT_SOURCE

    def __init__(self, event: dict[str, Any]) -> None:
        self._e = event
        self.route = None
        self.path_params = {}

    @property
    def multi_value(self) -> bool:
        """True when the target group has multi-value headers enabled."""
        return "multiValueHeaders" in self._e

    @property
    def native(self) -> native_types.ALBEvent:  # type: ignore[override]
        return cast("native_types.ALBEvent", self._e)

    @property
    def method(self) -> str:  # type: ignore[override]
        try:
            return self._e["httpMethod"].upper()
        except KeyError:
            raise malformed(EVENT_SOURCE, "httpMethod") from None
        except AttributeError:
            raise malformed(EVENT_SOURCE, "httpMethod", "expected a string") from None

    @property
    def path(self) -> str:  # type: ignore[override]
        try:
            return self._e["path"]
        except KeyError:
            raise malformed(EVENT_SOURCE, "path") from None

    @property
    def query(self) -> QueryParams:  # type: ignore[override]
        try:
            return self._query
        except AttributeError:
            pass
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
        self._query = q
        return q

    @property
    def headers(self) -> Headers:  # type: ignore[override]
        try:
            return self._headers
        except AttributeError:
            if self.multi_value:
                multi = _http.mapping(self._e, "multiValueHeaders", EVENT_SOURCE)
                self._headers = Headers(multi)
            else:
                single = _http.mapping(self._e, "headers", EVENT_SOURCE)
                self._headers = _http.headers_single(single)
            return self._headers

    @property
    def cookies(self) -> dict[str, str]:  # type: ignore[override]
        try:
            return self._cookies
        except AttributeError:
            self._cookies = _http.cookies_from_header(self.headers.get_all("cookie"))
            return self._cookies

    @property
    def body(self) -> bytes:  # type: ignore[override]
        try:
            return self._body
        except AttributeError:
            self._body = _http.decode_body(self._e, EVENT_SOURCE)
            return self._body

    @property
    def client_ip(self) -> str | None:  # type: ignore[override]
        return _http.first_hop(self.headers.get("x-forwarded-for"))

    @property
    def extensions(self) -> dict[str, Any]:  # type: ignore[override]
        try:
            return self._ext
        except AttributeError:
            pass
        e = self._e
        multi = self.multi_value
        ext = without(e, _MULTI if multi else _SINGLE)
        rendered, _ = derived_fields(AlbRequest(e), e.get("isBase64Encoded"), multi)
        ext.update(_http.originals(e, rendered))
        self._ext = ext
        return ext


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
