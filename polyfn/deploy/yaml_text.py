"""A small block-style YAML writer for the descriptors (no PyYAML in the core).

Only what JSON has: mappings, sequences, strings, numbers, booleans, null. A string is
written plain when it cannot be read as anything else, otherwise as a JSON string (a
valid YAML double-quoted scalar), so the text reads back as the same data.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Plain only when safe: starts with a letter or /, no ": " or " #", not a YAML keyword.
_PLAIN = re.compile(r"^[A-Za-z/][A-Za-z0-9_./{}+-]*$")
_KEYWORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        if _PLAIN.match(value) and value.lower() not in _KEYWORDS:
            return value
        return json.dumps(value)
    return json.dumps(value)  # numbers, booleans, null


def _lines(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return [pad + "{}"]
        out = []
        for key, item in value.items():
            head = f"{pad}{_scalar(str(key))}:"
            if isinstance(item, dict | list) and item:
                out.append(head)
                out.extend(_lines(item, indent + 2))
            else:
                out.append(f"{head} {_flat(item)}")
        return out
    if isinstance(value, list):
        if not value:
            return [pad + "[]"]
        out = []
        for item in value:
            if isinstance(item, dict | list) and item:
                sub = _lines(item, indent + 2)
                out.append(f"{pad}- {sub[0].lstrip()}")
                out.extend(sub[1:])
            else:
                out.append(f"{pad}- {_flat(item)}")
        return out
    return [pad + _scalar(value)]


def _flat(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _scalar(value)


def to_yaml(data: dict[str, Any], header: str = "") -> str:
    """``data`` as YAML text; ``header`` lines are written first as comments."""
    comments = [f"# {line}" if line else "#" for line in header.splitlines()]
    return "\n".join([*comments, *_lines(data, 0)]) + "\n"
