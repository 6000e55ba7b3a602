"""Every accepted value has exactly one canonical JSON form: numbers and mappings that would not are refused."""

from __future__ import annotations

import math
from typing import Any

import pytest

from hazardflow import InvalidInput
from hazardflow._audit import canonical_json
from hazardflow._lifecycle import Field, check_payload


def _check(field: Field, value: Any) -> Any:
    return check_payload((field,), {field.name: value}, lambda name: (), what="a test command")[field.name]


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 10**30])
def test_integers_beyond_64_bits_are_refused(value: int) -> None:
    for kind in ("int", "number"):
        with pytest.raises(InvalidInput) as info:
            _check(Field("amount", kind), value)  # type: ignore[arg-type]
        assert info.value.field == "amount"
        assert info.value.value == value
        assert "64 bits" in info.value.rule


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_refused(value: float) -> None:
    with pytest.raises(InvalidInput) as info:
        _check(Field("funds_amount", "number"), value)
    assert "finite" in info.value.rule
    assert "funds_amount" in str(info.value)


@pytest.mark.parametrize(
    ("value", "where"),
    [
        ({"a": {"b": 2**64}}, "a.b is an integer beyond 64 bits"),
        ({"a": [1, math.nan]}, "a[1] is not a finite number"),
        ({"a": {1, 2}}, "a is a set, not a JSON value"),
        ({1: "x"}, "has a key that is not a string (1)"),
    ],
)
def test_mappings_hold_json_values_only(value: dict[Any, Any], where: str) -> None:
    with pytest.raises(InvalidInput) as info:
        _check(Field("details", "mapping"), value)
    assert where in info.value.rule


def test_limits_themselves_are_accepted_and_encode_canonically() -> None:
    assert _check(Field("n", "int"), 2**63 - 1) == 2**63 - 1
    assert _check(Field("n", "int"), -(2**63)) == -(2**63)
    nested = _check(Field("details", "mapping"), {"b": [1, 2.5, None, True, "中文"], "a": {"z": 1, "y": 2}})
    assert canonical_json(nested) == '{"a":{"y":2,"z":1},"b":[1,2.5,null,true,"中文"]}'
