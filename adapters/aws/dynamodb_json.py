"""DynamoDB's typed JSON (``{"S": "x"}``, an AttributeValue) ⇄ plain JSON values, without boto3.

Decoding: S → str, N → int (integral literal) or float, BOOL → bool, NULL → None,
B → bytes (base64-decoded), M → dict, L → list, SS/NS/BS → list of str/number/bytes
(a list, not a set: it keeps the order and duplicates the stream sent).

Encoding is the inverse, by the plain value's type: str → S, bool → BOOL, None → NULL,
int/float/Decimal → N, bytes → B, dict → M, list/tuple → L, set/frozenset → SS/NS/BS.

Plain values lose a little: a set decodes to a list (which encodes back as L) and a number
text like ``"1.50"`` to ``1.5``. :func:`item_spec` records just that ("types") for an item,
and :func:`encode_item` with the spec gives back the exact AttributeValues.

Spec of one attribute, present only where the plain value alone would not re-encode exactly:

- ``"SS"`` / ``"NS"`` / ``"BS"``: the list is that set;
- ``{"M": {name: spec}}`` / ``{"L": {"index": spec}}``: specs of a map's or list's members;
- any other AttributeValue (``{"N": "1.50"}``): the exact native value, used as long as it
  still decodes to the plain value (so an edited value is encoded afresh).
"""

from __future__ import annotations

import base64
import binascii
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from decimal import Decimal

AttributeValue = dict[str, Any]
Path = list["str | int"]

# Characters of N texts: checked before int()/float(), which also take "1_000", " 1",
# "inf" or non-ASCII digits. (No regex, and decimal only when encoding: cold start.)
_INTEGER_CHARS = "0123456789+-"
_NUMBER_CHARS = "0123456789+-.eE"
_SETS = frozenset({"SS", "NS", "BS"})


class AttributeValueError(ValueError):
    """A value that is not valid DynamoDB JSON; ``path`` leads to it from the item
    (map keys and type keys as str, list positions as int)."""

    def __init__(self, reason: str, path: Path | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path: Path = path if path is not None else []

    def where(self) -> str:
        """The path as a suffix of a dotted field path: ``.misc2.M.ItemList.L[2]``."""
        return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in self.path)


# -- decoding --------------------------------------------------------------------------
def _tagged(av: Any) -> tuple[str, Any]:
    if type(av) is not dict or len(av) != 1:
        raise AttributeValueError("expected an AttributeValue: an object with one type key")
    for tag, val in av.items():
        return tag, val
    raise AssertionError  # unreachable: len(av) == 1


def _expect(val: Any, tp: type, tag: str) -> None:
    if type(val) is not tp:
        raise AttributeValueError(f"{tag}: expected {tp.__name__}, got {type(val).__name__}", [tag])


def decode_number(text: Any) -> int | float:
    """``"42"`` → 42, ``"-1.5e3"`` → -1500.0; anything else raises AttributeValueError."""
    if type(text) is not str:
        raise AttributeValueError(f"expected a number as a string, got {type(text).__name__}")
    # str.strip(chars) leaves "" exactly when every character is one of chars.
    if text and not text.strip(_INTEGER_CHARS):
        try:
            return int(text)
        except ValueError:
            pass
    elif text and not text.strip(_NUMBER_CHARS):
        try:
            value = float(text)
        except ValueError:
            pass
        else:
            if math.isfinite(value):
                return value
    raise AttributeValueError(f"not a number: {text!r}")


def _decode_bytes(text: Any) -> bytes:
    if type(text) is not str:
        raise AttributeValueError(f"expected base64 text, got {type(text).__name__}")
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error:
        raise AttributeValueError(f"not base64: {text!r}") from None


def _members(val: Any, tag: str, decode_one: Any) -> list[Any]:
    _expect(val, list, tag)
    out = []
    for i, v in enumerate(val):
        try:
            out.append(decode_one(v))
        except AttributeValueError as e:
            e.path[:0] = (tag, i)
            raise
    return out


def _decode_str(v: Any) -> str:
    if type(v) is not str:
        raise AttributeValueError(f"expected a string, got {type(v).__name__}")
    return v


def decode(av: Any) -> Any:
    """One AttributeValue → its plain value."""
    tag, val = _tagged(av)
    # Most common first: items are mostly strings and numbers.
    if tag == "S":
        _expect(val, str, tag)
        return val
    if tag == "N":
        try:
            return decode_number(val)
        except AttributeValueError as e:
            e.path[:0] = (tag,)
            raise
    if tag == "M":
        _expect(val, dict, tag)
        try:
            return decode_item(val)
        except AttributeValueError as e:
            e.path[:0] = (tag,)
            raise
    if tag == "L":
        return _members(val, tag, decode)
    if tag == "BOOL":
        _expect(val, bool, tag)
        return val
    if tag == "NULL":
        return None
    if tag == "B":
        try:
            return _decode_bytes(val)
        except AttributeValueError as e:
            e.path[:0] = (tag,)
            raise
    if tag == "SS":
        return _members(val, tag, _decode_str)
    if tag == "NS":
        return _members(val, tag, decode_number)
    if tag == "BS":
        return _members(val, tag, _decode_bytes)
    raise AttributeValueError(f"unknown DynamoDB type {tag!r}")


def decode_item(item: Any) -> dict[str, Any]:
    """An item (attribute name → AttributeValue) → a plain dict."""
    if type(item) is not dict:
        raise AttributeValueError(f"expected an object, got {type(item).__name__}")
    out = {}
    for name, av in item.items():
        try:
            out[name] = decode(av)
        except AttributeValueError as e:
            e.path.insert(0, name)
            raise
    return out


