"""Scenario (issue 14): alarms declared beside the fleet. Given a stack whose fleet gates its
rollouts on `aws_cloudwatch_metric_alarm.errors.alarm_name`, the plan creates the alarm before the
fleet (a dependency edge) and the apply leaves it tagged; an alarm the stack does not declare but
the cloud has is accepted; a name that exists nowhere is a plan error at the `alarms` line, before
any cloud object is created."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import register_ami
from tests.scenarios.harness import Cli, write_stack
from tests.scenarios.rollout_checks import FLEET_STACK, create_alarm

ALARM_BLOCK = """
resource "aws_cloudwatch_metric_alarm" "errors" {
  alarm_name          = "web-5xx"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HTTPCode_Target_5XX_Count"
  dimensions          = { TargetGroup = aws_target_group.web.arn_suffix }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 2
  threshold           = 10
  comparison_operator = "GreaterThanThreshold"
}
"""


def stack_text(alarms: str) -> str:
    return (
        FLEET_STACK.replace("STRATEGY", "blue_green")
        .replace("PAUSE", "0s")
        .replace("HEALTH_TIMEOUT", "5s")
        .replace("  LIFECYCLE\n", "")
        .replace('alarms         = ["web-5xx"]', f"alarms         = {alarms}")
    )


def alarms_line(text: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if line.strip().startswith("alarms"))


def test_a_declared_alarm_is_planned_before_the_fleet_and_gates_it(
    tmp_path: Path, aws_env: str, boto: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    register_ami(boto, name="app-1.0.0", version="1.0.0")
    text = stack_text("[aws_cloudwatch_metric_alarm.errors.alarm_name]") + ALARM_BLOCK
    cli = Cli(write_stack(tmp_path / "stack", {"main.hcl": text}), capsys)
    plan = cli("plan", "--format", "json")
    assert plan.code == 0, plan.text
    document = json.loads(plan.out)
    fleet = document["reconciler"]["resources"]["aws_fleet.web"]
    assert "aws_cloudwatch_metric_alarm.errors" in fleet["depends_on"]
    alarm = next(
        c for c in document["resource_changes"] if c["address"] == "aws_cloudwatch_metric_alarm.errors"
    )
    assert alarm["type"] == "aws_cloudwatch_metric_alarm" and alarm["change"]["actions"] == ["create"]
    assert alarm["change"]["after"]["alarm_name"] == "web-5xx"
    applied = cli("apply", "--auto-approve")
    assert applied.code == 0, applied.text
    cloudwatch = boto("cloudwatch")
    alarm = cloudwatch.describe_alarms(AlarmNames=["web-5xx"])["MetricAlarms"][0]
    tags = {
        t["Key"]: t["Value"] for t in cloudwatch.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"]
    }
    assert tags["reconciler:address"] == "aws_cloudwatch_metric_alarm.errors"
    assert alarm["Dimensions"][0]["Value"].startswith("targetgroup/web/")
    assert cli("plan", "--detailed-exitcode").code == 0


def test_a_gate_naming_an_alarm_that_exists_nowhere_is_a_plan_error_at_its_line(
    tmp_path: Path, aws_env: str, boto: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    register_ami(boto, name="app-1.0.0", version="1.0.0")
    text = stack_text('["web-5xx", "checkout-5xx"]')
    cli = Cli(write_stack(tmp_path / "stack", {"main.hcl": text}), capsys)
    create_alarm(boto, "web-5xx")  # in the cloud, made by monitoring: accepted
    plan = cli("plan")
    assert plan.code == 1
    assert 'Alarm "checkout-5xx" does not exist' in plan.err
    written = (cli.dir / "main.hcl").read_text()
    assert f'on main.hcl line {alarms_line(written)}, in resource "aws_fleet" "web"' in plan.err
    assert "web-5xx" not in plan.err.split("does not exist")[0]
    assert "Traceback" not in plan.text
    applied = cli("apply", "--auto-approve")
    assert applied.code == 1
    assert boto("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"] == []  # nothing made
    create_alarm(boto, "checkout-5xx")
    assert cli("plan").code == 0
