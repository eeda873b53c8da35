"""The one interface every rollout strategy implements, and what it returns.

A strategy decides, for its kind of rollout: how a fleet is expanded into steps (`expand`), how
an interrupted or failed rollout is undone (`rollback`), what a finished one keeps and how it is
cleaned up (`cleanup`), when a requested rollback cannot be done, and how an outcome is worded.
All pure: `Census` is what the wording may ask of the fleet as last seen. The engine never asks
which strategy a rollout uses; it asks the strategy. Callers: rollout.plan, rollout.progress,
rollout.report, rollout.executor (through reconciler.rollout.strategies.strategy_for).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from reconciler.rollout.model import RolloutPlan, RolloutProgress, RolloutStep
from reconciler.rollout.steps import StepContext
from reconciler.sdk.fleet import FleetOps, FleetSnapshot, GroupMember, Release
from reconciler.sdk.rollout_block import RolloutConfig, StrategyName

__all__ = ["Census", "Expansion", "Strategy", "plural"]


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}es" if word.endswith("h") else f"{n} {word}s"


@dataclass(frozen=True)
class Expansion:
    """A strategy's steps for one rollout, with the words a reviewer reads about them."""

    steps: list[RolloutStep]
    summary: str
    stage_labels: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    green_group: str = ""  # the group this strategy creates; "" = in place
    surge: int = 0  # resolved limits of an in-place replacement
    unavailable: int = 0


class Census(Protocol):
    """The fleet's live members as last seen (rollout.report.FleetView)."""

    def live(self, group: str | None = None, image_id: str | None = None) -> Sequence[GroupMember]: ...

    def gone(self, group: str) -> bool:
        """The group no longer exists (False when that cannot be said)."""
        ...


class Strategy(Protocol):
    name: StrategyName

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
        """The steps that replace `victims` (instance ids, in order) with `new`; `green_group`
        names the group a strategy that makes a new group creates."""
        ...

    def rollback(self, plan: RolloutPlan, progress: RolloutProgress, *, started: int) -> list[RolloutStep]:
        """The steps back to `plan.rollback` once `started` forward steps may have had an effect."""
        ...

    def cleanup(self, plan: RolloutPlan) -> list[RolloutStep]:
        """What deletes what a finished rollout kept for rollback; [] when it keeps nothing."""
        ...

    def rollback_unavailable(self, plan: RolloutPlan, ops: FleetOps) -> str | None:
        """Why a requested rollback of a finished rollout cannot be done; None when it can."""
        ...

    def completed(self, plan: RolloutPlan, census: Census) -> str:
        """How a complete rollout is reported (after "rolled out NEW to FLEET: ")."""
        ...

    def restored(self, plan: RolloutPlan, progress: RolloutProgress, census: Census) -> str:
        """What serves again after a rollback."""
        ...

    def requested_rollback_note(self, plan: RolloutPlan) -> str:
        """What to add when a rollback was requested; "" for nothing."""
        ...
