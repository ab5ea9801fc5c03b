"""Intrinsic functions (``States.Format(...)`` and friends) of Amazon States Language."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import random
import uuid
from typing import Any

from . import paths
from .errors import WorkflowError

FAIL = "States.IntrinsicFailure"


def _fail(msg: str) -> WorkflowError:
    return WorkflowError(FAIL, msg)


class _Parser:
    def __init__(self, text: str):
        self.s = text
        self.i = 0

    def ws(self) -> None:
        while self.i < len(self.s) and self.s[self.i] in " \t\n":
            self.i += 1

    def expr(self):
        self.ws()
        s, i = self.s, self.i
        if s.startswith("States.", i):
            j = s.index("(", i) if "(" in s[i:] else -1
            if j < 0:
                raise _fail(f"Invalid intrinsic function: {s!r}")
            name = s[i:j].strip()
            self.i = j + 1
            args = []
            self.ws()
            if self.i < len(s) and s[self.i] == ")":
                self.i += 1
                return ("call", name, args)
            while True:
                args.append(self.expr())
                self.ws()
                if self.i >= len(s):
                    raise _fail(f"Unterminated intrinsic function: {s!r}")
                c = s[self.i]
                self.i += 1
                if c == ")":
                    return ("call", name, args)
                if c != ",":
                    raise _fail(f"Invalid intrinsic function: {s!r}")
        if s.startswith("'", i):
            out = []
            j = i + 1
            while j < len(s):
                c = s[j]
                if c == "\\" and j + 1 < len(s):
                    out.append(s[j + 1])
                    j += 2
                    continue
                if c == "'":
                    self.i = j + 1
                    return ("lit", "".join(out))
                out.append(c)
                j += 1
            raise _fail(f"Unterminated string in {s!r}")
        if s.startswith("$", i):
            j, depth = i, 0
            while j < len(s):
                c = s[j]
                if c == "[":
                    depth += 1
                elif c == "]":
                    depth -= 1
                elif c in ",)" and depth == 0:
                    break
                j += 1
            self.i = j
            return ("path", s[i:j].strip())
        j = i
        while j < len(s) and s[j] not in ",)":
            j += 1
        tok = s[i:j].strip()
        self.i = j
        try:
            return ("lit", json.loads(tok))
        except ValueError:
            raise _fail(f"Invalid argument {tok!r} in {s!r}") from None


def evaluate(text: str, data: Any, context: Any = None, variables: dict | None = None) -> Any:
    p = _Parser(text)
    node = p.expr()
    p.ws()
    if p.i != len(text):
        raise _fail(f"Invalid intrinsic function: {text!r}")
    return _eval(node, data, context, variables)


def _eval(node, data, context, variables):
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "path":
        try:
            return paths.get(data, node[1], context, variables)
        except paths.PathError:
            raise WorkflowError(
                "States.Runtime",
                f"The JSONPath {node[1]} could not be found in the input {paths._compact(data)}",
            ) from None
    name, args = node[1], [_eval(a, data, context, variables) for a in node[2]]
    fn = FUNCTIONS.get(name)
    if fn is None:
        raise _fail(f"Unknown intrinsic function {name}")
    return fn(*args)


def _want(n_min, n_max, args, name):
    if not (n_min <= len(args) <= n_max):
        raise _fail(f"Invalid number of arguments for {name}: {len(args)}")


def _to_text(v: Any) -> str:
    if isinstance(v, str):
        return v
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}={_to_text(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_to_text(x) for x in v) + "]"
    return json.dumps(v, separators=(",", ":"))


def _format(*args):
    if not args or not isinstance(args[0], str):
        raise _fail("States.Format needs a format string")
    fmt, vals = args[0], list(args[1:])
    out, i, k = [], 0, 0
    while i < len(fmt):
        c = fmt[i]
        if c == "\\" and i + 1 < len(fmt):
            out.append(fmt[i + 1])
            i += 2
            continue
        if fmt.startswith("{}", i):
            if k >= len(vals):
                raise _fail("Not enough arguments for States.Format")
            out.append(_to_text(vals[k]))
            k += 1
            i += 2
            continue
        out.append(c)
        i += 1
    if k != len(vals):
        raise _fail("Too many arguments for States.Format")
    return "".join(out)


def _string_to_json(*args):
    _want(1, 1, args, "States.StringToJson")
    if not isinstance(args[0], str):
        raise _fail("States.StringToJson needs a string")
    try:
        return json.loads(args[0]) if args[0].strip() else None
    except ValueError as e:
        raise _fail(f"States.StringToJson: {e}") from None


def _json_to_string(*args):
    _want(1, 1, args, "States.JsonToString")
    return json.dumps(args[0], separators=(",", ":"))


def _array(*args):
    return list(args)


def _int(v, name):
    if (
        isinstance(v, bool)
        or not isinstance(v, (int, float))
        or (isinstance(v, float) and not v.is_integer())
    ):
        raise _fail(f"{name}: expected an integer, got {v!r}")
    return int(v)


def _array_partition(*args):
    _want(2, 2, args, "States.ArrayPartition")
    arr, size = args
    if not isinstance(arr, list):
        raise _fail("States.ArrayPartition needs an array")
    size = _int(size, "States.ArrayPartition")
    if size <= 0:
        raise _fail("States.ArrayPartition: chunk size must be positive")
    return [arr[i : i + size] for i in range(0, len(arr), size)]


def _array_contains(*args):
    _want(2, 2, args, "States.ArrayContains")
    if not isinstance(args[0], list):
        raise _fail("States.ArrayContains needs an array")
    return any(_eq(x, args[1]) for x in args[0])


def _eq(a, b):
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    return a == b


def _array_range(*args):
    _want(3, 3, args, "States.ArrayRange")
    start, end, step = (_int(a, "States.ArrayRange") for a in args)
    if step == 0:
        raise _fail("States.ArrayRange: step must not be 0")
    out = []
    v = start
    while (step > 0 and v <= end) or (step < 0 and v >= end):
        out.append(v)
        v += step
        if len(out) > 1000:
            raise _fail("States.ArrayRange: more than 1000 items")
    return out


def _array_get_item(*args):
    _want(2, 2, args, "States.ArrayGetItem")
    arr, idx = args
    if not isinstance(arr, list):
        raise _fail("States.ArrayGetItem needs an array")
    idx = _int(idx, "States.ArrayGetItem")
    if not 0 <= idx < len(arr):
        raise _fail(f"States.ArrayGetItem: index {idx} out of bounds")
    return arr[idx]


def _array_length(*args):
    _want(1, 1, args, "States.ArrayLength")
    if not isinstance(args[0], list):
        raise _fail("States.ArrayLength needs an array")
    return len(args[0])


def _array_unique(*args):
    _want(1, 1, args, "States.ArrayUnique")
    if not isinstance(args[0], list):
        raise _fail("States.ArrayUnique needs an array")
    out: list = []
    for x in args[0]:
        if not any(_eq(x, y) for y in out):
            out.append(x)
    return out


def _b64encode(*args):
    _want(1, 1, args, "States.Base64Encode")
    if not isinstance(args[0], str):
        raise _fail("States.Base64Encode needs a string")
    if len(args[0]) > 10000:
        raise _fail("States.Base64Encode: input longer than 10000 characters")
    return base64.b64encode(args[0].encode()).decode()


def _b64decode(*args):
    _want(1, 1, args, "States.Base64Decode")
    if not isinstance(args[0], str):
        raise _fail("States.Base64Decode needs a string")
    if len(args[0]) > 10000:
        raise _fail("States.Base64Decode: input longer than 10000 characters")
    try:
        return base64.b64decode(args[0], validate=True).decode()
    except ValueError as e:
        raise _fail(f"States.Base64Decode: {e}") from None


_HASHES = {
    "MD5": "md5",
    "SHA-1": "sha1",
    "SHA-256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
}


def _hash(*args):
    _want(2, 2, args, "States.Hash")
    data, algo = args
    if algo not in _HASHES:
        raise _fail(f"States.Hash: unsupported algorithm {algo!r}")
    if data is None:
        raise _fail("States.Hash: data must not be null")
    text = _to_text(data)
    if len(text) > 10000:
        raise _fail("States.Hash: input longer than 10000 characters")
    return hashlib.new(_HASHES[algo], text.encode()).hexdigest()


def _json_merge(*args):
    _want(3, 3, args, "States.JsonMerge")
    a, b, deep = args
    if not isinstance(a, dict) or not isinstance(b, dict):
        raise _fail("States.JsonMerge needs two objects")
    if deep is not False:
        raise _fail("States.JsonMerge: deep merging is not supported (use false)")
    return {**a, **b}


def _round(v, name):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise _fail(f"{name}: expected a number, got {v!r}")
    return math.floor(v + 0.5)


def _math_random(*args):
    _want(2, 3, args, "States.MathRandom")
    start, end = _round(args[0], "States.MathRandom"), _round(args[1], "States.MathRandom")
    rng = random.Random(_round(args[2], "States.MathRandom")) if len(args) == 3 else random
    return rng.randint(start, end - 1) if end > start else start


def _math_add(*args):
    _want(2, 2, args, "States.MathAdd")
    a, b = (_round(x, "States.MathAdd") for x in args)
    return a + b


def _string_split(*args):
    _want(2, 2, args, "States.StringSplit")
    s, sep = args
    if not isinstance(s, str) or not isinstance(sep, str):
        raise _fail("States.StringSplit needs two strings")
    if not sep:
        return [c for c in s]
    out, cur = [], []
    for c in s:
        if c in sep:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    out.append("".join(cur))
    return [x for x in out if x]


def _uuid(*args):
    _want(0, 0, args, "States.UUID")
    return str(uuid.uuid4())


FUNCTIONS = {
    "States.Format": _format,
    "States.StringToJson": _string_to_json,
    "States.JsonToString": _json_to_string,
    "States.Array": _array,
    "States.ArrayPartition": _array_partition,
    "States.ArrayContains": _array_contains,
    "States.ArrayRange": _array_range,
    "States.ArrayGetItem": _array_get_item,
    "States.ArrayLength": _array_length,
    "States.ArrayUnique": _array_unique,
    "States.Base64Encode": _b64encode,
    "States.Base64Decode": _b64decode,
    "States.Hash": _hash,
    "States.JsonMerge": _json_merge,
    "States.MathRandom": _math_random,
    "States.MathAdd": _math_add,
    "States.StringSplit": _string_split,
    "States.UUID": _uuid,
}
