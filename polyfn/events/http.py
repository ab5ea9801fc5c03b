"""HTTP requests and responses."""

from __future__ import annotations

from typing import Any, ClassVar

from polyfn.events._base import Body, NeutralEvent, json_bytes
from polyfn.events.multidict import Headers, Pairs, QueryParams


class HttpRequest(Body, NeutralEvent):
    """An HTTP request, whichever gateway delivered it."""

    __slots__ = (
        "body",
        "client_ip",
        "cookies",
        "headers",
        "method",
        "path",
        "path_params",
        "query",
        "route",
    )
    KIND: ClassVar[str] = "http"
    fields: ClassVar[tuple[str, ...]] = (
        "method",
        "path",
        "route",
        "path_params",
        "query",
        "headers",
        "cookies",
        "body",
        "client_ip",
    )
    defaults: ClassVar[dict[str, Any]] = {
        "route": None,
        "path_params": dict,
        "query": QueryParams,
        "headers": Headers,
        "cookies": dict,
        "body": b"",
        "client_ip": None,
    }

    def json(self, model: Any = None) -> Any:
        """The body parsed as JSON; with ``model``, validated into that pydantic type. A
        body that is not JSON, or not valid for ``model``, is the client's error: it
        raises HttpError(400) naming the first problem (so the answer is 400, not 500)."""
        try:
            return Body.json(self, model)
        except ValueError as e:  # JSONDecodeError, UnicodeDecodeError, ValidationError
            from polyfn.results import HttpError

            raise HttpError(400, f"invalid request body: {_first_problem(e)}") from e

    method: str
    """Upper-case HTTP method."""
    path: str
    """The request path as the client sent it, without the query string."""
    route: str | None
    """The route template that matched (``/users/{id}``), when known."""
    path_params: dict[str, str]
    query: QueryParams
    headers: Headers
    cookies: dict[str, str]
    body: bytes
    client_ip: str | None

    def __init__(
        self,
        method: str = "GET",
        path: str = "/",
        *,
        route: str | None = None,
        path_params: dict[str, str] | None = None,
        query: QueryParams | Pairs = None,
        headers: Headers | Pairs = None,
        cookies: dict[str, str] | None = None,
        body: bytes | str = b"",
        client_ip: str | None = None,
        provider: str = "local",
        event_source: str = "local:http",
        extensions: dict[str, Any] | None = None,
        native: Any = None,
    ) -> None:
        self.method = method.upper()
        self.path = path
        self.route = route
        self.path_params = path_params or {}
        self.query = query if isinstance(query, QueryParams) else QueryParams(query)
        self.headers = headers if isinstance(headers, Headers) else Headers(headers)
        self.cookies = cookies or {}
        self.body = body.encode() if isinstance(body, str) else body
        self.client_ip = client_ip
        self._init_common(provider, event_source, extensions, native)


class HttpResponse(Body):
    """What an HTTP handler returns. Handlers may also return a dict, list, str, bytes
    or None; :func:`as_response` turns those into an HttpResponse."""

    __slots__ = ("body", "cookies", "headers", "status")

    def __init__(
        self,
        body: bytes | str = b"",
        status: int = 200,
        headers: Headers | Pairs = None,
        cookies: list[str] | None = None,
    ) -> None:
        self.status = status
        self.headers = headers if isinstance(headers, Headers) else Headers(headers)
        self.cookies: list[str] = cookies or []
        """``Set-Cookie`` values, kept apart from headers (they must never be comma-joined)."""
        self.body = body.encode() if isinstance(body, str) else body

    @classmethod
    def from_json(cls, value: Any, status: int = 200, headers: Pairs = None) -> HttpResponse:
        resp = cls(json_bytes(value), status, headers)
        # `in` then set: setdefault would raise and catch a KeyError on every response.
        if "content-type" not in resp.headers:
            resp.headers["content-type"] = "application/json"
        return resp

    @classmethod
    def from_text(cls, value: str, status: int = 200, headers: Pairs = None) -> HttpResponse:
        resp = cls(value.encode(), status, headers)
        if "content-type" not in resp.headers:
            resp.headers["content-type"] = "text/plain; charset=utf-8"
        return resp

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, HttpResponse):
            return NotImplemented
        return (self.status, self.headers, self.cookies, self.body) == (
            other.status,
            other.headers,
            other.cookies,
            other.body,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"HttpResponse(status={self.status}, headers={self.headers!r}, body={self.body!r})"


def as_response(result: Any) -> HttpResponse:
    """Coerce what a handler returned into an HttpResponse."""
    if type(result) is dict:  # the usual case, without the checks below
        return HttpResponse.from_json(result)
    if isinstance(result, HttpResponse):
        return result
    if result is None:
        return HttpResponse(status=204)
    if isinstance(result, bytes):
        return HttpResponse(result, headers={"content-type": "application/octet-stream"})
    if isinstance(result, str):
        return HttpResponse.from_text(result)
    if hasattr(result, "model_dump_json"):  # a pydantic model
        return HttpResponse(
            result.model_dump_json().encode(), headers={"content-type": "application/json"}
        )
    return HttpResponse.from_json(result)


def _first_problem(error: ValueError) -> str:
    errors = getattr(error, "errors", None)  # pydantic's ValidationError
    if callable(errors):
        first = errors(include_url=False)[0]
        where = ".".join(str(part) for part in first.get("loc", ())) or "body"
        return f"{where}: {first.get('msg', '')}"
    return str(error)
