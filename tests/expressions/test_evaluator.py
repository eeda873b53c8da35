"""The expression evaluator, table-driven: operators, interpolation, functions, UNKNOWN, errors."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from reconciler.address import Address, Mode
from reconciler.errors import EvalError
from reconciler.expressions import UNKNOWN, EvalContext, evaluate, parse_expression

FILE = Path("main.hcl")


def ctx(tmp_path: Path | None = None) -> EvalContext:
    return EvalContext(
        variables={"name": "web", "n": 3, "zones": ["a", "b"], "tags": {"Team": "web"}, "flag": True},
        locals={"app": "web", "nums": [3, 1, 2], "m": {"k": 1, "j": 2}, "nothing": None},
        data={Address("aws_ami", "app", None, Mode.DATA): {"id": "ami-1", "name": "app-1.0"}},
        resources={
            Address("aws_launch_template", "web"): {"id": "lt-1", "latest_version": 3},
            Address("aws_launch_template", "new"): {"id": UNKNOWN, "name": "new"},
            Address("aws_fleet", "byzone"): {"a": {"id": "f-a"}, "b": {"id": UNKNOWN}},
            Address("aws_fleet", "counted"): [{"id": "c-0"}, {"id": "c-1"}],
            Address("aws_fleet", "unknown"): UNKNOWN,
        },
        base_dir=tmp_path or Path.cwd(),
    )


def run(src: str, context: EvalContext | None = None) -> Any:
    return evaluate(parse_expression(src, file=FILE), context or ctx())


CASES: list[tuple[str, Any]] = [
    # literals and collections
    ('"hello"', "hello"),
    ("42", 42),
    ("1.5", 1.5),
    ("1.5e3", 1500),
    ("true", True),
    ("null", None),
    ("[1, 2, 3]", [1, 2, 3]),
    ('{ a = 1, "b" = 2 }', {"a": 1, "b": 2}),
    ("{ (var.name) = 1 }", {"web": 1}),
    ('"a\\nb\\t\\"c\\" \\u00e9"', 'a\nb\t"c" é'),
    ('"$${literal}"', "${literal}"),
    # arithmetic and precedence
    ("1 + 2 * 3", 7),
    ("(1 + 2) * 3", 9),
    ("7 / 2", 3.5),
    ("6 / 2", 3),
    ("7 % 3", 1),
    ("-var.n", -3),
    ("10 - 2 - 3", 5),
    ('"2" + 1', 3),
    # comparison and logic
    ("1 < 2", True),
    ("2 <= 1", False),
    ('"a" == "a"', True),
    ("1 == true", False),
    ("[1, 2] == [1, 2]", True),
    ("var.flag && !false", True),
    ("false || 1 > 2", False),
    ('var.n > 2 ? "big" : "small"', "big"),
    # interpolation
    ('"${var.name}-${var.n}"', "web-3"),
    ('"${var.flag}"', True),  # a single interpolation keeps the value's type
    ('"x${var.flag}"', "xtrue"),
    ('"${var.zones}"', ["a", "b"]),
    # references and traversal
    ("var.zones[1]", "b"),
    ("var.zones.0", "a"),
    ('var.tags["Team"]', "web"),
    ("var.tags.Team", "web"),
    ("local.m.k", 1),
    ("data.aws_ami.app.id", "ami-1"),
    ("aws_launch_template.web.latest_version", 3),
    ('aws_fleet.byzone["a"].id', "f-a"),
    ("aws_fleet.counted[1].id", "c-1"),
    ("aws_fleet.counted[*].id", ["c-0", "c-1"]),
    ("path.module", str(Path.cwd())),
    # for expressions
    ("[for z in var.zones : upper(z)]", ["A", "B"]),
    ('[for i, z in var.zones : "${i}${z}"]', ["0a", "1b"]),
    ("{for k, v in local.m : k => v * 10}", {"j": 20, "k": 10}),
    ("[for n in local.nums : n if n > 1]", [3, 2]),
    ('{for z in ["a", "b", "a"] : z => z...}', {"a": ["a", "a"], "b": ["b"]}),
    # functions
    ('format("%s-%03d-%.2f-%q-%t", "a", 5, 1.234, "x", true)', 'a-005-1.23-"x"-true'),
    ('format("%v %%", [1])', "[1] %"),
    ('join(",", var.zones)', "a,b"),
    ('join("-", ["a"], ["b", 1])', "a-b-1"),
    ('split(",", "a,b,c")', ["a", "b", "c"]),
    ('split(",", "")', [""]),  # as Terraform: one empty element
    ('lookup(var.tags, "Team")', "web"),
    ('lookup(var.tags, "Nope", "dflt")', "dflt"),
    ('merge(var.tags, { App = "x" }, null)', {"Team": "web", "App": "x"}),
    ("concat(var.zones, [1])", ["a", "b", 1]),
    ("length(var.zones)", 2),
    ('length("héllo")', 5),
    ("length(local.m)", 2),
    ('upper("ab")', "AB"),
    ('lower("AB")', "ab"),
    ('replace("a-b-c", "-", "_")', "a_b_c"),
    ('replace("app-1.2", "/app-(\\\\d+)/", "v$1")', "v1.2"),
    ('base64encode("hi")', base64.b64encode(b"hi").decode()),
    ('base64decode("aGk=")', "hi"),
    ("tostring(5)", "5"),
    ("tostring(true)", "true"),
    ('tonumber("2.5")', 2.5),
    ("tolist([1])", [1]),
    ('toset(["b", "a", "b"])', ["a", "b"]),
    ("toset([2, 1, 2])", [1, 2]),
    ("keys(local.m)", ["j", "k"]),
    ("values(local.m)", [2, 1]),
    ('jsonencode({ b = [1, true, null], a = "x" })', '{"a":"x","b":[1,true,null]}'),
    ("min(3, 1, 2)", 1),
    ("max(local.nums...)", 3),
    ('coalesce(null, "", "x")', "x"),
    ('contains(var.zones, "b")', True),
    ("contains(local.nums, 5)", False),
]


@pytest.mark.parametrize(("src", "expected"), CASES, ids=[c[0] for c in CASES])
def test_evaluate(src: str, expected: Any) -> None:
    assert run(src) == expected


UNKNOWN_CASES: list[tuple[str, Any]] = [
    ("aws_launch_template.new.id", UNKNOWN),
    ('"prefix-${aws_launch_template.new.id}"', UNKNOWN),
    ('aws_launch_template.new.id == "x"', UNKNOWN),
    ("!aws_fleet.unknown.enabled", UNKNOWN),
    ("aws_fleet.unknown.id", UNKNOWN),
    ("aws_fleet.unknown[0]", UNKNOWN),
    ("upper(aws_launch_template.new.id)", UNKNOWN),
    ('join(",", [aws_launch_template.new.id])', UNKNOWN),
    ("var.zones[aws_fleet.unknown]", UNKNOWN),
    ("[for x in aws_fleet.unknown : x]", UNKNOWN),
    # collections keep UNKNOWN as an element
    ("[1, aws_launch_template.new.id]", [1, UNKNOWN]),
    ("{ id = aws_launch_template.new.id }", {"id": UNKNOWN}),
    ('aws_fleet.byzone["b"].id', UNKNOWN),
    # a known condition picks its branch
    ('true ? "x" : aws_launch_template.new.id', "x"),
    ('aws_fleet.unknown.x ? "a" : "b"', UNKNOWN),
    # functions tolerant of UNKNOWN elements
    ("length([aws_launch_template.new.id, 1])", 2),
    ("merge({ a = aws_launch_template.new.id }, { b = 1 })", {"a": UNKNOWN, "b": 1}),
    ("concat([aws_launch_template.new.id], [1])", [UNKNOWN, 1]),
]


@pytest.mark.parametrize(("src", "expected"), UNKNOWN_CASES, ids=[c[0] for c in UNKNOWN_CASES])
def test_unknown_propagation(src: str, expected: Any) -> None:
    assert run(src) == expected


ERROR_CASES: list[tuple[str, str, int, str | None]] = [
    # (expression, substring of summary + detail, column, suggestion)
    ("var.nmae", 'undeclared input variable "nmae"', 4, "var.name"),
    ("local.ap", 'undeclared local value "ap"', 6, "local.app"),
    ("data.aws_ami.ap.id", 'undeclared data source "data.aws_ami.ap"', 1, "data.aws_ami.app"),
    (
        "aws_launch_template.webb.id",
        'undeclared resource "aws_launch_template.webb"',
        1,
        "aws_launch_template.web",
    ),
    ("data.aws_ami.app.nmae", 'Unsupported attribute "nmae"', 17, "name"),
    ('var.tags["Teem"]', 'Unsupported key "Teem"', 9, "Team"),
    ("var.zones[5]", "greater than or equal to the length", 10, None),
    ("var.zones.x", 'attribute "x" on a list', 10, None),
    ('"a" + 1', 'a number is required, got "a"', 1, None),
    ('1 + "a"', 'a number is required, got "a"', 5, None),
    ("0 / 0", "can't divide zero by zero", 1, None),
    ('!"x"', "a bool is required", 1, None),
    ('"x" ? 1 : 2', "Incorrect condition type", 1, None),
    ('"${var.zones}x"', "cannot include a list", 4, None),
    ('"${local.nothing}x"', "null", 4, None),
    ('uper("a")', 'unknown function "uper"', 1, "upper"),
    ('upper("a", "b")', "Too many function arguments", 1, None),
    ('lookup(var.tags, "x")', '"inputMap" parameter of lookup(): the given object has no attribute', 8, None),
    ('file("does-not-exist.txt")', 'no file exists at "does-not-exist.txt"', 6, None),
    ("count.index", 'without "count"', 1, None),
    ("each.key", 'without "for_each"', 1, None),
    ("foo", 'unknown name "foo"', 1, None),
    ('base64decode("%%%")', 'failed to decode base64 data "%%%"', 14, None),
    ('tonumber("x")', 'cannot convert "x" to number', 10, None),
    ('{for z in ["a", "a"] : z => 1}', 'Duplicate object key "a"', 24, None),
]


@pytest.mark.parametrize(
    ("src", "summary", "column", "suggestion"), ERROR_CASES, ids=[c[0] for c in ERROR_CASES]
)
def test_errors(src: str, summary: str, column: int, suggestion: str | None) -> None:
    with pytest.raises(EvalError) as info:
        run(src)
    diag = info.value.diagnostic
    assert summary in f"{diag.summary} {diag.detail}"
    assert diag.pos is not None
    assert (diag.pos.file, diag.pos.line, diag.pos.column) == (FILE, 1, column)
    assert diag.suggestion == suggestion
    assert info.value.diagnostics == [diag]


def test_error_position_on_later_line() -> None:
    expr = parse_expression("{\n  a = 1\n  b = var.nope\n}", file=FILE, line=10, column=7)
    with pytest.raises(EvalError) as info:
        evaluate(expr, ctx())
    pos = info.value.diagnostic.pos
    assert pos is not None and (pos.line, pos.column) == (12, 10)


def test_instance_context() -> None:
    base = ctx()
    counted = base.with_instance(count_index=2)
    assert run("count.index + 1", counted) == 3
    each = base.with_instance(each_key="eu", each_value={"size": 3})
    assert run('"${each.key}-${each.value.size}"', each) == "eu-3"
    assert base.count_index is None and base.each_key is None


def test_file_and_templatefile(tmp_path: Path) -> None:
    (tmp_path / "init.sh").write_text("#!/bin/sh\necho hi\n")
    (tmp_path / "t.tpl").write_text('name=${name}\nzones=${join(",", zones)}\nraw=$${x}\n')
    c = ctx(tmp_path)
    assert run('file("init.sh")', c) == "#!/bin/sh\necho hi\n"
    assert run('templatefile("t.tpl", { name = var.name, zones = var.zones })', c) == (
        "name=web\nzones=a,b\nraw=${x}\n"
    )
    assert run("path.module", c) == str(tmp_path)
    with pytest.raises(EvalError) as info:
        run('templatefile("t.tpl", { name = "x" })', c)
    assert 'Invalid template variable "zones"' in info.value.diagnostic.summary
    pos = info.value.diagnostic.pos
    assert pos is not None and pos.file == tmp_path / "t.tpl" and pos.line == 2


def test_heredoc() -> None:
    src = "x = <<EOT\nhello ${var.name}\n  two\nEOT\n"
    from reconciler.config.hclparse import parse_file

    body, diags = parse_file(FILE, src)
    assert body is not None and not diags
    assert evaluate(body.attributes["x"].expr, ctx()) == "hello web\n  two\n"
    src_trim = "x = <<-EOT\n    a ${var.n}\n      b\n    EOT\n"
    body, _ = parse_file(FILE, src_trim)
    assert body is not None
    assert evaluate(body.attributes["x"].expr, ctx()) == "a 3\n  b\n"


def test_heredoc_error_position() -> None:
    from reconciler.config.hclparse import parse_file

    body, _ = parse_file(FILE, "a = 1\nx = <<EOT\nline\nval ${var.nope}\nEOT\n")
    assert body is not None
    with pytest.raises(EvalError) as info:
        evaluate(body.attributes["x"].expr, ctx())
    pos = info.value.diagnostic.pos
    assert pos is not None and (pos.line, pos.column) == (4, 10)
