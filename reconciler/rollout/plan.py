"""Expand a fleet's `rollout { }` block into the exact steps apply will take: pure, no cloud.

`expand_rollout` reads the fleet as seen while planning (`FleetSnapshot`), the release running now
(`old`, also the rollback target) and the one to roll out (`new`), and returns a `RolloutPlan`.
The strategy (reconciler.rollout.strategies) chooses the steps; this module resolves the step
context, the instances to replace, durations and the rollback target, the same for every
strategy. Callers: planning (for a fleet whose launch template version changes), tests.

Rules every strategy keeps:
- the fleet's *current* desired capacity is kept, not the configured one;
- instances already on the new release (same image and instance type) are not replaced;
- an instance leaves its target groups and the deregistration delay is waited out before it is
  terminated (DRAIN before TERMINATE); a group's min/max are widened by the capacity step that needs
  it and restored at the end;
- `pause` is bake time *between* batches or canary steps (none after the last one; blue/green has
  a single step and so no pause); minimum duration = pauses (the only fixed waits), maximum adds
  every drain's and health gate's timeout.
Old instances go unhealthy-first, then by id. Instance ids in steps are those seen at plan time.
"""

from __future__ import annotations

from reconciler.rollout.model import (
    FleetSnapshot,
    InstanceInfo,
    Release,
    RollbackTarget,
    RolloutPlan,
    RolloutStep,
    StepKind,
    TargetRelease,
    describe_step,
    needs_replacement,
)
from reconciler.rollout.steps import StepContext, health_gates
from reconciler.rollout.strategies import Expansion, strategy_for
from reconciler.rollout.strategies.base import plural
from reconciler.sdk.rollout_block import RolloutConfig

__all__ = [
    "FleetSnapshot",
    "InstanceInfo",
    "Release",
    "RollbackTarget",
    "RolloutPlan",
    "RolloutStep",
    "StepKind",
    "TargetRelease",
    "expand_rollout",
]


def expand_rollout(
    *,
    config: RolloutConfig,
    fleet: FleetSnapshot,
    old: Release,
    new: Release,
    fleet_name: str,
    green_group: str,
) -> RolloutPlan:
    """The whole rollout of `fleet` from `old` to `new` under `config`, step by step.
    `green_group` names the group a strategy that makes a new group creates (the fleet type's
    name for the next generation)."""
    ctx = StepContext(
        group=fleet.group_name,
        target_groups=list(fleet.target_group_names),
        gates=health_gates(target_groups=fleet.target_group_names, alarms=config.alarms),
        alarms=list(config.alarms),
        pause_s=config.pause_s,
        drain_s=config.drain_timeout_s,
        health_timeout_s=config.health_timeout_s,
        min_size=fleet.min_size,
        max_size=fleet.max_size,
    )
    ordered = sorted(fleet.instances, key=lambda i: (i.healthy, i.id))
    victims = [i.id for i in ordered if needs_replacement(i, new)]
    if victims:
        expansion = strategy_for(config.strategy).expand(
            ctx, config=config, fleet=fleet, new=new, victims=victims, green_group=green_group
        )
    else:
        summary = f"all {plural(len(fleet.instances), 'instance')} already on {new.image_name}"
        expansion = Expansion(steps=[], summary=summary)
    steps = expansion.steps
    for step in steps:
        step.description = describe_step(step)
    # the lower bound is what is waited for sure (pauses); a drain ends as soon as its targets are
    # deregistered and a gate as soon as it passes, so those only add to the upper bound
    waits = sum(s.duration_s for s in steps if s.kind is StepKind.PAUSE)
    timeouts = sum(s.duration_s for s in steps if s.kind in (StepKind.WAIT_HEALTHY, StepKind.DRAIN))
    return RolloutPlan(
        strategy=config.strategy,
        fleet_name=fleet_name,
        group=fleet.group_name,
        green_group=expansion.green_group,
        old=old,
        new=new,
        desired=fleet.desired,
        min_size=fleet.min_size,
        max_size=fleet.max_size,
        total_instances=len(fleet.instances),
        instances_to_replace=victims,
        steps=steps,
        summary=expansion.summary,
        health_gates=ctx.gates,
        rollback=RollbackTarget(
            group=fleet.group_name,
            launch_template_version=old.launch_template_version,
            image_name=old.image_name,
            image_id=old.image_id,
        ),
        min_duration_s=waits,
        max_duration_s=waits + timeouts,
        surge=expansion.surge,
        unavailable=expansion.unavailable,
        target_groups=list(fleet.target_group_names),
        target_group_arns=list(fleet.target_group_arns),
        launch_template_id=fleet.launch_template_id,
        alarms=list(config.alarms),
        auto_rollback=config.auto_rollback,
        health_timeout_s=config.health_timeout_s,
        drain_timeout_s=config.drain_timeout_s,
        keep_previous_s=config.keep_previous_s,
        stage_labels=list(expansion.stage_labels),
        notes=list(expansion.notes),
    )
