"""Nesting limits: every construct nests up to the documented limit and works there; one level
more is a diagnostic at the place it goes too deep; thousands of levels are no crash."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.errors import ConfigError
from reconciler.expressions import EvalContext, evaluate, parse_expression
from reconciler.expressions.limits import (
    MAX_EXPRESSION_DEPTH,
    MAX_VALUE_DEPTH,
    json_too_deep,
    value_exceeds_depth,
)

FILE = Path("main.hcl")
N = MAX_EXPRESSION_DEPTH

# construct → (source nesting it n levels deep, its value at n = N)
NESTED: dict[str, tuple[Callable[[int], str], object]] = {
    "list": (lambda n: "[" * n + "1" + "]" * n, None),
    "object": (lambda n: "{a = " * n + "1" + "}" * n, None),
    "parentheses": (lambda n: "(" * n + "1" + ")" * n, 1),
    "call": (lambda n: "upper(" * n + '"x"' + ")" * n, "X"),
    "operator": (lambda n: "+".join(["1"] * (n + 1)), N + 1),
    "conditional": (lambda n: "true ? " * n + "1" + " : 2" * n, 1),
    "index": (lambda n: "local.deep" + "[0]" * (n - 1), 1),  # local.deep: N - 1 lists around 1
    "template": (lambda n: '"${' * n + "1" + '}"' * n, 1),  # "${x}" alone is x itself, as in HCL
    "for": (lambda n: "[for x in " * (n - 1) + "[1]" + " : x]" * (n - 1), [1]),
}


def deep_local(levels: int) -> object:
    value: object = 1
    for _ in range(levels):
        value = [value]
    return value


CTX = EvalContext(locals={"deep": deep_local(N - 1)})


@pytest.mark.parametrize("construct", sorted(NESTED))
def test_nesting_up_to_the_limit_parses_and_evaluates(construct: str) -> None:
    source, expected = NESTED[construct]
    value = evaluate(parse_expression(source(N), file=FILE), CTX)
    if expected is not None:
        assert value == expected
    else:
        assert value_exceeds_depth(value, N) is False and value_exceeds_depth(value, N // 2) is True


@pytest.mark.parametrize("construct", sorted(NESTED))
@pytest.mark.parametrize("levels", [N + 1, 1500])  # 1500: beyond the interpreter's recursion limit
def test_nesting_beyond_the_limit_is_a_diagnostic_at_its_place(construct: str, levels: int) -> None:
    source = NESTED[construct][0](levels)
    with pytest.raises(ConfigError) as info:
        parse_expression(source, file=FILE, line=7, column=5)
    (diag,) = info.value.diagnostics
    assert diag.summary == "Expression nested too deeply"
    assert f"at most {N} levels" in diag.detail
    assert diag.pos is not None and diag.pos.file == FILE and diag.pos.line == 7
    assert diag.pos.column >= 5  # where the level beyond the limit starts


def test_a_heredoc_interpolation_counts_the_levels_around_it() -> None:
    inner = "upper(" * (N - 2) + '"x"' + ")" * (N - 2)
    ok = f"[<<EOT\n${{{inner}}}\nEOT\n]"
    assert evaluate(parse_expression(ok, file=FILE), CTX) == ["X\n"]
    with pytest.raises(ConfigError) as info:
        parse_expression(f"[[<<EOT\n${{{inner}}}\nEOT\n]]", file=FILE, line=3)
    (diag,) = info.value.diagnostics
    assert diag.summary == "Expression nested too deeply" and diag.pos is not None and diag.pos.line == 4


def test_value_depth_is_measured_without_recursion() -> None:
    assert not value_exceeds_depth(deep_local(MAX_VALUE_DEPTH))
    assert value_exceeds_depth(deep_local(MAX_VALUE_DEPTH + 1))
    assert value_exceeds_depth(deep_local(50_000))
    assert not value_exceeds_depth({"a": [{"b": "c"}]}, 3) and value_exceeds_depth({"a": [{"b": []}]}, 3)


def test_json_depth_points_at_the_bracket_that_goes_too_deep() -> None:
    text = '{\n  "x": "[[[[ in a string",\n  "y": ' + "[" * 4 + "]" * 4 + "\n}"
    assert json_too_deep(text, 5) is None
    assert json_too_deep(text, 4) == (3, 11)  # the 5th bracket: the object and four lists
    assert json_too_deep('{"x": ' + "[" * 100_000 + "]" * 100_000 + "}", 100) == (1, 106)
