"""The bad-input corpus: each directory under corpus/ is a stack with one kind of mistake.

The table says which diagnostic it must produce (summary substring, file, line, suggestion),
whether it comes from load_stack, resolve_variables or validate_arguments.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.config import evaluate_body, load_stack, resolve_variables, validate_arguments
from reconciler.errors import ConfigError, Diagnostic
from reconciler.expressions import EvalContext
from reconciler.render.diagnostics import format_diagnostics
from tests.config.fake_schemas import SCHEMAS

CORPUS = Path(__file__).parent / "corpus"

# (case, summary substring, file, line, suggestion)
LOAD_CASES: list[tuple[str, str, str, int, str | None]] = [
    (
        "syntax_missing_brace",
        "Invalid HCL syntax: unexpected end of file (missing '}'?)",
        "main.hcl",
        7,
        None,
    ),
    ("syntax_stray_character", "Invalid HCL syntax: unexpected character '@'", "main.hcl", 3, None),
    ("syntax_extra_brace", "Invalid HCL syntax: unexpected '}'", "main.hcl", 5, None),
    ("unknown_block_type", 'Unsupported block type "resourc"', "main.hcl", 1, "resource"),
    ("missing_label", "Missing name for resource block", "main.hcl", 1, None),
    (
        "unknown_resource_type",
        'Unknown resource type "aws_launch_templat"',
        "main.hcl",
        1,
        "aws_launch_template",
    ),
    ("unknown_attribute", 'Unsupported attribute "instance_typo"', "main.hcl", 8, "instance_type"),
    ("unknown_nested_block", 'Unsupported block type "metadata_option"', "main.hcl", 7, "metadata_options"),
    ("unknown_nested_attribute", 'Unsupported attribute "volume_sise"', "main.hcl", 6, "volume_size"),
    (
        "undeclared_variable",
        'Reference to undeclared input variable "instance_typ"',
        "main.hcl",
        8,
        "var.instance_type",
    ),
    ("undeclared_local", 'Reference to undeclared local value "ap"', "main.hcl", 6, "local.app"),
    (
        "undeclared_resource",
        'Reference to undeclared resource "aws_launch_template.webb"',
        "main.hcl",
        8,
        "aws_launch_template.web",
    ),
    (
        "undeclared_data_source",
        'Reference to undeclared data source "data.aws_ami.ap"',
        "main.hcl",
        7,
        "data.aws_ami.app",
    ),
    ("count_and_for_each", 'Invalid combination of "count" and "for_each"', "main.hcl", 3, None),
    ("each_without_for_each", 'Reference to "each.key" in a block without "for_each"', "main.hcl", 2, None),
    (
        "count_index_without_count",
        'Reference to "count.index" in a block without "count"',
        "main.hcl",
        3,
        None,
    ),
    ("duplicate_resource", 'Duplicate resource "aws_fleet.web" configuration', "other.hcl", 1, None),
    ("duplicate_variable", 'Duplicate variable "x"', "main.hcl", 2, None),
    (
        "unknown_lifecycle_argument",
        'Unsupported argument "prevent_destroi"',
        "main.hcl",
        5,
        "prevent_destroy",
    ),
    (
        "ignore_changes_unknown_attribute",
        'Unsupported attribute "mim_size" in ignore_changes',
        "main.hcl",
        5,
        "min_size",
    ),
    ("depends_on_not_a_resource", "Invalid depends_on reference", "main.hcl", 8, None),
    ("undeclared_provider_alias", 'Provider configuration "aws.eu" is not declared', "main.hcl", 5, "aws"),
    ("backend_not_literal", 'Invalid value for backend argument "bucket"', "main.hcl", 7, None),
]


def _load_errors(case: str) -> list[Diagnostic]:
    with pytest.raises(ConfigError) as info:
        load_stack(CORPUS / case)
    return info.value.diagnostics


@pytest.mark.parametrize(
    ("case", "summary", "file", "line", "suggestion"), LOAD_CASES, ids=[c[0] for c in LOAD_CASES]
)
def test_load_diagnostics(case: str, summary: str, file: str, line: int, suggestion: str | None) -> None:
    diags = _load_errors(case)
    assert len(diags) == 1, [d.summary for d in diags]
    diag = diags[0]
    assert summary in diag.summary
    assert diag.pos is not None
    assert (diag.pos.file.name, diag.pos.line) == (file, line)
    assert diag.suggestion == suggestion
    text = format_diagnostics(diags)  # renders with the offending line
    assert text.startswith(f"Error: {diag.summary}\n  on {file} line {line}")


def test_two_syntax_errors_in_two_files_are_both_reported() -> None:
    diags = _load_errors("two_files_two_syntax_errors")
    got = [(d.pos.file.name, d.pos.line) for d in diags if d.pos is not None]
    assert got == [("a.hcl", 3), ("b.hcl", 3)]
    assert all(d.summary.startswith("Invalid HCL syntax") for d in diags)
    assert "missing ']'" in diags[0].summary


def test_all_diagnostics_of_a_run_are_reported_together() -> None:
    diags = _load_errors("many_problems")
    got = {(d.pos.file.name, d.pos.line, d.summary.split(" ")[0]) for d in diags if d.pos is not None}
    assert got == {
        ("broken.hcl", 3, "Invalid"),  # syntax error in one file does not hide the others
        ("fleet.hcl", 1, "Unknown"),  # resource type
        ("fleet.hcl", 2, "Reference"),  # local.nope
        ("fleet.hcl", 6, "Reference"),  # var.y
        ("main.hcl", 3, "Reference"),  # data.aws_ami.app
        ("main.hcl", 4, "Unsupported"),  # instance_typo
    }


def test_missing_required_variable() -> None:
    stack = load_stack(CORPUS / "missing_required_variable")
    with pytest.raises(ConfigError) as info:
        resolve_variables(stack, cli_vars=["nope=1"], var_files=[], environ={})
    diags = info.value.diagnostics
    missing = next(d for d in diags if "No value for required variable" in d.summary)
    assert missing.summary == 'No value for required variable "instance_type"'
    assert missing.pos is not None and (missing.pos.file.name, missing.pos.line) == ("main.hcl", 5)
    assert "--var" in missing.detail and "RECONCILER_VAR_instance_type" in missing.detail
    assert any(d.summary == 'Value for undeclared variable "nope"' for d in diags)  # reported together


@pytest.mark.parametrize(
    ("case", "type_name", "summary", "line"),
    [
        (
            "wrong_type",
            "aws_fleet",
            'Inappropriate value for attribute "min_size": a number is required, got "two"',
            4,
        ),
        (
            "wrong_nested_type",
            "aws_launch_template",
            "Inappropriate value for attribute "
            '"block_device_mapping.volume_size": a number is required, got "big"',
            10,
        ),
    ],
)
def test_wrong_type_via_validate_arguments(case: str, type_name: str, summary: str, line: int) -> None:
    stack = load_stack(CORPUS / case)
    block = next(iter(stack.resources.values()))
    schema = next(s for s in SCHEMAS.values() if s.type_name == type_name)
    values = evaluate_body(block.body, EvalContext(base_dir=stack.directory))
    _, diags = validate_arguments(schema, values, block.body, context=block.context)
    assert [d.summary for d in diags] == [summary]
    assert diags[0].pos is not None and (diags[0].pos.file.name, diags[0].pos.line) == ("main.hcl", line)
    assert diags[0].context == block.context
