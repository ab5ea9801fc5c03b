"""What the four AWS HTTP sources (API Gateway v1/v2, Function URL, ALB) share.

Exact round trips: a native field that a typed neutral field fully determines (``rawPath``,
``headers``, ...) is *derived*: ``to_native`` renders it again from the neutral fields.
When the original differs from that rendering (``"cookies": ["cookie1"]`` renders back as
``"cookie1="``; a v1 ``headers`` map that disagrees with ``multiValueHeaders``), the
extensions keep the original under its own name, and when the original lacked a field the
rendering would add, ``extensions["_absent"]`` lists it. :func:`originals` computes both.

The views derive from :class:`HttpView` (API Gateway v1/v2 through :class:`RoutedView`):
each source supplies what differs, its readers (``_read_headers``, ...) and
``_derived``; the base caches what they return.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from polyfn.events.http import HttpRequest, HttpResponse
from polyfn.events.multidict import Headers, QueryParams

from .. import defaults
from .._fields import malformed, without

# A derived field that AWS omits when it is empty (HTTP API ``cookies``, ``body``, ...).
ABSENT: Any = object()
# Extensions key listing the derived top-level fields the original event did not have.
ABSENT_KEY = "_absent"
# Placeholders for requests that never were on AWS (ids look like AWS's own).
API_ID = "p0lyfn1api"
LOCALHOST = "127.0.0.1"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# -- native → neutral ------------------------------------------------------------------
class HttpView(HttpRequest):
    """Base of the HTTP request views: the native event in ``_e``; ``query``, ``headers``,
    ``cookies``, ``body`` and ``extensions`` are built on first read and kept in slots.

    ``method`` and ``path`` read payload format 1.0 (REST API, ALB); ``route`` and
    ``path_params`` are plain attributes, None / {} for the adapter to fill from the app's
    route (ALB: no routes).
    """

    __slots__ = ("_body", "_cookies", "_e", "_ext", "_headers", "_query")
    provider = "aws"
    event_source: str
    _e: dict[str, Any]
    _query: QueryParams
    _headers: Headers
    _cookies: dict[str, str]
    _body: bytes
    _ext: dict[str, Any]

    def __init__(self, event: dict[str, Any]) -> None:
        self._e = event
        self.route = None
        self.path_params = {}

    # What each source reads its own way (called once; the result is cached).
    def _read_query(self) -> QueryParams:
        raise NotImplementedError

    def _read_headers(self) -> Headers:
        raise NotImplementedError

    def _read_cookies(self) -> dict[str, str]:
        """From the ``Cookie`` header (payload 1.0); HTTP APIs have a ``cookies`` list."""
        return cookies_from_header(self.headers.get_all("cookie"))

    def _derived(self) -> tuple[frozenset[str], dict[str, Any]]:
        """The top-level fields the typed fields stand for, and what the unmodified event
        renders them as (see :func:`originals`)."""
        raise NotImplementedError

    @property
    def method(self) -> str:  # type: ignore[override]
        try:
            return self._e["httpMethod"].upper()
        except KeyError:
            raise malformed(self.event_source, "httpMethod") from None
        except AttributeError:
            raise malformed(self.event_source, "httpMethod", "expected a string") from None

    @property
    def path(self) -> str:  # type: ignore[override]
        try:
            return self._e["path"]
        except KeyError:
            raise malformed(self.event_source, "path") from None

    @property
    def query(self) -> QueryParams:  # type: ignore[override]
        try:
            return self._query
        except AttributeError:
            self._query = q = self._read_query()
            return q

    @property
    def headers(self) -> Headers:  # type: ignore[override]
        try:
            return self._headers
        except AttributeError:
            self._headers = h = self._read_headers()
            return h

    @property
    def cookies(self) -> dict[str, str]:  # type: ignore[override]
        try:
            return self._cookies
        except AttributeError:
            self._cookies = c = self._read_cookies()
            return c

    @property
    def body(self) -> bytes:  # type: ignore[override]
        try:
            return self._body
        except AttributeError:
            self._body = b = decode_body(self._e, self.event_source)
            return b

    @property
    def extensions(self) -> dict[str, Any]:  # type: ignore[override]
        try:
            return self._ext
        except AttributeError:
            pass
        e = self._e
        derived, rendered = self._derived()
        ext = without(e, derived)
        ext.update(originals(e, rendered))
        self._ext = ext
        return ext


class RoutedView(HttpView):
    """An API Gateway view: the event carries the route (``_read_route``) and its
    ``pathParameters``. Both stay writable, for the adapter to replace when the app's
    own route matched a catch-all."""

    __slots__ = ("_pp", "_route")

    def __init__(self, event: dict[str, Any]) -> None:
        self._e = event
        # Read on every invocation (routing), so unset is a marker rather than a raise.
        self._route = self._pp = ABSENT

    def _read_route(self) -> str | None:
        raise NotImplementedError

    @property
    def route(self) -> str | None:  # type: ignore[override]
        route = self._route
        if route is ABSENT:
            self._route = route = self._read_route()
        return route

    @route.setter
    def route(self, value: str | None) -> None:
        self._route = value

    @property
    def path_params(self) -> dict[str, str]:  # type: ignore[override]
        if self._pp is ABSENT:
            params = mapping(self._e, "pathParameters", self.event_source)
            self._pp = dict(params) if params else {}
        return self._pp

    @path_params.setter
    def path_params(self, value: dict[str, str]) -> None:
        self._pp = value


def mapping(event: dict[str, Any], key: str, source: str) -> dict[str, Any] | None:
    """``event[key]`` when it is an object (None when missing or null)."""
    value = event.get(key)
    if value is None or isinstance(value, dict):
        return value
    raise malformed(source, key, f"expected an object, got {type(value).__name__}")


def headers_single(values: dict[str, Any] | None) -> Headers:
    h = Headers()
    if values:
        add = h.add
        for name, value in values.items():
            add(name, value)
    return h


def query_single(values: dict[str, Any] | None) -> QueryParams:
    q = QueryParams()
    if values:
        for name, value in values.items():
            q.add(name, value)
    return q


def cookies_from_header(values: Iterable[str]) -> dict[str, str]:
    """``Cookie: a=1; b=2`` → ``{"a": "1", "b": "2"}`` (API Gateway v1, ALB)."""
    out: dict[str, str] = {}
    for value in values:
        for part in value.split(";"):
            name, _, val = part.partition("=")
            name = name.strip()
            if name:
                out[name] = val.strip()
    return out


def cookies_from_list(values: Iterable[str]) -> dict[str, str]:
    """HTTP API / Function URL ``"cookies": ["a=1", "b=2"]`` → ``{"a": "1", "b": "2"}``."""
    out: dict[str, str] = {}
    for value in values:
        name, _, val = value.partition("=")
        out[name.strip()] = val.strip()
    return out


def decode_body(event: dict[str, Any], source: str) -> bytes:
    raw = event.get("body")
    if not raw:
        return b""
    if not isinstance(raw, str):
        raise malformed(source, "body", f"expected a string, got {type(raw).__name__}")
    if event.get("isBase64Encoded"):
        # Strict: a body flagged base64 that is not base64 is a broken event, and guessing
        # "it was text after all" would hand corrupted bytes to binary handlers.
        try:
            return base64.b64decode(raw, validate=True)
        except binascii.Error:
            raise malformed(
                source, "body", "isBase64Encoded is true but the body is not valid base64"
            ) from None
    return raw.encode("utf-8")


def first_hop(forwarded: str | None) -> str | None:
    """The client address of an ``X-Forwarded-For`` list (its first entry)."""
    if not forwarded:
        return None
    return forwarded.split(",", 1)[0].strip() or None


# -- neutral → native ------------------------------------------------------------------
def same_source(request: HttpRequest, event_source: str) -> bool:
    """True when the request came from this very source, so its extensions apply."""
    return request.provider == "aws" and request.event_source == event_source


def render_body(body: bytes, flag: Any) -> tuple[str, bool]:
    """A request body as (text, isBase64Encoded); ``flag``: the original's isBase64Encoded."""
    if flag is not True:
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode("ascii"), True


