"""Scenario (issue 10 follow-up): a bake between waves survives a killed apply.

Given three fleets in three waves and `waves { bake, alarms = ["site"] }`, an apply is killed
(SIGKILL) during the bake after wave 1, once the state records it. The next plan says the bake is
in progress and that wave 2 starts after it; the next apply starts wave 2 only once the recorded
bake end has passed (even though the stack's bake was shortened meanwhile: the recorded end
stands), bakes the new 1s between waves 2 and 3, and converges. When the wave alarm fires after
the kill instead, the next apply halts in the resumed bake: wave 1 is turned back, waves 2 and 3
never start, the apply exits 1 with the per-wave summary, and the next plan rolls from wave 1.

The killed apply runs as a subprocess (as the other kill scenarios do); the rest runs the CLI
in-process against the moto server.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import register_ami
from tests.scenarios.harness import Cli, cli_env, kill_apply_when, write_stack
from tests.scenarios.rollout_checks import create_alarm, fire_alarm
from tests.scenarios.test_rollout_waves import images_by_fleet

pytestmark = pytest.mark.slow

STACK = """
reconciler {
  stack = "bake-resume"
  waves {
    bake   = "BAKE"
    alarms = ["site"]
  }
}

provider "aws" {
  region = "us-east-1"
}

locals {
  wave = { a = 1, b = 2, c = 3 }
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
    strategy       = "rolling"
    max_surge      = 2
    wave           = each.value
    health_timeout = "1m"
    drain_timeout  = "0s"
  }
}
"""


@pytest.fixture(autouse=True)
def _fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECONCILER_ROLLOUT_POLL", "0.1")


def _env(endpoint: str) -> dict[str, str]:
    return cli_env(endpoint, RECONCILER_ROLLOUT_POLL="0.1")


def _state(path: Path) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = json.loads(path.read_text())
        return loaded
    except (OSError, ValueError):
        return {}


def _progress(state: dict[str, Any], fleet: str) -> dict[str, Any]:
    record = state["resources"][f'aws_fleet.app["{fleet}"]'].get("rollout") or {}
    return dict(record.get("progress") or {})


def _attributes(state: dict[str, Any], fleet: str) -> dict[str, Any]:
    return dict(state["resources"][f'aws_fleet.app["{fleet}"]'].get("attributes") or {})


def _epoch(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp).timestamp()


def killed_in_the_bake_after_wave_1(
    tmp_path: Path, aws_env: str, boto: Any, *, bake: str
) -> tuple[Path, str]:
    """The stack applied on app-1.0.0, then an apply onto app-1.1.0 killed once the state records
    the bake after wave 1; the stack's directory and the old image."""
    old = register_ami(boto, name="app-1.0.0", version="1.0.0")
    create_alarm(boto, "site")
    stack = write_stack(tmp_path / "stack", {"main.hcl": STACK.replace("BAKE", bake)})
    first = subprocess.run(
        [sys.executable, "-m", "reconciler.cli", "--chdir", str(stack), "apply", "--auto-approve"],
        env=_env(aws_env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert first.returncode == 0, first.stdout + first.stderr
    register_ami(boto, name="app-1.1.0", version="1.1.0")
    path = stack / ".reconciler" / "state.json"

    def recorded() -> bool:  # the bake is recorded, and so is wave 1's fleet as the cloud now has it
        now = _state(path)
        return bool(now.get("bake")) and _attributes(now, "a").get("launch_template_version") == 2

    kill_apply_when(stack, recorded, env=_env(aws_env), poll=0.02)
    state = _state(path)
    assert state.get("bake", {}).get("wave") == 1, state.get("bake")
    assert _progress(state, "a")["phase"] == "complete"
    assert _progress(state, "b") == {} and _progress(state, "c") == {}  # wave 2 never started
    return stack, old


def test_the_next_apply_finishes_the_bake_before_wave_2_and_converges(
    tmp_path: Path, aws_env: str, boto: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    stack, old = killed_in_the_bake_after_wave_1(tmp_path, aws_env, boto, bake="15s")
    path = stack / ".reconciler" / "state.json"
    ends_at = _epoch(_state(path)["bake"]["ends_at"])
    cli = Cli(stack, capsys)

    planned = cli("plan", "--detailed-exitcode")
    assert planned.code == 2, planned.text
    assert "outside reconciler" not in planned.out  # state recorded wave 1 as it went into its bake
    waves = planned.out.split("Waves:")[1]
    assert "wave 1 bake in progress: " in waves and " left; wave 2 starts after it" in waves
    assert 'wave 2  1 fleet (2 instances)  aws_fleet.app["b"]' in waves
    assert 'aws_fleet.app["a"]' not in waves

    # the stack's bake shortened meanwhile: what was recorded still stands for wave 1
    (stack / "main.hcl").write_text((stack / "main.hcl").read_text().replace('"15s"', '"1s"'))
    applied = cli("apply", "--auto-approve")
    assert applied.code == 0, applied.text
    resumed = applied.out.index("wave 1: bake resumed after an interrupted apply")
    assert resumed < applied.out.index("wave 2/3: started") < applied.out.index("wave 3/3: started")
    state = _state(path)
    b, c = _progress(state, "b"), _progress(state, "c")
    assert b["started_at"] >= ends_at  # wave 2 started only once the recorded bake was over
    assert c["started_at"] >= b["finished_at"] + 1  # the (new) bake between waves 2 and 3
    assert "bake" not in state
    new = images_by_fleet(boto)
    assert new["a"] == new["b"] == new["c"] and new["a"] != {old}
    assert cli("plan", "--detailed-exitcode").code == 0


def test_an_alarm_during_the_resumed_bake_turns_wave_1_back_and_starts_no_later_wave(
    tmp_path: Path, aws_env: str, boto: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    stack, old = killed_in_the_bake_after_wave_1(tmp_path, aws_env, boto, bake="10m")
    fire_alarm(boto, "site")
    cli = Cli(stack, capsys)

    applied = cli("apply", "--auto-approve")
    assert applied.code == 1, applied.text
    assert "rollout halted in wave 1 of 3: alarm site is in ALARM during the bake" in applied.err
    lines = [line.split() for line in applied.err.splitlines() if line.strip().startswith("wave ")]
    assert [line[:4] for line in lines] == [
        ["wave", "1", "rolled", "back"],
        ["wave", "2", "not", "started"],
        ["wave", "3", "not", "started"],
    ]
    assert images_by_fleet(boto) == {"a": {old}, "b": {old}, "c": {old}}
    state = _state(stack / ".reconciler" / "state.json")
    assert "bake" not in state  # the halt is what the next plan shows
    assert _progress(state, "a")["phase"] == "rolled_back"
    assert _progress(state, "b") == {} and _progress(state, "c") == {}

    boto("cloudwatch").set_alarm_state(AlarmName="site", StateValue="OK", StateReason="recovered (test)")
    again = cli("plan", "--detailed-exitcode")
    assert again.code == 2, again.text
    assert "3 fleets to roll out (6 instances) in 3 waves." in again.out
    assert "bake in progress" not in again.out
