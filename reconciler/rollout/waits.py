"""Waiting inside a rollout step: the health-gate poll and the bake-time pause, on an injected clock.

Also the small vocabulary every step execution shares: `StepEnv` (plan, cloud, clock, sleep and
where observations go), `StepFailed` with its `FailureKind`, and `Observation` (what a progress
display is told while a step waits). Never calls `time.sleep`: every wait goes through
`StepEnv.sleep`, so tests run on a fake clock and finish at once.

A poll that fails transiently (throttled, 5xx, connection lost, after the cloud client's own
retries) is no verdict: it is reported and polled again. Only `POLL_FAILURES` transient failures
in a row fail the step, with the cloud's error.
Callers: rollout.actions (step execution), rollout.executor (builds the env, reads failures).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

from reconciler.errors import CloudError, CloudErrorKind
from reconciler.rollout.health import HealthVerdict, evaluate_gate
from reconciler.rollout.model import RolloutPlan, RolloutStep
from reconciler.sdk.fleet import AlarmState, FleetOps, GroupMember
from reconciler.sdk.rollout_block import format_duration

T = TypeVar("T")
POLL_FAILURES = 5  # transient failures in a row of one poll's reads before the step fails
TRANSIENT = (CloudErrorKind.RETRYABLE, CloudErrorKind.UNREACHABLE)

__all__ = [
    "FailureKind",
    "Observation",
    "StepEnv",
    "StepFailed",
    "firing_alarms",
    "pause",
    "poll",
    "wait_healthy",
]

_SHOWN_PROBLEMS = 3  # a failure message names this many problems, then "and N more"


class FailureKind(StrEnum):
    GATE = "gate"  # the health gate did not pass within the step's timeout
    ALARM = "alarm"  # a listed alarm went to ALARM (while waiting for health or pausing)
    CONFLICT = "conflict"  # the cloud is not as the rollout expects (e.g. a foreign group by our name)


class StepFailed(Exception):
    """A step could not be completed; `detail` says why in a user's words (no step number)."""

    def __init__(self, kind: FailureKind, detail: str) -> None:
        self.kind = kind
        self.detail = detail
        super().__init__(detail)


@dataclass(frozen=True)
class Observation:
    """What a step saw while it ran: members of one group (when read) and a short detail."""

    group: str = ""
    members: Sequence[GroupMember] | None = None
    waited_s: float = 0.0
    detail: str = ""


@dataclass
class StepEnv:
    """Everything a step needs to run; one per rollout run."""

    plan: RolloutPlan
    ops: FleetOps
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    poll_s: float
    observe: Callable[[Observation], None]
    tags: Mapping[str, str] = field(default_factory=dict)
    since: float | None = None  # when the previous step was recorded (a resumed PAUSE counts from it)
    watch_alarms: bool = True  # forward steps: the plan's alarms are watched while pausing


def poll(read: Callable[[], T], env: StepEnv, *, group: str, started: float) -> T:
    """`read()`, read again after each transient cloud failure (reported, then `poll_s` later);
    the error is raised once `POLL_FAILURES` reads in a row failed, or at once if permanent."""
    failures = 0
    while True:
        try:
            return read()
        except CloudError as err:
            failures += 1
            if err.kind not in TRANSIENT or failures >= POLL_FAILURES:
                raise
            detail = f"reading health failed ({err}); reading again"
            env.observe(Observation(group=group, waited_s=env.clock() - started, detail=detail))
            env.sleep(env.poll_s)


def firing_alarms(ops: FleetOps, names: Sequence[str], env: StepEnv | None = None) -> list[str]:
    """Names among `names` whose alarm is in ALARM now (no call when there are none); with `env`,
    a transient failure of the read is read again (see `poll`)."""
    if not names:
        return []
    if env is None:
        states = ops.alarm_states(list(names))
    else:
        states = poll(lambda: ops.alarm_states(list(names)), env, group="", started=env.clock())
    return [name for name in names if states.get(name) is AlarmState.ALARM]


def _summary(verdict: HealthVerdict) -> str:
    problems = verdict.problems
    shown = "; ".join(problems[:_SHOWN_PROBLEMS])
    if len(problems) > _SHOWN_PROBLEMS:
        shown += f"; and {len(problems) - _SHOWN_PROBLEMS} more"
    if shown and verdict.healthy >= verdict.expected:  # the instances are fine; something else is not
        every = "the" if verdict.expected == 1 else f"all {verdict.expected}"
        noun = "instance is" if verdict.expected == 1 else "instances are"
        return f"{every} {noun} healthy, but {shown}"
    head = f"{verdict.healthy}/{verdict.expected} healthy"
    return f"{head}: {shown}" if shown else head


def wait_healthy(step: RolloutStep, env: StepEnv) -> None:
    """Poll the group every `poll_s` until the gate passes; StepFailed(ALARM) as soon as a listed
    alarm is in ALARM, StepFailed(GATE) once `step.duration_s` passed without a pass."""
    arns = list(env.plan.target_group_arns) if env.plan.target_groups else []
    started = env.clock()
    while True:
        members = poll(lambda: env.ops.members_and_health(step.group), env, group=step.group, started=started)
        alarms = (
            poll(lambda: env.ops.alarm_states(list(step.alarms)), env, group=step.group, started=started)
            if step.alarms
            else {}
        )
        names = dict(zip(env.plan.target_group_arns, env.plan.target_groups, strict=False))
        verdict = evaluate_gate(step, members, alarms, target_group_arns=arns, names=names)
        waited = env.clock() - started
        env.observe(Observation(group=step.group, members=members, waited_s=waited, detail=str(verdict)))
        if verdict.ok:
            return
        if verdict.failed:
            firing = ", ".join(
                f"alarm {n} is in ALARM" for n in step.alarms if alarms.get(n) is AlarmState.ALARM
            )
            raise StepFailed(FailureKind.ALARM, firing or _summary(verdict))
        if waited >= step.duration_s:
            timeout = format_duration(step.duration_s, compact=True)
            raise StepFailed(FailureKind.GATE, f"{_summary(verdict)} (not healthy within {timeout})")
        env.sleep(max(0.0, min(env.poll_s, step.duration_s - waited)))


def pause(step: RolloutStep, env: StepEnv) -> None:
    """Bake time: sleep `step.duration_s` counted from `env.since` (so a resumed pause only waits
    out the rest), checking the plan's alarms every `poll_s` when there are any."""
    now = env.clock()
    since = env.since if env.since is not None else now
    end = max(min(since, now), now - step.duration_s) + step.duration_s
    alarms = list(env.plan.alarms) if env.watch_alarms else []
    while True:
        firing = firing_alarms(env.ops, alarms, env)
        if firing:
            names = ", ".join(f"alarm {n} is in ALARM" for n in firing)
            raise StepFailed(FailureKind.ALARM, f"{names} (during the pause)")
        now = env.clock()
        if now >= end:
            return
        left = format_duration(int(end - now), compact=True)
        env.observe(Observation(group=step.group, waited_s=now - since, detail=f"{left} of bake time left"))
        env.sleep(min(env.poll_s, end - now) if alarms else end - now)
