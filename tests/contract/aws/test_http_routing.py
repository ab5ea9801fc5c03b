"""A REST API catch-all resource (/{proxy+}) still reaches the app's own routes.

Source: tests/events/aws/apigw_v1__samcli__aws-proxy.json (SAM CLI generate-event).
"""

from __future__ import annotations

from conftest import load_event

from polyfn import App
from polyfn.adapters.aws import handler
from polyfn.outputs import Outputs
from polyfn.outputs.memory import MemoryDriver


def test_proxy_resource_is_matched_against_the_app_route():
    event = load_event("apigw_v1__samcli__aws-proxy.json")
    assert event["resource"] == "/{proxy+}"
    app = App("t")
    seen = {}

    @app.http(event["httpMethod"], "/path/to/{name}")
    def named(req, ctx):
        seen.update(route=req.route, params=req.path_params)
        return {"ok": True}

    resp = handler(app, outputs=Outputs(MemoryDriver()))(event, None)
    assert resp["statusCode"] == 200
    assert seen == {"route": "/path/to/{name}", "params": {"name": "resource"}}
