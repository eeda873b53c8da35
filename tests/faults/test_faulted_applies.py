"""Given a cloud that throttles 30 % of requests, answers 503, or drops connections before or
after forwarding (seeded), a create apply and then a rollout apply through it each exit 0 on the
first run; nothing is duplicated (objects, identical launch template versions, stray groups,
orphan instances); the next plan, made directly against the cloud, exits 0 with
--detailed-exitcode, and state matches the cloud (a refresh-only plan has nothing to take in).

The CLI runs in this process, against the fault proxy; checks read moto directly. Each fault mode
rolls out with one strategy (all three are covered; tests/faults/test_lost_answers.py hits every
write of rolling and canary deterministically).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import register_ami
from tests.faults.cloud import duplicates, stack_files, unfinished_rollouts
from tests.faults.proxy import Fault, FaultProxy
from tests.scenarios.harness import Cli, write_stack
from tests.scenarios.rollout_checks import assert_fleet_on, census, create_alarm

SEED = 8
MODES = {
    "throttle 30%": ({Fault.THROTTLE: 0.3}, "blue_green"),
    "503 20%": ({Fault.UNAVAILABLE: 0.2}, "canary"),
    "drop before 20%": ({Fault.DROP_BEFORE: 0.2}, "rolling"),
    "drop after 20%": ({Fault.DROP_AFTER: 0.2}, "canary"),
}


def check_converged(cli: Cli, boto: Any, *, groups: set[str]) -> None:
    found = duplicates(boto, expected_groups=groups)
    assert found.total == 0, found
    plan = cli("plan", "--detailed-exitcode")
    assert plan.code == 0, plan.text
    refresh = cli("plan", "--refresh-only", "--detailed-exitcode")
    assert refresh.code == 0, refresh.text
    assert unfinished_rollouts(cli.dir) == []


@pytest.mark.slow
@pytest.mark.parametrize("mode", sorted(MODES))
def test_create_and_rollout_applies_complete_on_the_first_run(
    mode: str,
    via_proxy: FaultProxy,
    aws_env: str,
    boto: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rates, strategy = MODES[mode]
    register_ami(boto, name="app-1.0.0", version="1.0.0")
    create_alarm(boto)
    cli = Cli(write_stack(tmp_path / "s", stack_files(strategy, size=2)), capsys)

    def apply_through_faults() -> None:
        monkeypatch.setenv("AWS_ENDPOINT_URL", via_proxy.url)
        via_proxy.configure(rates=rates)
        via_proxy.seed = SEED
        applied = cli("apply", "--auto-approve")
        faults = sum(via_proxy.stats.faults.values())
        via_proxy.configure()
        assert applied.code == 0, applied.text
        assert faults > 0, "the run met no fault"
        monkeypatch.setenv("AWS_ENDPOINT_URL", aws_env)  # checks go straight to the cloud

    apply_through_faults()
    check_converged(cli, boto, groups={"web-g0001"})

    new = register_ami(boto, name="app-1.1.0", version="1.1.0")
    apply_through_faults()
    assert_fleet_on(census(boto), new, count=2)
    check_converged(cli, boto, groups={"web-g0001"} if strategy == "rolling" else {"web-g0001", "web-g0002"})
