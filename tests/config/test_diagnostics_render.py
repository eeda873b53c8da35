"""format_diagnostics: the exact text shape users see."""

from __future__ import annotations

from pathlib import Path

from reconciler.errors import Diagnostic, Severity, SourcePos
from reconciler.render.diagnostics import format_diagnostics

SOURCE = (
    "\n".join(f"# line {i}" for i in range(1, 12)) + '\nresource "x" "y" {\n  instance_typo = "t3.micro"\n}\n'
)


def test_shape_with_source_caret_and_suggestion(tmp_path: Path) -> None:
    file = tmp_path / "main.hcl"
    diag = Diagnostic(
        'Unsupported attribute "instance_typo"',
        SourcePos(file, 13, 3),
        context='in resource "aws_launch_template" "web"',
        suggestion="instance_type",
    )
    assert format_diagnostics([diag], {file: SOURCE}) == (
        'Error: Unsupported attribute "instance_typo"\n'
        '  on main.hcl line 13, in resource "aws_launch_template" "web":\n'
        '  13:   instance_typo = "t3.micro"\n'
        "        ^\n"
        'Did you mean "instance_type"?\n'
    )


def test_reads_the_file_when_no_sources_given_and_separates_with_blank_lines(tmp_path: Path) -> None:
    file = tmp_path / "vars.hcl"
    file.write_text('variable "x" {\n  type = string\n}\n')
    diags = [
        Diagnostic(
            'No value for required variable "x"', SourcePos(file, 1, 1), detail="Set it with --var x=VALUE."
        ),
        Diagnostic("Something without a place", severity=Severity.WARNING),
    ]
    assert format_diagnostics(diags, None) == (
        'Error: No value for required variable "x"\n'
        "  on vars.hcl line 1:\n"
        '  1: variable "x" {\n'
        "     ^\n"
        "Set it with --var x=VALUE.\n"
        "\n"
        "Warning: Something without a place\n"
    )


def test_missing_file_still_renders(tmp_path: Path) -> None:
    diag = Diagnostic("Oops", SourcePos(tmp_path / "gone.hcl", 4, 2))
    assert format_diagnostics([diag]) == "Error: Oops\n  on gone.hcl line 4:\n"
