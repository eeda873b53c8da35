"""format_source: canonical layout, idempotent, and never changes what the file means.

Every expected output here is what `terraform fmt` (1.11) writes for the input; the larger corpus
is in fixtures/fmt (test_fmt_terraform.py)."""

from __future__ import annotations

from pathlib import Path

import hcl2
import pytest

from reconciler.config import format_source

CASES: list[tuple[str, str]] = [
    (
        'resource "aws_fleet" "web" {\nname="web"\n    min_size   =    2\n}\n',
        'resource "aws_fleet" "web" {\n  name     = "web"\n  min_size = 2\n}\n',
    ),
    (  # a blank line ends an alignment run; nesting adds two spaces per level
        "a {\n  x = 1\n  longer_name = 2\n\n  y = 3\n  b {\n  c = 4\n  }\n}\n",
        "a {\n  x           = 1\n  longer_name = 2\n\n  y = 3\n  b {\n    c = 4\n  }\n}\n",
    ),
    (  # object elements are aligned like attributes; a multi-line attribute breaks the run
        'x {\n  tags = {\n  Name = "a"\n  LongerKey = "b"\n  }\n  k = 1\n}\n',
        'x {\n  tags = {\n    Name      = "a"\n    LongerKey = "b"\n  }\n  k = 1\n}\n',
    ),
    (  # comments are kept as written and indented; trailing whitespace goes; blank lines stay
        "\n\n# top   \nx {   \n      # inner\n  a = 1 # trailing\n\n\n\n  b = 2\n}\n\n\n",
        "\n\n# top   \nx {\n  # inner\n  a = 1 # trailing\n\n\n\n  b = 2\n}\n\n\n",
    ),
    (  # heredoc bodies are untouched; the heredoc's attribute aligns with the next one
        "x {\nuser_data = <<EOT\n  keep   \n\n\n    this\nEOT\n  z = 1\n}\n",
        "x {\n  user_data = <<EOT\n  keep   \n\n\n    this\nEOT\n  z         = 1\n}\n",
    ),
    (  # strings with braces, interpolations and = inside do not confuse indentation
        'x {\nname = "a{b}${ {c = 1}.c }=d" // }\n  list = [\n1,\n  2,\n  ]\n}\n',
        'x {\n  name = "a{b}${ { c = 1 }.c}=d" // }\n  list = [\n    1,\n    2,\n  ]\n}\n',
    ),
    (  # == and => are not attribute assignments
        "x {\n  a = 1 == 2\n  b = { for k, v in {} : k => v }\n}\n",
        "x {\n  a = 1 == 2\n  b = { for k, v in {} : k => v }\n}\n",
    ),
    ("", "\n"),
]


@pytest.mark.parametrize(("before", "after"), CASES)
def test_format(before: str, after: str) -> None:
    assert format_source(before) == after


@pytest.mark.parametrize(("before", "after"), CASES)
def test_idempotent_and_meaning_preserving(before: str, after: str) -> None:
    once = format_source(before)
    assert format_source(once) == once
    assert hcl2.loads(before) == hcl2.loads(once)


def test_design_example_round_trips() -> None:
    text = (Path(__file__).parent / "corpus" / "many_problems" / "main.hcl").read_text()
    messy = "\n".join("   " + line.strip() + "   " for line in text.splitlines()) + "\n\n"
    formatted = format_source(messy)
    assert formatted == text + "\n"  # the trailing blank line stays, as terraform fmt keeps it
    assert hcl2.loads(messy) == hcl2.loads(formatted)
