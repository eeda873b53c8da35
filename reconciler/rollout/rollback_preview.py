"""What `reconciler rollout rollback ADDR` will do, in the plan's words, before it asks.

`rollback_preview` derives the rollback's steps exactly as the executor will (the strategy's
rollback from the recorded progress, as if the rollback began now) and numbers them by stage, the
way a plan numbers a rollout (rollout.numbering), so the lines shown are the "rollback step N/T"
the run then prints. Pure. Callers: the `rollout rollback` command.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from reconciler.rollout.model import Phase, RolloutPlan, RolloutProgress
from reconciler.rollout.numbering import phase_words
from reconciler.rollout.progress import begin_rollback, rollback_steps

__all__ = ["RollbackPreview", "rollback_preview"]


@dataclass(frozen=True)
class RollbackPreview:
    """The headline and the numbered lines of a requested rollback; no lines: nothing to do."""

    headline: str
    lines: list[str]

    @property
    def has_work(self) -> bool:
        return bool(self.lines)


def rollback_preview(plan: RolloutPlan, progress: RolloutProgress, *, address: str) -> RollbackPreview:
    """The requested rollback of `plan` from `progress`, numbered as it will run."""
    label = plan.strategy.value.replace("_", "/")
    if plan.is_noop or progress.phase in (Phase.PENDING, Phase.ROLLED_BACK):
        return RollbackPreview(f"{address}: nothing to roll back (rollout {phase_words(progress.phase)})", [])
    started = (
        progress
        if progress.phase is Phase.ROLLING_BACK
        else begin_rollback(progress, failure="rollback requested", now=progress.updated_at or 0.0)
    )
    undo = rollback_steps(plan, started)
    done = started.rollback_index if progress.phase is Phase.ROLLING_BACK else 0
    lines = replace(plan, steps=undo, stage_labels=[]).outline()
    headline = (
        f"{address}: roll back the {label} rollout of {plan.new.image_name} "
        f"({phase_words(progress.phase)}) to {plan.rollback}"
    )
    if done:
        headline += f" (resuming: {done} of {len(undo)} rollback actions done)"
    return RollbackPreview(headline, lines)
