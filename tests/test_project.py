"""Project promises: CI runs exactly the README's test command, and every example validates."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reconciler.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _code_lines(text: str) -> list[str]:
    return [
        line.strip() for block in re.findall(r"```sh\n(.*?)```", text, re.S) for line in block.splitlines()
    ]


def test_ci_runs_exactly_the_readme_test_command() -> None:
    readme = _code_lines((ROOT / "README.md").read_text())
    assert len(readme) >= 2, "README must give the quickstart command and the test command"
    test_command = readme[1]
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_command in [line.strip() for line in ci]
    assert "pytest" in test_command


STACKS = sorted({str(p.parent.relative_to(ROOT / "examples")) for p in (ROOT / "examples").rglob("*.hcl")})


def test_examples_are_found() -> None:
    assert {"quickstart", "rolling", "canary", "ci/infra"} <= set(STACKS)


@pytest.mark.parametrize("example", STACKS)
def test_every_example_validates(example: str, capsys) -> None:
    code = main(["--chdir", str(ROOT / "examples" / example), "validate"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "configuration is valid" in out.out
