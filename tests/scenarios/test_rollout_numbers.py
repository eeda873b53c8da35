"""Scenario (issue 14): the numbers a rollout prints agree. Given a fleet rolled to a new AMI with
each strategy, the plan's numbered steps are the steps apply counts ("step N/T" with T the plan's
count, every line reached), `rollout status` counts the same, and the rollout's measured time (its
recorded start and finish) lies within the plan's "at least … at most …" bounds."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from reconciler.sdk.rollout_block import format_duration
from tests.conftest import register_ami
from tests.scenarios.harness import Cli, write_stack
from tests.scenarios.rollout_checks import STRATEGIES, create_alarm, fleet_block, fleet_stack

STEP_LINE = re.compile(r"^\s+(?:steps)?\s+(\d+)\. ", re.MULTILINE)
APPLY_STEP = re.compile(r"aws_fleet\.web: step (\d+)/(\d+): ")
PAUSE = 1  # seconds: the fixed wait the lower bound counts


@pytest.fixture(autouse=True)
def _fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECONCILER_ROLLOUT_POLL", "0.1")


@pytest.mark.slow
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_plan_apply_and_status_count_the_same_steps_and_the_time_is_within_the_bounds(
    strategy: str, tmp_path: Path, aws_env: str, boto: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    register_ami(boto, name="app-1.0.0", version="1.0.0")
    create_alarm(boto)
    # health gates pass at once on moto; a generous timeout keeps the upper bound honest under load
    files = fleet_stack(strategy, pause=f"{PAUSE}s", health_timeout="30s")
    cli = Cli(write_stack(tmp_path / "stack", files), capsys)
    assert cli("apply", "--auto-approve").code == 0
    register_ami(boto, name="app-1.1.0", version="1.1.0")

    plan = cli("plan")
    assert plan.code == 0, plan.text
    block = fleet_block(plan.out)
    numbers = [int(n) for n in STEP_LINE.findall(block)]
    assert numbers == list(range(1, len(numbers) + 1)) and numbers, block
    planned = len(numbers)
    rollout = json.loads(cli("plan", "--format", "json").out)["reconciler"]["resources"]["aws_fleet.web"][
        "rollout"
    ]
    low, high = rollout["min_duration_seconds"], rollout["max_duration_seconds"]
    bounds = re.search(r"replaces .*?, (at (?:least|most) .*)$", block, re.MULTILINE)
    assert bounds is not None
    if low:
        assert f"at least {format_duration(low)}" in bounds.group(1)
    assert bounds.group(1).endswith(f"at most {format_duration(high)}")

    applied = cli("apply", "--auto-approve")
    assert applied.code == 0, applied.text
    seen = [(int(n), int(t)) for n, t in APPLY_STEP.findall(applied.out)]
    assert seen, applied.out
    assert {t for _, t in seen} == {planned}, "apply counts the plan's steps"
    assert sorted({n for n, _ in seen}) == list(range(1, planned + 1)), "apply goes through every line"
    for line in applied.out.splitlines():  # words, not identifiers
        assert "in_progress" not in line and "rolled_back" not in line and "blue_green" not in line, line

    status = cli("rollout", "status")
    assert status.code == 0, status.text
    assert f"step      {planned} of {planned}" in status.out
    assert "rollout complete" in status.out

    state = json.loads((tmp_path / "stack" / ".reconciler" / "state.json").read_text())
    progress = state["resources"]["aws_fleet.web"]["rollout"]["progress"]
    took = progress["finished_at"] - progress["started_at"]
    assert low <= took <= high, f"{strategy}: took {took:.1f}s, planned {low}s to {high}s"
    if strategy != "blue_green":  # blue/green has one step, so no pause between steps
        assert low >= PAUSE