# -- encoding --------------------------------------------------------------------------
def encode_number(value: int | float | Decimal) -> str:
    """The N text of a number: ``str`` for int and Decimal, ``repr`` (shortest exact) for float."""
    from decimal import Decimal

    if isinstance(value, bool):
        raise TypeError("a bool is BOOL, not N")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"DynamoDB numbers are finite, not {value!r}")
        return repr(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"DynamoDB numbers are finite, not {value!r}")
        return str(value)
    raise TypeError(f"not a number: {type(value).__name__}")


def _encode_bytes(value: bytes | bytearray | memoryview) -> str:
    return base64.b64encode(value).decode("ascii")


def _is_number(v: Any) -> bool:
    from decimal import Decimal

    return isinstance(v, int | float | Decimal) and not isinstance(v, bool)


def _encode_set(value: set[Any] | frozenset[Any]) -> AttributeValue:
    # Sorted, so that the same set always renders the same.
    items = sorted(value)
    if items and all(isinstance(v, str) for v in items):
        return {"SS": items}
    if items and all(_is_number(v) for v in items):
        return {"NS": [encode_number(v) for v in items]}
    if items and all(isinstance(v, bytes | bytearray) for v in items):
        return {"BS": [_encode_bytes(v) for v in items]}
    raise TypeError("a set encodes only when non-empty and all str, all numbers or all bytes")


def encode(value: Any) -> AttributeValue:
    """A plain value → its AttributeValue."""
    from decimal import Decimal

    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bool):
        return {"BOOL": value}
    if value is None:
        return {"NULL": True}
    if isinstance(value, int | float | Decimal):
        return {"N": encode_number(value)}
    if isinstance(value, dict):
        return {"M": encode_item(value)}
    if isinstance(value, list | tuple):
        return {"L": [encode(v) for v in value]}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"B": _encode_bytes(value)}
    if isinstance(value, set | frozenset):
        return _encode_set(value)
    raise TypeError(f"cannot encode a {type(value).__name__} as a DynamoDB value")


def _encode_members(tag: str, value: Any) -> AttributeValue | None:
    """``value`` as the set ``tag``, or None when its members do not fit that set."""
    if not isinstance(value, list | tuple | set | frozenset):
        return None
    items = list(value)
    if tag == "SS" and all(isinstance(v, str) for v in items):
        return {"SS": items}
    if tag == "NS" and all(_is_number(v) for v in items):
        return {"NS": [encode_number(v) for v in items]}
    if tag == "BS" and all(isinstance(v, bytes | bytearray) for v in items):
        return {"BS": [_encode_bytes(v) for v in items]}
    return None


def _same(a: Any, b: Any) -> bool:
    # Strict: True == 1 and 1 == 1.0 in Python, but they are different DynamoDB values.
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(v, b[k]) for k, v in a.items())
    return bool(a == b)


def encode_as(value: Any, spec: Any) -> AttributeValue:
    """``value`` encoded following its spec (see the module docstring); a spec that no
    longer fits the value is ignored."""
    if spec is None:
        return encode(value)
    if type(spec) is str:
        return _encode_members(spec, value) or encode(value)
    if type(spec) is dict and len(spec) == 1:
        tag, inner = next(iter(spec.items()))
        if tag == "M" and type(inner) is dict and isinstance(value, dict):
            return {"M": encode_item(value, inner)}
        if tag == "L" and type(inner) is dict and isinstance(value, list | tuple):
            return {"L": [encode_as(v, inner.get(str(i))) for i, v in enumerate(value)]}
        if tag not in ("M", "L"):
            try:
                if _same(decode(spec), value):
                    return spec
            except AttributeValueError:
                pass
    return encode(value)


def encode_item(item: dict[str, Any], spec: dict[str, Any] | None = None) -> dict[str, Any]:
    """A plain dict → an item (attribute name → AttributeValue), following ``spec``."""
    if spec:
        return {name: encode_as(v, spec.get(name)) for name, v in item.items()}
    return {name: encode(v) for name, v in item.items()}


# -- specs -----------------------------------------------------------------------------
def spec_of(av: Any) -> Any:
    """What ``decode(av)`` loses, as a spec; None when ``encode(decode(av)) == av``."""
    tag, val = _tagged(av)
    if tag == "M":
        _expect(val, dict, tag)
        try:
            inner = item_spec(val)
        except AttributeValueError as e:
            e.path[:0] = (tag,)
            raise
        return None if inner is None else {"M": inner}
    if tag == "L":
        _expect(val, list, tag)
        members: dict[str, Any] = {}
        for i, v in enumerate(val):
            try:
                s = spec_of(v)
            except AttributeValueError as e:
                e.path[:0] = (tag, i)
                raise
            if s is not None:
                members[str(i)] = s
        return {"L": members} if members else None
    plain = decode(av)
    if tag in _SETS:
        return tag if _same(_encode_members(tag, plain), av) else av
    return None if _same(encode(plain), av) else av


def item_spec(item: Any) -> dict[str, Any] | None:
    """The specs of an item's attributes that need one, or None when none does."""
    if type(item) is not dict:
        raise AttributeValueError(f"expected an object, got {type(item).__name__}")
    out = {}
    for name, av in item.items():
        try:
            s = spec_of(av)
        except AttributeValueError as e:
            e.path.insert(0, name)
            raise
        if s is not None:
            out[name] = s
    return out or None
