"""Planning fleets: when a fleet's release (its launch template version) changes, the change is a
ROLLOUT, and the plan carries the whole expanded rollout (strategy, batches or steps, instances
replaced, gates, duration, rollback target). An unfinished rollout recorded in state is always
resumed, never started again beside itself; a finished one's kept group is deleted once
keep_previous has passed.

Pure functions over the planner's data (prior attributes, planned values, data-source reads),
through the fleet type's hooks (reconciler.sdk.FleetType): the engine knows no cloud names.
The expansion itself is reconciler.rollout.plan. Callers: planning.planner.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from reconciler.planning.labels import labels_of_reads, labels_of_record
from reconciler.planning.model import Action, ActionReason, AttributeDiff, DataRead, ResourceChange
from reconciler.rollout.change import CleanupChange, RolloutChange
from reconciler.rollout.model import RolloutPlan
from reconciler.rollout.plan import expand_rollout
from reconciler.rollout.progress import RolloutProgress, cleanup_due, cleanup_steps
from reconciler.rollout.record import RolloutRecord
from reconciler.sdk import FleetType, Related


def is_release_change(diffs: list[AttributeDiff], fleet: FleetType) -> bool:
    return any(d.path.split(".")[0] in fleet.release_arguments for d in diffs)


def expand_fleet_rollout(
    *,
    fleet: FleetType,
    prior: Mapping[str, Any],
    desired: Mapping[str, Any],
    related: Related,
    reads: Iterable[DataRead],
    record: RolloutRecord | None = None,
) -> RolloutPlan:
    """The rollout of one fleet from what runs now to the planned template version. Image names
    come from the plan's lookups and from the fleet's last recorded rollout (no extra calls)."""
    labels = {**labels_of_record(record), **labels_of_reads(reads)}
    old, new = fleet.releases(prior=prior, desired=desired, related=related, labels=labels)
    snapshot = fleet.snapshot(prior, desired)
    name = fleet.fleet_name(desired)
    return expand_rollout(
        config=fleet.rollout_config(desired),
        fleet=snapshot,
        old=old,
        new=new,
        fleet_name=name,
        green_group=fleet.group_name(name, snapshot.generation + 1),
    )


def rollout_change(
    change: ResourceChange,
    plan: RolloutPlan,
    fleet: FleetType,
    *,
    resume: RolloutProgress | None = None,
) -> None:
    """Make `change` the ROLLOUT of `plan` (or the resumption of it): arguments other than the
    release that change too are updated once the rollout is done."""
    change.action = Action.ROLLOUT
    change.reason = ActionReason.ROLLOUT_BECAUSE_LAUNCH_TEMPLATE
    update_after = any(not is_release_change([d], fleet) for d in change.diffs)
    change.rollout = RolloutChange(plan=plan, resume=resume, update_after=update_after)
    change.note = ""


def in_wave(change: ResourceChange, wave: int) -> None:
    """Put a ROLLOUT change in its fleet's wave (`rollout { wave = N }`)."""
    if change.rollout is not None and change.rollout.wave != wave:
        change.rollout = replace(change.rollout, wave=wave)


def cleanup_change(
    change: ResourceChange,
    record: RolloutRecord | None,
    prior: Mapping[str, Any],
    *,
    fleet: FleetType,
    now: float,
) -> bool:
    """Once a finished rollout has kept its old group for keep_previous, plan the deletion of
    that group (a CLEANUP of the fleet, which itself stays)."""
    if change.action is not Action.NOOP or record is None:
        return False
    plan, progress = record.plan, record.progress
    kept = set(fleet.kept_groups(prior))
    steps = tuple(s for s in cleanup_steps(plan) if s.group in kept)
    if not steps or not cleanup_due(plan, progress, now=now):
        return False
    change.action = Action.CLEANUP
    change.cleanup = CleanupChange(plan=plan, steps=steps)
    return True


def resume_change(change: ResourceChange, record: RolloutRecord | None, fleet: FleetType) -> bool:
    """Turn `change` into the resumption of an unfinished rollout, if state has one."""
    if record is None or not record.unfinished:
        return False
    rollout_change(change, record.plan, fleet, resume=record.progress)
    return True
