"""Waiting for health through a flaky cloud: a poll that fails transiently (throttled, 5xx, the
connection lost, after the client's own retries) is read again, never a verdict; only
POLL_FAILURES failures in a row, or one permanent error, fail the step.

Specified with a small scripted FleetOps (only the two reads a health wait makes) on a fake clock.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from reconciler.errors import CloudError, CloudErrorKind
from reconciler.rollout.model import RolloutStep, StepKind
from reconciler.rollout.waits import POLL_FAILURES, Observation, StepEnv, StepFailed, pause, wait_healthy
from reconciler.sdk.fleet import AlarmState, GroupMember, LifecycleState
from tests.rollout.builders import plan_for
from tests.rollout.fake_fleet import FakeClock

HEALTHY = [
    GroupMember(
        instance_id=f"i-0{n}",
        image_id="ami-new",
        instance_type="t3.micro",
        lifecycle_state=LifecycleState.IN_SERVICE,
        health_status="Healthy",
    )
    for n in range(2)
]


class ScriptedReads:
    """members_and_health / alarm_states that raise the scripted errors first, then answer."""

    def __init__(self, *, members: list[CloudError | None], alarms: list[CloudError | None]) -> None:
        self.members, self.alarms = list(members), list(alarms)
        self.reads = 0

    def members_and_health(self, group: str) -> list[GroupMember]:
        self.reads += 1
        err = self.members.pop(0) if self.members else None
        if err is not None:
            raise err
        return HEALTHY

    def alarm_states(self, names: Sequence[str]) -> dict[str, AlarmState]:
        err = self.alarms.pop(0) if self.alarms else None
        if err is not None:
            raise err
        return dict.fromkeys(names, AlarmState.OK)


def failure(kind: CloudErrorKind = CloudErrorKind.RETRYABLE) -> CloudError:
    return CloudError(
        call="DescribeInstances", message="Rate exceeded (still failing after 10 attempts)", kind=kind
    )


def env_for(ops: ScriptedReads, seen: list[Observation]) -> StepEnv:
    clock = FakeClock()
    plan = plan_for(2, strategy="blue_green")
    plan.target_groups, plan.target_group_arns = [], []
    return StepEnv(
        plan=plan,
        ops=ops,
        clock=clock,
        sleep=clock.sleep,
        poll_s=2.0,
        observe=seen.append,  # type: ignore[arg-type]
    )


WAIT = RolloutStep(StepKind.WAIT_HEALTHY, group="web-g0002", count=2, alarms=["web-5xx"], duration_s=5)


@pytest.mark.parametrize("kind", [CloudErrorKind.RETRYABLE, CloudErrorKind.UNREACHABLE])
def test_transient_poll_failures_are_read_again_even_past_the_timeout(kind: CloudErrorKind) -> None:
    # four failed reads in a row take 8 s of polling, past the step's 5 s: still no verdict
    ops = ScriptedReads(members=[failure(kind)] * (POLL_FAILURES - 1), alarms=[failure(kind)])
    seen: list[Observation] = []
    wait_healthy(WAIT, env_for(ops, seen))
    assert ops.reads == POLL_FAILURES
    retried = [o.detail for o in seen if "reading health failed" in o.detail]
    assert len(retried) == POLL_FAILURES and all("reading again" in d for d in retried)


def test_transient_failures_in_a_row_beyond_the_limit_fail_with_the_cloud_error() -> None:
    ops = ScriptedReads(members=[failure()] * POLL_FAILURES, alarms=[])
    with pytest.raises(CloudError) as info:
        wait_healthy(WAIT, env_for(ops, []))
    assert info.value.call == "DescribeInstances"
    assert ops.reads == POLL_FAILURES


def test_a_permanent_error_is_not_read_again() -> None:
    ops = ScriptedReads(members=[failure(CloudErrorKind.PERMANENT)], alarms=[])
    with pytest.raises(CloudError):
        wait_healthy(WAIT, env_for(ops, []))
    assert ops.reads == 1


def test_an_alarm_read_that_fails_transiently_during_a_pause_is_read_again() -> None:
    ops = ScriptedReads(members=[], alarms=[failure(), failure(), None, failure(), None])
    env = env_for(ops, [])
    env.plan.alarms = ["web-5xx"]
    pause(RolloutStep(StepKind.PAUSE, group="web-g0002", duration_s=10), env)  # no StepFailed
    assert not ops.alarms  # every scripted answer was used: failures were read again


def test_an_alarm_in_alarm_still_fails_the_gate() -> None:
    class Firing(ScriptedReads):
        def alarm_states(self, names: Sequence[str]) -> dict[str, AlarmState]:
            super().alarm_states(names)
            return dict.fromkeys(names, AlarmState.ALARM)

    ops = Firing(members=[failure()], alarms=[failure()])
    with pytest.raises(StepFailed) as info:
        wait_healthy(WAIT, env_for(ops, []))
    assert "alarm web-5xx is in ALARM" in info.value.detail
