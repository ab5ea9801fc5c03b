"""Azure HTTP trigger (``httpTrigger``) → HttpRequest; HttpResponse → ``func.HttpResponse``.

Native: ``azure.functions.HttpRequest`` as the library's HttpRequestConverter builds it
from the host's RpcHttp: ``url`` (scheme, host, the escaped path and the raw query
string), ``method``, ``headers`` (names lower-cased; a repeated header arrives as one
value, joined with ","), ``query`` (one value per name, repeats joined with ",", empty
values dropped), ``params`` (the route parameters) and the body as bytes (the Python
worker asks for raw body bytes). Shapes: tests/events/azure/http__*, provenance in
tests/events/azure/PROVENANCE.md.

``path`` is the URL's path as sent; ``query`` is parsed from the URL's query string, so
repeated keys and empty values survive (the host's ``params`` keep neither); ``route``
is the binding's ``route`` template as a polyfn route (``orders/{id:int}`` →
``/orders/{id}``, ``files/{*rest}`` → ``/files/{rest+}``; without the host's route
prefix), None when the binding has none; ``path_params`` the route parameters;
``cookies`` come from the Cookie header; ``client_ip`` is the first X-Forwarded-For entry
without its port (what the Functions front end sets), else None. Extensions keep ``url``
(scheme and host are in no typed field) and, when the host's ``params`` say something the
URL does not, ``params``.

Responses: repeated headers other than Set-Cookie are joined with ", " (the host keeps one
value per header name); each cookie becomes its own ``Set-Cookie`` header, which the
library's HttpResponseConverter turns into RpcHttpCookies. A response without a
Content-Type is answered ``text/plain; charset=utf-8`` by that converter.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from polyfn.events.http import HttpRequest, HttpResponse
from polyfn.events.multidict import Headers, QueryParams

from ..host import HostInvocation
from . import _common as c

EVENT_SOURCE = "azure:http"
KIND = "http"
BINDING = "httpTrigger"

LOCAL_ORIGIN = "http://localhost:7071"  # where a request that never was on Azure arrives
_ABSENT: Any = object()
# {name}, {name:constraint}, {name?}, {*name}: ASP.NET Core route parameters.
_PARAM = re.compile(r"\{(\*{1,2})?([A-Za-z_][A-Za-z0-9_]*)[^}]*\}")


def polyfn_route(route: str | None) -> str | None:
    """An Azure route template as a polyfn route (constraints, defaults and optional
    markers dropped; catch-alls greedy)."""
    if not route:
        return None
    converted = _PARAM.sub(lambda m: "{" + m.group(2) + ("+" if m.group(1) else "") + "}", route)
    return converted if converted.startswith("/") else "/" + converted


def cookies_from_header(value: str | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in (value or "").split(";"):
        name, _, val = part.partition("=")
        name = name.strip()
        if name:
            out[name] = val.strip()
    return out


def forwarded_ip(value: str | None) -> str | None:
    """The client address of an X-Forwarded-For value: first entry, port removed."""
    if not value:
        return None
    first = value.split(",", 1)[0].strip()
    if first.startswith("["):  # [v6]:port
        return first[1:].split("]", 1)[0] or None
    host, sep, port = first.rpartition(":")
    if sep and port.isdigit() and ":" not in host:  # v4:port
        return host or None
    return first or None


def host_params(query: QueryParams) -> dict[str, str]:
    """The host's ``query`` map for these parameters: repeats joined with ",", empty
    values left out."""
    out: dict[str, str] = {}
    for name, values in query.to_multi().items():
        joined = ",".join(values)
        if joined:
            out[name] = joined
    return out


class AzureHttpRequest(HttpRequest):
    """A lazy view of a ``func.HttpRequest``; ``route`` and ``path_params`` are writable
    (an adapter may fill them in from the app's own routes)."""

    __slots__ = ("_b", "_body", "_cookies", "_headers", "_parts", "_pp", "_query", "_r", "_route")
    provider = "azure"
    event_source = EVENT_SOURCE

    def __init__(self, request: Any, binding: c.Binding | None) -> None:
        self._r = request
        self._b = binding
        url = request.url
        if not isinstance(url, str):
            raise c.malformed(EVENT_SOURCE, "url", "missing" if url is None else "not a string")
        method = request.method
        if not isinstance(method, str) or not method:
            raise c.malformed(EVENT_SOURCE, "method", "missing")
        self._parts = urlsplit(url)
        self._route = self._pp = self._query = self._headers = self._cookies = _ABSENT
        self._body = _ABSENT

    @property
    def native(self) -> Any:  # type: ignore[override]
        return self._r

    @property
    def method(self) -> str:  # type: ignore[override]
        return self._r.method.upper()

    @property
    def path(self) -> str:  # type: ignore[override]
        return self._parts.path or "/"

    @property
    def route(self) -> str | None:  # type: ignore[override]
        if self._route is _ABSENT:
            self._route = polyfn_route((self._b or {}).get("route"))
        return self._route

    @route.setter
    def route(self, value: str | None) -> None:
        self._route = value

    @property
    def path_params(self) -> dict[str, str]:  # type: ignore[override]
        if self._pp is _ABSENT:
            self._pp = dict(self._r.route_params or {})
        return self._pp

    @path_params.setter
    def path_params(self, value: dict[str, str]) -> None:
        self._pp = value

    @property
    def query(self) -> QueryParams:  # type: ignore[override]
        if self._query is _ABSENT:
            raw = self._parts.query
            self._query = QueryParams(parse_qsl(raw, keep_blank_values=True) if raw else None)
        return self._query

    @property
    def headers(self) -> Headers:  # type: ignore[override]
        if self._headers is _ABSENT:
            self._headers = Headers(list(self._r.headers.items()))
        return self._headers

    @property
    def cookies(self) -> dict[str, str]:  # type: ignore[override]
        if self._cookies is _ABSENT:
            self._cookies = cookies_from_header(self.headers.get("cookie"))
        return self._cookies

    @property
    def body(self) -> bytes:  # type: ignore[override]
        if self._body is _ABSENT:
            body = self._r.get_body()
            self._body = b"" if body is None else body
        return self._body

    @property
    def client_ip(self) -> str | None:  # type: ignore[override]
        return forwarded_ip(self.headers.get("x-forwarded-for"))

    @property
    def extensions(self) -> dict[str, Any]:  # type: ignore[override]
        out: dict[str, Any] = {"url": self._r.url}
        params = dict(self._r.params or {})
        if params != host_params(self.query):
            out["params"] = params
        return out


def from_native(request: Any, binding: c.Binding | None = None) -> HttpRequest:
    from azure.functions import HttpRequest as FuncHttpRequest

    c.expect(request, FuncHttpRequest, EVENT_SOURCE, binding)
    return AzureHttpRequest(request, binding)


# -- neutral → native ------------------------------------------------------------------
def url_of(request: HttpRequest, ext: dict[str, Any]) -> str:
    """The request URL: the original one while path and query still match it."""
    original = ext.get("url")
    if isinstance(original, str):
        parts = urlsplit(original)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        if (parts.path or "/") == request.path and pairs == request.query.multi_items():
            return original
        scheme, netloc = parts.scheme, parts.netloc
    else:
        scheme, netloc = urlsplit(LOCAL_ORIGIN)[:2]
    return urlunsplit((scheme, netloc, request.path, urlencode(request.query.multi_items()), ""))


def route_params(request: HttpRequest, binding: c.Binding | None) -> dict[str, str]:
    """The route parameters the host computes by matching the URL path against the
    binding's route template (under any route prefix); the request's own if it has them."""
    if request.path_params:
        return dict(request.path_params)
    route = polyfn_route(c.setting(binding, "route") if binding else None)
    if not route or "{" not in route:
        return {}
    from polyfn.routing import match_route

    path = request.path
    params = match_route(route, path)
    if params is None and path.count("/") > 1:  # "/api/orders/1" under a route prefix
        params = match_route(route, "/" + path.split("/", 2)[2])
    return params or {}


def to_host(request: HttpRequest, binding: c.Binding | None = None) -> HostInvocation:
    """The RpcHttp datum as the Python worker hands it to the converter."""
    ext = c.extensions_of(request, EVENT_SOURCE)
    headers = {
        name.lower(): ",".join(values) for name, values in request.headers.to_multi().items()
    }
    if request.cookies and "cookie" not in headers:
        headers["cookie"] = "; ".join(f"{k}={v}" for k, v in request.cookies.items())
    if request.client_ip and "x-forwarded-for" not in headers:
        headers["x-forwarded-for"] = request.client_ip
    params = ext.get("params")
    if params is None:
        params = host_params(request.query)
    value = {
        "method": c.string(request.method),
        "url": c.string(url_of(request, ext)),
        "headers": {k: c.string(v) for k, v in headers.items()},
        "body": c.datum(request.body, "bytes"),
        "params": {k: c.string(str(v)) for k, v in route_params(request, binding).items()},
        "query": {k: c.string(v) for k, v in params.items()},
    }
    return HostInvocation(c.datum(value, "http"), {})


def to_native(request: HttpRequest, binding: c.Binding | None = None) -> Any:
    """The ``func.HttpRequest`` the worker would hand the function."""
    return c.decode(BINDING, to_host(request, binding))


# -- responses -------------------------------------------------------------------------
def response(resp: HttpResponse) -> Any:
    """The ``func.HttpResponse`` for a neutral response."""
    import azure.functions as func

    out = func.HttpResponse(resp.body, status_code=resp.status)
    headers = out.headers
    cookies = list(resp.cookies)
    for name, values in resp.headers.to_multi().items():
        if name.lower() == "set-cookie":
            cookies.extend(values)
        else:
            headers.add(name, ", ".join(values))
    for cookie in cookies:
        headers.add("Set-Cookie", cookie)
    return out


def response_from_native(native: Any) -> HttpResponse:
    """A neutral response from a ``func.HttpResponse`` (or the ``str`` a function may
    return, which the host answers as a 200 text body)."""
    if isinstance(native, str):
        return HttpResponse.from_text(native)
    headers = Headers()
    cookies: list[str] = []
    for name, value in native.headers.items():
        if name.lower() == "set-cookie":
            cookies.append(value)
        else:
            headers.add(name, value)
    return HttpResponse(native.get_body() or b"", native.status_code, headers, cookies)
