"""Scenario (issue 4, drift): changes made outside reconciler, through the CLI against moto.

Given an applied stack (launch templates, a target group, a fleet of 3), someone resizes the group
by hand, moves a template's default version, removes an ownership tag or deletes a template. The
plan shows each in a "Changed outside reconciler" section before the planned changes;
`plan --refresh-only` shows only that section; `apply --refresh-only` takes it into state without
touching the cloud, after which a normal plan plans the configuration back (unless
`lifecycle { ignore_changes }` says to keep what the cloud has).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import register_ami
from tests.scenarios.harness import Cli, write_stack

STACK = """
reconciler {
  stack = "drift-test"
}

variable "instance_type" {
  type    = string
  default = "t3.micro"
}

data "aws_ami" "app" {
  name        = "app-*"
  most_recent = true
}

data "aws_vpc" "default" {
  default = true
}

resource "aws_launch_template" "web" {
  name          = "web"
  image_id      = data.aws_ami.app.id
  instance_type = var.instance_type
}

resource "aws_launch_template" "worker" {
  name          = "worker"
  image_id      = data.aws_ami.app.id
  instance_type = "t3.small"
}

resource "aws_target_group" "web" {
  name                 = "web"
  port                 = 80
  protocol             = "HTTP"
  vpc_id               = data.aws_vpc.default.id
  deregistration_delay = 5
}