def originals(event: dict[str, Any], rendered: dict[str, Any]) -> dict[str, Any]:
    """The derived fields of ``event`` that ``rendered`` does not reproduce, kept verbatim."""
    out: dict[str, Any] = {}
    absent = []
    for key, value in rendered.items():
        orig = event.get(key, ABSENT)
        if orig is ABSENT:
            if value is not ABSENT:
                absent.append(key)
        elif value is ABSENT or orig != value:
            out[key] = orig
    if absent:
        out[ABSENT_KEY] = absent
    return out


def assemble(rendered: dict[str, Any], ext: dict[str, Any]) -> dict[str, Any]:
    """The native event: derived fields, then the extensions (which win)."""
    out = {k: v for k, v in rendered.items() if v is not ABSENT}
    out.update(ext)
    for key in out.pop(ABSENT_KEY, None) or ():
        out.pop(key, None)
    return out


def multi_lower(headers: Headers) -> dict[str, list[str]]:
    """Header names lower-cased, as HTTP APIs, Function URLs and ALBs deliver them."""
    return {name.lower(): values for name, values in headers.to_multi().items()}


def with_cookie_header(
    multi: dict[str, list[str]], cookies: dict[str, str], name: str = "Cookie"
) -> dict[str, list[str]]:
    """Sources that carry cookies in the ``Cookie`` header: add it when only ``cookies`` has
    them (a request built by hand)."""
    if cookies and not any(k.lower() == "cookie" for k in multi):
        multi = {**multi, name: ["; ".join(f"{k}={v}" for k, v in cookies.items())]}
    return multi


