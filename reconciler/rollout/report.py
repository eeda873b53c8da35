"""What a rollout run tells its caller: `RolloutEvent`s for a progress display, the final
`RolloutOutcome`, and `FleetView`, the last census of the fleet's groups both are worded from.

Only reads the cloud (`members_and_health`, `describe_group`); a failed read never fails a
rollout, the view just keeps what it saw last. Callers: rollout.executor (fills them), applying
and cli (read and render them).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

from reconciler.errors import CloudError
from reconciler.rollout.actions import is_live
from reconciler.rollout.health import member_problems
from reconciler.rollout.model import RolloutPlan
from reconciler.rollout.numbering import phase_words
from reconciler.rollout.progress import Phase, RolloutProgress
from reconciler.rollout.strategies import strategy_for
from reconciler.sdk.fleet import FleetOps, GroupMember

__all__ = ["FleetView", "RolloutEvent", "RolloutOutcome", "outcome_of"]


@dataclass(frozen=True)
class RolloutEvent:
    """One line of news for a progress display: which step, where the fleet stands."""

    fleet: str
    step: int  # the plan's numbered line (rollout.numbering), or the rollback's while rolling back
    total: int
    description: str
    phase: Phase
    new: int = 0  # live instances on the new image, over the fleet's groups
    old: int = 0  # live instances on any other image
    healthy: int = 0  # live instances passing the gate (running, InService, Healthy, target healthy)
    waited_s: float = 0.0
    detail: str = ""
    wave: int = 0  # the fleet's wave (0: not driven in waves)


@dataclass(frozen=True)
class RolloutOutcome:
    """How a rollout (or a requested rollback) ended, in words for the user and in fields."""

    phase: Phase
    message: str
    failed_step: int | None = None  # 1-based index into plan.steps (messages say the numbered line)
    restored: str = ""  # after a rollback: what serves again
    replaced: int = 0  # old instances replaced by new ones that stay
    new_group: str = ""  # the group made for the new version (blue_green/canary); "" for rolling
    progress: RolloutProgress | None = None
    serving: tuple[GroupMember, ...] = ()  # after a COMPLETE rollout: live members of the serving group


class FleetView:
    """Live members of the fleet's groups (the live one and the new one), as last seen."""

    def __init__(self, plan: RolloutPlan, ops: FleetOps) -> None:
        self.plan, self.ops = plan, ops
        self.members: dict[str, list[GroupMember]] = {}

    def refresh(self) -> None:
        for group in filter(None, (self.plan.group, self.plan.green_group)):
            with contextlib.suppress(CloudError):  # display only: keep what was seen last
                self.update(group, self.ops.members_and_health(group))

    def update(self, group: str, members: Sequence[GroupMember]) -> None:
        self.members[group] = [m for m in members if is_live(m)]

    def live(self, group: str | None = None, image_id: str | None = None) -> list[GroupMember]:
        groups = [group] if group else list(self.members)
        found = [m for g in groups for m in self.members.get(g, [])]
        return [m for m in found if image_id is None or m.image_id == image_id]

    def counts(self) -> tuple[int, int, int]:
        """(on the new image, on others, healthy) over the live members."""
        live = self.live()
        arns = list(self.plan.target_group_arns) if self.plan.target_groups else []
        new = sum(m.image_id == self.plan.new.image_id for m in live)
        healthy = sum(not member_problems(m, target_group_arns=arns) for m in live)
        return new, len(live) - new, healthy

    def _image_name(self, image_id: str) -> str:
        old, new = self.plan.old, self.plan.new
        return {old.image_id: old.image_name, new.image_id: new.image_name}.get(image_id, image_id)

    def state(self) -> str:
        """ "web-g0007 at 3 (app-1.4.2), web-g0008 at 1 (app-1.5.0)"."""
        parts = []
        for group, members in self.members.items():
            images = sorted({self._image_name(m.image_id) for m in members})
            parts.append(f"{group} at {len(members)}" + (f" ({', '.join(images)})" if images else ""))
        return ", ".join(parts)

    def restored(self, progress: RolloutProgress) -> str:
        """What serves again after a rollback, e.g. "web-g0007 restored at 4 instances (app-1.4.2),
        web-g0008 deleted"."""
        return strategy_for(self.plan.strategy).restored(self.plan, progress, self)

    def gone(self, group: str) -> bool:
        try:
            return self.ops.describe_group(group) is None
        except CloudError:  # display only: say nothing rather than guess
            return False

    def completed(self) -> str:
        plan, new = self.plan, self.plan.new
        head = f"rolled out {new.image_name} to {plan.fleet_name}"
        if plan.is_noop:
            version = new.launch_template_version
            return f"{head}: all instances were on it; {plan.group} now pins version {version}"
        return f"{head}: {strategy_for(plan.strategy).completed(plan, self)}"


def outcome_of(progress: RolloutProgress, view: FleetView, *, requested: bool) -> RolloutOutcome:
    """The outcome a run reports for where `progress` ended; `requested`: a rollback on request."""
    plan, phase = view.plan, progress.phase
    failed_step = None
    if phase in (Phase.ROLLED_BACK, Phase.FAILED) and not requested and progress.step_index < len(plan.steps):
        failed_step = progress.step_index + 1
    restored, replaced = "", len(progress.replaced)
    if phase is Phase.COMPLETE:
        replaced = plan.replace_count
        message = view.completed()
    elif phase is Phase.ROLLED_BACK:
        replaced = 0
        restored = view.restored(progress)
        message = f"{progress.failure}; rolled back: {restored}"
        if requested:
            message += strategy_for(plan.strategy).requested_rollback_note(plan)
    elif phase is Phase.FAILED:
        message = f"{progress.failure}; left as is: {view.state()}"
    else:
        message = f"{plan.fleet_name}: rollout {phase_words(phase)}"
    serving: tuple[GroupMember, ...] = ()
    if phase is Phase.COMPLETE:
        serving = tuple(view.live(plan.green_group or plan.group))
    return RolloutOutcome(
        phase=phase,
        message=message,
        failed_step=failed_step,
        restored=restored,
        replaced=replaced,
        new_group=plan.green_group,
        progress=progress,
        serving=serving,
    )
