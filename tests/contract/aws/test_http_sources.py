"""The four AWS HTTP sources against AWS's published sample events.

Sources: tests/events/aws/apigw_v1__*, apigw_v2__*, lambda_url__*, alb__* (SAM CLI
generate-event, Powertools test events, aws-lambda-go testdata, Lambda developer guide);
provenance in tests/events/aws/PROVENANCE.md.

Two upstream quirks, both documented in PROVENANCE.md:

- ``apigw_v1__powertools__apiGatewayProxyEventAnotherPath.json`` and
  ``apigw_v1__powertools__apiGatewayProxyEvent_noVersionAuth.json`` flag
  ``isBase64Encoded: true`` on the body ``Hello from Lambda!``, which is not base64. polyfn
  is strict (reading ``body`` raises MalformedEventError naming ``body``), so their round
  trip is checked after one normalisation: the body is base64-encoded as API Gateway would
  have sent it.
- ``lambda_url__powertools__lambdaFunctionUrlEventWithHeaders.json`` has
  ``queryStringParameters`` but an empty ``rawQueryString``; the query is read from
  ``rawQueryString`` (as API Gateway builds the map from it), so the map is kept verbatim
  in the extensions and the round trip stays exact.
"""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest
from conftest import aws_event_files, load_event

from polyfn import App, HttpRequest, HttpResponse, MalformedEventError
from polyfn.adapters.aws import from_native, handler, to_native
from polyfn.adapters.aws.sources import alb, apigateway_v1, apigateway_v2, function_url
from polyfn.adapters.aws.translate import response_from_native, response_to_native, source_of
from polyfn.events.multidict import Headers

V1_FILES = aws_event_files("apigw_v1")
V2_FILES = aws_event_files("apigw_v2")
URL_FILES = aws_event_files("lambda_url")
ALB_FILES = aws_event_files("alb")
ALL_FILES = V1_FILES + V2_FILES + URL_FILES + ALB_FILES
BAD_BASE64 = {
    "apigw_v1__powertools__apiGatewayProxyEventAnotherPath.json",
    "apigw_v1__powertools__apiGatewayProxyEvent_noVersionAuth.json",
}
PT_QUERY = [("parameter1", "value1"), ("parameter1", "value2"), ("parameter2", "value")]
DEVGUIDE_COOKIES = {"s_fid": "7AABXMPL1AFD9BBF-0643XMPL09956DE2", "regStatus": "pre-register"}
CRLF_JSON = b'{\r\n\t"a": 1\r\n}'
SAM_BODY = b'{"test":"body"}'


MODULES = {
    "apigateway-v1": apigateway_v1,
    "apigateway-v2": apigateway_v2,
    "function-url": function_url,
    "alb": alb,
}


def source_key(name: str) -> str:
    prefix = name.split("__", 1)[0]
    return {
        "apigw_v1": "apigateway-v1",
        "apigw_v2": "apigateway-v2",
        "lambda_url": "function-url",
        "alb": "alb",
    }[prefix]


# -- recognition -----------------------------------------------------------------------
@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_sample_is_recognised(path):
    key = source_key(path.name)
    event = load_event(path)
    assert source_of(event) == key
    request = from_native(event)
    assert isinstance(request, HttpRequest)
    assert request.provider == "aws"
    assert request.event_source == "aws:" + key
    assert request.KIND == "http"
    assert request.native is event


