"""The DynamoDB JSON decoder/encoder (adapters/aws/dynamodb_json.py) on edge cases.

No sample files: the values here are hand-written AttributeValues covering what the
samples do not (empty maps, nested sets, big integers, exponents, odd number texts).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from polyfn.adapters.aws.dynamodb_json import (
    AttributeValueError,
    decode,
    decode_item,
    decode_number,
    encode,
    encode_as,
    encode_item,
    item_spec,
    spec_of,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0),
        ("-17", -17),
        ("+5", 5),
        ("12345678901234567890123456789012345678", 12345678901234567890123456789012345678),
        ("-1.5", -1.5),
        ("1e3", 1000.0),
        ("-2.5E-3", -0.0025),
        ("9.99E+125", 9.99e125),
        (".5", 0.5),
        ("3.", 3.0),
    ],
)
def test_numbers_decode(text, value):
    got = decode_number(text)
    assert got == value
    assert type(got) is type(value)


@pytest.mark.parametrize("text", ["", "abc", "1_000", " 1", "inf", "nan", "1e", "--1", "\u0661"])
def test_bad_numbers_are_refused(text):
    with pytest.raises(AttributeValueError):
        decode_number(text)


def test_every_type_decodes():
    item = {
        "s": {"S": "x"},
        "n": {"N": "42"},
        "f": {"N": "0.1"},
        "t": {"BOOL": True},
        "z": {"NULL": True},
        "b": {"B": "AAEC"},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2.5"]},
        "bs": {"BS": ["AA==", "AQ=="]},
        "m": {"M": {}},
        "l": {"L": []},
        "deep": {"L": [{"M": {"inner": {"NS": ["7"]}, "e": {"L": []}}}, {"SS": ["q"]}]},
    }
    assert decode_item(item) == {
        "s": "x",
        "n": 42,
        "f": 0.1,
        "t": True,
        "z": None,
        "b": b"\x00\x01\x02",
        "ss": ["a", "b"],
        "ns": [1, 2.5],
        "bs": [b"\x00", b"\x01"],
        "m": {},
        "l": [],
        "deep": [{"inner": [7], "e": []}, ["q"]],
    }


@pytest.mark.parametrize(
    "av",
    [
        {"M": {}},
        {"L": []},
        {"SS": []},
        {"N": "123456789012345678901234567890"},
        {"N": "-1E+20"},
        {"N": "1.50"},
        {"N": "-0"},
        {"N": "007"},
        {"NS": ["1.0", "2", "3e2"]},
        {"B": "dGVzdA=="},
        {"BS": ["AA==", "AA=="]},  # a duplicate, as in the lambda-go sample
        {"NULL": True},
        {"M": {"a": {"L": [{"NS": ["1", "2.50"]}, {"M": {"s": {"SS": ["x"]}}}, {"BS": []}]}}},
        {"L": [{"L": [{"L": [{"N": "1e-7"}]}]}]},
    ],
)
def test_spec_makes_the_round_trip_exact(av):
    plain = decode(av)
    assert encode_as(plain, spec_of(av)) == av


def test_specs_only_where_needed():
    item = {
        "n": {"N": "1.5"},  # canonical: no spec
        "odd": {"N": "1.50"},
        "big": {"N": "123456789012345678901234567890"},  # int, exact: no spec
        "tags": {"SS": ["b", "a"]},
        "m": {"M": {"x": {"S": "y"}, "ns": {"NS": ["1"]}}},
        "l": {"L": [{"S": "a"}, {"NS": ["2"]}]},
    }
    assert item_spec(item) == {
        "odd": {"N": "1.50"},
        "tags": "SS",
        "m": {"M": {"ns": "NS"}},
        "l": {"L": {"1": "NS"}},
    }
    assert item_spec({"a": {"S": "x"}, "b": {"M": {}}}) is None


def test_an_edited_value_is_encoded_afresh():
    # The spec holds "1.50"; once the value is no longer 1.5 the spec is ignored.
    assert encode_as(2.5, {"N": "1.50"}) == {"N": "2.5"}
    assert encode_as(1.5, {"N": "1.50"}) == {"N": "1.50"}
    # A set spec on a value that is no longer a list of strings.
    assert encode_as("x", "SS") == {"S": "x"}
    assert encode_as([1, 2], "SS") == {"L": [{"N": "1"}, {"N": "2"}]}
    # True == 1 in Python, but not in DynamoDB.
    assert encode_as(True, {"N": "1"}) == {"BOOL": True}


def test_plain_values_encode():
    assert encode_item(
        {
            "s": "x",
            "i": 10**30,
            "f": 0.25,
            "neg": -3,
            "d": Decimal("1.50"),
            "t": False,
            "z": None,
            "b": b"\x00\xff",
            "l": [1, "a", [], {}],
            "tup": (1,),
            "ss": {"b", "a"},
            "ns": frozenset({2, 1.5}),
            "bs": {b"\x01", b"\x00"},
        }
    ) == {
        "s": {"S": "x"},
        "i": {"N": "1" + "0" * 30},
        "f": {"N": "0.25"},
        "neg": {"N": "-3"},
        "d": {"N": "1.50"},
        "t": {"BOOL": False},
        "z": {"NULL": True},
        "b": {"B": "AP8="},
        "l": {"L": [{"N": "1"}, {"S": "a"}, {"L": []}, {"M": {}}]},
        "tup": {"L": [{"N": "1"}]},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1.5", "2"]},
        "bs": {"BS": ["AA==", "AQ=="]},
    }


@pytest.mark.parametrize(
    "value", [float("inf"), float("nan"), Decimal("NaN"), set(), {1, "a"}, object()]
)
def test_unencodable_values_are_refused(value):
    with pytest.raises((TypeError, ValueError)):
        encode(value)


@pytest.mark.parametrize(
    ("item", "path"),
    [
        ({"a": {"N": "x"}}, ".a.N"),
        ({"a": {"S": 1}}, ".a.S"),
        ({"a": {"X": "y"}}, ".a"),
        ({"a": {"S": "x", "N": "1"}}, ".a"),
        ({"a": {"M": {"b": {"L": [{"S": "ok"}, {"B": "!!"}]}}}}, ".a.M.b.L[1].B"),
        ({"a": {"NS": ["1", "one"]}}, ".a.NS[1]"),
        ({"a": {"BOOL": "true"}}, ".a.BOOL"),
        ({"a": {"M": []}}, ".a.M"),
    ],
)
def test_errors_give_the_path(item, path):
    with pytest.raises(AttributeValueError) as info:
        decode_item(item)
    assert info.value.where() == path
    with pytest.raises(AttributeValueError) as info:
        item_spec(item)
    assert info.value.where() == path
