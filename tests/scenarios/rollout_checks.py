"""Helpers for the rollout scenarios (issue 3): a fleet stack, a census of what the cloud runs,
a fault injector that makes new instances unhealthy, and a CloudWatch alarm to fire.

Everything here reads or arranges the moto server through boto3, as an operator would with the
AWS CLI; nothing patches boto3 or the product. Callers: tests/scenarios/test_rollout*.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

STRATEGIES = ["rolling", "blue_green", "canary"]
ALARM = "web-5xx"

# A fleet of 4 behind a target group, rolled out by STRATEGY when a newer app-* image appears.
# Short timeouts: moto's instances are healthy at once, so only a failure ever waits them out.
FLEET_STACK = """
reconciler {
  stack = "rollouts"
}

provider "aws" {
  region = "us-east-1"
}

data "aws_ami" "app" {
  name        = "app-*"
  most_recent = true
  version_tag = "Version"
}

data "aws_vpc" "default" {
  default = true
}

resource "aws_launch_template" "web" {
  name          = "web"
  image_id      = data.aws_ami.app.id
  instance_type = "t3.micro"
}

resource "aws_target_group" "web" {
  name                 = "web"
  port                 = 80
  protocol             = "HTTP"
  vpc_id               = data.aws_vpc.default.id
  deregistration_delay = 1
}

resource "aws_fleet" "web" {
  name               = "web"
  launch_template    = aws_launch_template.web.id
  min_size           = 2
  max_size           = 8
  desired_capacity   = 4
  availability_zones = ["us-east-1a", "us-east-1b"]
  target_group_arns  = [aws_target_group.web.arn]
  health_check_type  = "ELB"
  tags               = { Service = "web" }

  rollout {
    strategy       = "STRATEGY"
    max_surge      = 1
    steps          = [25, 50, 100]
    pause          = "PAUSE"
    health_timeout = "HEALTH_TIMEOUT"
    drain_timeout  = "1s"
    alarms         = ["web-5xx"]
    auto_rollback  = true
    keep_previous  = "1h"
  }
  LIFECYCLE
}
"""


def fleet_stack(
    strategy: str, *, pause: str = "0s", health_timeout: str = "5s", lifecycle: str = ""
) -> dict[str, str]:
    """The stack's files for one strategy (`lifecycle`: the body of a lifecycle block, if any)."""
    text = (
        FLEET_STACK.replace("STRATEGY", strategy)
        .replace("PAUSE", pause)
        .replace("HEALTH_TIMEOUT", health_timeout)
        .replace("  LIFECYCLE\n", f"  lifecycle {{\n    {lifecycle}\n  }}\n" if lifecycle else "")
    )
    return {"main.hcl": text}


@dataclass(frozen=True)
class Member:
    """One instance of one of the fleet's auto-scaling groups, as AWS reports it."""

    id: str
    group: str
    image_id: str
    state: str  # EC2: running, terminated, ...
    lifecycle: str  # auto-scaling: InService, Terminating, ...
    health: str  # auto-scaling: Healthy / Unhealthy

    @property
    def serving(self) -> bool:
        return self.state == "running" and self.lifecycle == "InService" and self.health == "Healthy"


@dataclass
class Census:
    """The fleet's groups, their live members and the target group's registered, running targets."""

    groups: dict[str, dict[str, Any]]
    members: list[Member]
    # target health of every registered target whose EC2 instance is still running: moto keeps
    # terminated instances registered in target groups, so those are judged by running ones only
    targets: dict[str, str] = field(default_factory=dict)
    images: dict[str, str] = field(default_factory=dict)  # image id of each registered target

    def live(self) -> list[Member]:
        return [m for m in self.members if m.state == "running" and not m.lifecycle.startswith("Terminat")]

    def serving_groups(self) -> list[str]:
        return sorted(name for name, g in self.groups.items() if g["DesiredCapacity"] > 0)

    def desired(self, group: str) -> int:
        return int(self.groups[group]["DesiredCapacity"])

    def attached(self, group: str) -> list[str]:
        return list(self.groups[group].get("TargetGroupARNs") or [])


def census(boto: Any, *, fleet: str = "web", target_group: str = "web") -> Census:
    asg, ec2, elbv2 = boto("autoscaling"), boto("ec2"), boto("elbv2")
    groups = {
        g["AutoScalingGroupName"]: g
        for g in asg.describe_auto_scaling_groups()["AutoScalingGroups"]
        if g["AutoScalingGroupName"].startswith(f"{fleet}-g")
    }
    rows = [(name, i) for name, g in groups.items() for i in g["Instances"]]
    arn = elbv2.describe_target_groups(Names=[target_group])["TargetGroups"][0]["TargetGroupArn"]
    registered = {
        t["Target"]["Id"]: t["TargetHealth"]["State"]
        for t in elbv2.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
    }
    ids = sorted({i["InstanceId"] for _, i in rows} | set(registered))
    described = _instances(ec2, ids)
    members = [
        Member(
            id=i["InstanceId"],
            group=name,
            image_id=described[i["InstanceId"]]["ImageId"],
            state=described[i["InstanceId"]]["State"]["Name"],
            lifecycle=i["LifecycleState"],
            health=i["HealthStatus"],
        )
        for name, i in rows
    ]
    running = {iid for iid, d in described.items() if d["State"]["Name"] == "running"}
    targets = {iid: state for iid, state in registered.items() if iid in running}
    images = {iid: described[iid]["ImageId"] for iid in targets}
    return Census(groups=groups, members=members, targets=targets, images=images)


