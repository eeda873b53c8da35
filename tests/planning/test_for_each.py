"""for_each takes a map or a set of strings, as in Terraform: a list is refused (with or without
duplicates), a set collapses duplicates, so no address is ever planned twice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.config import load_stack, resolve_variables
from reconciler.config.types import convert, parse_type
from reconciler.errors import ConfigError
from reconciler.expressions import EvalContext, evaluate, parse_expression
from reconciler.planning.instances import expand, for_each_items

FILE = Path("main.hcl")


def value(src: str) -> Any:
    return evaluate(parse_expression(src, file=FILE), EvalContext())


@pytest.mark.parametrize(
    ("src", "keys"),
    [
        ("{ b = 1, a = 2 }", ["b", "a"]),
        ('toset(["b", "a", "b"])', ["a", "b"]),
        ('toset(["a", 1])', ["1", "a"]),  # mixed: converted to strings, as toset does
        ("toset([])", []),
        ("{}", []),
    ],
)
def test_maps_and_sets_of_strings_are_accepted(src: str, keys: list[str]) -> None:
    assert [k for k, _ in for_each_items(value(src))] == keys


@pytest.mark.parametrize(
    ("src", "reason"),
    [
        ('["a", "b"]', "you have provided a list. Convert it with toset([...])"),
        ('["a", "b", "a"]', 'This list names "a" more than once.'),
        ("[]", "you have provided a list."),
        ('concat(toset(["a"]), ["b"])', "you have provided a list."),
        ('[for s in toset(["a"]) : s]', "you have provided a list."),
        ("toset([1, 2])", "you have provided a set of number."),
        ('"a"', "you have provided a string."),
        ("3", "you have provided a number."),
        ("null", "you have provided null."),
    ],
)
def test_anything_else_is_refused_with_the_reason(src: str, reason: str) -> None:
    with pytest.raises(ValueError, match="must be a map, or a set of strings") as info:
        for_each_items(value(src))
    assert reason in str(info.value)


def test_a_set_variable_is_a_set_and_a_list_variable_is_not() -> None:
    as_set = convert(["b", "a", "b"], parse_type(parse_expression("set(string)", file=FILE)))
    assert for_each_items(as_set) == [("a", "a"), ("b", "b")]
    as_list = convert(["b", "a"], parse_type(parse_expression("list(string)", file=FILE)))
    with pytest.raises(ValueError, match="provided a list"):
        for_each_items(as_list)


def test_expand_names_each_set_member_once_and_refuses_a_list_at_its_line(tmp_path: Path) -> None:
    (tmp_path / "main.hcl").write_text(
        'variable "names" {\n  type    = list(string)\n  default = ["a", "b", "a"]\n}\n'
        'resource "aws_launch_template" "t" {\n'
        "  for_each = toset(var.names)\n"
        '  name     = "t-${each.key}"\n'
        '  image_id = "ami-1"\n'
        "}\n"
        'resource "aws_launch_template" "u" {\n'
        "  for_each = var.names\n"
        '  name     = "u-${each.key}"\n'
        '  image_id = "ami-1"\n'
        "}\n"
    )
    stack = load_stack(tmp_path)
    ctx = EvalContext(variables=resolve_variables(stack, environ={}))
    by_set = expand(next(b for a, b in stack.resources.items() if a.name == "t"), ctx)
    assert [str(i.address) for i in by_set] == ['aws_launch_template.t["a"]', 'aws_launch_template.t["b"]']
    with pytest.raises(ConfigError) as info:
        expand(next(b for a, b in stack.resources.items() if a.name == "u"), ctx)
    (diag,) = info.value.diagnostics
    assert diag.summary == "Invalid for_each argument" and diag.pos is not None and diag.pos.line == 11
    assert 'This list names "a" more than once.' in diag.detail
