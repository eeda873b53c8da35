"""Where a rollout stands, what comes next, and how to undo it: pure functions over plan + progress.

The executor (later) records `RolloutProgress.to_dict()` in state after every step, asks
`next_step` what to do, reports success with `advance`, failure with `begin_rollback` (when
`auto_rollback`) or `fail`, and so resumes after a crash exactly where it stopped. Steps are meant
to be idempotent: a step that was in flight when apply died is run again.
Callers: applying / rollout execution, `reconciler rollout status|rollback`, planning (cleanup of
old groups past `keep_previous`), tests.

Position convention: `step_index` is the next forward step; steps before it are done, and while
IN_PROGRESS (or ROLLING_BACK/FAILED, where it is frozen) the step at `step_index` may have been
partly done. Rollback steps are derived from the plan and that position alone, so they are the
same on every resume.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

from reconciler.rollout.model import RolloutPlan, RolloutStep, StepKind, describe_step
from reconciler.rollout.steps import batch_steps, context_for
from reconciler.sdk.rollout_block import BatchLimits, Strategy

__all__ = [
    "Phase",
    "RolloutProgress",
    "advance",
    "begin_rollback",
    "cleanup_due",
    "cleanup_steps",
    "fail",
    "next_step",
    "rollback_steps",
    "start",
]


class Phase(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    ROLLING_BACK = "rolling_back"
    COMPLETE = "complete"
    ROLLED_BACK = "rolled_back"
    FAILED = "failed"


@dataclass
class RolloutProgress:
    phase: Phase = Phase.PENDING
    step_index: int = 0  # next forward step; frozen once rolling back
    rollback_index: int = 0  # next step of rollback_steps(plan, progress)
    green_group: str = ""
    blue_group: str = ""
    replaced: list[str] = field(default_factory=list)  # old instance ids terminated so far
    started_at: float | None = None  # epoch seconds, given by the executor
    updated_at: float | None = None
    finished_at: float | None = None
    failure: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["phase"] = str(self.phase)
        data["replaced"] = list(self.replaced)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RolloutProgress:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["phase"] = Phase(values.get("phase", Phase.PENDING))
        values["replaced"] = list(values.get("replaced", []))
        return cls(**values)


def start(plan: RolloutPlan, *, now: float) -> RolloutProgress:
    """Progress for a rollout about to run; a plan with nothing to replace is complete at once."""
    done = plan.is_noop
    return RolloutProgress(
        phase=Phase.COMPLETE if done else Phase.IN_PROGRESS,
        green_group=plan.green_group,
        blue_group=plan.group,
        started_at=now,
        updated_at=now,
        finished_at=now if done else None,
    )


def next_step(plan: RolloutPlan, progress: RolloutProgress) -> RolloutStep | None:
    """The step to run now, or None when there is nothing (left) to run in this phase."""
    if progress.phase in (Phase.PENDING, Phase.IN_PROGRESS):
        return plan.steps[progress.step_index] if progress.step_index < len(plan.steps) else None
    if progress.phase is Phase.ROLLING_BACK:
        undo = rollback_steps(plan, progress)
        return undo[progress.rollback_index] if progress.rollback_index < len(undo) else None
    return None


def advance(plan: RolloutPlan, progress: RolloutProgress, *, now: float) -> RolloutProgress:
    """Progress once the current step succeeded (a new value; the input is left alone)."""
    step = next_step(plan, progress)
    if step is None:
        raise ValueError(f"no step to advance past in phase {progress.phase}")
    if progress.phase is Phase.ROLLING_BACK:
        index = progress.rollback_index + 1
        done = index >= len(rollback_steps(plan, progress))
        return _replace(
            progress,
            rollback_index=index,
            phase=Phase.ROLLED_BACK if done else Phase.ROLLING_BACK,
            updated_at=now,
            finished_at=now if done else None,
        )
    replaced = list(progress.replaced)
    if step.kind is StepKind.TERMINATE and step.group == plan.group:
        replaced += [i for i in step.instance_ids if i not in replaced]
    index = progress.step_index + 1
    done = index >= len(plan.steps)
    return _replace(
        progress,
        step_index=index,
        replaced=replaced,
        phase=Phase.COMPLETE if done else Phase.IN_PROGRESS,
        updated_at=now,
        started_at=progress.started_at if progress.started_at is not None else now,
        finished_at=now if done else None,
    )


def begin_rollback(progress: RolloutProgress, *, failure: str, now: float) -> RolloutProgress:
    """Switch to rolling back; `step_index` stays where the rollout stopped (or at the end when a
    finished rollout is rolled back on request)."""
    if progress.phase in (Phase.ROLLING_BACK, Phase.ROLLED_BACK):
        return progress
    return _replace(
        progress,
        phase=Phase.ROLLING_BACK,
        rollback_index=0,
        failure=failure,
        updated_at=now,
        finished_at=None,
    )


def fail(progress: RolloutProgress, *, failure: str, now: float) -> RolloutProgress:
    """Stop where we are (auto_rollback off, or the rollback itself failed)."""
    message = (
        f"{progress.failure}; {failure}" if progress.failure and failure != progress.failure else failure
    )
    return _replace(progress, phase=Phase.FAILED, failure=message, updated_at=now, finished_at=now)


def _replace(progress: RolloutProgress, **changes: Any) -> RolloutProgress:
    data = progress.to_dict()
    data.update(changes)
    return RolloutProgress.from_dict(data)


def _started(plan: RolloutPlan, progress: RolloutProgress) -> int:
    """How many forward steps may have had an effect (done, plus the one that was in flight)."""
    if progress.phase is Phase.PENDING:
        return 0
    return min(progress.step_index + 1, len(plan.steps))


def rollback_steps(plan: RolloutPlan, progress: RolloutProgress) -> list[RolloutStep]:
    """The steps that return the fleet to `plan.rollback`, given how far the rollout got.

    rolling: point the group back at the old version, return drained-but-alive old instances to
    their target groups, remove new instances launched beyond the desired capacity, then replace
    the remaining new instances with old ones in batches (same surge/unavailable, no pauses).
    blue_green / canary: restore the old group to its desired (and min/max) and re-attach it, wait
    until it is healthy, then detach the new group, drain it and delete it.
    Rollback health gates leave out alarms: the alarm that failed the rollout may still fire while
    the new instances are being removed.
    """
    started = _started(plan, progress)
    if started == 0:
        return []
    undo = (
        _undo_rolling(plan, progress, started)
        if plan.strategy is Strategy.ROLLING
        else (_undo_groups(plan, started))
    )
    for step in undo:
        step.description = describe_step(step)
    return undo


def _undo_rolling(plan: RolloutPlan, progress: RolloutProgress, started: int) -> list[RolloutStep]:
    ctx = context_for(plan, alarms=False)
    old = plan.old
    steps = plan.steps[:started]
    done = plan.steps[: min(progress.step_index, len(plan.steps))]
    undo = [
        RolloutStep(
            StepKind.SET_VERSION,
            group=plan.group,
            stage=1,
            launch_template_version=old.launch_template_version,
            image_id=old.image_id,
            image_name=old.image_name,
        )
    ]
    terminated = {i for s in done if s.kind is StepKind.TERMINATE for i in s.instance_ids}
    drained = [i for s in steps if s.kind is StepKind.DRAIN for i in s.instance_ids]
    back = [i for i in drained if i not in terminated]
    if back and plan.target_groups:
        undo.append(
            RolloutStep(
                StepKind.ATTACH,
                group=plan.group,
                stage=1,
                instance_ids=back,
                target_groups=list(plan.target_groups),
            )
        )
    launched = sum(s.count for s in steps if s.kind is StepKind.LAUNCH)
    desired = plan.desired
    for index, step in enumerate(steps):
        if step.desired is None or step.group != plan.group:
            continue
        in_flight = index == progress.step_index
        desired = max(desired, step.desired) if in_flight else step.desired
    excess = min(max(0, desired - plan.desired), launched)
    if excess:
        drain = RolloutStep(
            StepKind.DRAIN,
            group=plan.group,
            stage=1,
            count=excess,
            image_id=plan.new.image_id,
            target_groups=list(plan.target_groups),
            duration_s=plan.drain_timeout_s,
        )
        if plan.target_groups:
            undo.append(drain)
        undo.append(
            RolloutStep(
                StepKind.TERMINATE,
                group=plan.group,
                stage=1,
                count=excess,
                image_id=plan.new.image_id,
                desired=plan.desired,
            )
        )
    remaining = launched - excess
    limits = BatchLimits(surge=plan.surge, unavailable=plan.unavailable)
    undo += batch_steps(
        ctx,
        desired=plan.desired,
        limits=limits,
        victim_ids=[],
        count=remaining,
        target=old,
        victim=plan.new,
        on_target=plan.desired - remaining,
        first_stage=2,
        pause_s=0,
    )
    widened = any(s.min_size is not None or s.max_size is not None for s in steps + undo)
    if widened:
        undo.append(
            RolloutStep(
                StepKind.SCALE,
                group=plan.group,
                stage=max(s.stage for s in undo) + 1,
                desired=plan.desired,
                min_size=plan.min_size,
                max_size=plan.max_size,
            )
        )
    return undo


def _undo_groups(plan: RolloutPlan, started: int) -> list[RolloutStep]:
    ctx = context_for(plan, alarms=False)
    steps = plan.steps[:started]
    tgs = list(plan.target_groups)
    undo: list[RolloutStep] = []
    if any(s.group == plan.group for s in steps):
        undo.append(
            RolloutStep(
                StepKind.SCALE,
                group=plan.group,
                stage=1,
                desired=plan.desired,
                min_size=plan.min_size,
                max_size=plan.max_size,
            )
        )
        if tgs:
            undo.append(RolloutStep(StepKind.ATTACH, group=plan.group, stage=1, target_groups=tgs))
        undo.append(
            RolloutStep(
                StepKind.WAIT_HEALTHY,
                group=plan.group,
                stage=1,
                count=plan.desired,
                gates=ctx.gates,
                duration_s=plan.health_timeout_s,
            )
        )
    if any(s.kind is StepKind.CREATE_GROUP for s in steps):
        stage = 2 if undo else 1
        if tgs:
            undo.append(RolloutStep(StepKind.DETACH, group=plan.green_group, stage=stage, target_groups=tgs))
            undo.append(
                RolloutStep(
                    StepKind.DRAIN,
                    group=plan.green_group,
                    stage=stage,
                    target_groups=tgs,
                    duration_s=plan.drain_timeout_s,
                )
            )
        undo.append(RolloutStep(StepKind.DELETE_GROUP, group=plan.green_group, stage=stage))
    return undo


def cleanup_due(plan: RolloutPlan, progress: RolloutProgress, *, now: float) -> bool:
    """True once a finished blue_green/canary rollout has kept its old group for `keep_previous`."""
    return (
        plan.strategy is not Strategy.ROLLING
        and not plan.is_noop
        and progress.phase is Phase.COMPLETE
        and progress.finished_at is not None
        and now >= progress.finished_at + plan.keep_previous_s
    )


def cleanup_steps(plan: RolloutPlan) -> list[RolloutStep]:
    """Delete the old group kept for rollback (blue_green/canary); nothing for rolling."""
    if plan.strategy is Strategy.ROLLING or plan.is_noop:
        return []
    step = RolloutStep(StepKind.DELETE_GROUP, group=plan.group, stage=1)
    step.description = describe_step(step)
    return [step]