# -- native → neutral: every sample's values, read off the files ------------------------
# file → (method, path, route, path_params, query pairs, cookies, body, client_ip,
#         {header: all values})
EXPECTED: dict[str, tuple[Any, ...]] = {
    "apigw_v1__devguide__nodejs-apig-event.json": (
        "GET",
        "/",
        "/",
        {},
        [],
        DEVGUIDE_COOKIES,
        b"",
        "52.255.255.12",
        # The multi-value map wins over the (disagreeing) single-value one.
        {"host": ["70ixmpl4fl.execute-api.ca-central-1.amazonaws.com"]},
    ),
    "apigw_v1__lambda-go__apigw-request.json": (
        "POST",
        "/hello/world",
        "/{proxy+}",
        {"proxy": "hello/world"},
        [("name", "me")],
        {},
        CRLF_JSON,
        "192.168.196.186",
        {"x-forwarded-for": ["54.240.196.186, 54.182.214.83"], "headername": ["headerValue"]},
    ),
    "apigw_v1__powertools__apiGatewayProxyEvent.json": (
        "GET",
        "/my/path",
        "/my/path",
        {},
        PT_QUERY,
        {},
        b"Hello from Lambda!",
        "192.168.0.1/32",
        {"header2": ["value1", "value2"], "origin": ["https://aws.amazon.com"]},
    ),
    "apigw_v1__powertools__apiGatewayProxyEventAnotherPath.json": (
        "GET",
        "/my/anotherPath",
        "/my/anotherPath",
        {},
        PT_QUERY,
        {},
        MalformedEventError,
        "192.168.0.1/32",
        {"header2": ["value1", "value2"]},
    ),
    "apigw_v1__powertools__apiGatewayProxyEvent_noVersionAuth.json": (
        "GET",
        "/my/path",
        "/my/path",
        {},
        PT_QUERY,
        {},
        MalformedEventError,
        "192.168.0.1/32",
        {"header1": ["value1"]},
    ),
    "apigw_v1__samcli__aws-proxy.json": (
        "POST",
        "/path/to/resource",
        "/{proxy+}",
        {"proxy": "/path/to/resource"},
        [("foo", "bar")],
        {},
        SAM_BODY,
        "127.0.0.1",
        {"host": ["0123456789.execute-api.us-east-1.amazonaws.com"]},
    ),
    "apigw_v2__devguide__nodejs-apig-event-v2.json": (
        "GET",
        "/default/nodejs-apig-function-1G3XMPLZXVXYI",
        "/nodejs-apig-function-1G3XMPLZXVXYI",
        {},
        [],
        DEVGUIDE_COOKIES,
        b"",
        "205.255.255.176",
        {"content-length": ["0"]},
    ),
    "apigw_v2__lambda-go__apigw-v2-request-no-authorizer.json": (
        "GET",
        "/",
        None,
        {},
        [],
        {},
        b"",
        "1.2.3.4",
        {"user-agent": ["curl/7.58.0"]},
    ),
    "apigw_v2__powertools__apiGatewayProxyV2Event.json": (
        "POST",
        "/my/path",
        None,
        {"parameter1": "value1"},
        PT_QUERY,
        {"cookie1": "", "cookie2": ""},
        b'{"message": "hello world", "username": "tom"}',
        "192.168.0.1/32",
        {"header2": ["value1,value2"]},  # comma-joined: one value
    ),
    "apigw_v2__powertools__apiGatewayProxyV2Event_GET.json": (
        "GET",
        "/my/path",
        None,
        {"parameter1": "value1"},
        PT_QUERY,
        {"cookie1": "", "cookie2": ""},
        b"",
        "192.168.0.1/32",
        {"header1": ["value1"]},
    ),
    "apigw_v2__powertools__apiGatewayProxyV2IamEvent.json": (
        "GET",
        "/my/path",
        None,
        {"proxy": "hello/world"},
        PT_QUERY,
        {"cookie1": "", "cookie2": ""},
        CRLF_JSON,
        "192.168.0.1/32",
        {"header2": ["value2"]},
    ),
    "apigw_v2__powertools__apiGatewayProxyV2LambdaAuthorizerEvent.json": (
        "GET",
        "/my/path",
        None,
        {"proxy": "hello/world"},
        PT_QUERY,
        {"cookie1": "", "cookie2": ""},
        CRLF_JSON,
        "192.168.0.1/32",
        {"header1": ["value1"]},
    ),
    "apigw_v2__samcli__http-api-proxy.json": (
        "POST",
        "/path/to/resource",
        None,
        {"parameter1": "value1"},
        PT_QUERY,
        {"cookie1": "", "cookie2": ""},
        SAM_BODY,
        "192.168.0.1/32",
        {"header2": ["value1,value2"]},
    ),
    "lambda_url__lambda-go__lambda-urls-request.json": (
        "POST",
        "/my/path",
        None,
        {},
        PT_QUERY,
        {"cookie1": "", "cookie2": ""},
        b"Hello from client!",
        "123.123.123.123",
        {"header2": ["value1,value2"]},
    ),
    "lambda_url__powertools__lambdaFunctionUrlEvent.json": (
        "GET",
        "/",
        None,
        {},
        [],
        {},
        b"",
        "123.123.123.123",
        {"x-amzn-tls-version": ["TLSv1.2"]},
    ),
    "lambda_url__powertools__lambdaFunctionUrlEventWithHeaders.json": (
        "GET",
        "/",
        None,
        {},
        [],
        {},
        b"",
        "123.123.123.123",
        {"header2": ["value1,value2"]},
    ),
    "lambda_url__powertools__lambdaFunctionUrlIAMEvent.json": (
        "POST",
        "/my/path",
        None,
        {},
        PT_QUERY,
        {"cookie1": "", "cookie2": ""},
        b"Hello from client!",
        "123.123.123.123",
        {"header1": ["value1"]},
    ),
    "alb__lambda-go__alb-lambda-target-request-headers-only.json": (
        "GET",
        "/",
        None,
        {},
        [("key", "hello")],
        {},
        b"",
        "25.12.198.67",
        {"x-myheader": ["123"]},
    ),
    "alb__lambda-go__alb-lambda-target-request-multivalue-headers.json": (
        "GET",
        "/",
        None,
        {},
        [("key", "hello")],
        {},
        b"",
        "72.21.198.67",
        {"x-myheader": ["123"]},
    ),
    "alb__powertools__albEvent.json": (
        "GET",
        "/lambda",
        None,
        {},
        [("query", "1234ABCD")],
        {},
        b"Test",
        "72.12.164.125",
        {"x-imforwards": ["20"]},
    ),
    "alb__powertools__albMultiValueHeadersEvent.json": (
        "GET",
        "/todos",
        None,
        {},
        [],
        {},
        b"",
        "123.123.123.123",
        {"user-agent": ["curl/7.79.1"]},
    ),
    "alb__powertools__albMultiValueQueryStringEvent.json": (
        "GET",
        "/todos",
        None,
        {},
        PT_QUERY,
        {},
        b"",
        "123.123.123.123",
        {"header2": ["value1", "value2"]},
    ),
    "alb__samcli__request.json": (
        "POST",
        "/path/to/resource",
        None,
        {},
        [("query", "1234ABCD")],
        {},
        SAM_BODY,
        "72.12.164.125",
        {"accept-encoding": ["gzip"]},
    ),
}


