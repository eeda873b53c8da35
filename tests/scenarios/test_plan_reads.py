"""Scenario (issue 10): a plan reads only what can have changed.

After an apply, state records every fleet's members (with their images) and every launch
template's versions. An instance's image never changes for its id and a template version never
changes once made, so the plan right after an apply reads the groups, the templates and the AMI
lookup, one call each whatever the number of fleets, and no instance or version. What can change
is still read: a member that state does not know (a group resized by hand) costs one
DescribeInstances for all of them, and a version made by another writer is read. The calls are
counted by a proxy in front of the moto server (no faults injected).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import register_ami
from tests.faults.proxy import FaultProxy
from tests.scenarios.harness import Cli, write_stack

STACK = """
reconciler {
  stack = "reads"
}

variable "token" {
  type      = string
  sensitive = true
}

data "aws_ami" "app" {
  name        = "app-*"
  most_recent = true
}

resource "aws_launch_template" "app" {
  for_each      = toset(["a", "b", "c"])
  name          = "app-${each.key}"
  image_id      = data.aws_ami.app.id
  instance_type = "t3.micro"
  user_data     = "#!/bin/sh\\necho ${var.token}\\n"
}

resource "aws_fleet" "app" {
  for_each           = toset(["a", "b", "c"])
  name               = "app-${each.key}"
  launch_template    = aws_launch_template.app[each.key].id
  min_size           = 1
  max_size           = 4
  desired_capacity   = 2
  availability_zones = ["us-east-1a"]

  rollout {
    strategy = "rolling"
  }
}
"""
READS = Counter(
    {"autoscaling:DescribeAutoScalingGroups": 1, "ec2:DescribeLaunchTemplates": 1, "ec2:DescribeImages": 1}
)


@pytest.fixture
def proxy(moto_endpoint: str, aws_env: str) -> Iterator[FaultProxy]:
    with FaultProxy(upstream_port=int(moto_endpoint.rsplit(":", 1)[1])) as running:
        yield running


@pytest.fixture
def applied(
    tmp_path: Path,
    boto: Any,
    proxy: FaultProxy,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Cli:
    register_ami(boto, name="app-1.0.0", version="1.0.0")
    monkeypatch.setenv("RECONCILER_VAR_token", "s3cret-reads-token")
    cli = Cli(write_stack(tmp_path / "stack", {"main.hcl": STACK}), capsys)
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
    monkeypatch.setenv("RECONCILER_ROLLOUT_POLL", "0.05")
    done = cli("apply", "--auto-approve")
    assert done.code == 0, done.text
    return cli


def plan_reads(cli: Cli, proxy: FaultProxy, *, expect: int) -> Counter[str]:
    proxy.configure()  # count afresh
    result = cli("plan", "--detailed-exitcode")
    assert result.code == expect, result.text
    assert "s3cret-reads-token" not in result.text
    return proxy.stats.requests


@pytest.mark.slow
def test_the_plan_after_an_apply_reads_no_instance_and_no_version(applied: Cli, proxy: FaultProxy) -> None:
    assert plan_reads(applied, proxy, expect=0) == READS
    assert plan_reads(applied, proxy, expect=0) == READS  # and again: nothing to learn twice


@pytest.mark.slow
def test_a_member_state_does_not_know_is_read(applied: Cli, proxy: FaultProxy, boto: Any) -> None:
    boto("autoscaling").set_desired_capacity(AutoScalingGroupName="app-b-g0001", DesiredCapacity=3)
    reads = plan_reads(applied, proxy, expect=2)  # the group is planned back to 2
    assert reads == READS + Counter({"ec2:DescribeInstances": 1})


@pytest.mark.slow
def test_a_version_made_by_another_writer_is_read(applied: Cli, proxy: FaultProxy, boto: Any) -> None:
    ec2 = boto("ec2")
    template = ec2.describe_launch_templates(LaunchTemplateNames=["app-a"])["LaunchTemplates"][0]
    ec2.create_launch_template_version(
        LaunchTemplateId=template["LaunchTemplateId"], LaunchTemplateData={"ImageId": "ami-12345678"}
    )
    reads = plan_reads(applied, proxy, expect=0)  # a latest version that is not the default: no change
    assert reads["ec2:DescribeLaunchTemplateVersions"] == 2  # the defaults, and that latest version
    assert reads - Counter({"ec2:DescribeLaunchTemplateVersions": 2}) == READS
