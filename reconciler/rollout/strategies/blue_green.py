"""The blue/green strategy: a new group at full capacity in one step, then the old one retired.

Expansion: create the new group pinned to the new version at the fleet's capacity, attach it,
wait until every instance is healthy, then detach the old group, drain it, scale it to 0 and keep
it for `keep_previous` (rollback and cleanup in rollout.strategies.groups).
Callers: rollout.strategies (strategy_for).
"""

from __future__ import annotations

from reconciler.rollout.model import RolloutStep
from reconciler.rollout.steps import StepContext, create_green, retire_blue, wait_healthy
from reconciler.rollout.strategies.base import Expansion, plural
from reconciler.rollout.strategies.groups import GroupSwap, kept_note
from reconciler.sdk.fleet import FleetSnapshot, Release
from reconciler.sdk.rollout_block import RolloutConfig, StrategyName

__all__ = ["STRATEGY", "BlueGreen"]


def _expand(
    ctx: StepContext, *, config: RolloutConfig, fleet: FleetSnapshot, new: Release, green: str
) -> tuple[list[RolloutStep], str]:
    desired = fleet.desired
    steps = create_green(ctx, green=green, desired=desired, capacity=desired, new=new)
    steps.append(wait_healthy(ctx, group=green, count=desired, stage=2))
    steps += retire_blue(ctx, stage=3, keep_s=config.keep_previous_s)
    summary = f"{plural(desired, 'instance')}: {ctx.group} → {green} at full capacity in one step"
    return steps, summary


class BlueGreen(GroupSwap):
    name = StrategyName.BLUE_GREEN

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
        steps, summary = _expand(ctx, config=config, fleet=fleet, new=new, green=green_group)
        notes = kept_note(
            victims=victims, fleet_size=len(fleet.instances), group=ctx.group, image_name=new.image_name
        )
        return Expansion(steps=steps, summary=summary, notes=notes, green_group=green_group)


STRATEGY = BlueGreen()