def test_every_sample_has_expectations():
    assert sorted(EXPECTED) == sorted(p.name for p in ALL_FILES)


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_from_native_reads_the_sample(path):
    method, route_path, route, params, query, cookies, body, ip, headers = EXPECTED[path.name]
    event = load_event(path)
    req = from_native(event)
    assert req.method == method
    assert req.path == route_path
    assert req.route == route
    assert req.path_params == params
    assert req.query.multi_items() == query
    assert req.cookies == cookies
    assert req.client_ip == ip
    for name, values in headers.items():
        assert req.headers.get_all(name) == values
        assert req.headers.get_all(name.upper()) == values  # case-insensitive
    if body is MalformedEventError:
        with pytest.raises(MalformedEventError) as err:
            _ = req.body
        assert (err.value.provider, err.value.source, err.value.field) == (
            "aws",
            req.event_source,
            "body",
        )
    else:
        assert req.body == body


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_headers_are_every_native_header(path):
    event = load_event(path)
    req = from_native(event)
    native = event.get("multiValueHeaders") or event.get("headers")
    assert req.headers == Headers(native)
    assert len(req.headers) == len(native)


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_unmapped_fields_are_in_extensions(path):
    event = normalised(path.name, load_event(path))
    ext = from_native(event).extensions
    assert ext["requestContext"] == event["requestContext"]
    for name in ("stageVariables", "version", "isBase64Encoded"):
        if name in event:
            assert ext[name] == event[name]


def test_v1_single_value_maps_that_disagree_are_kept():
    # The devguide sample's "headers" has another Cookie and Host than its
    # multiValueHeaders; Powertools' single-value query keeps the first value, not the last.
    event = load_event("apigw_v1__devguide__nodejs-apig-event.json")
    assert from_native(event).extensions["headers"] == event["headers"]
    event = load_event("apigw_v1__powertools__apiGatewayProxyEvent.json")
    ext = from_native(event).extensions
    assert ext["queryStringParameters"] == {"parameter1": "value1", "parameter2": "value"}
    assert "headers" not in ext  # consistent with the multi-value map: derived, not stored


def test_v2_route_key_and_cookies_without_values():
    event = load_event("apigw_v2__devguide__nodejs-apig-event-v2.json")
    ext = from_native(event).extensions
    assert ext["routeKey"] == "ANY /nodejs-apig-function-1G3XMPLZXVXYI"  # ANY ≠ GET
    event = load_event("apigw_v2__powertools__apiGatewayProxyV2Event.json")
    assert from_native(event).extensions["cookies"] == ["cookie1", "cookie2"]


def test_function_url_keeps_route_key_and_path_parameters_in_extensions():
    event = load_event("lambda_url__powertools__lambdaFunctionUrlIAMEvent.json")
    req = from_native(event)
    assert req.route is None and req.path_params == {}
    assert req.extensions["routeKey"] == "$default"
    assert req.extensions["pathParameters"] is None
    assert req.extensions["requestContext"]["authorizer"]["iam"]["userId"] == "AIDA..."
    event = load_event("lambda_url__powertools__lambdaFunctionUrlEventWithHeaders.json")
    assert from_native(event).extensions["queryStringParameters"] == {
        "parameter1": "value1,value2",
        "parameter2": "value",
    }


def test_alb_query_is_url_decoded():
    event = load_event("alb__powertools__albEvent.json")
    event["queryStringParameters"] = {"q": "a%20b%2Bc", "x+y": "%E2%9C%93", "plain": "v"}
    req = from_native(event)
    assert req.query.multi_items() == [("q", "a b+c"), ("x y", "✓"), ("plain", "v")]
    assert to_native(req) == event


def test_apigateway_v1_query_is_taken_as_decoded():
    event = load_event("apigw_v1__lambda-go__apigw-request.json")
    event["queryStringParameters"] = {"q": "a%20b"}
    event["multiValueQueryStringParameters"] = {"q": ["a%20b"]}
    assert from_native(event).query["q"] == "a%20b"  # API Gateway already decoded it


def test_route_and_path_params_are_writable():
    for name in (
        "apigw_v2__lambda-go__apigw-v2-request-no-authorizer.json",
        "lambda_url__powertools__lambdaFunctionUrlEvent.json",
        "alb__powertools__albEvent.json",
        "apigw_v1__devguide__nodejs-apig-event.json",
    ):
        req = from_native(load_event(name))
        req.route = "/items/{id}"
        req.path_params = {"id": "9"}
        assert (req.route, req.path_params) == ("/items/{id}", {"id": "9"})


