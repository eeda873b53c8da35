"""Scenario (issue 10, waves): twelve fleets of 2 in three waves roll onto app-1.1.0 wave by wave.
An alarm one wave-2 fleet watches is in ALARM: the apply rolls wave 2 back (its rolling and its
blue/green fleets alike), leaves wave 1 on the new image, never starts wave 3 and exits 1 with a
summary per wave; the next plan shows waves 2 and 3 still to roll. Two regions (two provider
configurations on the moto server) roll in two waves, us-east-1 first.

Driven through the CLI in-process against the moto server.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.conftest import register_ami
from tests.scenarios.harness import Cli, cli_env, kill_apply_when, write_stack
from tests.scenarios.rollout_checks import create_alarm, fire_alarm

pytestmark = pytest.mark.slow

WAVES = {"a": 1, "b": 1, "c": 1, "d": 1, "e": 2, "f": 2, "g": 2, "h": 2, "i": 3, "j": 3, "k": 3, "l": 3}
BLUE_GREEN = {"g", "h"}

STACK = """
reconciler {
  stack = "waves"
  waves {
    bake   = "1s"
    alarms = ["site"]
  }
}

provider "aws" {
  region = "us-east-1"
}

locals {
  wave     = WAVES
  strategy = STRATEGIES
}

data "aws_ami" "app" {
  name        = "app-*"
  most_recent = true
  version_tag = "Version"
}

resource "aws_launch_template" "app" {
  for_each      = local.wave
  name          = "app-${each.key}"
  image_id      = data.aws_ami.app.id
  instance_type = "t3.micro"
}

resource "aws_fleet" "app" {
  for_each           = local.wave
  name               = "app-${each.key}"
  launch_template    = aws_launch_template.app[each.key].id
  min_size           = 2
  max_size           = 4
  desired_capacity   = 2
  availability_zones = ["us-east-1a"]

  rollout {
    strategy       = local.strategy[each.key]
    wave           = each.value
    max_surge      = 1
    health_timeout = "3s"
    drain_timeout  = "0s"
    keep_previous  = "1h"
    alarms         = each.key == "e" ? ["w2"] : []
  }
}
"""


@pytest.fixture(autouse=True)
def _fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECONCILER_ROLLOUT_POLL", "0.05")


def hcl_map(values: dict[str, Any]) -> str:
    return "{ " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in values.items()) + " }"


def images_by_fleet(boto: Any) -> dict[str, set[str]]:
    """The images each fleet's live instances run, read from EC2 (moto reports per-instance
    launch template versions wrongly)."""
    groups = boto("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"]
    ids = {i["InstanceId"]: g["AutoScalingGroupName"] for g in groups for i in g["Instances"]}
    out: dict[str, set[str]] = {}
    if not ids:
        return out
    for r in boto("ec2").describe_instances(InstanceIds=sorted(ids))["Reservations"]:
        for inst in r["Instances"]:
            if inst["State"]["Name"] == "running":
                fleet = ids[inst["InstanceId"]].split("-")[1]
                out.setdefault(fleet, set()).add(inst["ImageId"])
    return out


def test_an_alarm_in_wave_2_rolls_wave_2_back_and_never_starts_wave_3(
    tmp_path: Path, aws_env: str, boto: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    old = register_ami(boto, name="app-1.0.0", version="1.0.0")
    create_alarm(boto, "site")
    create_alarm(boto, "w2")
    strategies = {k: "blue_green" if k in BLUE_GREEN else "rolling" for k in WAVES}
    text = STACK.replace("WAVES", hcl_map(WAVES)).replace("STRATEGIES", hcl_map(strategies))
    cli = Cli(write_stack(tmp_path / "stack", {"main.hcl": text}), capsys)
    first = cli("apply", "--auto-approve")
    assert first.code == 0, first.text
    new = register_ami(boto, name="app-1.1.0", version="1.1.0")

    planned = cli("plan", "--detailed-exitcode")
    assert planned.code == 2, planned.text
    assert "12 fleets to roll out (24 instances) in 3 waves." in planned.out
    assert "Waves: 3, in order; bake 1s after each but the last, watching alarm site" in planned.out
    assert 'wave 2  4 fleets (8 instances)  aws_fleet.app["e"]' in planned.out
    assert "halting  a failed gate or alarm rolls its wave back" in planned.out
    document = json.loads(cli("plan", "--format", "json").out)["reconciler"]
    first_wave = document["waves"]["waves"][0]
    assert first_wave["fleets"] == [f'aws_fleet.app["{k}"]' for k in "abcd"]
    assert document["waves"]["bake_s"] == 1

    fire_alarm(boto, "w2")
    applied = cli("apply", "--auto-approve")
    assert applied.code == 1, applied.text
    assert 'rollout halted in wave 2 of 3: aws_fleet.app["e"]: health gate failed' in applied.err
    assert "alarm w2 is in ALARM" in applied.err
    lines = [line.split() for line in applied.err.splitlines() if line.strip().startswith("wave ")]
    assert [line[:4] for line in lines] == [
        ["wave", "1", "completed", "4"],
        ["wave", "2", "rolled", "back"],
        ["wave", "3", "not", "started"],
    ]
    images = images_by_fleet(boto)
    assert {k: images[k] for k in "abcd"} == {k: {new} for k in "abcd"}  # wave 1 stays
    assert {k: images[k] for k in "efghijkl"} == {k: {old} for k in "efghijkl"}
    groups = {
        g["AutoScalingGroupName"]
        for g in boto("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"]
    }
    assert not {"app-g-g0002", "app-h-g0002"} & groups  # blue/green turned back: the new groups went away

    again = cli("plan", "--detailed-exitcode")
    assert again.code == 2, again.text
    assert "8 fleets to roll out (16 instances) in 2 waves." in again.out
    assert 'aws_fleet.app["a"]' not in again.out.split("Waves:")[1]


def test_two_regions_roll_in_two_waves_us_east_1_first(
    tmp_path: Path, aws_env: str, boto: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    eu = lambda service: boto3.client(service, region_name="eu-west-1", endpoint_url=aws_env)  # noqa: E731
    old_us = register_ami(boto, name="app-1.0.0", version="1.0.0")
    register_ami(eu, name="app-1.0.0", version="1.0.0")
    text = TWO_REGIONS
    cli = Cli(write_stack(tmp_path / "stack", {"main.hcl": text}), capsys)
    first = cli("apply", "--auto-approve")
    assert first.code == 0, first.text
    new_us = register_ami(boto, name="app-1.1.0", version="1.1.0")
    new_eu = register_ami(eu, name="app-1.1.0", version="1.1.0")
    planned = cli("plan", "--detailed-exitcode")
    assert planned.code == 2 and "in 2 waves" in planned.out, planned.text
    applied = cli("apply", "--auto-approve")
    assert applied.code == 0, applied.text
    assert images_by_fleet(boto) == {"us1": {new_us}, "us2": {new_us}}
    assert images_by_fleet(eu) == {"eu1": {new_eu}, "eu2": {new_eu}}
    assert old_us not in images_by_fleet(boto)["us1"]
    state = json.loads((tmp_path / "stack" / ".reconciler" / "state.json").read_text())
    progress = {a: r["rollout"]["progress"] for a, r in state["resources"].items() if r.get("rollout")}
    us = [p for a, p in progress.items() if '"us' in a]
    eu_ = [p for a, p in progress.items() if '"eu' in a]
    assert len(us) == len(eu_) == 2
    assert min(p["started_at"] for p in eu_) >= max(p["finished_at"] for p in us)


TWO_REGIONS = """
reconciler {
  stack = "regions"
}

