"""Subscription filters, the attribute subset of Pub/Sub's filter language.

Supported, as Google documents them ("Filter messages", Pub/Sub docs)::

    attributes:KEY                    the message has attribute KEY
    attributes.KEY = "value"          ... equal to "value" (``!=``: not equal / absent)
    hasPrefix(attributes.KEY, "pre")  ... starting with "pre"
    NOT term, -term, (expr), term AND term ..., term OR term ...

KEY is a word (letters, digits, _ and -) or a double-quoted string. As on the service, AND
and OR cannot be mixed without parentheses and a filter is at most 256 bytes. Anything else
is refused with INVALID_ARGUMENT rather than guessed at.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from .errors import BrokerError

Predicate = Callable[[Mapping[str, str]], bool]
MAX_BYTES = 256

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<op>!=|=|:|\(|\)|,|\.|-)
      | (?P<word>[A-Za-z0-9_][A-Za-z0-9_\-]*)
    )""",
    re.VERBOSE,
)
_ESCAPE = re.compile(r"\\(.)")


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None:
            _refuse(text, f"unexpected character {text[pos:].lstrip()[:1]!r}")
        kind = m.lastgroup or ""
        value = m.group(kind)
        if kind == "string":
            value = _ESCAPE.sub(r"\1", value[1:-1])
        out.append((kind, value))
        pos = m.end()
    return out


def _refuse(text: str, reason: str) -> None:
    raise BrokerError(
        "INVALID_ARGUMENT",
        f"Invalid filter {text!r}: {reason} (the emulator supports attributes:KEY, "
        'attributes.KEY = "v", attributes.KEY != "v", hasPrefix(attributes.KEY, "v"), '
        "NOT/-, AND, OR and parentheses)",
    )


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, kind: str, value: str | None = None) -> str:
        tok = self.peek()
        if tok is None or tok[0] != kind or (value is not None and tok[1] != value):
            want = value or kind
            got = "the end" if tok is None else repr(tok[1])
            _refuse(self.text, f"expected {want!r}, found {got}")
        self.i += 1
        return tok[1]  # type: ignore[index]

    def at(self, kind: str, value: str) -> bool:
        return self.peek() == (kind, value)

    def expr(self) -> Predicate:
        terms = [self.term()]
        joiner: str | None = None
        while (tok := self.peek()) is not None and tok in (("word", "AND"), ("word", "OR")):
            if joiner is not None and tok[1] != joiner:
                _refuse(self.text, "AND and OR cannot be mixed without parentheses")
            joiner = tok[1]
            self.i += 1
            terms.append(self.term())
        if len(terms) == 1:
            return terms[0]
        if joiner == "AND":
            return lambda a: all(t(a) for t in terms)
        return lambda a: any(t(a) for t in terms)

    def term(self) -> Predicate:
        if self.at("word", "NOT") or self.at("op", "-"):
            self.i += 1
            inner = self.term()
            return lambda a: not inner(a)
        if self.at("op", "("):
            self.i += 1
            inner = self.expr()
            self.take("op", ")")
            return inner
        if self.at("word", "hasPrefix"):
            self.i += 1
            self.take("op", "(")
            self.take("word", "attributes")
            self.take("op", ".")
            key = self.key()
            self.take("op", ",")
            prefix = self.take("string")
            self.take("op", ")")
            return lambda a: key in a and a[key].startswith(prefix)
        self.take("word", "attributes")
        if self.at("op", ":"):
            self.i += 1
            key = self.key()
            return lambda a: key in a
        self.take("op", ".")
        key = self.key()
        tok = self.peek()
        if tok not in (("op", "="), ("op", "!=")):
            _refuse(self.text, f"expected = or != after attributes.{key}")
        self.i += 1
        value = self.take("string")
        if tok == ("op", "="):
            return lambda a: a.get(key) == value
        return lambda a: a.get(key) != value

    def key(self) -> str:
        tok = self.peek()
        if tok is None or tok[0] not in ("word", "string"):
            _refuse(self.text, "expected an attribute key")
        self.i += 1
        return tok[1]  # type: ignore[index]


def compile_filter(text: str) -> Predicate | None:
    """The predicate of a filter over message attributes; ``None`` for an empty filter."""
    if not text.strip():
        return None
    if len(text.encode("utf-8")) > MAX_BYTES:
        _refuse(text, f"longer than {MAX_BYTES} bytes")
    parser = _Parser(text)
    predicate = parser.expr()
    if parser.peek() is not None:
        _refuse(text, f"unexpected {parser.peek()[1]!r}")  # type: ignore[index]
    return predicate
