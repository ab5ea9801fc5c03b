"""HTTP functions: the Flask request functions-framework hands a function → HttpRequest;
HttpResponse → a Flask response.

Native: ``flask.Request`` (werkzeug's request). ``path`` is the request path (percent-decoded,
as werkzeug gives it; an HTTP function on Google Cloud gets every path under its URL);
``route`` and ``path_params`` come from matching the function's route against it (the
adapter answers 404 for a path the route does not match); ``query`` keeps repeated keys,
``headers`` every value, ``cookies`` from the Cookie header, ``body`` the raw bytes,
``client_ip`` the first ``X-Forwarded-For`` entry (what Google's front end sets), else the
peer address. Extensions: ``url`` (scheme and host are in no typed field) and
``remote_addr``.

Responses: the status, every header value (repeats kept) and each cookie as its own
``Set-Cookie`` header.
"""

from __future__ import annotations

from typing import Any

from polyfn.events.http import HttpRequest, HttpResponse
from polyfn.events.multidict import Headers, QueryParams
from polyfn.routing import match_route

from . import _common as c

EVENT_SOURCE = "gcp:http"
KIND = "http"
LOCAL_ORIGIN = "http://localhost:8080"  # where a request that never was on Google arrives


def forwarded_ip(value: str | None) -> str | None:
    if not value:
        return None
    return value.split(",", 1)[0].strip() or None


class FlaskHttpRequest(HttpRequest):
    """A view of one Flask request; ``route`` and ``path_params`` are set on creation."""

    __slots__ = ("_r", "path_params", "route")
    provider = "gcp"
    event_source = EVENT_SOURCE

    def __init__(self, request: Any, route: str | None, params: dict[str, str] | None) -> None:
        self._r = request
        self.route = route
        self.path_params = params or {}

    @property
    def native(self) -> Any:  # type: ignore[override]
        return self._r

    @property
    def method(self) -> str:  # type: ignore[override]
        return self._r.method

    @property
    def path(self) -> str:  # type: ignore[override]
        return self._r.path

    @property
    def query(self) -> QueryParams:  # type: ignore[override]
        return QueryParams(list(self._r.args.items(multi=True)))

    @property
    def headers(self) -> Headers:  # type: ignore[override]
        return Headers(list(self._r.headers.items()))

    @property
    def cookies(self) -> dict[str, str]:  # type: ignore[override]
        return dict(self._r.cookies)

    @property
    def body(self) -> bytes:  # type: ignore[override]
        return self._r.get_data()

    @property
    def client_ip(self) -> str | None:  # type: ignore[override]
        return forwarded_ip(self._r.headers.get("X-Forwarded-For")) or self._r.remote_addr

    @property
    def extensions(self) -> dict[str, Any]:  # type: ignore[override]
        out = {"url": self._r.url}
        if self._r.remote_addr:
            out["remote_addr"] = self._r.remote_addr
        return out


def from_native(request: Any, route: str | None = None) -> HttpRequest:
    """The HttpRequest of a Flask request; with ``route``, its parameters are matched
    (MalformedEventError when the path does not match)."""
    if not (hasattr(request, "environ") and hasattr(request, "get_data")):
        raise c.malformed(
            EVENT_SOURCE, "request", f"expected a Flask request, got {type(request).__name__}"
        )
    params = None
    if route is not None:
        params = match_route(route, request.path)
        if params is None:
            raise c.malformed(EVENT_SOURCE, "path", f"{request.path!r} does not match {route!r}")
    return FlaskHttpRequest(request, route, params)


# -- responses -------------------------------------------------------------------------
_response_class: Any = None


def _flask_response() -> Any:
    """flask.Response without a default mimetype (only the handler's own Content-Type),
    made on the first response: this module imports no flask at import time."""
    global _response_class
    if _response_class is None:
        from flask import Response

        class PolyfnResponse(Response):
            default_mimetype = None

        _response_class = PolyfnResponse
    return _response_class


def response(resp: HttpResponse) -> Any:
    """A neutral HttpResponse as the Flask response the function returns."""
    out = _flask_response()(resp.body, status=resp.status)
    for name, value in resp.headers.multi_items():
        out.headers.add(name, value)
    for cookie in resp.cookies:
        out.headers.add("Set-Cookie", cookie)
    return out


def response_from_native(native: Any) -> HttpResponse:
    """The neutral HttpResponse of a Flask (werkzeug) response."""
    # Content-Length is werkzeug's, from the body; cookies have their own field.
    headers = [
        (k, v)
        for k, v in native.headers.items()
        if k.lower() not in ("set-cookie", "content-length")
    ]
    return HttpResponse(
        native.get_data(),
        native.status_code,
        headers,
        cookies=native.headers.getlist("Set-Cookie"),
    )


# -- neutral → native ------------------------------------------------------------------
def environ(request: HttpRequest) -> dict[str, Any]:
    """The WSGI environ of ``request`` as it reaches functions-framework."""
    from urllib.parse import urlencode, urlsplit

    from werkzeug.test import EnvironBuilder

    ext = request.extensions if request.provider == c.PROVIDER else {}
    url = urlsplit(ext.get("url") or LOCAL_ORIGIN)
    headers = list(request.headers.multi_items())
    if request.cookies and "cookie" not in request.headers:
        headers.append(("Cookie", "; ".join(f"{k}={v}" for k, v in request.cookies.items())))
    builder = EnvironBuilder(
        path=request.path,
        base_url=f"{url.scheme}://{url.netloc}",
        method=request.method,
        query_string=urlencode(request.query.multi_items()),
        headers=headers,
        data=request.body,
        environ_base={"REMOTE_ADDR": ext.get("remote_addr") or request.client_ip or "127.0.0.1"},
    )
    try:
        return builder.get_environ()
    finally:
        builder.close()


def to_native(request: HttpRequest) -> Any:
    """The Flask request a function would get for ``request``."""
    from flask import Request

    return Request(environ(request))
