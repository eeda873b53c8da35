"""Scenario (issue 3, fleets and rollouts): a fleet of 4 behind a target group runs app-1.0.0;
app-1.1.0 is baked. Given each rollout strategy, plan shows the rollout and apply replaces every
instance, health-gated; a fired alarm or a sick new instance rolls it back to a fleet that is fully
on the old image and serving; a rollout keeps the fleet's current size.

Driven through the CLI in-process against the moto server; see rollout_checks for the census.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import register_ami
from tests.scenarios.harness import Cli, write_stack
from tests.scenarios.rollout_checks import (
    ALARM,
    STRATEGIES,
    assert_fleet_on,
    census,
    create_alarm,
    fire_alarm,
    fleet_block,
    fleet_stack,
    pinned_version,
    running_on,
    sick_new_instances,
)

# what each strategy's plan spells out as its batches or steps
PLAN_SHAPE = {
    "rolling": ["rolling: 4 instances: surge 1, replace 1 at a time, 4 batches", "batch 1/4:", "batch 4/4:"],
    "blue_green": [
        "blue/green: 4 instances: web-g0001 → web-g0002",
        "1. create web-g0002 at 4, attach to target group web",
        "detach web-g0001",
    ],
    "canary": [
        "canary: 4 instances: web-g0001 → web-g0002 in 3 steps",
        "25% (1/4)",
        "50% (2/4)",
        "100% (4/4)",
    ],
}


@pytest.fixture(autouse=True)
def _fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECONCILER_ROLLOUT_POLL", "0.1")


def deploy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], boto: Any, strategy: str, **stack: str
) -> tuple[Cli, str]:
    """The fleet applied on app-1.0.0; returns the CLI and that image's id."""
    old = register_ami(boto, name="app-1.0.0", version="1.0.0")
    create_alarm(boto)
    cli = Cli(write_stack(tmp_path / "stack", fleet_stack(strategy, **stack)), capsys)
    applied = cli("apply", "--auto-approve")
    assert applied.code == 0, applied.text
    assert_fleet_on(census(boto), old, count=4)
    return cli, old


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_new_ami_is_planned_as_a_rollout_and_applied_to_every_instance(
    strategy: str, tmp_path: Path, aws_env: str, boto: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    cli, old = deploy(tmp_path, capsys, boto, strategy)
    new = register_ami(boto, name="app-1.1.0", version="1.1.0")

    plan = cli("plan", "--detailed-exitcode")
    assert plan.code == 2, plan.text
    block = fleet_block(plan.out)
    assert f"rollout: {strategy.replace('_', '/')}" in block.splitlines()[0]
    assert "app-1.0.0" in block and "app-1.1.0" in block, block
    for shape in PLAN_SHAPE[strategy]:
        assert shape in block, f"{shape!r} not in\n{block}"
    assert "replaces  4 of 4 instances" in block
    assert "rollback  web-g0001 on launch template version 1 (app-1.0.0)" in block
    assert "1 fleet to roll out (4 instances)" in plan.out

    applied = cli("apply", "--auto-approve")
    assert applied.code == 0, applied.text
    assert "Rollout complete: rolled out app-1.1.0 to web" in applied.out
    seen = census(boto)
    assert_fleet_on(seen, new, count=4)
    assert not any(seen.images[i] == old for i in seen.targets)  # no old-image instance serves
    if strategy == "rolling":
        assert seen.serving_groups() == ["web-g0001"]  # replaced in place
        assert pinned_version(seen, "web-g0001") == "2"
    else:
        assert seen.serving_groups() == ["web-g0002"]
        assert pinned_version(seen, "web-g0002") == "2" and pinned_version(seen, "web-g0001") == "1"
        assert seen.attached("web-g0002") and not seen.attached("web-g0001")
        assert seen.desired("web-g0001") == 0  # kept scaled to 0 for a fast rollback

    again = cli("plan", "--detailed-exitcode")
    assert again.code == 0, again.text


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_alarm_in_alarm_rolls_back_to_the_old_image(
    strategy: str, tmp_path: Path, aws_env: str, boto: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    cli, old = deploy(tmp_path, capsys, boto, strategy)
    new = register_ami(boto, name="app-1.1.0", version="1.1.0")
    fire_alarm(boto)

    applied = cli("apply", "--auto-approve")
    assert applied.code == 1, applied.text
    assert "Traceback" not in applied.text
    error = applied.err
    assert "alarm web-5xx is in ALARM" in error, error  # what failed
    assert "rolled back" in error and "web-g0001" in error and "app-1.0.0" in error, error  # what serves

    seen = census(boto)
    assert_fleet_on(seen, old, count=4)
    assert running_on(boto, new) == []  # nothing of the new version runs
    assert seen.serving_groups() == ["web-g0001"] and seen.attached("web-g0001")
    assert pinned_version(seen, "web-g0001") == "1"  # the rollback target
    if strategy != "rolling":
        assert "web-g0002" not in seen.groups, sorted(seen.groups)

    # the alarm clears: the fleet is still on the old image, so the rollout is planned again
    boto("cloudwatch").set_alarm_state(AlarmName=ALARM, StateValue="OK", StateReason="recovered (test)")
    plan = cli("plan", "--detailed-exitcode")
    assert plan.code == 2, plan.text
    assert "replaces  4 of 4 instances" in fleet_block(plan.out)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_new_instance_going_unhealthy_rolls_back(
    strategy: str, tmp_path: Path, aws_env: str, boto: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    cli, old = deploy(tmp_path, capsys, boto, strategy, health_timeout="2s")
    new = register_ami(boto, name="app-1.1.0", version="1.1.0")

    with sick_new_instances(boto, new) as sick:
        applied = cli("apply", "--auto-approve")
    assert sick.marked, "the fault injector never saw a new instance"
    assert applied.code == 1, (
        f"the health gate passed before the injector marked {sorted(sick.marked)}:\n{applied.text}"
    )
    assert "Traceback" not in applied.text
    assert "Unhealthy" in applied.err and "not healthy within 2s" in applied.err, applied.err
    assert "rolled back" in applied.err, applied.err

    seen = census(boto)
    assert_fleet_on(seen, old, count=4)
    assert running_on(boto, new) == []
    assert seen.serving_groups() == ["web-g0001"] and seen.attached("web-g0001")
    assert pinned_version(seen, "web-g0001") == "1"
    if strategy != "rolling":
        assert "web-g0002" not in seen.groups, sorted(seen.groups)


def hand_scaled_to_5(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], boto: Any, strategy: str
) -> tuple[Cli, str]:
    """The fleet deployed at 4 with `ignore_changes = [desired_capacity]`, then scaled to 5 by hand
    (as an operator or a scaling policy would), and app-1.1.0 baked; returns the CLI and its id."""
    cli, _ = deploy(tmp_path, capsys, boto, strategy, lifecycle="ignore_changes = [desired_capacity]")
    boto("autoscaling").set_desired_capacity(AutoScalingGroupName="web-g0001", DesiredCapacity=5)
    assert len(census(boto).live()) == 5
    return cli, register_ami(boto, name="app-1.1.0", version="1.1.0")


def test_rollout_plan_counts_the_current_desired_capacity(
    tmp_path: Path, aws_env: str, boto: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    cli, _ = hand_scaled_to_5(tmp_path, capsys, boto, "blue_green")
    plan = cli("plan", "--detailed-exitcode")
    assert plan.code == 2, plan.text
    block = fleet_block(plan.out)
    assert "replaces  5 of 5 instances" in block and "create web-g0002 at 5" in block, block


@pytest.mark.parametrize("strategy", ["rolling", "blue_green"])
def test_rollout_keeps_the_current_desired_capacity(
    strategy: str, tmp_path: Path, aws_env: str, boto: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    cli, new = hand_scaled_to_5(tmp_path, capsys, boto, strategy)
    applied = cli("apply", "--auto-approve")
    assert applied.code == 0, applied.text
    assert_fleet_on(census(boto), new, count=5)
    assert cli("plan", "--detailed-exitcode").code == 0