# -- round trips -----------------------------------------------------------------------
def normalised(name: str, event: dict[str, Any]) -> dict[str, Any]:
    """The one normalisation (see the module docstring): base64-encode a body flagged
    base64 that is not."""
    if name in BAD_BASE64:
        event = copy.deepcopy(event)
        event["body"] = base64.b64encode(event["body"].encode()).decode()
    return event


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_round_trip_is_exact(path):
    event = normalised(path.name, load_event(path))
    original = copy.deepcopy(event)
    request = from_native(event)
    assert to_native(request) == original
    assert event == original  # reading did not mutate the native event
    # Through the named source too, and on a fresh view (no cached fields).
    mod = MODULES[source_key(path.name)]
    assert mod.to_native(mod.from_native(event)) == original


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_round_trip_after_reading_every_field(path):
    event = normalised(path.name, load_event(path))
    request = from_native(event)
    request.values()
    _ = request.extensions
    assert to_native(request) == event


def test_hand_written_events_missing_fields_round_trip():
    # Test events written by hand often leave out fields AWS always sends.
    v2 = load_event("apigw_v2__lambda-go__apigw-v2-request-no-authorizer.json")
    del v2["rawQueryString"], v2["headers"]
    req = from_native(v2)
    assert req.extensions["_absent"] == ["rawQueryString", "headers"]
    assert to_native(req) == v2
    v1 = load_event("apigw_v1__lambda-go__apigw-request.json")
    del v1["multiValueHeaders"], v1["multiValueQueryStringParameters"]
    req = from_native(v1)
    assert req.headers["x-forwarded-port"] == "443"
    assert req.query.multi_items() == [("name", "me")]
    assert to_native(req) == v1


def test_modified_request_renders_the_modification():
    event = load_event("apigw_v2__powertools__apiGatewayProxyV2Event.json")
    req = from_native(event)
    req.headers["x-new"] = "1"
    req.query.add("extra", "a b")
    native = to_native(req)
    assert native["headers"]["x-new"] == "1"
    assert native["rawQueryString"].endswith("&extra=a+b")
    assert native["queryStringParameters"]["extra"] == "a b"
    assert from_native(native).query.get_all("extra") == ["a b"]


def test_binary_body_round_trips():
    payload = bytes(range(256))
    for name in (
        "apigw_v1__samcli__aws-proxy.json",
        "apigw_v2__samcli__http-api-proxy.json",
        "alb__samcli__request.json",
        "lambda_url__lambda-go__lambda-urls-request.json",
    ):
        event = load_event(name)
        event["body"] = base64.b64encode(payload).decode()
        event["isBase64Encoded"] = True
        req = from_native(event)
        assert req.body == payload
        assert to_native(req) == event


# -- local requests → native → neutral ---------------------------------------------------
def local_request(**overrides: Any) -> HttpRequest:
    fields: dict[str, Any] = {
        "route": "/pets/{id}",
        "path_params": {"id": "7"},
        "query": [("tag", "a"), ("tag", "b"), ("q", "x y&z=1")],
        "headers": {"Content-Type": "application/json", "User-Agent": "test/1.0"},
        "cookies": {},
        "body": b'{"name": "rex"}',
        "client_ip": "203.0.113.9",
    }
    fields.update(overrides)
    return HttpRequest("POST", "/pets/7", **fields)


def same_neutral(a: HttpRequest, b: HttpRequest) -> None:
    assert a.values() == b.values(), (a, b)
    assert a == b


def test_local_request_to_apigateway_v1_and_back():
    local = local_request(
        headers={"Content-Type": "text/plain", "X-Multi": ["1", "2"], "Cookie": "sid=abc; t=d"},
        cookies={"sid": "abc", "t": "d"},
    )
    native = to_native(local, source="apigateway-v1")
    assert native["httpMethod"] == "POST"
    assert native["resource"] == "/pets/{id}"
    assert native["multiValueHeaders"]["X-Multi"] == ["1", "2"]
    assert native["headers"]["X-Multi"] == "2"  # last value, like API Gateway
    assert native["multiValueQueryStringParameters"]["tag"] == ["a", "b"]
    assert native["queryStringParameters"] == {"tag": "b", "q": "x y&z=1"}
    assert native["requestContext"]["identity"]["sourceIp"] == "203.0.113.9"
    assert native["requestContext"]["stage"] == "$default"
    assert native["requestContext"]["requestId"]
    assert native["requestContext"]["accountId"] == "123456789012"
    assert native["isBase64Encoded"] is False and native["body"] == '{"name": "rex"}'
    assert source_of(native) == "apigateway-v1"
    same_neutral(from_native(native), local)


def test_local_request_to_apigateway_v2_and_back():
    local = local_request(cookies={"sid": "abc", "theme": "dark"})
    native = to_native(local)  # HTTP requests default to the HTTP API
    assert native["version"] == "2.0"
    assert native["routeKey"] == "POST /pets/{id}"
    assert native["rawQueryString"] == "tag=a&tag=b&q=x+y%26z%3D1"
    assert native["queryStringParameters"] == {"tag": "a,b", "q": "x y&z=1"}
    assert native["cookies"] == ["sid=abc", "theme=dark"]
    assert native["headers"] == {"content-type": "application/json", "user-agent": "test/1.0"}
    assert native["pathParameters"] == {"id": "7"}
    ctx = native["requestContext"]
    assert ctx["http"] == {
        "method": "POST",
        "path": "/pets/7",
        "protocol": "HTTP/1.1",
        "sourceIp": "203.0.113.9",
        "userAgent": "test/1.0",
    }
    assert ctx["stage"] == "$default" and ctx["routeKey"] == "POST /pets/{id}"
    assert ctx["requestId"] and ctx["timeEpoch"] > 0 and ctx["time"].endswith(" +0000")
    assert source_of(native) == "apigateway-v2"
    same_neutral(from_native(native), local)


