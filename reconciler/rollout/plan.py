"""Expand a fleet's `rollout { }` block into the exact steps apply will take: pure, no cloud.

`expand_rollout` reads the fleet as seen while planning (`FleetSnapshot`), the release running now
(`old`, also the rollback target) and the one to roll out (`new`), and returns a `RolloutPlan`.
Callers: planning (for a fleet whose launch template version changes), rollout.progress
tests. Step builders live in rollout.steps.

Rules every strategy keeps:
- the fleet's *current* desired capacity is kept, not the configured one;
- instances already on the new release (same image and instance type) are not replaced;
- an instance leaves its target groups and the deregistration delay is waited out before it is
  terminated (DRAIN before TERMINATE); a group's min/max are widened by the capacity step that needs
  it and restored at the end;
- `pause` is bake time *between* batches or canary steps (none after the last one; blue/green has
  a single step and so no pause); minimum duration = pauses + drains, maximum adds health timeouts.
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
)
from reconciler.rollout.steps import (
    StepContext,
    batch_steps,
    create_green,
    drain_terminate,
    health_gates,
    restore_limits,
    retire_blue,
    wait_healthy,
)
from reconciler.sdk.rollout_block import RolloutConfig, Strategy, format_duration

__all__ = [
    "FleetSnapshot",
    "InstanceInfo",
    "Release",
    "RollbackTarget",
    "RolloutPlan",
    "RolloutStep",
    "StepKind",
    "TargetRelease",
    "canary_counts",
    "duration_line",
    "expand_rollout",
    "needs_replacement",
]


def needs_replacement(instance: InstanceInfo, new: Release) -> bool:
    return instance.image_id != new.image_id or instance.instance_type != new.instance_type


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}es" if word.endswith("h") else f"{n} {word}s"


def _rolling(
    ctx: StepContext, *, config: RolloutConfig, fleet: FleetSnapshot, new: Release, victims: list[str]
) -> tuple[list[RolloutStep], str, list[str], list[str]]:
    desired = fleet.desired
    limits = config.batch_limits(desired)
    steps = [
        RolloutStep(
            StepKind.SET_VERSION,
            group=ctx.group,
            stage=1,
            launch_template_version=new.launch_template_version,
            image_id=new.image_id,
            image_name=new.image_name,
        )
    ]
    on_target = len(fleet.instances) - len(victims)
    steps += batch_steps(
        ctx,
        desired=desired,
        limits=limits,
        victim_ids=victims,
        count=len(victims),
        target=new,
        victim=None,
        on_target=on_target,
        first_stage=2,
        pause_s=ctx.pause_s,
    )
    batches = max(s.stage for s in steps) - 1
    steps += restore_limits(ctx, steps, desired=desired, stage=batches + 2)
    labels = [""] + [f"batch {n}/{batches}" for n in range(1, batches + 1)]
    out = f"{limits.unavailable} unavailable, " if limits.unavailable else ""
    at_a_time = min(limits.batch_size, len(victims))
    summary = (
        f"{_plural(desired, 'instance')}: surge {limits.surge}, {out}replace {at_a_time} at a time, "
        f"{_plural(batches, 'batch')}"
    )
    notes = []
    if limits.surge_forced:
        notes.append(
            f"max_surge and max_unavailable both come to 0 for {desired} instances; "
            "surge 1 is used so the rollout can progress"
        )
    return steps, summary, labels, notes


def _blue_green(
    ctx: StepContext, *, config: RolloutConfig, fleet: FleetSnapshot, new: Release, green: str
) -> tuple[list[RolloutStep], str, list[str], list[str]]:
    desired = fleet.desired
    steps = create_green(ctx, green=green, desired=desired, capacity=desired, new=new)
    steps.append(wait_healthy(ctx, group=green, count=desired, stage=2))
    steps += retire_blue(ctx, stage=3, keep_s=config.keep_previous_s)
    summary = f"{_plural(desired, 'instance')}: {ctx.group} → {green} at full capacity in one step"
    return steps, summary, [], []


def canary_counts(steps: list[int], desired: int) -> list[tuple[int, int]]:
    """(percent, green instances) per step, ceil(desired * p / 100); steps that add nothing dropped."""
    out: list[tuple[int, int]] = []
    for pct in steps:
        green = -(-desired * pct // 100)
        if not out or green > out[-1][1]:
            out.append((pct, green))
    return out


def _canary(
    ctx: StepContext, *, config: RolloutConfig, fleet: FleetSnapshot, new: Release, green: str
) -> tuple[list[RolloutStep], str, list[str], list[str]]:
    desired = fleet.desired
    counts = canary_counts(config.steps, desired)
    blue_order = [
        i.id for i in sorted(fleet.instances, key=lambda i: (i.healthy, not needs_replacement(i, new), i.id))
    ]
    steps: list[RolloutStep] = []
    previous = 0
    for stage, (_pct, count) in enumerate(counts, start=1):
        if stage == 1:
            steps += create_green(ctx, green=green, desired=desired, capacity=count, new=new)
        else:
            steps.append(
                RolloutStep(
                    StepKind.LAUNCH,
                    group=green,
                    stage=stage,
                    count=count - previous,
                    desired=count,
                    launch_template_version=new.launch_template_version,
                    image_id=new.image_id,
                    instance_type=new.instance_type,
                )
            )
        steps.append(wait_healthy(ctx, group=green, count=count, stage=stage))
        if count < desired:
            steps += drain_terminate(
                ctx,
                group=ctx.group,
                ids=blue_order[previous:count],
                count=count - previous,
                desired_after=desired - count,
                stage=stage,
                victim=None,
            )
            if ctx.pause_s:
                steps.append(RolloutStep(StepKind.PAUSE, group=green, stage=stage, duration_s=ctx.pause_s))
        else:
            retire = retire_blue(ctx, stage=stage, keep_s=config.keep_previous_s)
            if counts[0][1] < ctx.min_size:
                retire.insert(
                    -1,
                    RolloutStep(
                        StepKind.SCALE,
                        group=green,
                        stage=stage,
                        desired=desired,
                        min_size=ctx.min_size,
                        max_size=max(ctx.max_size, desired),
                    ),
                )
            steps += retire
        previous = count
    labels = [f"{pct}% ({count}/{desired})" for pct, count in counts]
    shown = ", ".join(f"{count} ({pct}%)" for pct, count in counts)
    summary = (
        f"{_plural(desired, 'instance')}: {ctx.group} → {green} in {_plural(len(counts), 'step')}: {shown}"
    )
    notes = []
    if len(counts) < len(config.steps):
        notes.append(f"steps {config.steps} give {len(counts)} distinct sizes for {desired} instances")
    return steps, summary, labels, notes


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
    green = "" if config.strategy is Strategy.ROLLING else green_group
    steps: list[RolloutStep] = []
    labels: list[str] = []
    notes: list[str] = []
    limits = config.batch_limits(fleet.desired)
    if not victims:
        summary = f"all {_plural(len(fleet.instances), 'instance')} already on {new.image_name}"
        green = ""
    elif config.strategy is Strategy.ROLLING:
        steps, summary, labels, notes = _rolling(ctx, config=config, fleet=fleet, new=new, victims=victims)
    elif config.strategy is Strategy.BLUE_GREEN:
        steps, summary, labels, notes = _blue_green(ctx, config=config, fleet=fleet, new=new, green=green)
    else:
        steps, summary, labels, notes = _canary(ctx, config=config, fleet=fleet, new=new, green=green)
    if victims and config.strategy is not Strategy.ROLLING and len(victims) < len(fleet.instances):
        kept = len(fleet.instances) - len(victims)
        notes.append(
            f"{kept} of {len(fleet.instances)} already on {new.image_name}; they go with {ctx.group}"
        )
    for step in steps:
        step.description = describe_step(step)
    waits = sum(s.duration_s for s in steps if s.kind in (StepKind.PAUSE, StepKind.DRAIN))
    timeouts = sum(s.duration_s for s in steps if s.kind is StepKind.WAIT_HEALTHY)
    return RolloutPlan(
        strategy=config.strategy,
        fleet_name=fleet_name,
        group=fleet.group_name,
        green_group=green,
        old=old,
        new=new,
        desired=fleet.desired,
        min_size=fleet.min_size,
        max_size=fleet.max_size,
        total_instances=len(fleet.instances),
        instances_to_replace=victims,
        steps=steps,
        summary=summary,
        health_gates=ctx.gates,
        rollback=RollbackTarget(
            group=fleet.group_name,
            launch_template_version=old.launch_template_version,
            image_name=old.image_name,
            image_id=old.image_id,
        ),
        min_duration_s=waits,
        max_duration_s=waits + timeouts,
        surge=limits.surge if config.strategy is Strategy.ROLLING else 0,
        unavailable=limits.unavailable if config.strategy is Strategy.ROLLING else 0,
        target_groups=list(fleet.target_group_names),
        target_group_arns=list(fleet.target_group_arns),
        launch_template_id=fleet.launch_template_id,
        alarms=list(config.alarms),
        auto_rollback=config.auto_rollback,
        health_timeout_s=config.health_timeout_s,
        drain_timeout_s=config.drain_timeout_s,
        keep_previous_s=config.keep_previous_s,
        stage_labels=labels,
        notes=notes,
    )


def duration_line(plan: RolloutPlan) -> str:
    """ "at least 5m 0s" (and the worst case when health timeouts add to it)."""
    text = f"at least {format_duration(plan.min_duration_s)}"
    if plan.max_duration_s > plan.min_duration_s:
        text += f", at most {format_duration(plan.max_duration_s)}"
    return text
