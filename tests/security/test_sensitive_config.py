"""Where a sensitive value may not go (issue 8), refused with file and line before anything changes.

An output whose value comes from a sensitive value must say `sensitive = true` (Terraform's
"Output refers to sensitive values"): refused by `validate` when a variable makes it sensitive,
and by `plan` (before any cloud change) when a schema's sensitive attribute does. A sensitive
`for_each` is refused (its keys would be instance addresses); a map whose values are sensitive,
and a sensitive `count`, are fine, and so is a `dynamic` block over a sensitive `for_each` (the
blocks it generates are sensitive, as in Terraform). A validation rule or a duplicate cloud name
is reported without the sensitive value. A sensitive value in `tags` is accepted with a warning.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import register_ami
from tests.scenarios.harness import Cli, launch_templates, write_stack

HEAD = """
    variable "token" {
      type      = string
      default   = "hunter2-config-secret"
      sensitive = true
    }

    variable "sizes" {
      type      = map(string)
      default   = { a = "t3.micro" }
      sensitive = true
    }

    variable "n" {
      type      = number
      default   = 1
      sensitive = true
    }

    locals {
      banner = "token=${var.token}"
    }
"""

TEMPLATE = """
    resource "aws_launch_template" "web" {
      %s
      name     = "web"
      image_id = "ami-12345678"
    }
"""

CASES: list[tuple[str, str, str | None, int | None]] = [
    # (what, extra HCL, the error's summary or None, the line it names)
    (
        "an output of a sensitive variable",
        'output "t" {\n  value = var.token\n}',
        "Output refers to sensitive values",
        23,
    ),
    (
        "an output computed from one",
        'output "t" {\n  value = [for c in split("", local.banner) : upper(c)]\n}',
        "Output refers to sensitive values",
        23,
    ),
    ("a sensitive output", 'output "t" {\n  value     = var.token\n  sensitive = true\n}', None, None),
    ("an output of keys only", 'output "t" {\n  value = keys({ a = var.token })\n}', None, None),
    ("a sensitive for_each", TEMPLATE % "for_each = var.sizes", "Invalid for_each argument", None),
    (
        "a set with a sensitive element",
        TEMPLATE % "for_each = toset([var.token])",
        "Invalid for_each argument",
        None,
    ),
    ("a map with sensitive values", TEMPLATE % "for_each = { a = var.token }", None, None),
    ("a sensitive count", TEMPLATE % "count = var.n", None, None),
    (
        "a dynamic block over a sensitive for_each",
        TEMPLATE
        % 'dynamic "block_device_mapping" {\n'
        "    for_each = var.sizes\n"
        '    content {\n      device_name = "/dev/xvd${block_device_mapping.key}"\n    }\n  }',
        None,
        None,
    ),
    (
        "a validation rule whose message quotes a sensitive variable",
        'variable "checked" {\n  type    = string\n  default = "x"\n  validation {\n'
        "    condition     = length(var.token) < 5\n"
        '    error_message = "The token ${var.token} is too long."\n  }\n}',
        'Invalid value for variable "checked"',
        None,
    ),
    (
        "two templates named by one sensitive value",
        TEMPLATE.replace('"web"', '"a"').replace('name     = "a"', "name     = var.token") % ""
        + TEMPLATE.replace('"web"', '"b"').replace('name     = "b"', "name     = var.token") % "",
        "Duplicate cloud name",
        None,
    ),
]


@pytest.mark.parametrize(("what", "extra", "summary", "line"), CASES, ids=[c[0] for c in CASES])
def test_validate_refuses_what_would_expose_a_secret(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    what: str,
    extra: str,
    summary: str | None,
    line: int | None,
) -> None:
    cli = Cli(write_stack(tmp_path / "stack", {"main.hcl": HEAD + "\n" + extra + "\n"}), capsys)
    result = cli("validate")
    assert "hunter2-config-secret" not in result.text
    if summary is None:
        assert result.code == 0, result.text
        return
    assert result.code == 1, result.text
    assert f"Error: {summary}" in result.err and "sensitive" in result.err, result.err
    if line is not None:
        assert f"on main.hcl line {line}" in result.err, result.err
        assert "sensitive = true" in result.err  # says how to confirm the intent


STACK = """
    provider "aws" {
      region = "us-east-1"
    }

    data "aws_ami" "app" {
      name = "app-*"
    }

    resource "aws_launch_template" "web" {
      name      = "web"
      image_id  = data.aws_ami.app.id
      user_data = "#!/bin/sh\\necho schema-sensitive\\n"
    }

    output "script" {
      value = aws_launch_template.web.user_data
    }
"""


def test_plan_refuses_an_output_of_a_sensitive_attribute_before_changing_anything(
    tmp_path: Path, aws_env: str, boto: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    register_ami(boto, name="app-1.0.0", version="1.0.0")
    cli = Cli(write_stack(tmp_path / "stack", {"main.hcl": STACK}), capsys)
    result = cli("apply", "--auto-approve")
    assert result.code == 1, result.text
    assert "Error: Output refers to sensitive values" in result.err
    assert "on main.hcl line 15" in result.err and "schema-sensitive" not in result.text
    assert launch_templates(boto) == {}  # refused while planning: nothing was created

    fixed = (
        (tmp_path / "stack" / "main.hcl")
        .read_text()
        .replace(
            "value = aws_launch_template.web.user_data",
            "value     = aws_launch_template.web.user_data\n  sensitive = true",
        )
    )
    (tmp_path / "stack" / "main.hcl").write_text(fixed)
    applied = cli("apply", "--auto-approve")
    assert applied.code == 0, applied.text
    assert "script = (sensitive)" in applied.out and "schema-sensitive" not in applied.text


LOOKUP = """
    provider "aws" {
      region = "us-east-1"
    }

    variable "pattern" {
      type      = string
      default   = "app-1.*"
      sensitive = true
    }

    data "aws_ami" "app" {
      name = var.pattern
    }

    resource "aws_launch_template" "web" {
      name     = "web"
      image_id = data.aws_ami.app.id
    }
