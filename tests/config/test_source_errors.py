"""Input the parser cannot take as it is: bytes that are not UTF-8, blocks nested beyond the limit,
escapes that name no character, a template file calling templatefile. Each is a diagnostic at the
file, line and column where it happens (never line 1 by default, never a crash)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.config import load_stack, resolve_variables
from reconciler.errors import ConfigError, Diagnostic
from reconciler.expressions import EvalContext, evaluate, parse_expression
from reconciler.expressions.limits import MAX_BLOCK_DEPTH
from reconciler.render.diagnostics import format_diagnostics

GOOD = 'locals {\n  app = "web"\n}\n'


def errors_of(directory: Path, **variables: list[Path]) -> list[Diagnostic]:
    with pytest.raises(ConfigError) as info:
        stack = load_stack(directory)
        resolve_variables(stack, var_files=variables.get("var_files", []), environ={})
    return info.value.diagnostics


def test_invalid_utf8_in_a_configuration_file_is_reported_at_its_byte(tmp_path: Path) -> None:
    (tmp_path / "a.hcl").write_text(GOOD)
    (tmp_path / "b.hcl").write_bytes(b'locals {\n  x = 1\n  # caf\xe9 au lait\n  y = "\xff"\n}\n')
    (diag,) = errors_of(tmp_path)
    assert diag.summary == "Invalid character encoding"
    assert diag.pos is not None and (diag.pos.file.name, diag.pos.line, diag.pos.column) == ("b.hcl", 3, 8)
    assert "byte 0xe9" in diag.detail and "UTF-8" in diag.detail
    text = format_diagnostics([diag])
    assert "on b.hcl line 3:" in text and "3:   # caf\ufffd au lait" in text


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "main.hcl").write_bytes(b"\xef\xbb\xbf" + GOOD.encode())
    assert "app" in load_stack(tmp_path).locals


@pytest.mark.parametrize(
    ("name", "data", "line", "column"),
    [
        ("vars.hcl", b'app = "ok"\nsize = "\xc3("\n', 2, 9),
        ("vars.json", b'{\n  "app": "ok",\n  "size": "\x80"\n}\n', 3, 12),
    ],
)
def test_invalid_utf8_in_a_variables_file_is_reported_at_its_byte(
    tmp_path: Path, name: str, data: bytes, line: int, column: int
) -> None:
    (tmp_path / "main.hcl").write_text('variable "app" {\n  default = "x"\n}\n')
    (tmp_path / "vars").mkdir()
    (tmp_path / "vars" / name).write_bytes(data)
    (diag,) = errors_of(tmp_path, var_files=[tmp_path / "vars" / name])
    assert diag.summary == "Invalid character encoding"
    assert diag.pos is not None and (diag.pos.file.name, diag.pos.line, diag.pos.column) == (
        name,
        line,
        column,
    )


def test_a_json_variables_file_nested_too_deeply_is_refused_at_its_bracket(tmp_path: Path) -> None:
    (tmp_path / "main.hcl").write_text('variable "x" {\n  default = 1\n}\n')
    deep = "[" * 5000 + "]" * 5000
    (tmp_path / "v.json").write_text('{\n  "x": ' + deep + "\n}\n")
    (diag,) = errors_of(tmp_path, var_files=[tmp_path / "v.json"])
    assert diag.summary.startswith("Value nested too deeply")
    assert diag.pos is not None and (diag.pos.line, diag.pos.column) == (2, 8 + 100)
    ok = json.dumps({"x": json.loads("[" * 100 + "]" * 100)})
    (tmp_path / "v.json").write_text(ok)
    stack = load_stack(tmp_path)
    assert resolve_variables(stack, var_files=[tmp_path / "v.json"], environ={})["x"] is not None


def _nested_blocks(levels: int) -> str:
    opening = "".join("  " * i + "b {\n" for i in range(1, levels))
    closing = "".join("  " * i + "}\n" for i in reversed(range(1, levels)))
    return 'resource "aws_launch_template" "web" {\n' + opening + closing + "}\n"


def test_blocks_nested_beyond_the_limit_are_a_diagnostic_at_the_first_too_deep(tmp_path: Path) -> None:
    (tmp_path / "main.hcl").write_text(_nested_blocks(MAX_BLOCK_DEPTH + 1))
    found = [d for d in errors_of(tmp_path) if d.summary == "Blocks nested too deeply"]
    assert len(found) == 1 and found[0].pos is not None
    assert found[0].pos.line == MAX_BLOCK_DEPTH + 1 and f"at most {MAX_BLOCK_DEPTH} levels" in found[0].detail
    (tmp_path / "main.hcl").write_text(_nested_blocks(MAX_BLOCK_DEPTH))
    assert not [d for d in errors_of(tmp_path) if d.summary == "Blocks nested too deeply"]
    (tmp_path / "main.hcl").write_text(_nested_blocks(3000))  # no RecursionError
    assert [d.pos.line for d in errors_of(tmp_path) if d.summary == "Blocks nested too deeply" and d.pos] == [
        MAX_BLOCK_DEPTH + 1
    ]


@pytest.mark.parametrize(("escape", "column"), [("\\uD800", 10), ("\\UFFFFFFFF", 10), ("\\U00110000", 10)])
def test_an_escape_that_names_no_character_is_an_error(tmp_path: Path, escape: str, column: int) -> None:
    (tmp_path / "main.hcl").write_text(f'locals {{\n  x = "ok"\n  y = "a{escape}"\n}}\n')
    (diag,) = errors_of(tmp_path)
    assert diag.summary == f"Invalid escape sequence: {escape} is not a Unicode character"
    assert diag.pos is not None and diag.pos.line == 3


def test_file_that_is_not_utf8_names_the_line_and_column_of_its_bad_byte(tmp_path: Path) -> None:
    (tmp_path / "init.sh").write_bytes(b"#!/bin/sh\necho ok\necho caf\xe9\n")
    with pytest.raises(ConfigError) as info:
        evaluate(
            parse_expression('file("init.sh")', file=tmp_path / "main.hcl", line=4),
            EvalContext(base_dir=tmp_path),
        )
    (diag,) = info.value.diagnostics
    assert diag.pos is not None and diag.pos.line == 4
    assert 'the file "init.sh" is not UTF-8 text: byte 0xe9 at line 3, column 9 of init.sh' in diag.detail


def test_file_keeps_a_byte_order_mark(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"\xef\xbb\xbfhello")
    assert evaluate(
        parse_expression('file("a.txt")', file=tmp_path / "m.hcl"), EvalContext(base_dir=tmp_path)
    ) == ("\ufeffhello")


def test_templatefile_inside_a_template_file_is_refused_not_recursed(tmp_path: Path) -> None:
    (tmp_path / "a.tpl").write_text('line one\nand ${templatefile("a.tpl", {})}\n')
    with pytest.raises(ConfigError) as info:
        evaluate(
            parse_expression('templatefile("a.tpl", {})', file=tmp_path / "main.hcl"),
            EvalContext(base_dir=tmp_path),
        )
    (diag,) = info.value.diagnostics
    assert diag.summary == "templatefile() cannot be called from inside a template file"
    assert diag.pos is not None and (diag.pos.file.name, diag.pos.line, diag.pos.column) == ("a.tpl", 2, 7)


def test_non_utf8_variable_text_is_refused_and_json_half_surrogates_are_replaced(
    tmp_path: Path,
) -> None:
    (tmp_path / "main.hcl").write_text('variable "x" {\n  type = string\n}\n')
    stack = load_stack(tmp_path)
    # Python hands undecodable argv/environment bytes over as lone surrogates (U+DC80-U+DCFF)
    for given in ({"cli_vars": ["x=caf\udce9"]}, {"environ": {"RECONCILER_VAR_x": "\udcff"}}):
        with pytest.raises(ConfigError) as info:
            resolve_variables(stack, **{"environ": {}, **given})  # type: ignore[arg-type]
        (diag,) = info.value.diagnostics
        assert diag.summary == 'Invalid value for variable "x": it is not UTF-8 text'
        assert "holds the byte 0x" in diag.detail
    (tmp_path / "v.json").write_text('{"x": "a\\ud800b\\ud83d\\ude00"}')
    value = resolve_variables(stack, var_files=[tmp_path / "v.json"], environ={})["x"]
    assert value == "a\ufffdb\U0001f600"  # as Go's JSON decoder (and Terraform) reads it
