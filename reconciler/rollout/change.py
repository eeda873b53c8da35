"""What a planned change of a fleet carries: a `RolloutChange` (a ROLLOUT) or a `CleanupChange`
(a CLEANUP), typed, built once by planning.

Renderers word them (render.rollout_text), apply executes them (applying.coordinator), the plan
file codec serializes them (`to_dict`/`from_dict`, called by planning.plan_codec only). Nobody
else reads a rollout as a dict. Callers: planning (builds), render, applying, plan_codec.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reconciler.rollout.model import RolloutPlan, RolloutProgress, RolloutStep

__all__ = ["CleanupChange", "RolloutChange"]


@dataclass(frozen=True)
class RolloutChange:
    """Roll a fleet out to a new release, or resume the unfinished rollout state recorded."""

    plan: RolloutPlan
    resume: RolloutProgress | None = None  # the unfinished rollout this apply resumes
    update_after: bool = False  # arguments besides the release change too: update the fleet after
    wave: int = 1  # `rollout { wave = N }`: waves run in ascending order

    @property
    def instances(self) -> int:
        return self.plan.replace_count

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan": self.plan.to_dict(),
            "resume": self.resume.to_dict() if self.resume is not None else None,
            "update_after": self.update_after,
            "wave": self.wave,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> RolloutChange:
        resume = raw.get("resume")
        return cls(
            plan=RolloutPlan.from_dict(dict(raw["plan"])),
            resume=RolloutProgress.from_dict(dict(resume)) if resume else None,
            update_after=bool(raw.get("update_after", False)),
            wave=int(raw.get("wave", 1)),
        )


@dataclass(frozen=True)
class CleanupChange:
    """Delete what a finished rollout kept for rollback, now that keep_previous has passed; the
    fleet itself stays as it is."""

    plan: RolloutPlan  # the finished rollout whose old group was kept
    steps: tuple[RolloutStep, ...]  # the strategy's cleanup steps for what is still kept

    @property
    def groups(self) -> tuple[str, ...]:
        return tuple(s.group for s in self.steps)

    def to_dict(self) -> dict[str, Any]:
        return {"plan": self.plan.to_dict(), "steps": [s.to_dict() for s in self.steps]}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> CleanupChange:
        return cls(
            plan=RolloutPlan.from_dict(dict(raw["plan"])),
            steps=tuple(RolloutStep.from_dict(dict(s)) for s in raw["steps"]),
        )
