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

from dataclasses import replace
from typing import Any

from reconciler.rollout.model import (
    Phase,
    RolloutPlan,
    RolloutProgress,
    RolloutStep,
    StepKind,
    describe_step,
    steps_started,
)
from reconciler.rollout.strategies import strategy_for

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
    return replace(progress, **{"replaced": list(progress.replaced), **changes})


def rollback_steps(plan: RolloutPlan, progress: RolloutProgress) -> list[RolloutStep]:
    """The steps that return the fleet to `plan.rollback`, given how far the rollout got: the
    strategy's (rollout.strategies). Rollback health gates leave out alarms: the alarm that failed
    the rollout may still fire while the new instances are being removed."""
    started = steps_started(plan, progress)
    if started == 0:
        return []
    undo = strategy_for(plan.strategy).rollback(plan, progress, started=started)
    for step in undo:
        step.description = describe_step(step)
    return undo


def cleanup_steps(plan: RolloutPlan) -> list[RolloutStep]:
    """What deletes what a finished rollout kept for rollback (the old group of blue_green or
    canary); nothing for a strategy that keeps nothing."""
    return strategy_for(plan.strategy).cleanup(plan)


def cleanup_due(plan: RolloutPlan, progress: RolloutProgress, *, now: float) -> bool:
    """True once a finished rollout has kept what it keeps for `keep_previous`."""
    return (
        bool(cleanup_steps(plan))
        and progress.phase is Phase.COMPLETE
        and progress.finished_at is not None
        and now >= progress.finished_at + plan.keep_previous_s
    )
