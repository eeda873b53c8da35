"""A blue/green rollout keeps the old group for keep_previous; once that has passed, the next plan
deletes it (with keep_previous = "0s" the apply itself does, and the next plan is empty);
`rollout status` and `rollout rollback` report and steer a recorded rollout (and what rollback
records of the fleet keeps its sensitive tag as a digest, as apply does)."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest

from tests.conftest import register_ami
from tests.scenarios.harness import Cli, write_stack

TOKEN = "tok-Sesame-8271"

STACK = """
variable "token" {
  type      = string
  sensitive = true
  default   = "TOKEN"
}

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
  max_size           = 4
  desired_capacity   = 2
  availability_zones = ["us-east-1a"]
  tags               = { Token = var.token }

  rollout {
    strategy       = "blue_green"
    health_timeout = "10s"
    drain_timeout  = "0s"
    keep_previous  = "KEEP"
  }
}
"""


def _groups(boto) -> dict[str, int]:
    groups = boto("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"]
    return {g["AutoScalingGroupName"]: g["DesiredCapacity"] for g in groups}


@pytest.fixture
def rolled(tmp_path: Path, aws_env: str, boto, capsys, monkeypatch, request) -> Cli:
    monkeypatch.setenv("RECONCILER_ROLLOUT_POLL", "0.05")
    keep = request.param
    register_ami(boto, name="app-1.0.0", version="1.0.0")
    stack = STACK.replace("KEEP", keep).replace("TOKEN", TOKEN)
    cli = Cli(write_stack(tmp_path / "s", {"main.hcl": stack}), capsys)
    assert cli("apply", "--auto-approve").code == 0
    register_ami(boto, name="app-1.1.0", version="1.1.0")
    result = cli("apply", "--auto-approve")
    assert result.code == 0, result.text
    if keep == "0s":
        assert "Deleting web-g0001 (keep_previous = 0s: not kept for rollback)" in result.out
        assert _groups(boto) == {"web-g0002": 2}
    else:
        assert _groups(boto) == {"web-g0001": 0, "web-g0002": 2}
    return cli


@pytest.mark.parametrize("rolled", ["0s"], indirect=True)
def test_keep_previous_0s_deletes_the_old_group_inside_the_apply(rolled: Cli, boto) -> None:
    plan = rolled("plan", "--detailed-exitcode")
    assert plan.code == 0, plan.text  # nothing left for a later plan to clean up
    assert "web-g0001" not in plan.out


@pytest.mark.parametrize("rolled", ["1s"], indirect=True)
def test_old_group_is_deleted_once_keep_previous_has_passed(rolled: Cli, boto) -> None:
    time.sleep(1.1)  # keep_previous = "1s" has passed
    plan = rolled("plan", "--detailed-exitcode")
    assert plan.code == 2, plan.text
    assert "delete web-g0001, kept 1s for rollback" in plan.out
    assert rolled("apply", "--auto-approve").code == 0
    assert _groups(boto) == {"web-g0002": 2}
    assert rolled("plan", "--detailed-exitcode").code == 0


@pytest.mark.parametrize("rolled", ["1h"], indirect=True)
def test_status_and_rollback_within_keep_previous(rolled: Cli, boto, monkeypatch: pytest.MonkeyPatch) -> None:
    assert rolled("plan", "--detailed-exitcode").code == 0  # kept for 1h: nothing to do yet
    status = rolled("rollout", "status", "aws_fleet.web")
    assert status.code == 0
    assert "blue/green rollout complete" in status.out
    assert "step      3 of 3" in status.out  # the plan's three numbered lines
    assert "app-1.0.0 (v1) → app-1.1.0 (v2)" in status.out
    assert "instances new 2, old 0, healthy 2" in status.out
    # like apply: the steps are shown, and only `yes` goes on (no answer at all is a no)
    monkeypatch.setattr("sys.stdin", io.StringIO("no\n"))
    refused = rolled("rollout", "rollback", "aws_fleet.web")
    assert refused.code == 1 and "Rollback cancelled." in refused.out
    shown = refused.out.split("Do you want")[0]
    assert "roll back the blue/green rollout of app-1.1.0 (complete) to web-g0001" in shown
    assert "1. scale web-g0001 to 2" in shown and "2. delete web-g0002" in shown, shown
    assert _groups(boto) == {"web-g0001": 0, "web-g0002": 2}  # nothing was done
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert rolled("rollout", "rollback", "aws_fleet.web").code == 1  # no input: refused, as apply does
    monkeypatch.setattr("sys.stdin", io.StringIO("yes\n"))
    back = rolled("rollout", "rollback", "aws_fleet.web")
    assert back.code == 0, back.text
    assert "rollback step 1/2: " in back.out and "rollback step 2/2: " in back.out
    assert "web-g0001 restored at 2 instances (app-1.0.0), web-g0002 deleted" in back.out
    assert _groups(boto) == {"web-g0001": 2}
    again = rolled("plan", "--detailed-exitcode")  # the configuration still asks for app-1.1.0
    assert again.code == 2 and "↻ aws_fleet.web" in again.out
    state = (rolled.dir / ".reconciler" / "state.json").read_text()
    assert '"Token"' in state and TOKEN not in state  # the read-back tag is kept as a digest
    assert TOKEN not in again.out + back.out + status.out
