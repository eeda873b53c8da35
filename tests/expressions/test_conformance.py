"""Conformance with Terraform 1.11: every row of fixtures/terraform_conformance.json (recorded from
`terraform console` by record_conformance.py) evaluates to the value Terraform printed, or fails
where Terraform failed, naming the same parameter when Terraform names one."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from reconciler.errors import EvalError
from reconciler.expressions import EvalContext, evaluate, parse_expression
from tests.expressions.console_format import render, unwrap

FIXTURE = json.loads(
    (Path(__file__).parent / "fixtures" / "terraform_conformance.json").read_text(encoding="utf-8")
)
ROWS: list[dict[str, Any]] = FIXTURE["rows"]
_PARAMETER = re.compile(r'Invalid value for "(\w+)" parameter')


def _evaluate(expr: str) -> Any:
    ctx = EvalContext(locals=dict(FIXTURE["locals"]))
    return evaluate(parse_expression(expr, file=Path("console.hcl")), ctx)


def test_the_table_is_large_enough() -> None:
    assert len(ROWS) >= 200


@pytest.mark.parametrize("row", ROWS, ids=[r["expr"][:60] for r in ROWS])
def test_row(row: dict[str, Any]) -> None:
    if "value" in row:
        assert render(_evaluate(row["expr"])) == unwrap(row["value"])
        return
    with pytest.raises(EvalError) as caught:
        _evaluate(row["expr"])
    named = _PARAMETER.search(row["error"]["detail"])
    if named:
        diag = caught.value.diagnostic
        assert f'"{named.group(1)}"' in f"{diag.summary} {diag.detail}"