provider "aws" {
  region = "us-east-1"
}

provider "aws" {
  alias  = "eu"
  region = "eu-west-1"
}

data "aws_ami" "us" {
  name        = "app-*"
  most_recent = true
  version_tag = "Version"
}

data "aws_ami" "eu" {
  provider    = aws.eu
  name        = "app-*"
  most_recent = true
  version_tag = "Version"
}

resource "aws_launch_template" "us" {
  for_each      = toset(["us1", "us2"])
  name          = "app-${each.key}"
  image_id      = data.aws_ami.us.id
  instance_type = "t3.micro"
}

resource "aws_launch_template" "eu" {
  for_each      = toset(["eu1", "eu2"])
  provider      = aws.eu
  name          = "app-${each.key}"
  image_id      = data.aws_ami.eu.id
  instance_type = "t3.micro"
}

resource "aws_fleet" "us" {
  for_each           = toset(["us1", "us2"])
  name               = "app-${each.key}"
  launch_template    = aws_launch_template.us[each.key].id
  min_size           = 2
  max_size           = 4
  desired_capacity   = 2
  availability_zones = ["us-east-1a"]
  rollout {
    strategy      = "rolling"
    max_surge     = 2
    drain_timeout = "0s"
    wave          = 1
  }
}

resource "aws_fleet" "eu" {
  for_each           = toset(["eu1", "eu2"])
  provider           = aws.eu
  name               = "app-${each.key}"
  launch_template    = aws_launch_template.eu[each.key].id
  min_size           = 2
  max_size           = 4
  desired_capacity   = 2
  availability_zones = ["eu-west-1a"]
  rollout {
    strategy      = "blue_green"
    drain_timeout = "0s"
    wave          = 2
  }
}
"""


KILL_STACK = """
reconciler {
  stack = "waves-kill"
  waves { bake = "0s" }
}

