"""The one step numbering and the status words every view of a rollout shares.

A plan shows a rollout as numbered lines, one per *stage* ("1. create web-g0002 at 4, attach…",
"2. wait until…", "3. detach web-g0001, drain up to 5 s, …"); each stage is several executor
steps. Apply's progress, `rollout status`, a failure message and a rollback all count in those
same stages, so "step 2/3" means the plan's line 2 of 3 wherever it is printed. A rollback is
numbered by its own stages ("rollback step 1/2"), as `rollout rollback` shows them before it asks.

Pure. Callers: rollout.executor (events, failure messages), rollout.report (failed step),
render.rollout_text (resume line), render.progress and the rollout commands (status words).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reconciler.rollout.model import Phase, RolloutStep

__all__ = ["StepPosition", "phase_words", "position", "stage_count"]

_PHASE_WORDS = {
    Phase.PENDING: "not started",
    Phase.IN_PROGRESS: "in progress",
    Phase.ROLLING_BACK: "rolling back",
    Phase.COMPLETE: "complete",
    Phase.ROLLED_BACK: "rolled back",
    Phase.FAILED: "failed",
}


def phase_words(phase: Phase) -> str:
    """How a phase reads to a person: "in progress", "rolled back"."""
    return _PHASE_WORDS[phase]


def stage_count(steps: Sequence[RolloutStep]) -> int:
    """How many numbered lines `steps` make (distinct stages)."""
    return len({s.stage for s in steps})


@dataclass(frozen=True)
class StepPosition:
    number: int  # 1-based line of the plan's outline
    total: int

    def __str__(self) -> str:
        return f"{self.number}/{self.total}"


def position(steps: Sequence[RolloutStep], index: int) -> StepPosition:
    """The numbered line the step at `index` belongs to; past the end is the last line."""
    stages = sorted({s.stage for s in steps})
    if not stages:
        return StepPosition(0, 0)
    stage = steps[min(index, len(steps) - 1)].stage
    return StepPosition(stages.index(stage) + 1, len(stages))
