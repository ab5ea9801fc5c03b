"""The JSONPath subset Amazon States Language uses, and payload templates.

Supported: ``$``, ``$.a.b``, ``$['x']``, ``$["x"]``, ``[n]`` (negative too), ``[*]``,
``..name`` is not supported. ``$$`` addresses the context object and ``$name`` a
workflow variable (given in ``variables``).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from .errors import WorkflowError

_MISSING = object()
_TOKEN = re.compile(
    r"""\.(?P<name>[^.\[\]]+)|\[\s*(?:'(?P<sq>[^']*)'|"(?P<dq>[^"]*)"|(?P<idx>-?\d+)|(?P<star>\*)"""
    r"""|(?P<slice>-?\d*:-?\d*))\s*\]"""
)


class PathError(Exception):
    """A path that does not resolve against the data (or is malformed)."""


def parse(path: str) -> tuple[str, list[tuple[str, Any]]]:
    """Split a path into its root (``$``, ``$$`` or ``$var``) and steps."""
    if not isinstance(path, str) or not path.startswith("$"):
        raise PathError(f"Invalid path: {path!r}")
    if path.startswith("$$"):
        root, rest = "$$", path[2:]
    else:
        m = re.match(r"\$([A-Za-z_][A-Za-z0-9_]*)?", path)
        root, rest = m.group(0), path[m.end() :]
    steps: list[tuple[str, Any]] = []
    pos = 0
    while pos < len(rest):
        m = _TOKEN.match(rest, pos)
        if not m:
            raise PathError(f"Invalid path: {path!r}")
        if m.group("name") is not None:
            steps.append(("key", m.group("name")))
        elif m.group("sq") is not None or m.group("dq") is not None:
            steps.append(("key", m.group("sq") if m.group("sq") is not None else m.group("dq")))
        elif m.group("idx") is not None:
            steps.append(("idx", int(m.group("idx"))))
        elif m.group("star") is not None:
            steps.append(("star", None))
        else:
            a, _, b = m.group("slice").partition(":")
            steps.append(("slice", (int(a) if a else None, int(b) if b else None)))
        pos = m.end()
    return root, steps


def _step(
    values: list[Any], step: tuple[str, Any], multi: bool, lenient: bool = False
) -> list[Any]:
    kind, arg = step
    out = []
    for v in values:
        if kind == "key":
            if isinstance(v, dict) and arg in v:
                out.append(v[arg])
            elif not multi and not lenient:
                raise PathError(arg)
        elif kind == "idx":
            if isinstance(v, list) and -len(v) <= arg < len(v):
                out.append(v[arg])
            elif not multi:
                raise PathError(str(arg))
        elif kind == "star":
            if isinstance(v, list):
                out.extend(v)
            elif isinstance(v, dict):
                out.extend(v.values())
        else:
            if isinstance(v, list):
                out.extend(v[slice(*arg)])
    return out


def bracketed(path: str) -> str:
    """The path as Step Functions prints it in errors: ``$['a'][0]``."""
    try:
        root, steps = parse(path)
    except PathError:
        return path
    out = [root]
    for kind, arg in steps:
        out.append(f"['{arg}']" if kind == "key" else f"[{arg}]" if kind == "idx" else "[*]")
    return "".join(out)


def get(data: Any, path: str, context: Any = None, variables: dict | None = None) -> Any:
    """Resolve ``path``; raises :class:`PathError` when it does not match."""
    root, steps = parse(path)
    if root == "$$":
        base = context
    elif root == "$":
        base = data
    else:
        name = root[1:]
        if variables is None or name not in variables:
            raise PathError(path)
        base = variables[name]
    values = [base]
    multi = any(k in ("star", "slice") for k, _ in steps)
    for step in steps:
        values = _step(values, step, multi, lenient=multi)
    if multi:
        return values
    if not values:
        raise PathError(path)
    return values[0]


def put(data: Any, path: str | None, value: Any) -> Any:
    """ResultPath: place ``value`` into ``data`` at ``path`` (``None`` discards it)."""
    if path is None:
        return data
    root, steps = parse(path)
    if root != "$" or any(k not in ("key",) for k, _ in steps):
        raise WorkflowError("States.ResultPathMatchFailure", f"Invalid ResultPath {path!r}")
    if not steps:
        return copy.deepcopy(value)
    result = copy.deepcopy(data)
    if not isinstance(result, dict):
        raise WorkflowError(
            "States.ResultPathMatchFailure",
            f'Unable to apply ResultPath "{path}" to input "{_compact(data)}"',
        )
    node = result
    for _, key in steps[:-1]:
        nxt = node.get(key)
        if not isinstance(nxt, dict):
            if key in node:
                raise WorkflowError(
                    "States.ResultPathMatchFailure",
                    f'Unable to apply ResultPath "{path}" to input "{_compact(data)}"',
                )
            nxt = node[key] = {}
        node = nxt
    node[steps[-1][1]] = copy.deepcopy(value)
    return result


def _compact(v: Any) -> str:
    import json

    return json.dumps(v, separators=(",", ":"))


def resolve_template(
    template: Any,
    data: Any,
    context: Any,
    variables: dict | None = None,
    intrinsic=None,
) -> Any:
    """Evaluate a Parameters / ResultSelector / ItemSelector payload template."""
    if isinstance(template, dict):
        out = {}
        for key, val in template.items():
            if key.endswith(".$"):
                name = key[:-2]
                if not isinstance(val, str):
                    raise WorkflowError(
                        "States.Runtime", f"The value of field '{key}' must be a string"
                    )
                if val.startswith("States."):
                    if intrinsic is None:
                        raise WorkflowError(
                            "States.Runtime", "intrinsic functions are not available here"
                        )
                    out[name] = intrinsic(val, data, context, variables)
                else:
                    try:
                        out[name] = copy.deepcopy(get(data, val, context, variables))
                    except PathError:
                        raise WorkflowError(
                            "States.Runtime",
                            f"The JSONPath '{val}' specified for the field '{key}' "
                            "could not be found in the "
                            f"input '{_compact(data)}'",
                        ) from None
            else:
                out[key] = resolve_template(val, data, context, variables, intrinsic)
        return out
    if isinstance(template, list):
        return [resolve_template(v, data, context, variables, intrinsic) for v in template]
    return copy.deepcopy(template)