provider "aws" {
  region = "us-east-1"
}

locals {
  wave  = { a = 1, b = 1, c = 2, d = 2, e = 3, f = 3 }
  pause = { a = "0s", b = "0s", c = "15s", d = "15s", e = "0s", f = "0s" }
  image = { a = "one", b = "one", c = "two", d = "two", e = "one", f = "one" }
}

data "aws_ami" "one" {
  name        = "one-*"
  most_recent = true
  version_tag = "Version"
}

data "aws_ami" "two" {
  name        = "two-*"
  most_recent = true
  version_tag = "Version"
}

resource "aws_launch_template" "app" {
  for_each      = local.wave
  name          = "app-${each.key}"
  image_id      = local.image[each.key] == "one" ? data.aws_ami.one.id : data.aws_ami.two.id
  instance_type = "t3.micro"
}

resource "aws_fleet" "app" {
  for_each           = local.wave
  name               = "app-${each.key}"
  launch_template    = aws_launch_template.app[each.key].id
  min_size           = 2
  max_size           = 4
  desired_capacity   = 2
  availability_zones = ["us-east-1a"]
  rollout {
    strategy       = "rolling"
    max_surge      = 1
    pause          = local.pause[each.key]
    wave           = each.value
    health_timeout = "2m"
    drain_timeout  = "0s"
  }
}
"""


def _progress(state: Path) -> dict[str, str]:
    try:
        resources = json.loads(state.read_text())["resources"]
    except (OSError, ValueError, KeyError):
        return {}
    out = {}
    for address, rs in resources.items():
        record = rs.get("rollout") or {}
        if record.get("progress"):
            out[address.split('"')[1]] = str(record["progress"]["phase"])
    return out


def _started(state: Path, fleets: str) -> list[float]:
    resources = json.loads(state.read_text())["resources"]
    return [resources[f'aws_fleet.app["{k}"]']["rollout"]["progress"]["started_at"] for k in fleets]


def test_a_kill_during_wave_2_resumes_wave_2_then_runs_wave_3(
    tmp_path: Path, aws_env: str, boto: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Wave 2's fleets bake 15 s between their two batches (a rollout `pause`); the apply is
    killed (SIGKILL) once the state shows wave 1 complete and wave 2 in progress."""
    register_ami(boto, name="one-1.0.0", version="1.0.0")
    register_ami(boto, name="two-1.0.0", version="1.0.0")
    stack = write_stack(tmp_path / "stack", {"main.hcl": KILL_STACK})
    cli = Cli(stack, capsys)
    assert cli("apply", "--auto-approve").code == 0
    new_one = register_ami(boto, name="one-1.1.0", version="1.1.0")
    new_two = register_ami(boto, name="two-1.1.0", version="1.1.0")
    state = stack / ".reconciler" / "state.json"

    def wave_2_running() -> bool:
        seen = _progress(state)
        wave_1_done = seen.get("a") == seen.get("b") == "complete"
        return wave_1_done and seen.get("c") == seen.get("d") == "in_progress"

    kill_apply_when(stack, wave_2_running, env=cli_env(aws_env, RECONCILER_ROLLOUT_POLL="0.1"))
    seen = _progress(state)
    assert seen == {"a": "complete", "b": "complete", "c": "in_progress", "d": "in_progress"}, seen
    started_cd = _started(state, "cd")

    planned = cli("plan", "--detailed-exitcode")
    assert planned.code == 2, planned.text
    waves = planned.out.split("Waves:")[1]
    assert 'wave 2  2 fleets (4 instances)  aws_fleet.app["c"], aws_fleet.app["d"] (resumes 2)' in waves
    assert 'wave 3  2 fleets (4 instances)  aws_fleet.app["e"], aws_fleet.app["f"]' in waves
    assert 'aws_fleet.app["a"]' not in waves

    resumed = cli("apply", "--auto-approve")
    assert resumed.code == 0, resumed.text
    images = images_by_fleet(boto)
    assert images == {
        "a": {new_one},
        "b": {new_one},
        "c": {new_two},
        "d": {new_two},
        "e": {new_one},
        "f": {new_one},
    }
    assert _started(state, "cd") == started_cd  # wave 2 was resumed, not started again
    final = _progress(state)
    assert min(
        json.loads(state.read_text())["resources"][f'aws_fleet.app["{k}"]']["rollout"]["progress"][
            "started_at"
        ]
        for k in "ef"
    ) >= max(
        json.loads(state.read_text())["resources"][f'aws_fleet.app["{k}"]']["rollout"]["progress"][
            "finished_at"
        ]
        for k in "cd"
    ), final
    assert cli("plan", "--detailed-exitcode").code == 0