def test_local_request_to_function_url_and_back():
    local = local_request(route=None, path_params={}, cookies={"sid": "abc"})
    native = to_native(local, source="function-url")
    assert native["routeKey"] == "$default"
    assert ".lambda-url." in native["requestContext"]["domainName"]
    assert "pathParameters" not in native
    assert source_of(native) == "function-url"
    back = from_native(native)
    assert back.event_source == "aws:function-url"
    same_neutral(back, local)


@pytest.mark.parametrize("multi_value", [False, True])
def test_local_request_to_alb_and_back(multi_value):
    local = local_request(
        route=None,
        path_params={},
        query=[("q", "x y&z=1"), ("k", "✓")] + ([("k", "2")] if multi_value else []),
        headers={"X-Forwarded-For": "203.0.113.9", "Cookie": "sid=abc"},
        cookies={"sid": "abc"},
    )
    native = to_native(local, source="alb", multi_value=multi_value)
    assert native["requestContext"]["elb"]["targetGroupArn"].startswith(
        "arn:aws:elasticloadbalancing:"
    )
    if multi_value:
        assert native["multiValueQueryStringParameters"] == {
            "q": ["x+y%26z%3D1"],
            "k": ["%E2%9C%93", "2"],
        }
        assert native["multiValueHeaders"]["x-forwarded-for"] == ["203.0.113.9"]
        assert "headers" not in native
    else:
        assert native["queryStringParameters"] == {"q": "x+y%26z%3D1", "k": "%E2%9C%93"}
        assert native["headers"]["cookie"] == "sid=abc"
        assert "multiValueHeaders" not in native
    assert source_of(native) == "alb"
    same_neutral(from_native(native), local)


def test_local_request_fills_in_what_the_source_carries_elsewhere():
    # ALB knows the client only from X-Forwarded-For, API Gateway v1 cookies only from the
    # Cookie header: a request without them gets them added.
    local = HttpRequest("GET", "/", client_ip="198.51.100.1", cookies={"a": "1"})
    assert from_native(to_native(local, source="alb")).client_ip == "198.51.100.1"
    v1 = to_native(local, source="apigateway-v1")
    assert v1["headers"]["Cookie"] == "a=1"
    assert from_native(v1).cookies == {"a": "1"}
    # A v1 request without a route went through a greedy proxy resource.
    native = to_native(HttpRequest("GET", "/a/b"), source="apigateway-v1")
    assert native["resource"] == "/{proxy+}"
    assert native["pathParameters"] == {"proxy": "a/b"}
    assert native["body"] is None and native["multiValueQueryStringParameters"] is None


def test_local_binary_body_is_base64():
    local = local_request(body=b"\x89PNG\x00\xff")
    for source in MODULES:
        native = to_native(local, source=source)
        assert native["isBase64Encoded"] is True, source
        assert base64.b64decode(native["body"]) == b"\x89PNG\x00\xff"
        assert from_native(native).body == b"\x89PNG\x00\xff"


def test_other_providers_extensions_are_not_merged():
    foreign = HttpRequest(
        "GET",
        "/x",
        provider="gcp",
        event_source="gcp:http",
        extensions={"trace": "abc", "requestContext": {"bogus": True}},
    )
    for source in MODULES:
        native = to_native(foreign, source=source)
        assert "trace" not in native
        assert "bogus" not in native["requestContext"]
    # An HTTP API request rendered as a REST API event: v2-only fields stay out.
    v2 = from_native(load_event("apigw_v2__powertools__apiGatewayProxyV2Event.json"))
    v1 = to_native(v2, source="apigateway-v1")
    assert "rawQueryString" not in v1 and "routeKey" not in v1
    assert v1["multiValueQueryStringParameters"] == {
        "parameter1": ["value1", "value2"],
        "parameter2": ["value"],
    }
    assert source_of(v1) == "apigateway-v1"


# -- responses -------------------------------------------------------------------------
def sample_response() -> HttpResponse:
    return HttpResponse(
        b'{"ok":true}',
        201,
        headers=[("Content-Type", "application/json"), ("X-Multi", "a"), ("X-Multi", "b")],
        cookies=["sid=abc; Path=/; HttpOnly", "theme=dark"],
    )


def test_apigateway_v1_response():
    event = load_event("apigw_v1__lambda-go__apigw-request.json")
    out = response_to_native(sample_response(), event)
    assert out == {
        "statusCode": 201,
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {
            "X-Multi": ["a", "b"],
            "Set-Cookie": ["sid=abc; Path=/; HttpOnly", "theme=dark"],
        },
        "body": '{"ok":true}',
        "isBase64Encoded": False,
    }
    assert response_from_native(out, "apigateway-v1") == sample_response()


