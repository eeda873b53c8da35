"""Scenario (issue 11): `aws_ami_retention` with keep_last = 2 over five versions, version 1 still
used by the group a blue/green rollout kept for rollback: the plan deregisters versions 2 and 3
only (with their snapshots and GiB), says why 1 is kept, and apply leaves everything else intact;
an image that comes into use between plan and apply is kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import register_ami
from tests.scenarios.harness import Cli, write_stack

FLEET = """
reconciler { stack = "keep-test" }
provider "aws" { region = "us-east-1" }

data "aws_ami" "app" {
  name        = "app-*"
  most_recent = true
  version_tag = "Version"
}

resource "aws_launch_template" "web" {
  name          = "web"
  image_id      = data.aws_ami.app.id
  instance_type = "t3.micro"
}

resource "aws_fleet" "web" {
  name               = "web"
  launch_template    = aws_launch_template.web.id
  min_size           = 1
  max_size           = 2
  desired_capacity   = 1
  availability_zones = ["us-east-1a"]
  rollout {
    strategy       = "blue_green"
    health_timeout = "10s"
    drain_timeout  = "0s"
    keep_previous  = "1h"
  }
}
"""

RETENTION = """
resource "aws_ami_retention" "app" {
  name        = "app-*"
  version_tag = "Version"
  keep_last   = 2
}
"""


def snapshot_of(ec2: Any, image_id: str) -> str:
    image = ec2.describe_images(ImageIds=[image_id])["Images"][0]
    return str(image["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"])


def available(ec2: Any) -> set[str]:
    return {i["ImageId"] for i in ec2.describe_images(Owners=["self"])["Images"] if i["State"] == "available"}


def snapshots(ec2: Any) -> set[str]:
    return {s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]}


@pytest.fixture
def five_versions(
    tmp_path: Path,
    aws_env: str,
    boto: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[Cli, list[str]]:
    """v1 rolled out, then v5 (blue/green keeps web-g0001 on v1 for an hour); v2..v4 never ran."""
    monkeypatch.setenv("RECONCILER_ROLLOUT_POLL", "0.05")
    ids = [register_ami(boto, name="app-1.0.0", version="1.0.0")]
    cli = Cli(write_stack(tmp_path / "s", {"main.hcl": FLEET}), capsys)
    assert cli("apply", "--auto-approve").code == 0
    ids += [register_ami(boto, name=f"app-1.{n}.0", version=f"1.{n}.0") for n in (1, 2, 3, 4)]
    result = cli("apply", "--auto-approve")
    assert result.code == 0, result.text
    return cli, ids


@pytest.mark.slow
def test_keep_last_2_deregisters_versions_2_and_3_and_keeps_1_in_use(
    five_versions: tuple[Cli, list[str]], boto: Any
) -> None:
    cli, (v1, v2, v3, v4, v5) = five_versions
    ec2 = boto("ec2")
    snaps = {i: snapshot_of(ec2, i) for i in (v1, v2, v3, v4, v5)}
    write_stack(cli.dir, {"retention.hcl": RETENTION})
    plan = cli("plan")
    assert plan.code == 0, plan.text
    assert "deregister 2 images, free up to 16 GiB (us-east-1)" in plan.out
    assert f"- app-1.1.0 ({v2}," in plan.out and f"- app-1.2.0 ({v3}," in plan.out
    assert f"beyond keep_last = 2   {snaps[v2]}, up to 8 GiB" in plan.out
    assert f"= app-1.0.0 ({v1}," in plan.out
    assert "kept: in use by group web-g0001 (launch template web version 1)" in plan.out
    assert "not created by this stack" in plan.out
    listed = [line for line in plan.out.splitlines() if line.lstrip().startswith(("- app-", "= app-"))]
    assert len(listed) == 3 and not any(v4 in line or v5 in line for line in listed), plan.out  # kept by rule

    result = cli("apply", "--auto-approve")
    assert result.code == 0, result.text
    assert available(ec2) == {v1, v4, v5}
    assert snapshots(ec2) == {snaps[v1], snaps[v4], snaps[v5]}  # theirs gone, nothing else
    again = cli("plan", "--detailed-exitcode")
    assert again.code == 0, again.text  # v1 still kept, nothing left to do


@pytest.mark.slow
def test_an_image_that_comes_into_use_between_plan_and_apply_is_kept(
    five_versions: tuple[Cli, list[str]], boto: Any
) -> None:
    cli, (v1, v2, _v3, v4, v5) = five_versions
    ec2 = boto("ec2")
    write_stack(cli.dir, {"retention.hcl": RETENTION})
    assert cli("plan", "--out", "plan.json").code == 0
    instance = ec2.run_instances(ImageId=v2, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    result = cli("apply", "plan.json")
    assert result.code == 0, result.text
    assert available(ec2) == {v1, v2, v4, v5}  # v3 deregistered, v2 kept
    shown = cli("state", "show", "aws_ami_retention.app")
    assert f"instance {instance}" in shown.out and "came into use" in shown.out, shown.out
