"""HTTP trigger: host payloads (tests/events/azure/http__*) → HttpRequest, and
HttpResponse → func.HttpResponse → what the library's converter sends the host."""

from __future__ import annotations

import azure.functions as func
import pytest
from azure.functions.http import HttpResponseConverter
from azure_host_payloads import decode, invocation, native

from polyfn import MalformedEventError
from polyfn.adapters.azure.functionapp import azure_route
from polyfn.adapters.azure.sources import http
from polyfn.events.http import HttpRequest, HttpResponse


def test_get_with_query_route_and_cookies() -> None:
    obj, binding = native("http__host__get_with_query.json")
    req = http.from_native(obj, binding)
    assert req.method == "GET"
    assert req.path == "/api/orders/42/lines/a/b%20c"  # as sent, escaped
    assert req.route == "/orders/{id}/lines/{rest+}"
    assert req.path_params == {"id": "42", "rest": "a/b c"}
    # Parsed from the URL: repeats and empty values kept (the host's map has neither).
    assert req.query.multi_items() == [("tag", "x"), ("tag", "y"), ("empty", ""), ("q", "café")]
    assert req.query.get_all("tag") == ["x", "y"]
    assert req.headers["Accept"] == "application/json"  # case-insensitive
    assert req.cookies == {"session": "abc123", "theme": "dark"}
    assert req.client_ip == "203.0.113.7"  # port removed
    assert req.body == b""
    assert req.extensions == {
        "url": "https://contoso-fn.azurewebsites.net/api/orders/42/lines/a/b%20c"
        "?tag=x&tag=y&empty=&q=caf%C3%A9"
    }


def test_post_json_from_ipv6() -> None:
    obj, binding = native("http__host__post_json.json")
    req = http.from_native(obj, binding)
    assert (req.method, req.path, req.route) == ("POST", "/api/orders", "/orders")
    assert req.json() == {"sku": "A-1", "qty": 2, "note": "é"}
    assert req.client_ip == "2001:db8::5"
    assert req.path_params == {}


def test_default_route() -> None:
    obj, binding = native("http__host__default_route.json")
    req = http.from_native(obj, binding)
    assert (req.method, req.route, req.client_ip) == ("DELETE", None, None)


def test_route_and_params_are_writable() -> None:
    obj, binding = native("http__host__default_route.json")
    req = http.from_native(obj, binding)
    req.route, req.path_params = "/cleanup/{what}", {"what": "all"}
    assert (req.route, req.path_params) == ("/cleanup/{what}", {"what": "all"})


def test_the_host_query_map_is_rendered_from_the_url() -> None:
    inv, binding = invocation("http__host__get_with_query.json")
    req = http.from_native(decode(inv, binding), binding)
    rendered = http.to_host(req, binding).data.value
    assert {k: d.value for k, d in rendered["query"].items()} == {"tag": "x,y", "q": "café"}
    assert {k: d.value for k, d in rendered["query"].items()} == {
        k: d.value for k, d in inv.data.value["query"].items()
    }
    assert rendered["url"].value == inv.data.value["url"].value


def test_params_that_disagree_with_the_url_are_kept() -> None:
    obj = func.HttpRequest("GET", "http://h/api/x?a=1", params={"a": "2"}, body=b"")
    req = http.from_native(obj, {})
    assert req.query["a"] == "1"
    assert req.extensions["params"] == {"a": "2"}
    assert dict(http.to_native(req, {}).params) == {"a": "2"}


@pytest.mark.parametrize(
    ("azure", "polyfn"),
    [
        ("orders/{id}", "/orders/{id}"),
        ("orders/{id:int}", "/orders/{id}"),
        ("orders/{id:int?}", "/orders/{id}"),
        ("files/{*path}", "/files/{path+}"),
        ("files/{**path}", "/files/{path+}"),
        ("/a/{b:regex(^[a-z]+$)}", "/a/{b}"),
        ("", None),
        (None, None),
    ],
)
def test_routes(azure, polyfn) -> None:
    assert http.polyfn_route(azure) == polyfn


def test_polyfn_routes_round_trip_through_azure_routes() -> None:
    for route in ("/files/{path+}", "/orders/{id}", "/a/b"):
        assert http.polyfn_route(azure_route(route)) == route


@pytest.mark.parametrize(
    ("value", "ip"),
    [
        ("203.0.113.7:51234", "203.0.113.7"),
        ("203.0.113.7", "203.0.113.7"),
        ("203.0.113.7:51234, 10.0.0.1", "203.0.113.7"),
        ("[2001:db8::5]:60211", "2001:db8::5"),
        ("2001:db8::5", "2001:db8::5"),
        ("", None),
        (None, None),
    ],
)
def test_forwarded_for(value, ip) -> None:
    assert http.forwarded_ip(value) == ip


def test_response_with_cookies_and_repeated_headers() -> None:
    resp = HttpResponse.from_json({"ok": True}, 201, [("X-Tag", "a"), ("X-Tag", "b")])
    resp.cookies = ["session=1; Path=/; HttpOnly", "theme=dark; Max-Age=60"]
    native_resp = http.response(resp)
    assert native_resp.status_code == 201
    assert native_resp.headers.get_all("Set-Cookie") == resp.cookies
    assert native_resp.headers["X-Tag"] == "a, b"
    assert http.response_from_native(native_resp) == HttpResponse(
        resp.body,
        201,
        {"content-type": "application/json", "X-Tag": "a, b"},
        resp.cookies,
    )
    # What the library's converter sends the host: every cookie, one value per header.
    datum = HttpResponseConverter.encode(native_resp, expected_type=None)
    sent = datum.value
    assert sent["status_code"].value == "201"
    assert [list(c.keys()) for c in sent["cookies"]] == [["session"], ["theme"]]
    assert sent["headers"]["X-Tag"].value == "a, b"
    assert sent["headers"]["content-type"].value == "application/json"
    assert sent["body"].value == b'{"ok":true}'


def test_set_cookie_headers_are_cookies() -> None:
    resp = HttpResponse(b"", 204, [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])
    native_resp = http.response(resp)
    assert native_resp.headers.get_all("Set-Cookie") == ["a=1", "b=2"]
    assert http.response_from_native(native_resp).cookies == ["a=1", "b=2"]


def test_a_response_without_content_type_is_answered_as_text() -> None:
    datum = HttpResponseConverter.encode(http.response(HttpResponse(b"hi")), expected_type=None)
    assert datum.value["headers"]["content-type"].value == "text/plain; charset=utf-8"


def test_a_string_return_value() -> None:
    assert http.response_from_native("hello") == HttpResponse.from_text("hello")


def test_a_request_without_url_is_malformed() -> None:
    obj = func.HttpRequest("GET", None, body=b"")
    with pytest.raises(MalformedEventError) as err:
        http.from_native(obj, {})
    assert (err.value.provider, err.value.source, err.value.field) == ("azure", "azure:http", "url")


def test_a_local_request_renders_with_a_local_origin() -> None:
    req = HttpRequest("GET", "/api/x", query={"a": "1"})
    obj = http.to_native(req, {})
    assert obj.url == "http://localhost:7071/api/x?a=1"
    assert dict(obj.params) == {"a": "1"}
