"""The ``main.py`` functions-framework serves in bench/dev_server.py: a plain
``@functions_framework.http`` function doing the work of bench/dev_app.py's route."""

from __future__ import annotations

from typing import Any

import functions_framework

ITEM = {"name": "widget", "price": 4.5}


@functions_framework.http
def get_item(request: Any) -> dict[str, Any]:
    # A Google HTTP function gets every path under its URL: the id is the last segment.
    return {"id": request.path.rsplit("/", 1)[-1], **ITEM}
