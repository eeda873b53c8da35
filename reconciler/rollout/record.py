"""A fleet's rollout as state records it: the one reader and writer of `ResourceState.rollout`.

State keeps the record as plain JSON (state sits below rollout); apply writes it after every step,
planning reads it to resume an unfinished rollout, to name old images and to clean up a kept
group, `rollout status|rollback` reads it. A record that cannot be read is a StateError naming
where it is, never a traceback. Callers: planning (fleets, labels, refresh), applying.coordinator,
cli (rollout).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.errors import StateError
from reconciler.rollout.model import Phase, RolloutPlan, RolloutProgress

__all__ = ["RolloutRecord", "read_record", "record_json"]

_UNFINISHED = (Phase.PENDING, Phase.IN_PROGRESS, Phase.ROLLING_BACK)


@dataclass(frozen=True)
class RolloutRecord:
    plan: RolloutPlan
    progress: RolloutProgress

    @property
    def unfinished(self) -> bool:
        """A crashed or interrupted apply left it before it completed, rolled back or failed."""
        return self.progress.phase in _UNFINISHED


def read_record(raw: Mapping[str, Any] | None, *, where: str) -> RolloutRecord | None:
    """The record in `raw` (a ResourceState.rollout); None when there is none. `where` names the
    resource (and its state) in the StateError a damaged record raises."""
    if not raw or "plan" not in raw or "progress" not in raw:
        return None
    try:
        return RolloutRecord(
            plan=RolloutPlan.from_dict(dict(raw["plan"])),
            progress=RolloutProgress.from_dict(dict(raw["progress"])),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise StateError(
            f"{where}: the rollout recorded in state cannot be read ({type(exc).__name__}: {exc}); "
            f"`reconciler state show {where}` shows it"
        ) from None


def record_json(record: RolloutRecord) -> dict[str, Any]:
    return {"plan": record.plan.to_dict(), "progress": record.progress.to_dict()}
