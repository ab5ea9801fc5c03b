"""The emulator's subscription filters (polyfn.local.pubsub.filters), without a server."""

from __future__ import annotations

import pytest

from polyfn.local.pubsub.errors import BrokerError
from polyfn.local.pubsub.filters import compile_filter

ATTRS = {"kind": "order", "region": "eu-west-1", "my-key": "v", "dotted.key": "d"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("attributes:kind", True),
        ("attributes:missing", False),
        ('attributes.kind = "order"', True),
        ('attributes.kind="refund"', False),
        ('attributes.kind != "refund"', True),
        ('attributes.missing != "x"', True),
        ('hasPrefix(attributes.region, "eu-")', True),
        ('hasPrefix(attributes.missing, "eu-")', False),
        ("NOT attributes:kind", False),
        ("-attributes:missing", True),
        ('attributes:kind AND attributes.region = "eu-west-1"', True),
        ("attributes:missing OR attributes:kind", True),
        ('(attributes:missing OR attributes:kind) AND NOT attributes.kind = "x"', True),
        ('attributes.my-key = "v"', True),
        ('attributes."dotted.key" = "d"', True),
        ('attributes.kind = "say \\"hi\\""', False),
    ],
)
def test_filters(text: str, expected: bool) -> None:
    predicate = compile_filter(text)
    assert predicate is not None
    assert predicate(ATTRS) is expected


def test_empty_filter_matches_everything() -> None:
    assert compile_filter("") is None
    assert compile_filter("   ") is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("attributes:a AND attributes:b OR attributes:c", "cannot be mixed"),
        ('attributes.kind > "a"', "unexpected character '>'"),
        ('attributes.kind : "a"', "expected = or !="),
        ('data = "x"', "expected 'attributes'"),
        ("attributes.kind = order", "expected 'string'"),
        ("(attributes:kind", "expected ')'"),
        ("attributes:kind attributes:kind", "unexpected 'attributes'"),
        ("attributes:" + "k" * 300, "longer than 256 bytes"),
        ("attributes:kind $", "unexpected character '$'"),
    ],
)
def test_unsupported_filters_are_refused(text: str, reason: str) -> None:
    with pytest.raises(BrokerError, match="Invalid filter") as e:
        compile_filter(text)
    assert e.value.code == "INVALID_ARGUMENT"
    assert reason in e.value.message
