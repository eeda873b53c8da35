"""Static references of expressions: parts, kind, target address, bound names excluded."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.address import Address, Mode
from reconciler.expressions import Reference, RefKind, parse_expression

FILE = Path("main.hcl")


def refs(src: str) -> list[Reference]:
    return parse_expression(src, file=FILE).references()


CASES = [
    ("var.x", [("var", "x")]),
    ("local.y[0]", [("local", "y", 0)]),
    ("data.aws_ami.app.id", [("data", "aws_ami", "app", "id")]),
    ("aws_launch_template.web.id", [("aws_launch_template", "web", "id")]),
    ('aws_launch_template.web["a"].id', [("aws_launch_template", "web", "a", "id")]),
    ("aws_fleet.web[0].arn", [("aws_fleet", "web", 0, "arn")]),
    ("count.index", [("count", "index")]),
    ("each.value.size", [("each", "value", "size")]),
    ("path.module", [("path", "module")]),
    ('"${var.a}-${local.b}"', [("var", "a"), ("local", "b")]),
    ("var.m[var.k]", [("var", "m"), ("var", "k")]),
    ("aws_fleet.web[*].id", [("aws_fleet", "web")]),
    ("f(var.a, [var.b])", [("var", "a"), ("var", "b")]),
    ("[for z in var.zones : upper(z)]", [("var", "zones")]),
    ("{for k, v in var.m : k => v.id if local.on}", [("var", "m"), ("local", "on")]),
    ('"literal"', []),
]


@pytest.mark.parametrize(("src", "expected"), CASES, ids=[c[0] for c in CASES])
def test_reference_parts(src: str, expected: list[tuple[str | int, ...]]) -> None:
    assert [r.parts for r in refs(src)] == expected


def test_reference_helpers() -> None:
    data_ref, var_ref, res_ref, count_ref = refs(
        "[data.aws_ami.app.id, var.x, aws_fleet.web.id, count.index]"
    )
    assert data_ref.kind is RefKind.DATA
    assert data_ref.target_address() == Address("aws_ami", "app", None, Mode.DATA)
    assert var_ref.kind is RefKind.VAR and var_ref.name == "x" and var_ref.target_address() is None
    assert res_ref.kind is RefKind.RESOURCE and res_ref.target_address() == Address("aws_fleet", "web")
    assert count_ref.kind is RefKind.COUNT
    assert data_ref.pos.file == FILE and (data_ref.pos.line, data_ref.pos.column) == (1, 2)
    assert (var_ref.pos.line, var_ref.pos.column) == (1, 23)
