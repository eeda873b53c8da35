"""The health gate of a WAIT_HEALTHY step, decided from one observation: pure.

Healthy means: EC2 `running`, auto-scaling `InService` and `Healthy`, `healthy` in every target
group of the fleet, and (for the gate as a whole) no listed alarm in ALARM. The executor polls
`members_and_health` / `alarm_states`, calls `evaluate_gate`, and stops waiting when the verdict
is `ok`, when it has `failed` (an alarm fired), or when the step's timeout passes.
Callers: rollout execution, `reconciler rollout status`, tests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from reconciler.rollout.model import RolloutStep
from reconciler.sdk.fleet import AlarmState, GroupMember, LifecycleState, TargetHealth

__all__ = ["HealthVerdict", "evaluate_gate", "member_problems"]


@dataclass(frozen=True)
class HealthVerdict:
    ok: bool
    healthy: int
    expected: int
    failed: bool = False  # no point waiting longer: an alarm is in ALARM
    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = f"{self.healthy}/{self.expected} healthy"
        return f"{text}: {'; '.join(self.problems)}" if self.problems else text


def member_problems(
    member: GroupMember, *, target_group_arns: Sequence[str], names: Mapping[str, str] | None = None
) -> list[str]:
    """Why `member` is not healthy yet ([] when it is); target groups are named by `names` (ARN →
    name, the plan's), else by ARN."""
    problems = []
    if member.instance_state != "running":
        problems.append(f"{member.instance_id} is {member.instance_state}")
    if member.lifecycle_state is not LifecycleState.IN_SERVICE:
        problems.append(f"{member.instance_id} is {member.lifecycle_state}")
    if member.health_status != "Healthy":
        problems.append(f"{member.instance_id} is {member.health_status}")
    for arn in target_group_arns:
        state = member.target_health.get(arn, TargetHealth.UNUSED)
        if state is not TargetHealth.HEALTHY:
            problems.append(f"{member.instance_id} is {state} in {(names or {}).get(arn, arn)}")
    return problems


def evaluate_gate(
    step: RolloutStep,
    members: Sequence[GroupMember],
    alarms: Mapping[str, AlarmState],
    *,
    target_group_arns: Sequence[str],
    names: Mapping[str, str] | None = None,
) -> HealthVerdict:
    """Whether `step.count` members (on `step.image_id`/`instance_type` when set) are healthy and
    none of `step.alarms` is in ALARM."""
    counted = [
        m
        for m in members
        if (not step.image_id or m.image_id == step.image_id)
        and (not step.instance_type or m.instance_type == step.instance_type)
        and m.lifecycle_state not in (LifecycleState.TERMINATING, LifecycleState.TERMINATED)
    ]
    problems: list[str] = []
    healthy = 0
    for member in counted:
        found = member_problems(member, target_group_arns=target_group_arns, names=names)
        healthy += not found
        problems += found
    firing = [name for name in step.alarms if alarms.get(name) is AlarmState.ALARM]
    problems += [f"alarm {name} is in ALARM" for name in firing]
    missing = [name for name in step.alarms if alarms.get(name) is AlarmState.MISSING]
    problems += [f"alarm {name} does not exist (check rollout.alarms)" for name in missing]
    firing += missing
    if len(counted) < step.count:
        problems.append(f"{len(counted)} of {step.count} instances launched")
    return HealthVerdict(
        ok=healthy >= step.count and not firing,
        healthy=healthy,
        expected=step.count,
        failed=bool(firing),
        problems=problems,
    )
