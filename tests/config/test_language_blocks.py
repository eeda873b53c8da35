"""Terraform's blocks and type features: dynamic blocks, variable validation rules, optional()
attributes with defaults, and template directives in heredocs — each evaluated as Terraform does,
and each mistake reported once, at its own line, without cascading errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.address import Address
from reconciler.config import evaluate_body, load_stack, resolve_variables
from reconciler.errors import ConfigError
from reconciler.expressions import UNKNOWN, EvalContext

DYNAMIC = """\
variable "disks" {
  type    = map(number)
  default = { "/dev/xvda" = 8, "/dev/xvdb" = 20 }
}

resource "aws_launch_template" "web" {
  name     = "web"
  image_id = "ami-1"
  block_device_mapping {
    device_name = "/dev/sda1"
  }
  dynamic "block_device_mapping" {
    for_each = var.disks
    iterator = disk
    content {
      device_name = disk.key
      volume_size = disk.value * 2
    }
  }
  dynamic "metadata_options" {
    for_each = ["required"]
    content {
      http_tokens = metadata_options.value
    }
  }
}
"""


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "main.hcl").write_text(text)
    return tmp_path


def _errors(tmp_path: Path, text: str, **kwargs: object) -> list[tuple[int, str]]:
    directory = _write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        stack = load_stack(directory)
        resolve_variables(stack, environ={}, **kwargs)  # type: ignore[arg-type]
    return [(d.pos.line if d.pos else 0, f"{d.summary} {d.detail}") for d in caught.value.diagnostics]


def test_dynamic_blocks_expand_after_the_written_ones(tmp_path: Path) -> None:
    stack = load_stack(_write(tmp_path, DYNAMIC))
    variables = resolve_variables(stack, environ={})
    block = stack.resources[Address("aws_launch_template", "web")]
    values = evaluate_body(block.body, EvalContext(variables=variables))
    assert values["block_device_mapping"] == [
        {"device_name": "/dev/sda1"},
        {"device_name": "/dev/xvda", "volume_size": 16},
        {"device_name": "/dev/xvdb", "volume_size": 40},
    ]
    assert values["metadata_options"] == [{"http_tokens": "required"}]  # default iterator: the label


def test_dynamic_block_with_unknown_for_each_is_unknown_but_still_checked(tmp_path: Path) -> None:
    stack = load_stack(_write(tmp_path, DYNAMIC))
    block = stack.resources[Address("aws_launch_template", "web")]
    values = evaluate_body(block.body, EvalContext(variables={"disks": UNKNOWN}))
    assert values["block_device_mapping"] is UNKNOWN
    broken = DYNAMIC.replace("disk.value * 2", "uper(disk.value)")
    stack = load_stack(_write(tmp_path, broken))
    block = stack.resources[Address("aws_launch_template", "web")]
    with pytest.raises(ConfigError) as caught:
        evaluate_body(block.body, EvalContext(variables={"disks": UNKNOWN}))
    assert [d.summary for d in caught.value.diagnostics] == ['Call to unknown function "uper"']


def test_dynamic_block_mistakes_are_reported_where_they_are(tmp_path: Path) -> None:
    text = """\
resource "aws_launch_template" "web" {
  name     = "web"
  image_id = "ami-1"
  dynamic "block_device_mappings" {
    for_each = [1]
    content { device_name = "x" }
  }
  dynamic "block_device_mapping" {
    for_each = [1]
    labels   = ["a"]
    content { device_nme = block_device_mapping.value }
  }
  dynamic "metadata_options" {
    for_each = [1]
  }
}
"""
    found = _errors(tmp_path, text)
    assert [line for line, _ in found] == [4, 10, 11, 13]
    assert 'Unsupported block type "block_device_mappings"' in found[0][1]
    assert "Extraneous labels" in found[1][1]
    assert 'Unsupported attribute "device_nme"' in found[2][1]
    assert 'Missing "content" block' in found[3][1]


VALIDATED = """\
variable "env" {
  type    = string
  default = "prod"

  validation {
    condition     = contains(["dev", "prod"], var.env)
    error_message = "env must be dev or prod."
  }
}

variable "size" {
  type = number
  validation {
    condition     = var.size > 0 && floor(var.size) == var.size
    error_message = "size must be a positive whole number, got ${var.size}."
  }
}
"""


def test_validation_rules_pass_or_report_at_the_variable(tmp_path: Path) -> None:
    stack = load_stack(_write(tmp_path, VALIDATED))
    assert resolve_variables(stack, environ={}, cli_vars=["size=3"]) == {"env": "prod", "size": 3}
    with pytest.raises(ConfigError) as caught:
        resolve_variables(stack, environ={}, cli_vars=["size=2.5", "env=qa"])
    diags = caught.value.diagnostics
    assert [(d.summary, d.pos.line if d.pos else 0) for d in diags] == [
        ('Invalid value for variable "env"', 1),
        ('Invalid value for variable "size"', 11),
    ]
    assert diags[0].detail.startswith("env must be dev or prod.")
    assert "main.hcl:5" in diags[0].detail
    assert diags[1].detail.startswith("size must be a positive whole number, got 2.5.")


def test_validation_block_structure_errors(tmp_path: Path) -> None:
    text = 'variable "x" {\n  validation {\n    condition = true\n  }\n}\n'
    assert _errors(tmp_path, text) == [(2, 'Missing required argument "error_message" in validation block ')]
    text = (
        'variable "x" {\n  default = 1\n  validation {\n    condition = "yes"\n'
        '    error_message = "m"\n  }\n}\n'
    )
    found = _errors(tmp_path, text)
    assert found[0][0] == 4 and "Invalid validation condition" in found[0][1]


def test_optional_attributes_take_their_defaults(tmp_path: Path) -> None:
    text = """\
variable "fleet" {
  type = object({
    name  = string
    size  = optional(number, 2)
    tags  = optional(map(string), {})
    extra = optional(object({ a = optional(string, "x"), b = optional(bool) }), {})
  })
  default = { name = "web" }
}
"""
    stack = load_stack(_write(tmp_path, text))
    assert resolve_variables(stack, environ={})["fleet"] == {
        "name": "web",
        "size": 2,
        "tags": {},
        "extra": {"a": "x", "b": None},
    }
    given = resolve_variables(
        stack, environ={}, cli_vars=['fleet={ name = "db", size = null, extra = { b = true } }']
    )
    assert given["fleet"] == {"name": "db", "size": 2, "tags": {}, "extra": {"a": "x", "b": True}}
    bad = text.replace("optional(number, 2)", 'optional(number, "two")')
    found = _errors(tmp_path, bad)
    assert found[0][0] == 4 and "does not match the attribute's type" in found[0][1]


def test_heredoc_template_directives_with_strip_markers(tmp_path: Path) -> None:
    text = """\
locals {
  hosts = ["a", "b"]
  conf  = <<-EOT
    %{~ for i, h in local.hosts ~}
    server ${i} ${h}
    %{~ endfor ~}
    %{ if length(local.hosts) > 1 }cluster%{ else }single%{ endif }
  EOT
}
"""
    stack = load_stack(_write(tmp_path, text))
    ctx = EvalContext(locals={"hosts": ["a", "b"]})
    from reconciler.expressions import evaluate

    # as Terraform 1.11: the stripped directives leave lines that start at column 0, so nothing
    # is trimmed, and a strip marker never reaches past its own line
    assert evaluate(stack.locals["conf"].expr, ctx) == "    server 0 a\n    server 1 b\n    cluster\n"
