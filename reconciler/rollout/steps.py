"""Step builders shared by rollout expansion and rollback: batches, drains, group swaps.

Pure. Each builder returns `RolloutStep`s for one group and keeps the invariants the strategies
rely on: DRAIN (when the fleet has target groups) before TERMINATE; a capacity step carries the
min/max it needs (`max_size` on LAUNCH, `min_size` on TERMINATE) so the executor widens limits
first. Callers: rollout.strategies (expansion, rollback, cleanup).
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.rollout.model import Release, RolloutPlan, RolloutStep, StepKind, describe_step
from reconciler.sdk.rollout_block import BatchLimits

__all__ = [
    "StepContext",
    "batch_steps",
    "context_for",
    "create_green",
    "delete_kept_group",
    "drain_terminate",
    "health_gates",
    "restore_limits",
    "retire_blue",
    "undo_group_swap",
    "wait_healthy",
]


def health_gates(*, target_groups: list[str], alarms: list[str]) -> list[str]:
    """What "healthy" means for a step, in reviewer words."""
    gates = ["InService"]
    if target_groups:
        gates.append("target healthy")
    gates.extend(f"alarm {name} OK" for name in alarms)
    return gates


@dataclass(frozen=True)
class StepContext:
    """What every step builder needs, resolved once (see `context_for`)."""

    group: str
    target_groups: list[str]
    gates: list[str]
    alarms: list[str]
    pause_s: int
    drain_s: int
    health_timeout_s: int
    min_size: int
    max_size: int


def context_for(plan: RolloutPlan, *, pause_s: int = 0, alarms: bool = True) -> StepContext:
    """The step context of a planned rollout, for steps built later (rollback)."""
    gate_alarms = plan.alarms if alarms else []
    return StepContext(
        group=plan.group,
        target_groups=list(plan.target_groups),
        gates=health_gates(target_groups=plan.target_groups, alarms=gate_alarms),
        alarms=list(gate_alarms),
        pause_s=pause_s,
        drain_s=plan.drain_timeout_s,
        health_timeout_s=plan.health_timeout_s,
        min_size=plan.min_size,
        max_size=plan.max_size,
    )


def drain_terminate(
    ctx: StepContext,
    *,
    group: str,
    ids: list[str],
    count: int,
    desired_after: int,
    stage: int,
    victim: Release | None,
) -> list[RolloutStep]:
    """Take `count` instances out of their target groups, wait, then terminate them (decrement)."""
    steps: list[RolloutStep] = []
    image_id = "" if victim is None else victim.image_id
    if ctx.target_groups:
        steps.append(
            RolloutStep(
                StepKind.DRAIN,
                group=group,
                stage=stage,
                count=count,
                instance_ids=list(ids),
                image_id=image_id,
                target_groups=ctx.target_groups,
                duration_s=ctx.drain_s,
            )
        )
    steps.append(
        RolloutStep(
            StepKind.TERMINATE,
            group=group,
            stage=stage,
            count=count,
            instance_ids=list(ids),
            image_id=image_id,
            desired=desired_after,
            min_size=desired_after if desired_after < ctx.min_size else None,
        )
    )
    return steps


def batch_steps(
    ctx: StepContext,
    *,
    desired: int,
    limits: BatchLimits,
    victim_ids: list[str],
    count: int,
    target: Release,
    victim: Release | None,
    on_target: int,
    first_stage: int,
    pause_s: int,
) -> list[RolloutStep]:
    """Replace `count` instances in one group, batch by batch, never above desired + surge nor
    below desired - unavailable. Per batch of n: take out max(0, n - surge) first, launch n on
    `target`, wait until `on_target` + n are healthy, then take out the rest; pause in between.
    `victim_ids` may be empty: the executor then picks `count` members on `victim` (unhealthy first).
    """
    steps: list[RolloutStep] = []
    size = limits.batch_size
    sizes = [min(size, count - start) for start in range(0, count, size)]
    taken = 0
    for number, n in enumerate(sizes, start=1):
        stage = first_stage + number - 1
        ids = victim_ids[taken : taken + n] if victim_ids else []
        early = max(0, n - limits.surge)
        current = desired
        if early:
            current -= early
            steps += drain_terminate(
                ctx,
                group=ctx.group,
                ids=ids[:early],
                count=early,
                desired_after=current,
                stage=stage,
                victim=victim,
            )
        current += n
        on_target += n
        steps.append(
            RolloutStep(
                StepKind.LAUNCH,
                group=ctx.group,
                stage=stage,
                count=n,
                desired=current,
                max_size=current if current > ctx.max_size else None,
                launch_template_version=target.launch_template_version,
                image_id=target.image_id,
                image_name=target.image_name,
                instance_type=target.instance_type,
            )
        )
        steps.append(
            RolloutStep(
                StepKind.WAIT_HEALTHY,
                group=ctx.group,
                stage=stage,
                count=on_target,
                image_id=target.image_id,
                image_name=target.image_name,
                instance_type=target.instance_type,
                gates=ctx.gates,
                alarms=ctx.alarms,
                duration_s=ctx.health_timeout_s,
            )
        )
        late = n - early
        if late:
            current -= late
            steps += drain_terminate(
                ctx,
                group=ctx.group,
                ids=ids[early:],
                count=late,
                desired_after=current,
                stage=stage,
                victim=victim,
            )
        if pause_s and number < len(sizes):
            steps.append(RolloutStep(StepKind.PAUSE, group=ctx.group, stage=stage, duration_s=pause_s))
        taken += n
    return steps


def restore_limits(
    ctx: StepContext, steps: list[RolloutStep], *, desired: int, stage: int
) -> list[RolloutStep]:
    widened = any(s.min_size is not None or s.max_size is not None for s in steps if s.group == ctx.group)
    if not widened:
        return []
    return [
        RolloutStep(
            StepKind.SCALE,
            group=ctx.group,
            stage=stage,
            desired=desired,
            min_size=ctx.min_size,
            max_size=ctx.max_size,
        )
    ]


def retire_blue(ctx: StepContext, *, stage: int, keep_s: int) -> list[RolloutStep]:
    """Detach the old group, let its targets drain, scale it to 0 and keep it for rollback."""
    steps: list[RolloutStep] = []
    if ctx.target_groups:
        steps.append(
            RolloutStep(StepKind.DETACH, group=ctx.group, stage=stage, target_groups=ctx.target_groups)
        )
        steps.append(
            RolloutStep(
                StepKind.DRAIN,
                group=ctx.group,
                stage=stage,
                target_groups=ctx.target_groups,
                duration_s=ctx.drain_s,
            )
        )
    steps.append(RolloutStep(StepKind.SCALE, group=ctx.group, stage=stage, desired=0, min_size=0))
    steps.append(RolloutStep(StepKind.KEEP_PREVIOUS, group=ctx.group, stage=stage, duration_s=keep_s))
    return steps


def create_green(
    ctx: StepContext, *, green: str, desired: int, capacity: int, new: Release
) -> list[RolloutStep]:
    steps = [
        RolloutStep(
            StepKind.CREATE_GROUP,
            group=green,
            stage=1,
            desired=capacity,
            min_size=min(ctx.min_size, capacity),
            max_size=max(ctx.max_size, desired),
            launch_template_version=new.launch_template_version,
            image_id=new.image_id,
            image_name=new.image_name,
            instance_type=new.instance_type,
            target_groups=ctx.target_groups,
        )
    ]
    if ctx.target_groups:
        steps.append(RolloutStep(StepKind.ATTACH, group=green, stage=1, target_groups=ctx.target_groups))
    return steps


def wait_healthy(ctx: StepContext, *, group: str, count: int, stage: int) -> RolloutStep:
    return RolloutStep(
        StepKind.WAIT_HEALTHY,
        group=group,
        stage=stage,
        count=count,
        gates=ctx.gates,
        alarms=ctx.alarms,
        duration_s=ctx.health_timeout_s,
    )


def undo_group_swap(plan: RolloutPlan, started: int) -> list[RolloutStep]:
    """Undo a rollout that made a new group: restore the old group to its desired (and min/max),
    re-attach it and wait until it is healthy, then detach the new group, drain it and delete it
    (only what the first `started` forward steps may have done)."""
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


def delete_kept_group(plan: RolloutPlan) -> list[RolloutStep]:
    """Delete the old group a finished rollout kept for rollback (nothing for a no-op rollout)."""
    if plan.is_noop:
        return []
    step = RolloutStep(StepKind.DELETE_GROUP, group=plan.group, stage=1)
    step.description = describe_step(step)
    return [step]
