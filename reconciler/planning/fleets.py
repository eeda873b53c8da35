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
from typing import Any

from reconciler.planning.labels import labels_of_reads, labels_of_record
from reconciler.planning.model import Action, ActionReason, AttributeDiff, DataRead, ResourceChange
from reconciler.rollout.model import RolloutPlan
from reconciler.rollout.plan import expand_rollout
from reconciler.rollout.progress import Phase, RolloutProgress, cleanup_due
from reconciler.sdk import FleetType, Related
from reconciler.sdk.rollout_block import format_duration

_UNFINISHED = (Phase.PENDING, Phase.IN_PROGRESS, Phase.ROLLING_BACK)


def unfinished(rollout_record: Mapping[str, Any] | None) -> tuple[RolloutPlan, RolloutProgress] | None:
    """The rollout a crashed or interrupted apply left in state, if it has not finished."""
    if not rollout_record or "plan" not in rollout_record or "progress" not in rollout_record:
        return None
    progress = RolloutProgress.from_dict(dict(rollout_record["progress"]))
    if progress.phase not in _UNFINISHED:
        return None
    return RolloutPlan.from_dict(dict(rollout_record["plan"])), progress


def is_release_change(diffs: list[AttributeDiff], fleet: FleetType) -> bool:
    return any(d.path.split(".")[0] in fleet.release_arguments for d in diffs)


def expand_fleet_rollout(
    *,
    fleet: FleetType,
    prior: Mapping[str, Any],
    desired: Mapping[str, Any],
    related: Related,
    reads: Iterable[DataRead],
    record: Mapping[str, Any] | None = None,
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


def rollout_payload(plan: RolloutPlan, *, resume: RolloutProgress | None = None) -> dict[str, Any]:
    """What a ResourceChange carries for a ROLLOUT: the plan itself plus reviewer lines."""
    strategy = plan.strategy.value.replace("_", "/")
    old, new = plan.old, plan.new
    old_name = f"{old.image_name}" + (
        f", v{old.launch_template_version}" if old.launch_template_version else ""
    )
    new_name = f"{new.image_name}" + (
        f", v{new.launch_template_version}" if new.launch_template_version else ""
    )
    if plan.green_group:
        group = (
            f"{plan.group} ({plan.total_instances} instances, {old_name}) → "
            f"{plan.green_group} ({plan.desired} instances, {new_name})"
        )
    else:
        group = f"{plan.group} ({plan.total_instances} instances): {old_name} → {new_name}, in place"
    lines = [f"strategy  {strategy}: {plan.summary}", f"group     {group}"]
    if old.instance_type and new.instance_type and old.instance_type != new.instance_type:
        lines.append(f"type      {old.instance_type} → {new.instance_type}")
    for n, text in enumerate(plan.outline(), 1):
        lines.append(("steps" if n == 1 else "").ljust(10) + f"{n}. {text}")
    duration = f"at least {format_duration(plan.min_duration_s)}"
    if plan.max_duration_s > plan.min_duration_s:
        duration += f", at most {format_duration(plan.max_duration_s)}"
    lines.append(f"replaces  {plan.replace_count} of {plan.total_instances} instances, {duration}")
    if plan.health_gates:
        lines.append(f"gates     {', '.join(plan.health_gates)}")
    lines.append(f"rollback  {plan.rollback}" + ("" if plan.auto_rollback else " (auto_rollback off)"))
    for note in plan.notes:
        lines.append(f"note      {note}")
    if resume is not None:
        lines.insert(
            0, f"resume    {resume.phase.value} at step {resume.step_index + 1} of {len(plan.steps)}"
        )
    return {
        "plan": plan.to_dict(),
        "lines": lines,
        "instances_to_replace": plan.replace_count,
        "resume": resume.to_dict() if resume else None,
    }


def cleanup_change(
    change: ResourceChange,
    record: Mapping[str, Any] | None,
    prior: Mapping[str, Any],
    *,
    fleet: FleetType,
    now: float,
) -> bool:
    """Once a finished blue/green or canary rollout has kept its old group for keep_previous,
    plan the deletion of that group (an in-place update of the fleet)."""
    if change.action is not Action.NOOP or not record or "plan" not in record or "progress" not in record:
        return False
    plan = RolloutPlan.from_dict(dict(record["plan"]))
    progress = RolloutProgress.from_dict(dict(record["progress"]))
    kept = [g for g in fleet.kept_groups(prior) if g == plan.group]
    if not kept or not cleanup_due(plan, progress, now=now):
        return False
    keep = format_duration(plan.keep_previous_s)
    change.action = Action.UPDATE
    change.note = f"delete {kept[0]}, kept {keep} for rollback after the last rollout"
    change.rollout = {
        "cleanup_groups": kept,
        "lines": [f"cleanup   delete {kept[0]} ({plan.old.image_name})"],
    }
    return True


def resume_change(change: ResourceChange, record: Mapping[str, Any] | None) -> bool:
    """Turn `change` into the resumption of an unfinished rollout, if state has one."""
    found = unfinished(record)
    if found is None:
        return False
    plan, progress = found
    change.action = Action.ROLLOUT
    change.reason = ActionReason.ROLLOUT_BECAUSE_LAUNCH_TEMPLATE
    change.rollout = rollout_payload(plan, resume=progress)
    change.note = f"resume the unfinished {plan.strategy.value.replace('_', '/')} rollout"
    return True