"""


def test_a_lookup_with_sensitive_arguments_is_shown_without_them(
    tmp_path: Path, aws_env: str, boto: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    image = register_ami(boto, name="app-1.0.0", version="1.0.0")
    cli = Cli(write_stack(tmp_path / "stack", {"main.hcl": LOOKUP}), capsys)
    plan = cli("plan")
    assert plan.code == 0, plan.text
    assert "app-1.*" not in plan.text and "the lookup's arguments are sensitive" in plan.out
    assert "image_id  (sensitive)" in plan.out  # what it found is marked too
    listed = cli("ami", "list", "data.aws_ami.app")
    assert listed.code == 0, listed.text
    assert "app-1.*" not in listed.text and "(its arguments are sensitive)" in listed.out
    assert image in listed.out  # the candidates themselves are the cloud's to show

    applied = cli("apply", "--auto-approve")
    assert applied.code == 0, applied.text
    assert template_image(boto) == image  # the provider got the real pattern and value
    assert cli("plan", "--detailed-exitcode").code == 0


def template_image(boto: Any) -> str:
    versions = boto("ec2").describe_launch_template_versions(LaunchTemplateName="web", Versions=["$Default"])
    return str(versions["LaunchTemplateVersions"][0]["LaunchTemplateData"]["ImageId"])


DEPENDANT = """
    provider "aws" {
      region = "us-east-1"
    }

    variable "token" {
      type      = string
      default   = "hunter2-dependant-secret"
      sensitive = true
    }

    variable "desired" {
      type    = number
      default = 0
    }

    data "aws_ami" "app" {
      name = "app-*"
    }

    resource "aws_launch_template" "web" {
      name     = "web"
      image_id = data.aws_ami.app.id
      tags     = { Token = var.token }
    }

    resource "aws_fleet" "web" {
      name               = "web"
      launch_template    = aws_launch_template.web.id
      min_size           = 0
      max_size           = 2
      desired_capacity   = var.desired
      availability_zones = ["us-east-1a"]
      tags               = { Copied = aws_launch_template.web.tags.Token }
    }
"""


def test_an_unchanged_resource_gives_its_sensitive_values_to_dependants(
    tmp_path: Path, aws_env: str, boto: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """State holds only a digest of the template's tag; the fleet that copies it still gets it."""
    register_ami(boto, name="app-1.0.0", version="1.0.0")
    cli = Cli(write_stack(tmp_path / "stack", {"main.hcl": DEPENDANT}), capsys)
    assert cli("apply", "--auto-approve").code == 0
    changed = cli("apply", "--auto-approve", "--var", "desired=1")  # the template is unchanged
    assert changed.code == 0, changed.text
    assert "hunter2" not in changed.text and "Copied = (sensitive)" not in changed.text
    groups = boto("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"]
    tags = {t["Key"]: t["Value"] for g in groups for t in g["Tags"]}
    assert tags["Copied"] == "hunter2-dependant-secret" and groups[0]["DesiredCapacity"] == 1
    assert cli("plan", "--detailed-exitcode", "--var", "desired=1").code == 0


DYNAMIC = """
    provider "aws" {
      region = "us-east-1"
    }

    variable "disks" {
      type      = map(number)
      default   = { "/dev/xvdb" = 8 }
      sensitive = true
    }

    data "aws_ami" "app" {
      name = "app-*"
    }

    resource "aws_launch_template" "web" {
      name     = "web"
      image_id = data.aws_ami.app.id
      dynamic "block_device_mapping" {
        for_each = var.disks
        content {
          device_name = block_device_mapping.key
          volume_size = block_device_mapping.value
        }
      }
    }
"""


@pytest.mark.slow
def test_blocks_generated_from_a_sensitive_for_each_are_sensitive_and_converge(
    tmp_path: Path, aws_env: str, boto: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    register_ami(boto, name="app-1.0.0", version="1.0.0")
    cli = Cli(write_stack(tmp_path / "stack", {"main.hcl": DYNAMIC}), capsys)
    applied = cli("apply", "--auto-approve")
    assert applied.code == 0, applied.text
    assert "block_device_mapping  (sensitive)" in applied.out and "xvdb" not in applied.text
    data = boto("ec2").describe_launch_template_versions(LaunchTemplateName="web", Versions=["$Default"])
    mappings = data["LaunchTemplateVersions"][0]["LaunchTemplateData"]["BlockDeviceMappings"]
    assert [(m["DeviceName"], m["Ebs"]["VolumeSize"]) for m in mappings] == [("/dev/xvdb", 8)]
    state = (tmp_path / "stack" / ".reconciler" / "state.json").read_text()
    assert "xvdb" not in state and "hmac-sha256:" in state  # the blocks are kept as a digest
    assert cli("plan", "--detailed-exitcode").code == 0
