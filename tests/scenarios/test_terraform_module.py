"""A Terraform module brought as it is (the community autoscaling module's shape, renamed to .hcl):
with `dynamic` blocks, `try` and a variable `validation` block, `reconciler validate` reports only
the resource types reconciler genuinely does not manage, each once, in file and line order, and
the same text on every run (different hash seeds included); a Terraform name it knows an
equivalent for is answered with that type and one line on the difference."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

FIXTURE = Path(__file__).parent / "fixtures" / "terraform_module"


def _validate(directory: Path, seed: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONHASHSEED": seed, "NO_COLOR": "1"}
    env = {k: v for k, v in env.items() if not k.startswith("RECONCILER_VAR_")}
    return subprocess.run(
        [sys.executable, "-m", "reconciler.cli", "--chdir", str(directory), "validate"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_module_reports_only_its_unsupported_types_once_in_order(tmp_path: Path) -> None:
    module = shutil.copytree(FIXTURE, tmp_path / "module")
    runs = [_validate(module, seed) for seed in ("1", "2", "3")]
    assert [r.returncode for r in runs] == [1, 1, 1]
    outputs = [r.stdout + r.stderr for r in runs]
    assert outputs[0] == outputs[1] == outputs[2]
    text = outputs[0]
    assert "Traceback" not in text
    errors = re.findall(r'Error: (.*)\n  on (\S+) line (\d+)', text)
    assert errors == [
        ('Unknown resource type "aws_lb_target_group"', "asg.hcl", "1"),
        ('Unknown resource type "aws_autoscaling_group"', "asg.hcl", "8"),
        ('Unknown resource type "aws_iam_role"', "main.hcl", "21"),
        ('Unknown resource type "aws_security_group"', "main.hcl", "26"),
    ]
    assert 'Did you mean "aws_target_group"?' in text
    assert 'Did you mean "aws_fleet"?' in text
    assert "where Terraform only updates the group" in text
    assert text.count("Did you mean") == 2  # no far-fetched guess for aws_iam_role / aws_security_group


def test_every_stage_reports_together_without_cascades(tmp_path: Path) -> None:
    module = shutil.copytree(FIXTURE, tmp_path / "module")
    for name in ("asg.hcl",):
        (module / name).unlink()
    main = module / "main.hcl"
    text = main.read_text()
    text = text.replace('resource "aws_iam_role" "this"', 'resource "aws_launch_template" "role"').replace(
        'resource "aws_security_group" "this"', 'resource "aws_launch_template" "sg"'
    )
    text = text.replace('name               = "${var.name}-role"', 'name = uppr(var.name)')
    text = text.replace("instance_type      = var.instance_type", "instance_type      = var.instance_typo")
    main.write_text(text)
    variables = module / "variables.hcl"
    variables.write_text(variables.read_text().replace('default     = "web"', 'default     = "Web!"'))
    result = _validate(module, "0")
    out = result.stdout + result.stderr
    errors = re.findall(r'Error: (.*)\n  on (\S+) line (\d+)', out)
    # a load-stage reference error, an evaluation-stage unknown function, a validation rule and
    # schema errors, all in one run, in file and line order, each cause once
    summaries = [e[0] for e in errors]
    assert errors == sorted(errors, key=lambda e: (e[1], int(e[2])))
    assert 'Call to unknown function "uppr"' in summaries
    assert 'Reference to undeclared input variable "instance_typo"' in summaries
    assert 'Invalid value for variable "name"' in summaries
    assert len(summaries) == len({(e[0], e[2]) for e in errors})
    assert summaries.count('Reference to undeclared input variable "instance_typo"') == 1
    assert "should match pattern" not in out  # "Web!-sg" follows only from the invalid var.name
    assert "Traceback" not in out
