"""format() and replace() take small languages of their own (Go's format verbs, regular
expressions); whatever is written there is a result or an error at the call, never a crash. And
the type conversions take a value known only after apply as an element of any type."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.errors import ConfigError
from reconciler.expressions import UNKNOWN, EvalContext, evaluate, parse_expression


def run(src: str) -> Any:
    return evaluate(parse_expression(src, file=Path("main.hcl")), EvalContext())


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        # Go's flags in any order: + sign, - left-justify, space, 0 pad, # alternate form
        ('format("%+-5d|", 1)', "+1   |"),
        ('format("% +d", 1)', "+1"),
        ('format("%0-5d|", 1)', "1    |"),
        ('format("%-05d|", 1)', "1    |"),
        ('format("%05d", -1)', "-0001"),
        ('format("% d", 1)', " 1"),
        ('format("%#x", 255)', "0xff"),
        ('format("%-+.1f|", 1)', "+1.0|"),
        ('format("%8.3f", 3.14159)', "   3.142"),
        ('replace("aaa", "/(a)/", "$1$1")', "aaaaaa"),
        ('replace("a-b", "/(?P<x>\\\\w)-/", "$${x}+")', "a+b"),
        # Go's Regexp.Expand, as Terraform 1.11 answers: a group that does not exist is ""
        ('replace("aaa", "/(a)/", "$2")', ""),
        ('replace("aaa", "/(?P<x>a)/", "$${y}")', ""),
        ('replace("ab", "/(a)/", "[$1x|$$|$-]")', "[|$|$-]b"),
    ],
)
def test_format_flags_and_replacements(src: str, expected: str) -> None:
    assert run(src) == expected


@pytest.mark.parametrize(
    ("src", "message"),
    [
        ('format("%999999999d", 1)', "a format width or precision is at most 1000000"),
        ('format("%.2000000f", 1)', "a format width or precision is at most 1000000"),
        ('replace("abc", "/a{99999999999}/", "x")', "invalid regexp pattern"),
    ],
)
def test_what_cannot_be_formatted_or_replaced_is_an_error_at_the_call(src: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        run(src)
    (diag,) = info.value.diagnostics
    assert message in f"{diag.summary}: {diag.detail}" and diag.pos is not None and diag.pos.line == 1


U = "(unknown)"


def _shown(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _shown(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shown(v) for v in value]
    return U if value is UNKNOWN else value


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ('tolist(["a", local.u])', ["a", U]),  # an unknown element has no type to refuse
        ('tolist(["a", 1, local.u])', ["a", "1", U]),
        ("tomap({ a = 1, b = local.u })", {"a": 1, "b": U}),
    ],
)
def test_conversions_keep_unknown_elements(src: str, expected: Any) -> None:
    ctx = EvalContext(locals={"u": UNKNOWN})
    assert _shown(evaluate(parse_expression(src, file=Path("main.hcl")), ctx)) == expected
