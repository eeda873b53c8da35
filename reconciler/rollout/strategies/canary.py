"""The canary strategy: a new group grown step by step (`steps` percentages of capacity), the old
group shrunk as it grows, each step health-gated and followed by `pause`.

Expansion: create the new group at the first step's size, then per step launch up to its size,
wait until healthy, take as many old instances out (drain, terminate); at 100% retire the old
group and keep it for `keep_previous` (rollback and cleanup in rollout.strategies.groups).
Callers: rollout.strategies (strategy_for).
"""

from __future__ import annotations

from reconciler.rollout.model import RolloutStep, StepKind, needs_replacement
from reconciler.rollout.steps import StepContext, create_green, drain_terminate, retire_blue, wait_healthy
from reconciler.rollout.strategies.base import Expansion, plural
from reconciler.rollout.strategies.groups import GroupSwap, kept_note
from reconciler.sdk.fleet import FleetSnapshot, Release
from reconciler.sdk.rollout_block import RolloutConfig, StrategyName

__all__ = ["STRATEGY", "Canary", "canary_counts"]


def canary_counts(steps: list[int], desired: int) -> list[tuple[int, int]]:
    """(percent, green instances) per step, ceil(desired * p / 100); steps that add nothing dropped."""
    out: list[tuple[int, int]] = []
    for pct in steps:
        green = -(-desired * pct // 100)
        if not out or green > out[-1][1]:
            out.append((pct, green))
    return out


def _expand(
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
        f"{plural(desired, 'instance')}: {ctx.group} → {green} in {plural(len(counts), 'step')}: {shown}"
    )
    notes = []
    if len(counts) < len(config.steps):
        sizes = plural(len(counts), "distinct size")
        notes.append(f"steps {config.steps} give {sizes} for {plural(desired, 'instance')}")
    return steps, summary, labels, notes


class Canary(GroupSwap):
    name = StrategyName.CANARY

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
        steps, summary, labels, notes = _expand(ctx, config=config, fleet=fleet, new=new, green=green_group)
        notes += kept_note(
            victims=victims, fleet_size=len(fleet.instances), group=ctx.group, image_name=new.image_name
        )
        return Expansion(
            steps=steps, summary=summary, stage_labels=labels, notes=notes, green_group=green_group
        )


STRATEGY = Canary()
