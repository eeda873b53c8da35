"""Scenario (issue 3): a blue/green apply killed in the middle of its rollout is resumed by the
next apply, which finishes it: exactly one group serves, on the new AMI, and plan is clean.

The apply runs as a subprocess (as tests/scenarios/test_crash_and_lock.py does) so it can be
SIGKILLed. moto's instances are healthy at once, so to have the kill land inside the rollout the
new instances are held Unhealthy (a background thread, with a long health_timeout) until the state
file records the rollout in progress; after the kill they recover, and the next apply resumes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import register_ami
from tests.scenarios.harness import Cli, cli_env, kill_apply_when, write_stack
from tests.scenarios.rollout_checks import (
    assert_fleet_on,
    census,
    create_alarm,
    fleet_block,
    fleet_stack,
    sick_new_instances,
)


def _env(endpoint: str) -> dict[str, str]:
    return cli_env(endpoint, RECONCILER_ROLLOUT_POLL="0.1")


def _rollout(state: Path) -> dict[str, Any]:
    """The fleet's rollout progress recorded in the state file ({} while there is none)."""
    try:
        record = json.loads(state.read_text())["resources"]["aws_fleet.web"].get("rollout") or {}
    except (OSError, ValueError, KeyError):
        return {}
    return dict(record.get("progress") or {})


def test_killed_blue_green_apply_resumes_and_finishes(
    tmp_path: Path,
    aws_env: str,
    boto: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RECONCILER_ROLLOUT_POLL", "0.1")
    old = register_ami(boto, name="app-1.0.0", version="1.0.0")
    create_alarm(boto)
    stack = write_stack(tmp_path / "stack", fleet_stack("blue_green", health_timeout="2m"))
    cli = Cli(stack, capsys)
    assert cli("apply", "--auto-approve").code == 0
    assert_fleet_on(census(boto), old, count=4)
    new = register_ami(boto, name="app-1.1.0", version="1.1.0")
    state = stack / ".reconciler" / "state.json"

    with sick_new_instances(boto, new) as sick:
        kill_apply_when(  # once web-g0002 is up, held unhealthy: the apply waits in its health gate
            stack,
            lambda: _rollout(state).get("phase") == "in_progress" and len(sick.marked) == 4,
            env=_env(aws_env),
        )
    progress = _rollout(state)
    assert progress.get("phase") == "in_progress", f"the kill should land mid-rollout: {progress}"
    assert len(census(boto).serving_groups()) == 2  # both generations run while it waits

    asg = boto("autoscaling")
    for instance_id in sick.marked:  # the new instances finish booting
        asg.set_instance_health(InstanceId=instance_id, HealthStatus="Healthy")

    plan = cli("plan", "--detailed-exitcode")
    assert plan.code == 2, plan.text
    block = fleet_block(plan.out)
    assert re.search(r"resume    in progress at step [123] of 3\b", block), block  # the plan's 3 lines

    resumed = cli("apply", "--auto-approve")
    assert resumed.code == 0, resumed.text
    seen = census(boto)
    assert seen.serving_groups() == ["web-g0002"], seen.groups.keys()  # exactly one group serves
    assert seen.attached("web-g0002") and not seen.attached("web-g0001")
    assert sorted(seen.groups) == ["web-g0001", "web-g0002"]  # no third generation was started
    assert_fleet_on(seen, new, count=4)
    again = cli("plan", "--detailed-exitcode")
    assert again.code == 0, again.text
