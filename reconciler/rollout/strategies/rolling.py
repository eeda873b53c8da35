"""The rolling strategy: replace instances in place, batch by batch, in the live group.

Expansion: point the group at the new version, then per batch take out what the surge does not
cover, launch the batch, wait until it is healthy, take out the rest, pause between batches;
restore min/max at the end when a batch widened them. Rollback: point the group back at the old
version, return drained-but-alive old instances to their target groups, remove new instances
launched beyond the desired capacity, then replace the remaining new ones with old ones in
batches (same surge/unavailable, no pauses). It keeps no previous group: nothing to clean up, and
a requested rollback replaces every instance again. Callers: rollout.strategies (strategy_for).
"""

from __future__ import annotations

from reconciler.rollout.model import RolloutPlan, RolloutProgress, RolloutStep, StepKind
from reconciler.rollout.steps import StepContext, batch_steps, context_for, restore_limits
from reconciler.rollout.strategies.base import Census, Expansion, plural
from reconciler.sdk.fleet import FleetOps, FleetSnapshot, Release
from reconciler.sdk.rollout_block import BatchLimits, RolloutConfig, StrategyName

__all__ = ["STRATEGY", "Rolling"]


def _expand(
    ctx: StepContext, *, config: RolloutConfig, fleet: FleetSnapshot, new: Release, victims: list[str]
) -> Expansion:
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
        f"{plural(desired, 'instance')}: surge {limits.surge}, {out}replace {at_a_time} at a time, "
        f"{plural(batches, 'batch')}"
    )
    notes = []
    if limits.surge_forced:
        notes.append(
            f"max_surge and max_unavailable both come to 0 for {desired} instances; "
            "surge 1 is used so the rollout can progress"
        )
    return Expansion(
        steps=steps,
        summary=summary,
        stage_labels=labels,
        notes=notes,
        surge=limits.surge,
        unavailable=limits.unavailable,
    )


def _undo(plan: RolloutPlan, progress: RolloutProgress, started: int) -> list[RolloutStep]:
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


class Rolling:
    name = StrategyName.ROLLING

    def expand(
        self,
        ctx: StepContext,
        *,
        config: RolloutConfig,
        fleet: FleetSnapshot,
        new: Release,
        victims: list[str],
        green_group: str,
    ) -> Expansion:
        return _expand(ctx, config=config, fleet=fleet, new=new, victims=victims)

    def rollback(self, plan: RolloutPlan, progress: RolloutProgress, *, started: int) -> list[RolloutStep]:
        return _undo(plan, progress, started)

    def cleanup(self, plan: RolloutPlan) -> list[RolloutStep]:
        return []

    def rollback_unavailable(self, plan: RolloutPlan, ops: FleetOps) -> str | None:
        return None

    def completed(self, plan: RolloutPlan, census: Census) -> str:
        count = len(census.live(plan.group, plan.new.image_id))
        replaced = f"{plan.replace_count} of {plural(plan.total_instances, 'instance')} replaced"
        return f"{replaced}, {plan.group} at {count}"

    def restored(self, plan: RolloutPlan, progress: RolloutProgress, census: Census) -> str:
        old = plan.old
        count = len(census.live(plan.group, old.image_id))
        return (
            f"{plan.group} back on launch template version {old.launch_template_version} "
            f"at {plural(count, 'instance')} ({old.image_name})"
        )

    def requested_rollback_note(self, plan: RolloutPlan) -> str:
        return " (rolling keeps no previous group: every instance was replaced again)"


STRATEGY = Rolling()
