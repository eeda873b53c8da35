"""What the strategies that make a new group share (blue_green, canary): rollback by swapping
back to the old group, the old group kept for `keep_previous` and then deleted, and the words
for both. Each such strategy is `GroupSwap` plus its own `expand`. Callers:
rollout.strategies.blue_green, rollout.strategies.canary.
"""

from __future__ import annotations

from reconciler.rollout.model import RolloutPlan, RolloutProgress, RolloutStep, StepKind, steps_started
from reconciler.rollout.steps import delete_kept_group, undo_group_swap
from reconciler.rollout.strategies.base import Census, plural
from reconciler.sdk.fleet import FleetOps
from reconciler.sdk.rollout_block import format_duration

__all__ = ["GroupSwap", "kept_note"]


def kept_note(*, victims: list[str], fleet_size: int, group: str, image_name: str) -> list[str]:
    """Instances already on the new release go with the old group: say so."""
    if not victims or len(victims) >= fleet_size:
        return []
    kept = fleet_size - len(victims)
    return [f"{kept} of {fleet_size} already on {image_name}; they go with {group}"]


class GroupSwap:
    def rollback(self, plan: RolloutPlan, progress: RolloutProgress, *, started: int) -> list[RolloutStep]:
        return undo_group_swap(plan, started)

    def cleanup(self, plan: RolloutPlan) -> list[RolloutStep]:
        return delete_kept_group(plan)

    def rollback_unavailable(self, plan: RolloutPlan, ops: FleetOps) -> str | None:
        if ops.describe_group(plan.group) is not None:
            return None
        keep = format_duration(plan.keep_previous_s, compact=True)
        return (
            f"cannot roll {plan.fleet_name} back: the previous group {plan.group} no longer exists "
            f"(it is kept {keep} after a rollout); plan a rollout to {plan.old.image_name} instead"
        )

    def completed(self, plan: RolloutPlan, census: Census) -> str:
        count = len(census.live(plan.green_group, plan.new.image_id))
        serving = f"{plan.green_group} serving {plural(count, 'instance')}"
        if not plan.keep_previous_s:
            return f"{serving}; {plan.group} is not kept"
        keep = format_duration(plan.keep_previous_s, compact=True)
        return f"{serving}; {plan.group} kept {keep} for rollback"

    def restored(self, plan: RolloutPlan, progress: RolloutProgress, census: Census) -> str:
        old = plan.old
        count = len(census.live(plan.group, old.image_id))
        text = f"{plan.group} restored at {plural(count, 'instance')} ({old.image_name})"
        undo = self.rollback(plan, progress, started=steps_started(plan, progress))
        deletes = any(s.kind is StepKind.DELETE_GROUP for s in undo)
        if plan.green_group and deletes and census.gone(plan.green_group):
            text += f", {plan.green_group} deleted"
        return text

    def requested_rollback_note(self, plan: RolloutPlan) -> str:
        return ""
