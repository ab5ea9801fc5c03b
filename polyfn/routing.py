"""HTTP route templates: ``/users/{id}`` and greedy ``/files/{path+}``."""

from __future__ import annotations

import functools
import re

from polyfn.errors import DefinitionError

_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(\+?)\}")


@functools.cache
def compile_route(route: str) -> re.Pattern[str]:
    pattern, pos = [], 0
    for m in _PARAM.finditer(route):
        pattern.append(re.escape(route[pos : m.start()]))
        pattern.append(f"(?P<{m.group(1)}>.+)" if m.group(2) else f"(?P<{m.group(1)}>[^/]+)")
        pos = m.end()
    rest = route[pos:]
    if "{" in rest or "}" in rest:
        raise DefinitionError(f"http trigger: route: {route!r} has a malformed parameter")
    pattern.append(re.escape(rest))
    try:
        return re.compile("^" + "".join(pattern) + "$")
    except re.error as e:  # duplicate parameter names
        raise DefinitionError(f"http trigger: route: {route!r}: {e}") from None


def match_route(route: str, path: str) -> dict[str, str] | None:
    m = compile_route(route).match(path)
    return None if m is None else m.groupdict()
