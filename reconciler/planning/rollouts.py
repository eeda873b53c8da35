"""Planning fleets: when a fleet's launch template version changes, the change is a ROLLOUT, and
the plan carries the whole expanded rollout (strategy, batches or steps, instances replaced,
gates, duration, rollback target). An unfinished rollout recorded in state is always resumed,
never started again beside itself.

Pure functions over the planner's data (prior attributes, planned values, data-source reads);
the expansion itself is reconciler.rollout.plan. Callers: planning.planner.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from reconciler.planning.model import Action, ActionReason, AttributeDiff, DataRead, ResourceChange
from reconciler.rollout.model import FleetSnapshot, InstanceInfo, Release, RolloutPlan
from reconciler.rollout.plan import expand_rollout
from reconciler.rollout.progress import Phase, RolloutProgress, cleanup_due
from reconciler.sdk.rollout_block import RolloutConfig, format_duration
from reconciler.values import UNKNOWN

FLEET_TYPE = "aws_fleet"
TEMPLATE_TYPE = "aws_launch_template"
RELEASE_ARGUMENTS = ("launch_template", "launch_template_version")
_UNFINISHED = (Phase.PENDING, Phase.IN_PROGRESS, Phase.ROLLING_BACK)


def is_fleet(type_name: str) -> bool:
    return type_name == FLEET_TYPE


def iter_instances(value: Any) -> Iterable[dict[str, Any]]:
    """Every instance value of a block value (single, count list or for_each map)."""
    if isinstance(value, dict) and "id" in value:
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from iter_instances(v)
    elif isinstance(value, list):
        for v in value:
            yield from iter_instances(v)


def template_version(launch_template: Any, templates: Iterable[Any]) -> Any:
    """The version a fleet will pin: the planned default version of the stack's template with
    that id (UNKNOWN while the id or the version is known only after apply; None when the
    template is not managed by this stack and the provider resolves it)."""
    if launch_template is UNKNOWN:
        return UNKNOWN
    for value in templates:
        for inst in iter_instances(value):
            if inst.get("id") == launch_template:
                return inst.get("default_version", UNKNOWN)
    return None


def unfinished(rollout_record: Mapping[str, Any] | None) -> tuple[RolloutPlan, RolloutProgress] | None:
    """The rollout a crashed or interrupted apply left in state, if it has not finished."""
    if not rollout_record or "plan" not in rollout_record or "progress" not in rollout_record:
        return None
    progress = RolloutProgress.from_dict(dict(rollout_record["progress"]))
    if progress.phase not in _UNFINISHED:
        return None
    return RolloutPlan.from_dict(dict(rollout_record["plan"])), progress


def is_release_change(diffs: list[AttributeDiff]) -> bool:
    return any(d.path.split(".")[0] in RELEASE_ARGUMENTS for d in diffs)


def _release(
    *, image_id: Any, instance_type: Any, version: Any, names: Mapping[str, Mapping[str, Any]]
) -> Release:
    image = str(image_id) if isinstance(image_id, str) else "(known after apply)"
    info = names.get(image, {})
    return Release(
        image_id=image,
        image_name=str(info.get("name") or image),
        image_version=str(info.get("version") or ""),
        instance_type=str(instance_type) if isinstance(instance_type, str) else "",
        launch_template_version=version if isinstance(version, int) else 0,
    )


def images_seen(reads: Iterable[DataRead]) -> dict[str, dict[str, Any]]:
    """AMI id → the lookup's attributes (name, version, date), old and new."""
    out: dict[str, dict[str, Any]] = {}
    for read in reads:
        for attrs in (read.previous, read.attributes):
            if attrs and str(attrs.get("id", "")).startswith("ami-"):
                out[str(attrs["id"])] = dict(attrs)
    return out


def releases_recorded(record: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """AMI id → name and version of the releases in a fleet's last recorded rollout."""
    plan = (record or {}).get("plan") or {}
    out: dict[str, dict[str, Any]] = {}
    for key in ("old", "new"):
        rel = plan.get(key) or {}
        if str(rel.get("image_id", "")).startswith("ami-") and rel.get("image_name") != rel.get("image_id"):
            out[str(rel["image_id"])] = {"name": rel.get("image_name"), "version": rel.get("image_version")}
    return out


def expand_fleet_rollout(
    *,
    fleet_name: str,
    prior: Mapping[str, Any],
    desired: Mapping[str, Any],
    template_before: Mapping[str, Any] | None,
    template_after: Mapping[str, Any] | None,
    reads: Iterable[DataRead],
    record: Mapping[str, Any] | None = None,
) -> RolloutPlan:
    """The rollout of one fleet from what runs now to the planned template version. Image names
    come from the plan's lookups and from the fleet's last recorded rollout (no extra calls)."""
    names = {**releases_recorded(record), **images_seen(reads)}
    instances = [
        InstanceInfo(
            id=str(i["id"]),
            image_id=str(i.get("image_id", "")),
            instance_type=str(i.get("instance_type", "")),
            healthy=i.get("health_status", "Healthy") == "Healthy",
        )
        for i in prior.get("instances") or []
    ]
    common = Counter(i.image_id for i in instances).most_common(1)
    before = template_before or {}
    after = template_after or {}
    running_type = Counter(i.instance_type for i in instances).most_common(1)
    old = _release(  # what runs now; the template's previous data only when nothing runs
        image_id=common[0][0] if common else before.get("image_id"),
        instance_type=running_type[0][0] if running_type else before.get("instance_type"),
        version=prior.get("launch_template_version"),
        names=names,
    )
    new = _release(
        image_id=after.get("image_id", UNKNOWN),
        instance_type=after.get("instance_type", UNKNOWN),
        version=desired.get("launch_template_version"),
        names=names,
    )
    arns = [str(a) for a in prior.get("target_group_arns") or []]
    snapshot = FleetSnapshot(
        group_name=str(prior.get("group_name") or f"{fleet_name}-g0001"),
        generation=int(prior.get("generation") or 1),
        desired=int(prior.get("desired_capacity") or 0),  # what runs now: never shrink a fleet
        min_size=int(prior.get("min_size") or 0),
        max_size=int(prior.get("max_size") or 0),
        instances=instances,
        target_group_names=[_tg_name(a) for a in arns],
        launch_template_version=old.launch_template_version,
        target_group_arns=arns,
        launch_template_id=str(desired.get("launch_template") or prior.get("launch_template") or ""),
    )
    config = RolloutConfig.model_validate(desired.get("rollout") or {})
    return expand_rollout(config=config, fleet=snapshot, old=old, new=new, fleet_name=fleet_name)


def _tg_name(arn: str) -> str:
    parts = arn.split(":")[-1].split("/")
    return parts[1] if len(parts) >= 2 and parts[0] == "targetgroup" else arn


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
    change: ResourceChange, record: Mapping[str, Any] | None, prior: Mapping[str, Any], *, now: float
) -> bool:
    """Once a finished blue/green or canary rollout has kept its old group for keep_previous,
    plan the deletion of that group (an in-place update of the fleet)."""
    if change.action is not Action.NOOP or not record or "plan" not in record or "progress" not in record:
        return False
    plan = RolloutPlan.from_dict(dict(record["plan"]))
    progress = RolloutProgress.from_dict(dict(record["progress"]))
    kept = [g for g in prior.get("previous_groups") or [] if g == plan.group]
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
