"""Plan the rollout waves of a plan: which fleets roll in which wave, in order (pure).

Every ROLLOUT change carries the wave of its fleet's `rollout { wave = N }` (default 1, set by the
planner). `plan_waves` groups them in ascending order with the stack's `waves { }` rules; it is
None when the stack does not use waves (one wave and no `waves` block), so plans of stacks without
waves read as before. Given the prior `state` and the time, it also carries the bake an
interrupted apply left (`WavePlan.hold`, decided by rollout.bake.bake_hold); a plan whose wave is
held has a WavePlan even for one wave, so it shows the wait and apply carries it out. A fleet of
wave i that depends on a fleet rolled out in a later wave could never start: that is a ConfigError
naming both. Callers: planning.planner, tests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from reconciler.config.model import Stack, WavesSettings
from reconciler.errors import ConfigError, Diagnostic
from reconciler.graph.build import dependents_closure
from reconciler.planning.model import Action, ResourceChange
from reconciler.rollout.bake import BakeHold, RecordedRollout, bake_hold, read_marker
from reconciler.rollout.model import Phase
from reconciler.rollout.record import read_record
from reconciler.rollout.waves import Wave, WavePlan, WaveRules
from reconciler.state import State

__all__ = ["plan_waves"]


def plan_waves(
    changes: Sequence[ResourceChange],
    *,
    settings: WavesSettings | None,
    graph: Mapping[str, set[str]],
    stack: Stack | None = None,
    state: State | None = None,
    now: float = 0.0,
) -> WavePlan | None:
    rollouts = [c for c in changes if c.action is Action.ROLLOUT and c.rollout is not None]
    numbers = sorted({c.rollout.wave for c in rollouts if c.rollout is not None})
    hold = _bake_hold(state, now=now, planned=numbers) if state is not None else None
    if settings is None and len(numbers) <= 1 and hold is None:
        return None
    _check_order(rollouts, graph, stack)
    waves = []
    for number in numbers:
        members = [c for c in rollouts if c.rollout is not None and c.rollout.wave == number]
        waves.append(
            Wave(
                number=number,
                fleets=tuple(str(c.address) for c in members),
                instances=sum(c.rollout.instances for c in members if c.rollout is not None),
                resumes=tuple(str(c.address) for c in members if c.rollout is not None and c.rollout.resume),
            )
        )
    rules = (
        WaveRules(bake_s=settings.bake_s, alarms=settings.alarms, provider=settings.provider)
        if settings is not None
        else WaveRules()
    )
    return WavePlan(waves=tuple(waves), rules=rules, hold=hold)


def _bake_hold(state: State, *, now: float, planned: Sequence[int]) -> BakeHold | None:
    """The bake an interrupted apply left in state, if it still holds back a wave of this plan."""
    marker = read_marker(state.bake, where=f"state of stack {state.stack!r}")
    if marker is None:
        return None
    recorded = {}
    for fleet in marker.fleets:
        rs = state.resources.get(fleet.address)
        if rs is None:
            continue
        record = read_record(rs.rollout, where=fleet.address)
        recorded[fleet.address] = (
            RecordedRollout(
                complete=record.progress.phase is Phase.COMPLETE,
                launch_template_version=record.plan.new.launch_template_version,
                image_id=record.plan.new.image_id,
            )
            if record is not None
            else RecordedRollout(complete=False, launch_template_version=0, image_id="")
        )
    return bake_hold(marker, now=now, planned=planned, recorded=recorded)


def _check_order(
    rollouts: Sequence[ResourceChange], graph: Mapping[str, set[str]], stack: Stack | None
) -> None:
    wave_of_block: dict[str, tuple[int, str]] = {}
    for c in rollouts:
        assert c.rollout is not None
        block = str(c.address.block)
        if block not in wave_of_block or c.rollout.wave > wave_of_block[block][0]:
            wave_of_block[block] = (c.rollout.wave, str(c.address))
    diags = []
    for c in rollouts:
        assert c.rollout is not None
        block = str(c.address.block)
        needs = dependents_closure(dict(graph), {block}) - {block}
        for other in sorted(needs):
            if other in wave_of_block and wave_of_block[other][0] > c.rollout.wave:
                later, who = wave_of_block[other]
                target = stack.block_at(c.address) if stack is not None else None
                diags.append(
                    Diagnostic(
                        f"{c.address} rolls out in wave {c.rollout.wave} but depends on {who}, "
                        f"which rolls out in wave {later}",
                        target.pos if target is not None else None,
                        detail="A fleet can only be rolled out after what it depends on; give it the "
                        "same or a later wave.",
                    )
                )
                break
    if diags:
        raise ConfigError(diags)
