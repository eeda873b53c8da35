"""Scenario: an HCL stack with an AMI lookup, a variable, locals and two launch templates (one
with for_each), planned and applied against the moto server through the CLI."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from tests.conftest import register_ami
from tests.scenarios.harness import Cli, launch_templates, template_data, write_stack

STACK = {
    "main.hcl": """
        reconciler {
          stack = "engine-test"
        }

        provider "aws" {
          region       = "us-east-1"
          default_tags = { Team = "web" }
        }

        variable "instance_type" {
          type    = string
          default = "t3.micro"
        }

        locals {
          app     = "app"
          workers = { batch = "t3.small" }
        }

        data "aws_ami" "app" {
          name        = "${local.app}-*"
          most_recent = true
          version_tag = "Version"
          version     = ">=1.0,<2"
        }

        resource "aws_launch_template" "web" {
          name          = "web"
          image_id      = data.aws_ami.app.id
          instance_type = var.instance_type
          user_data     = "TOKEN=s3cr3t-value"
          tags          = { Name = "web" }
        }

        resource "aws_launch_template" "worker" {
          for_each      = local.workers
          name          = "worker-${each.key}"
          image_id      = data.aws_ami.app.id
          instance_type = each.value
        }

        output "ami" {
          value = data.aws_ami.app.name
        }
    """,
}


@pytest.fixture
def stack(tmp_path: Path, aws_env: str, boto, capsys) -> Cli:
    register_ami(boto, name="app-1.0.0", version="1.0.0")
    write_stack(tmp_path / "stack", STACK)
    return Cli(tmp_path / "stack", capsys)


def test_plan_apply_plan_converges(stack: Cli, boto) -> None:
    plan = stack("plan")
    assert plan.code == 0, plan.text
    assert "Plan: 2 to add, 0 to change, 0 to destroy." in plan.out
    assert "+ aws_launch_template.web" in plan.out and 'aws_launch_template.worker["batch"]' in plan.out
    assert "(sensitive)" in plan.out and "s3cr3t" not in plan.text

    applied = stack("apply", "--auto-approve")
    assert applied.code == 0, applied.text
    assert "Apply complete! Resources: 2 added, 0 changed, 0 destroyed." in applied.out
    assert "s3cr3t" not in applied.text

    again = stack("plan", "--detailed-exitcode")
    assert again.code == 0, again.text
    assert "No changes." in again.out

    templates = launch_templates(boto)
    assert sorted(templates) == ["web", "worker-batch"]
    tags = {t["Key"]: t["Value"] for t in templates["web"]["Tags"]}
    assert tags["reconciler:stack"] == "engine-test"
    assert tags["reconciler:address"] == "aws_launch_template.web"
    assert tags["Team"] == "web" and tags["Name"] == "web"


def test_state_file_is_private_and_holds_no_secret(stack: Cli) -> None:
    assert stack("apply", "--auto-approve").code == 0
    path = stack.dir / ".reconciler" / "state.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert "s3cr3t" not in text
    state = json.loads(text)
    assert state["serial"] >= 2 and state["lineage"]
    user_data = state["resources"]["aws_launch_template.web"]["attributes"]["user_data"]
    assert list(user_data) == ["__sensitive__"] and user_data["__sensitive__"].startswith("hmac-sha256:")
    assert "sha256:" not in text.replace("hmac-sha256:", "")  # no plain digest of anything
    assert state["outputs"]["ami"]["value"] == "app-1.0.0"


def test_changing_instance_type_is_an_update_that_makes_version_2(stack: Cli, boto) -> None:
    assert stack("apply", "--auto-approve").code == 0
    plan = stack("plan", "--var", "instance_type=t3.large", "--detailed-exitcode")
    assert plan.code == 2, plan.text
    assert "~ aws_launch_template.web" in plan.out and "update in-place: new version 2 (default)" in plan.out
    assert 'instance_type  "t3.micro" → "t3.large"' in plan.out
    assert "Plan: 0 to add, 1 to change, 0 to destroy." in plan.out

    assert stack("apply", "--auto-approve", "--var", "instance_type=t3.large").code == 0
    lt = launch_templates(boto)["web"]
    assert lt["LatestVersionNumber"] == 2 and lt["DefaultVersionNumber"] == 2
    assert template_data(boto, "web")["LaunchTemplateData"]["InstanceType"] == "t3.large"
    assert stack("plan", "--var", "instance_type=t3.large", "--detailed-exitcode").code == 0


def test_a_newer_matching_ami_shows_on_every_template(stack: Cli, boto) -> None:
    assert stack("apply", "--auto-approve").code == 0
    old = template_data(boto, "web")["LaunchTemplateData"]["ImageId"]
    new = register_ami(boto, name="app-1.1.0", version="1.1.0")
    register_ami(boto, name="app-2.0.0", version="2.0.0")  # outside ">=1.0,<2"
    plan = stack("plan", "--detailed-exitcode")
    assert plan.code == 2, plan.text
    assert "data.aws_ami.app: app-1.0.0" in plan.out and "→ app-1.1.0" in plan.out
    assert plan.out.count(f'image_id  "{old}" → "{new}"   (app-1.0.0 → app-1.1.0)') == 2
    assert stack("apply", "--auto-approve").code == 0
    assert template_data(boto, "worker-batch")["LaunchTemplateData"]["ImageId"] == new
    assert stack("plan", "--detailed-exitcode").code == 0


def test_removed_resource_is_deleted_and_destroy_removes_everything(stack: Cli, boto) -> None:
    assert stack("apply", "--auto-approve").code == 0
    main = stack.dir / "main.hcl"
    main.write_text(main.read_text().replace('workers = { batch = "t3.small" }', "workers = {}"))
    plan = stack("plan")
    assert '- aws_launch_template.worker["batch"]' in plan.out and "1 to destroy" in plan.out
    assert stack("apply", "--auto-approve").code == 0
    assert sorted(launch_templates(boto)) == ["web"]
    destroyed = stack("destroy", "--auto-approve")
    assert destroyed.code == 0, destroyed.text
    assert launch_templates(boto) == {}
    assert stack("state", "list").out == ""


def test_name_change_replaces_and_says_why(stack: Cli, boto) -> None:
    assert stack("apply", "--auto-approve").code == 0
    main = stack.dir / "main.hcl"
    main.write_text(main.read_text().replace('name          = "web"', 'name          = "web2"'))
    plan = stack("plan")
    assert "-/+ aws_launch_template.web" in plan.out and "name forces replacement" in plan.out
    assert "Plan: 1 to add, 0 to change, 1 to destroy." in plan.out
    assert stack("apply", "--auto-approve").code == 0
    assert sorted(launch_templates(boto)) == ["web2", "worker-batch"]


def test_target_and_replace_and_refresh_only(stack: Cli, boto) -> None:
    plan = stack("plan", "--target", "aws_launch_template.web")
    assert "Plan: 1 to add" in plan.out and "worker" not in plan.out.split("Reconciler will")[1]
    assert stack("apply", "--auto-approve").code == 0
    replace = stack("plan", "--replace", "aws_launch_template.web")
    assert "-/+ aws_launch_template.web" in replace.out and "requested with --replace" in replace.out
    boto("ec2").delete_launch_template(LaunchTemplateName="worker-batch")
    refresh = stack("plan", "--refresh-only")
    assert 'aws_launch_template.worker["batch"] was deleted' in refresh.out
    assert stack("apply", "--refresh-only", "--auto-approve").code == 0
    assert 'worker["batch"]' not in stack("state", "list").out
    assert stack("apply", "--auto-approve").code == 0
    assert sorted(launch_templates(boto)) == ["web", "worker-batch"]


def test_refuses_to_touch_a_same_named_template_it_does_not_own(stack: Cli, boto) -> None:
    boto("ec2").create_launch_template(
        LaunchTemplateName="web", LaunchTemplateData={"ImageId": "ami-12345678"}
    )
    result = stack("apply", "--auto-approve")
    assert result.code == 1
    assert "web" in result.err and "not" in result.err and "Traceback" not in result.text
    lt = launch_templates(boto)["web"]
    assert lt["LatestVersionNumber"] == 1  # untouched
    assert stack("state", "list").out.strip() in ("", 'aws_launch_template.worker["batch"]')


def test_unreachable_endpoint_is_a_clear_error(stack: Cli, monkeypatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    result = stack("plan")
    assert result.code == 1
    assert "DescribeImages" in result.err and "Traceback" not in result.text


def test_output_command(stack: Cli) -> None:
    assert stack("apply", "--auto-approve").code == 0
    assert stack("output", "ami").out.strip() == "app-1.0.0"
    assert json.loads(stack("output", "--json").out)["ami"]["value"] == "app-1.0.0"


def test_an_output_removed_from_the_configuration_is_planned_as_removed(stack: Cli) -> None:
    assert stack("apply", "--auto-approve").code == 0
    main_hcl = stack.dir / "main.hcl"
    text = main_hcl.read_text()
    main_hcl.write_text(text[: text.index('output "ami"')])

    plan = stack("plan", "--detailed-exitcode")
    assert plan.code == 2, plan.text  # apply drops it from state: that is a change
    assert '- ami = "app-1.0.0" → null' in plan.out
    assert "Plan: only outputs change" in plan.out or "Changes to outputs:" in plan.out
    doc = json.loads(stack("plan", "--format", "json").out)
    assert doc["output_changes"]["ami"]["actions"] == ["delete"]
    assert "- `-` `ami`" in stack("plan", "--format", "markdown").out

    assert stack("apply", "--auto-approve").code == 0
    assert "ami" not in json.loads(stack("output", "--json").out)
    assert stack("plan", "--detailed-exitcode").code == 0