@pytest.mark.parametrize("source", ["apigateway-v2", "function-url"])
def test_http_api_and_function_url_response(source):
    name = {
        "apigateway-v2": "apigw_v2__samcli__http-api-proxy.json",
        "function-url": "lambda_url__lambda-go__lambda-urls-request.json",
    }[source]
    out = response_to_native(sample_response(), load_event(name))
    assert out == {
        "statusCode": 201,
        "headers": {"Content-Type": "application/json", "X-Multi": "a,b"},
        "cookies": ["sid=abc; Path=/; HttpOnly", "theme=dark"],
        "body": '{"ok":true}',
        "isBase64Encoded": False,
    }
    back = response_from_native(out, source)
    assert back.cookies == ["sid=abc; Path=/; HttpOnly", "theme=dark"]
    assert back.headers.get_all("x-multi") == ["a,b"]  # 2.0 joins repeated headers
    assert back.body == b'{"ok":true}' and back.status == 201


def test_alb_response_single_value_mode():
    event = load_event("alb__powertools__albEvent.json")
    out = response_to_native(sample_response(), event)
    assert out["statusCode"] == 201
    assert out["statusDescription"] == "201 Created"
    assert "multiValueHeaders" not in out
    headers = out["headers"]
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Multi"] == "a, b"
    # Two cookies, two spellings of Set-Cookie (header names are case-insensitive).
    cookie_names = [n for n in headers if n.lower() == "set-cookie"]
    assert len(cookie_names) == 2
    assert sorted(headers[n] for n in cookie_names) == ["sid=abc; Path=/; HttpOnly", "theme=dark"]
    back = response_from_native(out, "alb")
    assert sorted(back.cookies) == ["sid=abc; Path=/; HttpOnly", "theme=dark"]
    assert "set-cookie" not in back.headers


def test_alb_response_multi_value_mode():
    event = load_event("alb__powertools__albMultiValueHeadersEvent.json")
    out = response_to_native(sample_response(), event)
    assert out == {
        "statusCode": 201,
        "statusDescription": "201 Created",
        "multiValueHeaders": {
            "Content-Type": ["application/json"],
            "X-Multi": ["a", "b"],
            "Set-Cookie": ["sid=abc; Path=/; HttpOnly", "theme=dark"],
        },
        "body": '{"ok":true}',
        "isBase64Encoded": False,
    }
    assert response_from_native(out, "alb") == sample_response()


@pytest.mark.parametrize("source", list(MODULES))
def test_response_body_encoding(source):
    mod = MODULES[source]
    event: dict[str, Any] = {}
    png = HttpResponse(b"\x89PNG\r\n\x1a\n\x00", headers={"content-type": "image/png"})
    out = mod.response(png, event)
    assert out["isBase64Encoded"] is True
    assert base64.b64decode(out["body"]) == b"\x89PNG\r\n\x1a\n\x00"
    assert mod.response_from_native(out).body == png.body
    # Textual content types, and no content type with a UTF-8 body: text.
    for ct in (
        "text/html; charset=utf-8",
        "application/problem+json",
        "application/xml",
        "application/javascript",
        "application/x-www-form-urlencoded",
        None,
    ):
        resp = HttpResponse("héllo", headers={"content-type": ct} if ct else None)
        out = mod.response(resp, event)
        assert (out["body"], out["isBase64Encoded"]) == ("héllo", False), ct
    # No content type and not UTF-8; "text" that is not UTF-8: base64.
    for headers in (None, {"content-type": "text/plain; charset=latin-1"}):
        out = mod.response(HttpResponse(b"\xe9t\xe9", headers=headers), event)
        assert out["isBase64Encoded"] is True
        assert mod.response_from_native(out).body == b"\xe9t\xe9"
    # Binary octet-stream that happens to be ASCII still goes base64.
    out = mod.response(
        HttpResponse(b"abc", headers={"content-type": "application/octet-stream"}), event
    )
    assert (out["body"], out["isBase64Encoded"]) == ("YWJj", True)
    empty = mod.response(HttpResponse(status=204), event)
    assert (empty["statusCode"], empty["body"], empty["isBase64Encoded"]) == (204, "", False)


