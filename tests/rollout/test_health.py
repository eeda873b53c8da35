"""The health gate of a WAIT_HEALTHY step, from one observation of members and alarms."""

from __future__ import annotations

from dataclasses import replace

import pytest

from reconciler.rollout.health import evaluate_gate
from reconciler.rollout.model import RolloutStep, StepKind
from reconciler.sdk.fleet import AlarmState, GroupMember, LifecycleState, TargetHealth

TG = "arn:aws:elasticloadbalancing:us-east-1:123:targetgroup/web/0123"
NEW_AMI = "ami-new"


def member(n: int, **changes: object) -> GroupMember:
    base = GroupMember(
        instance_id=f"i-{n}",
        image_id=NEW_AMI,
        instance_type="t3.micro",
        lifecycle_state=LifecycleState.IN_SERVICE,
        health_status="Healthy",
        target_health={TG: TargetHealth.HEALTHY},
    )
    return replace(base, **changes)  # type: ignore[arg-type]


GATE = RolloutStep(
    StepKind.WAIT_HEALTHY,
    group="web",
    count=2,
    image_id=NEW_AMI,
    instance_type="t3.micro",
    alarms=["web-5xx"],
    duration_s=600,
)
OK = {"web-5xx": AlarmState.OK}


@pytest.mark.parametrize(
    ("members", "alarms", "ok", "failed", "problem"),
    [
        ([member(1), member(2)], OK, True, False, None),
        ([member(1), member(2), member(3, image_id="ami-old")], OK, True, False, None),
        ([member(1)], OK, False, False, "1 of 2 instances launched"),
        ([member(1), member(2, lifecycle_state=LifecycleState.PENDING)], OK, False, False, "i-2 is Pending"),
        ([member(1), member(2, health_status="Unhealthy")], OK, False, False, "i-2 is Unhealthy"),
        (
            [member(1), member(2, target_health={TG: TargetHealth.INITIAL})],
            OK,
            False,
            False,
            "i-2 is initial in web",
        ),
        ([member(1), member(2, target_health={})], OK, False, False, "i-2 is unused in web"),
        ([member(1), member(2, instance_state="pending")], OK, False, False, "i-2 is pending"),
        ([member(1), member(2, instance_type="t3.large")], OK, False, False, "1 of 2 instances launched"),
        ([member(1), member(2)], {"web-5xx": AlarmState.ALARM}, False, True, "alarm web-5xx is in ALARM"),
        ([member(1), member(2)], {}, True, False, None),  # a missing alarm state is not ALARM
        (
            [member(1), member(2), member(3, lifecycle_state=LifecycleState.TERMINATING)],
            OK,
            True,
            False,
            None,
        ),
    ],
)
def test_gate(
    members: list[GroupMember], alarms: dict[str, AlarmState], ok: bool, failed: bool, problem: str | None
) -> None:
    verdict = evaluate_gate(GATE, members, alarms, target_group_arns=[TG], names={TG: "web"})
    assert (verdict.ok, verdict.failed) == (ok, failed)
    if problem is None:
        assert verdict.problems == []
    else:
        assert problem in verdict.problems


def test_gate_without_image_counts_every_member() -> None:
    step = replace(GATE, image_id="", instance_type="", alarms=[])
    verdict = evaluate_gate(step, [member(1, image_id="ami-old"), member(2)], {}, target_group_arns=[])
    assert verdict.ok
    assert str(verdict) == "2/2 healthy"


def test_a_missing_alarm_fails_the_gate_at_once() -> None:
    from reconciler.rollout.health import evaluate_gate

    verdict = evaluate_gate(
        GATE, [member(1), member(2)], {"web-5xx": AlarmState.MISSING}, target_group_arns=[TG]
    )
    assert not verdict.ok and verdict.failed
    assert "alarm web-5xx does not exist (check rollout.alarms)" in verdict.problems
