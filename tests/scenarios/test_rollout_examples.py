"""The example stacks run as written (issue 3): examples/quickstart (blue/green), examples/rolling
and examples/canary. Each is copied to a temporary directory, pointed at the moto server with
AWS_ENDPOINT_URL (the examples name no endpoint), applied on app 1.0.0, then rolled to app 1.1.0:
plan exits 2, apply rolls every instance, the next plan exits 0."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import register_ami
from tests.scenarios.harness import Cli
from tests.scenarios.rollout_checks import assert_fleet_on, census, fleet_block

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# example directory → (fleet and target group name, rollout strategy as the plan names it)
CASES = {
    "quickstart": ("web", "blue/green"),
    "rolling": ("api", "rolling"),
    "canary": ("checkout", "canary"),
}


@pytest.mark.parametrize("example", sorted(CASES))
def test_example_stack_applies_and_rolls_out_a_new_ami(
    example: str,
    tmp_path: Path,
    aws_env: str,
    boto: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    name, strategy = CASES[example]
    stack = tmp_path / example
    # a copy of the whole directory (the quickstart reads cloud-init.sh), never a local state
    shutil.copytree(EXAMPLES / example, stack, ignore=shutil.ignore_patterns(".reconciler"))
    monkeypatch.setenv("RECONCILER_ROLLOUT_POLL", "0.1")
    if example != "quickstart":
        monkeypatch.setenv("RECONCILER_VAR_bake_time", "1s")  # the examples bake for minutes
    cli = Cli(stack, capsys)
    assert cli("validate").code == 0
    assert cli("fmt", "--check").code == 0, "examples are written in canonical format"

    old = register_ami(boto, name="app-1.0.0", version="1.0.0", tags={"App": "app"})
    applied = cli("apply", "--auto-approve")
    assert applied.code == 0, applied.text
    assert cli("plan", "--detailed-exitcode").code == 0
    assert_fleet_on(census(boto, fleet=name, target_group=name), old, count=4)

    new = register_ami(boto, name="app-1.1.0", version="1.1.0", tags={"App": "app"})
    plan = cli("plan", "--detailed-exitcode")
    assert plan.code == 2, plan.text
    block = fleet_block(plan.out, f"aws_fleet.{name}")
    assert f"rollout: {strategy}" in block and "replaces  4 of 4 instances" in block, block

    rolled = cli("apply", "--auto-approve")
    assert rolled.code == 0, rolled.text
    assert_fleet_on(census(boto, fleet=name, target_group=name), new, count=4)
    again = cli("plan", "--detailed-exitcode")
    assert again.code == 0, again.text