resource "aws_fleet" "web" {
  name               = "web"
  launch_template    = aws_launch_template.web.id
  min_size           = 1
  max_size           = 5
  desired_capacity   = 3
  availability_zones = ["us-east-1a"]
  target_group_arns  = [aws_target_group.web.arn]

  rollout {
    strategy = "rolling"
  }
  LIFECYCLE
}
"""


def deploy(tmp_path: Path, capsys: pytest.CaptureFixture[str], boto: Any, *, lifecycle: str = "") -> Cli:
    register_ami(boto, name="app-1.0.0", version="1.0.0")
    text = STACK.replace("  LIFECYCLE\n", f"  lifecycle {{\n    {lifecycle}\n  }}\n" if lifecycle else "")
    cli = Cli(write_stack(tmp_path / "stack", {"main.hcl": text}), capsys)
    applied = cli("apply", "--auto-approve")
    assert applied.code == 0, applied.text
    assert cli("plan", "--detailed-exitcode").code == 0
    return cli


@pytest.fixture
def stack(tmp_path: Path, aws_env: str, boto: Any, capsys: pytest.CaptureFixture[str]) -> Cli:
    return deploy(tmp_path, capsys, boto)


def fleet_group(boto: Any) -> dict[str, Any]:
    groups = boto("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=["web-g0001"])
    group: dict[str, Any] = groups["AutoScalingGroups"][0]
    return group


def state_of(cli: Cli, address: str) -> dict[str, Any]:
    data = json.loads((cli.dir / ".reconciler" / "state.json").read_text())
    resource: dict[str, Any] = data["resources"][address]
    return resource


def section(out: str) -> str:
    """The "Changed outside reconciler" section of a plan (up to the next blank line)."""
    start = out.index("Changed outside reconciler")
    end = out.find("\n\n", start)
    return out[start : end if end >= 0 else len(out)]


def test_a_fleet_resized_by_hand_is_shown_taken_in_by_refresh_only_then_planned_back(
    stack: Cli, boto: Any
) -> None:
    boto("autoscaling").set_desired_capacity(AutoScalingGroupName="web-g0001", DesiredCapacity=1)

    plan = stack("plan", "--detailed-exitcode")
    assert plan.code == 2, plan.text
    drift = section(plan.out)
    assert "~ aws_fleet.web was changed" in drift and "desired_capacity  3 → 1" in drift
    assert plan.out.index("Changed outside reconciler") < plan.out.index("Reconciler will perform")
    assert "desired_capacity  1 → 3" in plan.out.split("Reconciler will perform")[1]
    assert "Plan: 0 to add, 1 to change, 0 to destroy." in plan.out

    refresh = stack("plan", "--refresh-only", "--detailed-exitcode")
    assert refresh.code == 2, refresh.text
    assert "desired_capacity  3 → 1" in section(refresh.out)
    assert "Reconciler will perform" not in refresh.out
    assert "Refresh: 1 object changed outside reconciler will be taken into state." in refresh.out

    accepted = stack("apply", "--refresh-only", "--auto-approve")
    assert accepted.code == 0, accepted.text
    assert "1 change made outside reconciler taken into state" in accepted.out
    assert fleet_group(boto)["DesiredCapacity"] == 1  # the cloud was not touched
    recorded = state_of(stack, "aws_fleet.web")["attributes"]
    assert recorded["desired_capacity"] == 1 and len(recorded["instances"]) == 1
    assert recorded["rollout"]["strategy"] == "rolling"  # config-only argument kept

    # Observed: with no ignore_changes, the next normal plan shows no drift any more (state now
    # matches the cloud) and plans the configured capacity back, 1 → 3, as an in-place update.
    again = stack("plan", "--detailed-exitcode")
    assert again.code == 2, again.text
    assert "Changed outside reconciler" not in again.out
    assert "~ aws_fleet.web" in again.out and "desired_capacity  1 → 3" in again.out
    assert "Plan: 0 to add, 1 to change, 0 to destroy." in again.out
    assert stack("plan", "--refresh-only", "--detailed-exitcode").code == 0

    assert stack("apply", "--auto-approve").code == 0
    assert fleet_group(boto)["DesiredCapacity"] == 3
    assert stack("plan", "--detailed-exitcode").code == 0


def test_an_apply_with_nothing_to_change_records_what_its_refresh_saw(stack: Cli, boto: Any) -> None:
    victim = sorted(i["id"] for i in state_of(stack, "aws_fleet.web")["attributes"]["instances"])[0]
    boto("ec2").terminate_instances(InstanceIds=[victim])  # by hand, outside reconciler
    assert stack("plan", "--refresh-only", "--detailed-exitcode").code == 2  # the refresh sees it

    applied = stack("apply", "--auto-approve")
    assert applied.code == 0, applied.text
    assert "No changes." in applied.out and "State updated with what the refresh saw." in applied.out
    recorded = {i["id"]: i for i in state_of(stack, "aws_fleet.web")["attributes"]["instances"]}
    members = {i["InstanceId"]: i for i in fleet_group(boto)["Instances"]}
    assert sorted(recorded) == sorted(members)  # the members the cloud reports now, no others
    assert all(recorded[i]["lifecycle_state"] == m["LifecycleState"] for i, m in members.items())
    assert stack("plan", "--refresh-only", "--detailed-exitcode").code == 0  # state = cloud
    again = stack("apply", "--auto-approve")
    assert again.code == 0 and "State updated" not in again.out  # nothing new to record


def test_a_computed_attribute_an_older_state_never_recorded_is_not_drift(stack: Cli) -> None:
    path = stack.dir / ".reconciler" / "state.json"
    data = json.loads(path.read_text())
    for resource in data["resources"].values():  # as written before latest_version_digest existed
        resource["attributes"].pop("latest_version_digest", None)
    path.write_text(json.dumps(data))
    plan = stack("plan", "--detailed-exitcode")
    assert plan.code == 0 and "Changed outside reconciler" not in plan.out, plan.text


def test_with_ignore_changes_the_resize_is_shown_but_not_planned_back(
    tmp_path: Path, aws_env: str, boto: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    cli = deploy(tmp_path, capsys, boto, lifecycle="ignore_changes = [desired_capacity]")
    boto("autoscaling").set_desired_capacity(AutoScalingGroupName="web-g0001", DesiredCapacity=5)
    plan = cli("plan", "--detailed-exitcode")
    assert plan.code == 0, plan.text
    assert "desired_capacity  3 → 5" in section(plan.out)
    assert "Reconciler will perform" not in plan.out and "No changes." in plan.out
    assert cli("apply", "--refresh-only", "--auto-approve").code == 0
    assert "Changed outside reconciler" not in cli("plan").out


def test_a_template_whose_default_version_moved_is_shown_and_planned_forward(stack: Cli, boto: Any) -> None:
    assert stack("apply", "--auto-approve", "--var", "instance_type=t3.large").code == 0  # version 2
    ec2 = boto("ec2")
    ec2.modify_launch_template(LaunchTemplateName="web", DefaultVersion="1")

    plan = stack("plan", "--var", "instance_type=t3.large", "--detailed-exitcode")
    assert plan.code == 2, plan.text
    drift = section(plan.out)
    assert "~ aws_launch_template.web was changed" in drift
    assert "default_version  2 → 1" in drift and 'instance_type    "t3.large" → "t3.micro"' in drift
    # version 2 already holds t3.large: it becomes the default again, no identical version 3
    note = "update in-place: existing version 2 (the latest, same launch data) becomes the default"
    assert note in plan.out
    assert stack("apply", "--auto-approve", "--var", "instance_type=t3.large").code == 0
    versions = ec2.describe_launch_templates(LaunchTemplateNames=["web"])["LaunchTemplates"][0]
    assert (versions["DefaultVersionNumber"], versions["LatestVersionNumber"]) == (2, 2)
    assert stack("plan", "--var", "instance_type=t3.large", "--detailed-exitcode").code == 0


def test_a_removed_ownership_tag_is_shown_and_never_silently_adopted(stack: Cli, boto: Any) -> None:
    elbv2 = boto("elbv2")
    arn = elbv2.describe_target_groups(Names=["web"])["TargetGroups"][0]["TargetGroupArn"]
    elbv2.remove_tags(ResourceArns=[arn], TagKeys=["reconciler:stack"])

    plan = stack("plan", "--detailed-exitcode")
    assert plan.code == 0, plan.text  # nothing to do for it, and nothing done behind the user's back
    drift = section(plan.out)
    assert "! aws_target_group.web ownership tags were changed" in drift
    assert 'tags.reconciler:stack  "drift-test" → (removed)' in drift
    assert "until the tag is restored" in drift
    assert stack("apply", "--auto-approve").code == 0
    tags = {t["Key"] for t in elbv2.describe_tags(ResourceArns=[arn])["TagDescriptions"][0]["Tags"]}
    assert "reconciler:stack" not in tags  # the apply did not put it back

    main = stack.dir / "main.hcl"
    main.write_text(main.read_text().replace("deregistration_delay = 5", "deregistration_delay = 9"))
    refused = stack("plan")
    assert refused.code == 1 and "does not own" in refused.err and "aws_target_group.web" in refused.err

    assert stack("state", "rm", "aws_target_group.web").code == 0
    assert stack("import", "aws_target_group.web", arn).code == 0  # adopted on purpose
    plan = stack("plan", "--detailed-exitcode")
    assert plan.code == 2 and "Changed outside reconciler" not in plan.out
    assert "deregistration_delay  5 → 9" in plan.out


def test_a_template_deleted_by_hand_is_shown_and_created_again(stack: Cli, boto: Any) -> None:
    boto("ec2").delete_launch_template(LaunchTemplateName="worker")
    plan = stack("plan", "--detailed-exitcode")
    assert plan.code == 2, plan.text
    assert "- aws_launch_template.worker was deleted" in section(plan.out)
    assert "+ aws_launch_template.worker" in plan.out and "deleted outside reconciler" in plan.out
    assert stack("apply", "--auto-approve").code == 0
    assert stack("plan", "--detailed-exitcode").code == 0


# --- the pure decision behind the ownership entry ------------------------------------------------

OWNERSHIP_CASES = [
    # (stack tag, address tag) → the paths reported as changed
    (("drift-test", "aws_fleet.web"), []),
    ((None, "aws_fleet.web"), ["tags.reconciler:stack"]),
    (("other", "aws_fleet.web"), ["tags.reconciler:stack"]),
    (("drift-test", "aws_fleet.api"), ["tags.reconciler:address"]),
    ((None, None), ["tags.reconciler:stack", "tags.reconciler:address"]),
]


@pytest.mark.parametrize(("tags", "paths"), OWNERSHIP_CASES)
def test_ownership_diffs(tags: tuple[str | None, str | None], paths: list[str]) -> None:
    from reconciler.planning.refresh import ownership_diffs
    from reconciler.sdk import Ownership

    diffs = ownership_diffs(Ownership(*tags), stack="drift-test", address="aws_fleet.web")
    assert [d.path for d in diffs] == paths
    assert all(d.after in tags for d in diffs)
