"""Choice rules: comparison operators, ``*Path`` variants, And/Or/Not, type tests."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from . import paths
from .errors import WorkflowError

_TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def parse_timestamp(v: Any) -> dt.datetime | None:
    if not isinstance(v, str) or not _TS.match(v):
        return None
    try:
        return dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return None


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def string_matches(value: str, pattern: str) -> bool:
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if c == "*" else re.escape(c))
        i += 1
    return re.fullmatch("".join(out), value, re.S) is not None


def _cmp(kind: str, op: str, a: Any, b: Any) -> bool:
    if kind == "String":
        if not isinstance(a, str) or not isinstance(b, str):
            return False
    elif kind == "Numeric":
        if not _is_num(a) or not _is_num(b):
            return False
    elif kind == "Boolean":
        if not isinstance(a, bool) or not isinstance(b, bool):
            return False
    elif kind == "Timestamp":
        a, b = parse_timestamp(a), parse_timestamp(b)
        if a is None or b is None:
            return False
    if op == "Equals":
        return a == b
    if op == "LessThan":
        return a < b
    if op == "LessThanEquals":
        return a <= b
    if op == "GreaterThan":
        return a > b
    if op == "GreaterThanEquals":
        return a >= b
    raise ValueError(op)


_OPS = ("Equals", "LessThanEquals", "LessThan", "GreaterThanEquals", "GreaterThan")
_KINDS = ("String", "Numeric", "Boolean", "Timestamp")
_TYPE_TESTS = {
    "IsNull": lambda v: v is None,
    "IsString": lambda v: isinstance(v, str),
    "IsNumeric": _is_num,
    "IsBoolean": lambda v: isinstance(v, bool),
    "IsTimestamp": lambda v: parse_timestamp(v) is not None,
}


def evaluate(rule: dict, data: Any, context: Any = None, variables: dict | None = None) -> bool:
    """Whether the Choice rule ``rule`` holds for ``data``."""
    if "And" in rule:
        return all(evaluate(r, data, context, variables) for r in rule["And"])
    if "Or" in rule:
        return any(evaluate(r, data, context, variables) for r in rule["Or"])
    if "Not" in rule:
        return not evaluate(rule["Not"], data, context, variables)
    var = rule.get("Variable")
    if var is None:
        raise WorkflowError("States.Runtime", "Choice rule without Variable")
    try:
        value = paths.get(data, var, context, variables)
        present = True
    except paths.PathError:
        value, present = None, False
    if "IsPresent" in rule:
        return present == bool(rule["IsPresent"])
    for test, fn in _TYPE_TESTS.items():
        if test in rule:
            return present and fn(value) == bool(rule[test])
    for key, operand in rule.items():
        if key in ("Variable", "Next", "Comment", "Assign", "Output"):
            continue
        is_path = key.endswith("Path")
        base = key[:-4] if is_path else key
        if is_path:
            try:
                operand = paths.get(data, operand, context, variables)
            except paths.PathError:
                raise WorkflowError(
                    "States.Runtime", f"Invalid path {rule[key]!r}: no such field in the input"
                ) from None
        if not present:
            raise WorkflowError(
                "States.Runtime",
                f"Invalid path '{var}': The choice state's condition path "
                "references an invalid value.",
            )
        if base == "StringMatches":
            return (
                isinstance(value, str)
                and isinstance(operand, str)
                and string_matches(value, operand)
            )
        for kind in _KINDS:
            if base.startswith(kind):
                op = base[len(kind) :]
                if op in _OPS:
                    return _cmp(kind, op, value, operand)
        raise WorkflowError("States.Runtime", f"Unknown comparison operator {key!r}")
    raise WorkflowError("States.Runtime", "Choice rule without a comparison")