def test_set_cookie_put_in_headers_still_goes_apart():
    resp = HttpResponse("x", headers=[("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])
    out = apigateway_v2.response(resp, {})
    assert out["cookies"] == ["a=1", "b=2"]
    assert "Set-Cookie" not in out["headers"]
    out = apigateway_v1.response(resp, {})
    assert out["multiValueHeaders"]["Set-Cookie"] == ["a=1", "b=2"]


def test_http_api_response_from_plain_json():
    # Payload 2.0 lets a function return any JSON: API Gateway answers 200 application/json.
    back = apigateway_v2.response_from_native({"hello": "world"})
    assert back.status == 200
    assert back.headers["content-type"] == "application/json"
    assert json.loads(back.body) == {"hello": "world"}


# -- end to end through handler(app) --------------------------------------------------------
def build_app() -> App:
    app = App("pets")

    def echo(fn_name: str):
        def handler_fn(req: HttpRequest, ctx: Any) -> dict[str, Any]:
            return {
                "fn": fn_name,
                "method": req.method,
                "path": req.path,
                "route": req.route,
                "params": req.path_params,
                "query": req.query.multi_items(),
                "cookies": req.cookies,
                "body": base64.b64encode(req.body).decode(),
                "client_ip": req.client_ip,
                "source": req.event_source,
            }

        return handler_fn

    @app.get("/pets/{id}")
    def get_pet(req: HttpRequest) -> HttpResponse:
        return _pet_response(req)

    for name, route in [
        ("my_path", "/my/path"),
        ("root", "/"),
        ("nodejs", "/nodejs-apig-function-1G3XMPLZXVXYI"),
        ("lambda_", "/lambda"),
        ("todos", "/todos"),
        ("proxy", "/{proxy+}"),
    ]:
        app.http("ANY", route, name=name)(echo(name))
    return app


def _pet_response(req: HttpRequest) -> HttpResponse:
    resp = HttpResponse.from_json({"id": req.path_params["id"], "route": req.route}, 200)
    resp.headers.add("x-pet", "1")
    resp.headers.add("x-pet", "2")
    resp.cookies.extend(["seen=1", "pet=" + req.path_params["id"]])
    return resp


# file → (function, route the handler sees, path params the handler sees)
ROUTED: dict[str, tuple[str, str, dict[str, str]]] = {
    "apigw_v1__devguide__nodejs-apig-event.json": ("root", "/", {}),
    "apigw_v1__lambda-go__apigw-request.json": ("proxy", "/{proxy+}", {"proxy": "hello/world"}),
    "apigw_v1__powertools__apiGatewayProxyEvent.json": ("my_path", "/my/path", {}),
    "apigw_v1__samcli__aws-proxy.json": ("proxy", "/{proxy+}", {"proxy": "/path/to/resource"}),
    "apigw_v2__devguide__nodejs-apig-event-v2.json": (
        "nodejs",
        "/nodejs-apig-function-1G3XMPLZXVXYI",
        {},
    ),
    "apigw_v2__lambda-go__apigw-v2-request-no-authorizer.json": ("root", "/", {}),
    # $default: the app's route matched, and its parameters replace pathParameters.
    "apigw_v2__powertools__apiGatewayProxyV2Event.json": ("my_path", "/my/path", {}),
    "apigw_v2__powertools__apiGatewayProxyV2Event_GET.json": ("my_path", "/my/path", {}),
    "apigw_v2__powertools__apiGatewayProxyV2IamEvent.json": ("my_path", "/my/path", {}),
    "apigw_v2__powertools__apiGatewayProxyV2LambdaAuthorizerEvent.json": (
        "my_path",
        "/my/path",
        {},
    ),
    "apigw_v2__samcli__http-api-proxy.json": ("proxy", "/{proxy+}", {"proxy": "path/to/resource"}),
    "lambda_url__lambda-go__lambda-urls-request.json": ("my_path", "/my/path", {}),
    "lambda_url__powertools__lambdaFunctionUrlEvent.json": ("root", "/", {}),
    "lambda_url__powertools__lambdaFunctionUrlEventWithHeaders.json": ("root", "/", {}),
    "lambda_url__powertools__lambdaFunctionUrlIAMEvent.json": ("my_path", "/my/path", {}),
    "alb__lambda-go__alb-lambda-target-request-headers-only.json": ("root", "/", {}),
    "alb__lambda-go__alb-lambda-target-request-multivalue-headers.json": ("root", "/", {}),
    "alb__powertools__albEvent.json": ("lambda_", "/lambda", {}),
    "alb__powertools__albMultiValueHeadersEvent.json": ("todos", "/todos", {}),
    "alb__powertools__albMultiValueQueryStringEvent.json": ("todos", "/todos", {}),
    "alb__samcli__request.json": ("proxy", "/{proxy+}", {"proxy": "path/to/resource"}),
}
# The two samples whose body is not the base64 it claims cannot be served (see above).
E2E_FILES = [p for p in ALL_FILES if p.name not in BAD_BASE64]


def test_every_servable_sample_is_routed():
    assert sorted(ROUTED) == sorted(p.name for p in E2E_FILES)


@pytest.mark.parametrize("path", E2E_FILES, ids=lambda p: p.name)
def test_handler_serves_the_sample(path):
    fn, route, params = ROUTED[path.name]
    method, req_path, _, _, query, cookies, body, ip, _ = EXPECTED[path.name]
    event = load_event(path)
    out = handler(build_app())(event, None)
    assert out["statusCode"] == 200
    headers = out.get("headers") or {k: v[-1] for k, v in out["multiValueHeaders"].items()}
    assert headers["content-type"] == "application/json"
    assert out["isBase64Encoded"] is False
    assert json.loads(out["body"]) == {
        "fn": fn,
        "method": method,
        "path": req_path,
        "route": route,
        "params": params,
        "query": [list(p) for p in query],
        "cookies": cookies,
        "body": base64.b64encode(body).decode(),
        "client_ip": ip,
        "source": "aws:" + source_key(path.name),
    }
    if source_key(path.name) == "alb":
        assert out["statusDescription"] == "200 OK"
        assert ("multiValueHeaders" in out) == ("multiValueHeaders" in event)


def pets_event(source: str) -> dict[str, Any]:
    """One sample of ``source`` turned into ``GET /pets/7``."""
    if source == "apigateway-v1":
        e = load_event("apigw_v1__lambda-go__apigw-request.json")
        e.update(
            httpMethod="GET", path="/pets/7", resource="/pets/{id}", pathParameters={"id": "7"}
        )
    elif source == "apigateway-v2":
        e = load_event("apigw_v2__samcli__http-api-proxy.json")
        e.update(routeKey="GET /pets/{id}", rawPath="/pets/7", pathParameters={"id": "7"})
        e["requestContext"]["http"]["method"] = "GET"
    elif source == "function-url":
        e = load_event("lambda_url__lambda-go__lambda-urls-request.json")
        e["rawPath"] = "/pets/7"
        e["requestContext"]["http"]["method"] = "GET"
    else:
        e = load_event("alb__powertools__albMultiValueQueryStringEvent.json")
        e["path"] = "/pets/7"
    return e


@pytest.mark.parametrize("source", list(MODULES))
def test_handler_answers_in_the_source_shape(source):
    event = pets_event(source)
    assert source_of(event) == source
    out = handler(build_app())(event, None)
    assert json.loads(out["body"]) == {"id": "7", "route": "/pets/{id}"}
    assert out["statusCode"] == 200 and out["isBase64Encoded"] is False
    cookies = ["seen=1", "pet=7"]
    if source == "apigateway-v1":
        assert out["headers"] == {"content-type": "application/json"}
        assert out["multiValueHeaders"] == {"x-pet": ["1", "2"], "Set-Cookie": cookies}
    elif source in ("apigateway-v2", "function-url"):
        assert out["headers"] == {"content-type": "application/json", "x-pet": "1,2"}
        assert out["cookies"] == cookies
    else:
        assert out["multiValueHeaders"] == {
            "content-type": ["application/json"],
            "x-pet": ["1", "2"],
            "Set-Cookie": cookies,
        }
        assert out["statusDescription"] == "200 OK"
    assert response_from_native(out, source).cookies == cookies


def test_handler_unknown_path_is_no_route():
    from polyfn.errors import NoRouteError

    app = App("tiny")
    app.get("/only")(lambda req: "x")
    with pytest.raises(NoRouteError):
        handler(app)(load_event("alb__powertools__albEvent.json"), None)


# -- malformed events ----------------------------------------------------------------------
def assert_malformed(err: pytest.ExceptionInfo[MalformedEventError], source: str, field: str):
    assert (err.value.provider, err.value.source, err.value.field) == ("aws", source, field)


V1 = "apigw_v1__lambda-go__apigw-request.json"
V2 = "apigw_v2__samcli__http-api-proxy.json"
URL = "lambda_url__lambda-go__lambda-urls-request.json"
ALB = "alb__powertools__albEvent.json"


def _no_v2_method(e: dict[str, Any]) -> None:
    del e["requestContext"]["http"]["method"]


# (sample, how it is broken, the neutral field read, the native field the error names,
# whether the broken event is still recognised: if not, the source's own module reads it)
@pytest.mark.parametrize(
    ("name", "mutate", "attr", "field", "recognised"),
    [
        (V1, lambda e: e.pop("httpMethod"), "method", "httpMethod", False),
        (
            V1,
            lambda e: e.update(multiValueHeaders=["not", "an", "object"]),
            "headers",
            "multiValueHeaders",
            False,
        ),
        (V2, _no_v2_method, "method", "requestContext.http.method", True),
        (V2, lambda e: e["requestContext"].pop("http"), "method", "requestContext.http", True),
        (V2, lambda e: e.update(body="%%% not base64 %%%"), "body", "body", True),
        (V2, lambda e: e.update(cookies="a=b"), "cookies", "cookies", True),
        (URL, lambda e: e.pop("rawPath"), "path", "rawPath", True),
        (
            URL,
            lambda e: e["requestContext"]["http"].update(method=7),
            "method",
            "requestContext.http.method",
            True,
        ),
        (ALB, lambda e: e.pop("path"), "path", "path", True),
        (ALB, lambda e: e.update(headers="accept: */*"), "headers", "headers", True),
        (ALB, lambda e: e.update(body={"not": "a string"}), "body", "body", True),
    ],
)
def test_malformed_fields_are_named(name, mutate, attr, field, recognised):
    key = source_key(name)
    event = load_event(name)
    mutate(event)
    parse = from_native if recognised else MODULES[key].from_native
    with pytest.raises(MalformedEventError) as err:
        getattr(parse(event), attr)
    assert_malformed(err, f"aws:{key}", field)


def test_malformed_through_the_handler():
    # Through the Lambda handler too: the error names the field, it is no KeyError.
    event = load_event(V2)
    _no_v2_method(event)
    with pytest.raises(MalformedEventError) as err:
        handler(build_app())(event, None)
    assert_malformed(err, "aws:apigateway-v2", "requestContext.http.method")
