"""Bad input through the CLI: every case exits 1, names the file and line, makes no cloud call,
and leaves the state and the cloud as they were."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli import main
from tests.conftest import register_ami
from tests.scenarios.harness import Cli, launch_templates, write_stack

GOOD = """
variable "instance_type" {
  type    = string
  default = "t3.micro"
}

data "aws_ami" "app" {
  name        = "app-*"
  most_recent = true
}

resource "aws_launch_template" "web" {
  name          = "web"
  image_id      = data.aws_ami.app.id
  instance_type = var.instance_type
}
"""


def fleet(sizes: str, rollout: str = "") -> str:
    """GOOD plus a fleet on its template (whose id is known only after apply) from line 16."""
    return (
        GOOD
        + 'resource "aws_fleet" "web" {\n  name = "web"\n  launch_template = aws_launch_template.web.id\n'
        + sizes
        + '  availability_zones = ["us-east-1a"]\n'
        + rollout
        + "}\n"
    )


# case → (files, expected summary, file, line, extra text expected)
CASES: dict[str, tuple[dict[str, str], str, str, int, str]] = {
    "syntax_missing_brace": (
        {"main.hcl": 'resource "aws_launch_template" "web" {\n  name = "web"\n'},
        "Invalid HCL syntax",
        "main.hcl",
        2,
        "",
    ),
    "unknown_attribute": (
        {"main.hcl": GOOD.replace("instance_type = var.instance_type", "instance_typo = var.instance_type")},
        'Unsupported attribute "instance_typo"',
        "main.hcl",
        14,
        'Did you mean "instance_type"?',
    ),
    "wrong_type": (
        {"main.hcl": GOOD.replace("instance_type = var.instance_type", "instance_type = [1, 2]")},
        "instance_type",
        "main.hcl",
        14,
        "",
    ),
    "wrong_nested_type": (
        {
            "main.hcl": GOOD.replace(
                '  name          = "web"\n',
                '  name          = "web"\n  block_device_mapping {\n'
                '    device_name = "/dev/xvda"\n    volume_size = "big"\n  }\n',
            )
        },
        "volume_size",
        "main.hcl",
        15,
        "",
    ),
    "undeclared_variable": (
        {"main.hcl": GOOD.replace("var.instance_type", "var.instance_typ")},
        'Reference to undeclared input variable "instance_typ"',
        "main.hcl",
        14,
        "var.instance_type",
    ),
    "undeclared_resource": (
        {"main.hcl": GOOD + 'output "x" {\n  value = aws_launch_template.webb.id\n}\n'},
        'Reference to undeclared resource "aws_launch_template.webb"',
        "main.hcl",
        17,
        "",
    ),
    "cycle": (
        {"main.hcl": GOOD + "locals {\n  a = local.b\n  b = local.a\n}\n"},
        "Cycle: local.a → local.b → local.a",
        "main.hcl",
        17,
        "",
    ),
    "missing_variable": (
        {"main.hcl": GOOD.replace('  default = "t3.micro"\n', "")},
        'No value for required variable "instance_type"',
        "main.hcl",
        1,
        "RECONCILER_VAR_instance_type",
    ),
    "invalid_version_specifier": (
        {
            "main.hcl": GOOD.replace(
                "most_recent = true", 'most_recent = true\n  version_tag = "Version"\n  version = "=>1.0"'
            )
        },
        "version",
        "main.hcl",
        10,
        "",
    ),
    "unknown_resource_type": (
        {"main.hcl": GOOD.replace('resource "aws_launch_template"', 'resource "aws_launch_templat"')},
        'Unknown resource type "aws_launch_templat"',
        "main.hcl",
        11,
        "aws_launch_template",
    ),
    "expression_nested_too_deeply": (
        {"main.hcl": GOOD + "locals {\n  deep = " + "[" * 500 + "]" * 500 + "\n}\n"},
        "Expression nested too deeply",
        "main.hcl",
        17,
        "at most 100 levels",
    ),
    "locals_nesting_a_value_too_deeply": (
        {
            "main.hcl": GOOD
            + "locals {\n  l0 = []\n"
            + "".join(f"  l{i} = [local.l{i - 1}]\n" for i in range(1, 120))
            + "}\n"
        },
        "Value nested too deeply: local.l100",
        "main.hcl",
        117,
        "at most 100 lists and maps",
    ),
    "blocks_nested_too_deeply": (
        {
            "main.hcl": GOOD.replace(
                '  name          = "web"\n', '  name = "web"\n' + "x {\n" * 300 + "}\n" * 300
            )
        },
        "Blocks nested too deeply",
        "main.hcl",
        112,
        "at most 100 levels",
    ),
    "recursive_templatefile": (
        {
            "main.hcl": GOOD.replace('  name          = "web"', '  name = templatefile("t.tpl", {})'),
            "t.tpl": 'web${templatefile("t.tpl", {})}',
        },
        "templatefile() cannot be called from inside a template file",
        "t.tpl",
        1,
        "",
    ),
    "for_each_over_a_list_with_duplicates": (
        {
            "main.hcl": GOOD.replace(
                '  name          = "web"', '  for_each = ["a", "b", "a"]\n  name = each.key'
            )
        },
        "Invalid for_each argument",
        "main.hcl",
        12,
        "must be a map, or a set of strings, and you have provided a list. Convert it with toset([...])",
    ),
    "fleet_min_size_above_max_size": (
        {"main.hcl": fleet("  min_size = 5\n  max_size = 2\n")},
        'Invalid value for attribute "max_size"',
        "main.hcl",
        20,
        "max_size (2) must be at least min_size (5)",
    ),
    "fleet_desired_capacity_above_max_size": (
        {"main.hcl": fleet("  min_size = 1\n  max_size = 2\n  desired_capacity = 5\n")},
        'Invalid value for attribute "desired_capacity"',
        "main.hcl",
        21,
        "desired_capacity (5) must not exceed max_size (2)",
    ),
    "fleet_desired_capacity_below_min_size": (
        {"main.hcl": fleet("  min_size = 3\n  max_size = 6\n  desired_capacity = 1\n")},
        'Invalid value for attribute "desired_capacity"',
        "main.hcl",
        21,
        "desired_capacity (1) must be at least min_size (3)",
    ),
    "rollout_max_unavailable_above_100_percent": (
        {
            "main.hcl": fleet(
                "  min_size = 1\n  max_size = 2\n",
                '  rollout {\n    strategy = "rolling"\n    max_unavailable = "150%"\n  }\n',
            )
        },
        'Invalid value for attribute "rollout.max_unavailable"',
        "main.hcl",
        24,
        "at most 100%, got 150%",
    ),
    "two_templates_claim_one_name": (
        {"main.hcl": GOOD + GOOD[GOOD.index("resource") :].replace('"web" {', '"web2" {')},
        'Duplicate cloud name: aws_launch_template "web"',
        "main.hcl",
        17,
        "aws_launch_template.web2 and aws_launch_template.web (main.hcl:12:3)",
    ),
    "count_not_a_number": (
        {"main.hcl": GOOD.replace('  name          = "web"', '  count         = "many"\n  name = "web"')},
        "count",
        "main.hcl",
        12,
        "",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_reported_without_touching_the_cloud(case, tmp_path: Path, capsys, monkeypatch) -> None:
    files, summary, file, line, extra = CASES[case]
    stack = write_stack(tmp_path / case, files)
    # Any cloud call would fail loudly against this closed port; none must be made.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("RECONCILER_AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    cli = Cli(stack, capsys)
    for command in (["validate"], ["plan"], ["apply", "--auto-approve"]):
        result = cli(*command)
        assert result.code == 1, (command, result.text)
        assert summary in result.err, result.err
        assert f"on {file} line {line}" in result.err, result.err
        assert extra in result.err
        assert "127.0.0.1:9" not in result.text and "Traceback" not in result.text
    assert not (stack / ".reconciler" / "state.json").exists()


def test_all_errors_of_a_run_are_reported_together(tmp_path: Path, capsys) -> None:
    stack = write_stack(
        tmp_path / "s",
        {
            "a.hcl": 'resource "aws_launch_template" "a" {\n  nme = "a"\n  image_id = "ami-1"\n}\n',
            "b.hcl": 'resource "aws_launch_template" "b" {\n  name = "b"\n  image_id = var.nope\n}\n',
        },
    )
    result = Cli(stack, capsys)("validate")
    assert result.code == 1
    assert "on a.hcl line 2" in result.err and "on b.hcl line 3" in result.err


def test_invalid_change_leaves_state_and_cloud_untouched(tmp_path: Path, aws_env, boto, capsys) -> None:
    register_ami(boto, name="app-1.0.0")
    stack = write_stack(tmp_path / "s", {"main.hcl": GOOD})
    cli = Cli(stack, capsys)
    assert cli("apply", "--auto-approve").code == 0
    state_file = stack / ".reconciler" / "state.json"
    before = state_file.read_bytes()
    (stack / "main.hcl").write_text(GOOD.replace("var.instance_type", '"t3.large"\n  bogus = 1'))
    result = cli("apply", "--auto-approve")
    assert result.code == 1 and 'Unsupported attribute "bogus"' in result.err
    assert state_file.read_bytes() == before
    assert launch_templates(boto)["web"]["LatestVersionNumber"] == 1


def test_a_name_known_only_at_apply_is_checked_before_the_create(
    tmp_path: Path, aws_env, boto, capsys
) -> None:
    """b's name depends on a's id, so plan cannot judge it; apply refuses b before creating it,
    names both resources, keeps a in state, and the fixed stack then converges."""
    later = 'split("-", aws_launch_template.a.id)[0] == "lt" ? "web" : "other"'
    text = (
        'resource "aws_launch_template" "a" {\n  name     = "web"\n  image_id = "ami-12345678"\n}\n'
        'resource "aws_launch_template" "b" {\n  name     = NAME\n  image_id = "ami-12345678"\n}\n'
    )
    stack = write_stack(tmp_path / "s", {"main.hcl": text.replace("NAME", later)})
    cli = Cli(stack, capsys)
    result = cli("apply", "--auto-approve")
    assert result.code == 1 and "Traceback" not in result.text
    assert (
        'aws_launch_template.b: Duplicate cloud name: aws_launch_template "web" (at main.hcl:6:3)'
        in result.err
    )
    assert "aws_launch_template.b and aws_launch_template.a (main.hcl:2:3)" in result.err
    assert list(launch_templates(boto)) == ["web"]
    assert launch_templates(boto)["web"]["Tags"] and cli("state", "list").out.split() == [
        "aws_launch_template.a"
    ]
    (stack / "main.hcl").write_text(text.replace("NAME", '"${' + later + '}-b"'))
    assert cli("apply", "--auto-approve").code == 0
    assert sorted(launch_templates(boto)) == ["web", "web-b"]
    assert cli("plan", "--detailed-exitcode").code == 0


def test_fmt_leaves_a_file_that_is_not_utf8_alone_and_says_where(tmp_path: Path, capsys) -> None:
    bad = b'locals {\nx = "caf\xe9"\n}\n'
    (tmp_path / "a.hcl").write_bytes(bad)
    (tmp_path / "b.hcl").write_bytes(b"\xef\xbb\xbflocals {\nx=1\n}\n")
    assert main(["--chdir", str(tmp_path), "fmt"]) == 1
    err = capsys.readouterr().err
    assert "Invalid character encoding" in err and "on a.hcl line 2:" in err and "internal error" not in err
    assert (tmp_path / "a.hcl").read_bytes() == bad
    assert (tmp_path / "b.hcl").read_bytes() == b"\xef\xbb\xbflocals {\n  x = 1\n}\n"  # formatted, BOM kept


def test_state_push_of_a_file_that_is_not_utf8_is_an_error(tmp_path: Path, capsys) -> None:
    (tmp_path / "main.hcl").write_text('locals {\n  app = "web"\n}\n')
    (tmp_path / "s.json").write_bytes(b"\xff\xfe{}")
    assert main(["--chdir", str(tmp_path), "state", "push", "s.json"]) == 1
    err = capsys.readouterr().err
    assert "state file s.json is not a state (not UTF-8 text" in err and "internal error" not in err