def request_time(now: datetime) -> str:
    """API Gateway's ``requestTime``: ``10/Mar/2020:00:03:59 +0000`` (locale-independent)."""
    now = now.astimezone(UTC)
    return f"{now.day:02d}/{_MONTHS[now.month - 1]}/{now.year}:{now:%H:%M:%S} +0000"


def epoch_ms(now: datetime) -> int:
    return round(now.timestamp() * 1000)


def request_id() -> str:
    """An HTTP API style request id (``JKJaXmPLvHcESHA=``)."""
    return base64.urlsafe_b64encode(os.urandom(11)).decode("ascii")


def uuid_id() -> str:
    return str(defaults.uuid4())


# -- responses -------------------------------------------------------------------------
def is_textual(content_type: str) -> bool:
    ct = content_type.lower()
    return (
        ct.startswith("text/")
        or "json" in ct
        or "xml" in ct
        or "javascript" in ct
        or "x-www-form-urlencoded" in ct
    )


def response_body(resp: HttpResponse) -> tuple[str, bool]:
    """(body, isBase64Encoded): text for textual content types (or none, when the body is
    UTF-8), base64 otherwise."""
    body = resp.body
    if not body:
        return "", False
    ct = resp.headers.get("content-type")
    if ct is None or is_textual(ct):
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode("ascii"), True


def split_cookies(resp: HttpResponse) -> tuple[dict[str, list[str]], list[str]]:
    """The response headers without ``Set-Cookie``, and every cookie to set (those in
    ``resp.cookies`` and any a handler put in the headers)."""
    multi = resp.headers.to_multi()
    cookies = resp.cookies
    if "set-cookie" in resp.headers:
        cookies = list(cookies)
        for name in [n for n in multi if n.lower() == "set-cookie"]:
            cookies.extend(multi.pop(name))
    return multi, cookies


def decode_response_body(native: dict[str, Any]) -> bytes:
    body = native.get("body") or ""
    if not isinstance(body, str):
        # Lambda serialises whatever the function returned; keep its JSON text.
        return json.dumps(body).encode()
    if native.get("isBase64Encoded"):
        return base64.b64decode(body)
    return body.encode("utf-8")


def cookies_out_of(headers: Headers) -> list[str]:
    """Pop the ``Set-Cookie`` values out of parsed response headers."""
    cookies = headers.get_all("set-cookie")
    if cookies:
        del headers["set-cookie"]
    return cookies


@functools.cache
def status_line(status: int) -> str:
    """``200 OK`` (ALB's ``statusDescription``)."""
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def case_variants(name: str, count: int) -> list[str]:
    """``count`` spellings of ``name`` differing only in case (``set-cookie``, ``Set-cookie``,
    ...): ALB's single-value headers mode cannot repeat a header, but header names are
    case-insensitive, so each cookie gets its own spelling."""
    letters = [i for i, c in enumerate(name) if c.isalpha()]
    if count > 2 ** len(letters):
        raise ValueError(f"cannot send {count} {name} headers in ALB single-value mode")
    out = []
    for n in range(count):
        chars = list(name.lower())
        for bit, pos in enumerate(letters):
            if n >> bit & 1:
                chars[pos] = chars[pos].upper()
        out.append("".join(chars))
    return out
