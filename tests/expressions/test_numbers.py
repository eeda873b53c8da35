"""Terraform's numbers: exact 512-bit arithmetic, shortest printing, and what reaches JSON.

The Terraform-recorded table (test_conformance.py) is the main specification; these cases pin
the representation: integral results stay plain ints, other numbers are floats that carry
their exact value, and both serialise to JSON as numbers (the nearest double for non-integers)."""

from __future__ import annotations

import copy
import json
import pickle
from pathlib import Path
from typing import Any

import pytest

from reconciler.expressions import EvalContext, evaluate, parse_expression
from reconciler.expressions.numbers import Num, format_number, from_text


def run(src: str) -> Any:
    return evaluate(parse_expression(src, file=Path("n.hcl")), EvalContext())


@pytest.mark.parametrize(
    ("src", "kind", "printed"),
    [
        ("2 + 3", int, "5"),
        ("10 / 4 * 2", int, "5"),
        ("0.1 + 0.2", Num, "0.3"),
        ("1 / 3", Num, "0." + "3" * 154 + "5"),  # 157 characters, as Terraform prints it
        ("-7 % 3", int, "-1"),
        ("5 % 0", int, "5"),
        ("2.5e3", int, "2500"),
        ("1 / 0", Num, "+Inf"),
        ("length([1, 2, 3]) * 2", int, "6"),
    ],
)
def test_representation_and_printing(src: str, kind: type, printed: str) -> None:
    value = run(src)
    assert isinstance(value, kind) and not isinstance(value, bool)
    assert format_number(value) == printed
    assert evaluate(parse_expression(f'"${{{src}}}x"', file=Path("n.hcl")), EvalContext()) == printed + "x"


def test_values_serialise_to_json_as_numbers() -> None:
    value = run("{ count = length([1, 2]) + 1, ratio = 1 / 3, half = 0.5, big = 12345678901234567890 }")
    assert json.loads(json.dumps(value)) == {
        "count": 3,
        "ratio": 0.3333333333333333,  # the nearest double
        "half": 0.5,
        "big": 12345678901234567890,  # integral: exact
    }
    assert json.dumps(value["count"]) == "3"


def test_exactness_survives_copy_and_pickle() -> None:
    third = run("1 / 3")
    for clone in (copy.deepcopy(third), pickle.loads(pickle.dumps(third))):
        assert isinstance(clone, Num) and format_number(clone) == format_number(third)
    assert run("0.1 + 0.2 == 0.3") is True
    assert from_text("0.3") == run("0.1 + 0.2")  # equal as floats too