def _instances(ec2: Any, ids: list[str]) -> dict[str, dict[str, Any]]:
    if not ids:
        return {}
    out = {}
    for reservation in ec2.describe_instances(InstanceIds=ids)["Reservations"]:
        for instance in reservation["Instances"]:
            out[instance["InstanceId"]] = instance
    return out


def assert_fleet_on(seen: Census, image_id: str, *, count: int) -> None:
    """`count` live instances, all serving on `image_id`, and exactly they are registered, healthy."""
    live = seen.live()
    assert len(live) == count, f"{len(live)} live instances, expected {count}: {live}"
    assert all(m.serving for m in live), f"not all InService/Healthy: {live}"
    assert {m.image_id for m in live} == {image_id}, f"images {[m.image_id for m in live]} != {image_id}"
    assert sorted(seen.targets) == sorted(m.id for m in live), f"registered {seen.targets} vs {live}"
    assert set(seen.targets.values()) == {"healthy"}, seen.targets
    assert set(seen.images.values()) == {image_id}, f"registered running images {seen.images}"


def running_on(boto: Any, image_id: str) -> list[str]:
    """Ids of every running (or starting) EC2 instance on `image_id`, in a group or not."""
    found = boto("ec2").describe_instances(
        Filters=[
            {"Name": "image-id", "Values": [image_id]},
            {"Name": "instance-state-name", "Values": ["pending", "running"]},
        ]
    )
    return sorted(i["InstanceId"] for r in found["Reservations"] for i in r["Instances"])


def pinned_version(seen: Census, group: str) -> str:
    """The launch template version a group launches (always a number, never $Latest)."""
    return str(seen.groups[group]["LaunchTemplate"]["Version"])


def fleet_block(plan_text: str, address: str = "aws_fleet.web") -> str:
    """The plan's lines for one resource: from its header to the next resource or the verdict."""
    lines = plan_text.splitlines()
    start = next(n for n, line in enumerate(lines) if line.lstrip().startswith("↻ " + address))
    end = start + 1
    while end < len(lines) and lines[end].startswith("      "):
        end += 1
    return "\n".join(lines[start:end])


def fire_alarm(boto: Any, name: str = ALARM) -> None:
    """A CloudWatch alarm in ALARM, as a 5xx spike would leave it."""
    create_alarm(boto, name)
    boto("cloudwatch").set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="5xx spike (test)")


def create_alarm(boto: Any, name: str = ALARM) -> None:
    """The CloudWatch alarm a rollout watches, as monitoring would have it (OK); a rollout whose
    `alarms` name a missing alarm fails its health gate."""
    cloudwatch = boto("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        MetricName="HTTPCode_Target_5XX_Count",
        Namespace="AWS/ApplicationELB",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=10.0,
        ComparisonOperator="GreaterThanThreshold",
    )
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="healthy (test)")


class SickNewInstances:
    """A background thread that marks every running instance of `image_id` in an auto-scaling
    group Unhealthy as soon as it appears (a new version that fails its health checks). Bounded:
    it stops at `stop()` or after `deadline_s`."""

    def __init__(
        self, boto: Any, image_id: str, *, deadline_s: float = 120.0, interval_s: float = 0.01
    ) -> None:
        self.ec2, self.asg = boto("ec2"), boto("autoscaling")
        self.image_id, self.deadline_s, self.interval_s = image_id, deadline_s, interval_s
        self.marked: set[str] = set()
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sick-new-instances", daemon=True)

    def _run(self) -> None:
        deadline = time.monotonic() + self.deadline_s
        while not self._stop.is_set() and time.monotonic() < deadline:
            found = self.ec2.describe_instances(
                Filters=[
                    {"Name": "image-id", "Values": [self.image_id]},
                    {"Name": "instance-state-name", "Values": ["pending", "running"]},
                ]
            )
            for reservation in found["Reservations"]:
                for instance in reservation["Instances"]:
                    iid = instance["InstanceId"]
                    if iid in self.marked:
                        continue
                    try:
                        self.asg.set_instance_health(InstanceId=iid, HealthStatus="Unhealthy")
                        self.marked.add(iid)
                    except Exception as err:  # not (or no longer) in a group: try again next round
                        self.errors.append(f"{iid}: {err}")
            self._stop.wait(self.interval_s)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


@contextmanager
def sick_new_instances(boto: Any, image_id: str) -> Iterator[SickNewInstances]:
    sick = SickNewInstances(boto, image_id)
    sick.start()
    try:
        yield sick
    finally:
        sick.stop()
