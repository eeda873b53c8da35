"""The one count of a plan's actions: what the summary lines of every renderer and the CLI say.

A replacement adds one and destroys one; a cleanup of a fleet's kept group is a change of that
fleet. Pure. Callers: render.human (summary line), render.tfplan (the extension's counts), cli (the line
after apply).
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.planning.model import Action, Plan

__all__ = ["PlanSummary", "summarize"]


@dataclass(frozen=True)
class PlanSummary:
    add: int
    change: int
    destroy: int
    replace: int
    rollouts: int
    instances: int  # replaced by the rollouts
    cleanups: int
    has_changes: bool


def summarize(plan: Plan) -> PlanSummary:
    def count(action: Action) -> int:
        return sum(1 for c in plan.changes if c.action is action)

    rollouts = [c.rollout for c in plan.changes if c.action is Action.ROLLOUT and c.rollout is not None]
    return PlanSummary(
        add=count(Action.CREATE) + count(Action.REPLACE),
        change=count(Action.UPDATE) + count(Action.CLEANUP),
        destroy=count(Action.DELETE) + count(Action.REPLACE),
        replace=count(Action.REPLACE),
        rollouts=count(Action.ROLLOUT),
        instances=sum(r.instances for r in rollouts),
        cleanups=count(Action.CLEANUP),
        has_changes=plan.has_changes,
    )
