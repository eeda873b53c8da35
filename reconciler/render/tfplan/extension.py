"""The `reconciler` key of the JSON plan: everything only reconciler knows, in one place.

Terraform's keys describe what any policy tool understands; this one object holds the rest
(docs/plan-json.md#the-reconciler-key): the tool and stack, the plan mode and targets, the state
the plan was made against, the action counts, reconciler's own action and reason for every
resource (a rollout is `["update"]` in Terraform's words), each fleet's rollout (strategy,
batches, health gates, durations, rollback target), kept groups to clean up, AMI resolutions with
the reason for each choice, drift kinds (including changed ownership tags), and the staleness
fingerprints `apply PLAN_FILE` checks. Policy tools ignore it. Reads a Plan, decides nothing.

`rollout_facts` is the one reader of a change's rollout payload. Callers: render.tfplan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reconciler import __version__
from reconciler.planning.model import Action, DataRead, DriftEntry, Plan, ResourceChange
from reconciler.render.tfplan.values import conceal, known
from reconciler.rollout.model import Release, RolloutPlan

EXTENSION_VERSION = "1.0"


@dataclass(frozen=True)
class RolloutFacts:
    """What a fleet's change says about its rollout or its kept groups."""

    plan: RolloutPlan | None = None
    resume_phase: str | None = None
    resume_step: int | None = None  # 1-based
    cleanup_groups: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)


def rollout_facts(change: ResourceChange) -> RolloutFacts:
    """The rollout payload of `change` (today a dict built by planning.rollouts)."""
    payload = change.rollout or {}
    raw = payload.get("plan")
    plan = RolloutPlan.from_dict(dict(raw)) if isinstance(raw, dict) else None
    resume = payload.get("resume")
    return RolloutFacts(
        plan=plan if change.action is Action.ROLLOUT else None,
        resume_phase=str(resume.get("phase")) if isinstance(resume, dict) else None,
        resume_step=int(resume.get("step_index", 0)) + 1 if isinstance(resume, dict) else None,
        cleanup_groups=[str(g) for g in payload.get("cleanup_groups") or []],
        lines=[str(line) for line in payload.get("lines") or []],
    )


def _image(release: Release, images: dict[str, dict[str, Any]]) -> dict[str, Any]:
    real = release.image_id.startswith("ami-")
    seen = images.get(release.image_id, {})
    name = release.image_name if real and release.image_name != release.image_id else seen.get("name")
    return {
        "id": release.image_id if real else None,
        "name": name or None,
        "version": release.image_version or seen.get("version") or None,
        "creation_date": seen.get("creation_date"),
        "instance_type": release.instance_type or None,
        "launch_template_version": release.launch_template_version or None,
    }


def rollout_document(facts: RolloutFacts, images: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    plan = facts.plan
    if plan is None:
        return None
    green = plan.green_group or None
    return {
        "strategy": plan.strategy.value,
        "fleet": plan.fleet_name,
        "summary": plan.summary,
        "group": plan.group,
        "new_group": green,
        "old": _image(plan.old, images),
        "new": _image(plan.new, images),
        "desired_capacity": plan.desired,
        "total_instances": plan.total_instances,
        "instances_to_replace": len(plan.instances_to_replace),
        "instance_ids_to_replace": list(plan.instances_to_replace),
        "stages": [{"number": n, "description": text} for n, text in enumerate(plan.outline(), 1)],
        "steps": [
            {
                "stage": s.stage,
                "kind": s.kind.value,
                "description": s.description,
                "group": s.group or None,
                "count": s.count,
                "desired": s.desired,
                "duration_seconds": s.duration_s,
                "instance_ids": list(s.instance_ids),
            }
            for s in plan.steps
        ],
        "min_duration_seconds": plan.min_duration_s,
        "max_duration_seconds": plan.max_duration_s,
        "health_gates": list(plan.health_gates),
        "alarms": list(plan.alarms),
        "health_timeout_seconds": plan.health_timeout_s,
        "auto_rollback": plan.auto_rollback,
        "keep_previous_seconds": plan.keep_previous_s if green else None,
        "rollback": {
            "group": plan.rollback.group,
            "launch_template_version": plan.rollback.launch_template_version,
            "image_id": plan.rollback.image_id or None,
            "image_name": plan.rollback.image_name,
            "description": str(plan.rollback),
        },
        "resume": (
            {"phase": facts.resume_phase, "step": facts.resume_step}
            if facts.resume_phase is not None
            else None
        ),
        "notes": list(plan.notes),
        "lines": list(facts.lines),
    }


def _images(reads: list[DataRead]) -> dict[str, dict[str, Any]]:
    """AMI id → the lookup's attributes (name, version, date), old and new."""
    out: dict[str, dict[str, Any]] = {}
    for read in reads:
        for attrs in (read.previous, read.attributes):
            if attrs and str(attrs.get("id", "")).startswith("ami-"):
                out[str(attrs["id"])] = dict(attrs)
    return out


def _resource(c: ResourceChange, images: dict[str, dict[str, Any]]) -> dict[str, Any]:
    facts = rollout_facts(c)
    return {
        "type": c.type_name,
        "action": c.action.value,
        "action_reason": c.reason.value or None,
        "note": c.note or None,
        "depends_on": list(c.depends_on),
        "create_before_destroy": c.create_before_destroy,
        "rollout": rollout_document(facts, images),
        "cleanup_groups": facts.cleanup_groups,
    }


def _data_source(read: DataRead) -> dict[str, Any]:
    attrs = {} if read.deferred else read.attributes
    previous = read.previous or {}
    now = attrs.get("id")
    return {
        "address": str(read.address),
        "type": read.type_name,
        "id": now,
        "deferred": read.deferred,
        "explanation": read.explanation or None,
        "version": attrs.get("version"),
        "candidates": attrs.get("candidates"),
        "previous_id": previous.get("id"),
        "changed": read.previous is not None and not read.deferred and previous.get("id") != now,
        "fingerprint": read.fingerprint or None,
    }


def _drift(entry: DriftEntry) -> dict[str, Any]:
    out: dict[str, Any] = {
        "address": str(entry.address),
        "type": entry.address.type,
        "kind": str(entry.kind),
    }
    out["changed_attributes"] = [
        {
            "path": d.path,
            "before": None if d.sensitive else known(conceal(d.before)),
            "after": None if d.sensitive else known(conceal(d.after)),
            "sensitive": d.sensitive,
        }
        for d in entry.diffs
    ]
    return out


def summary(plan: Plan) -> dict[str, Any]:
    """Counts as the human summary line states them (a replacement adds one and destroys one)."""
    rollouts = [rollout_facts(c).plan for c in plan.changes if c.action is Action.ROLLOUT]
    return {
        "add": plan.count(Action.CREATE) + plan.count(Action.REPLACE),
        "change": plan.count(Action.UPDATE),
        "destroy": plan.count(Action.DELETE) + plan.count(Action.REPLACE),
        "rollout": len(rollouts),
        "instances": sum(len(p.instances_to_replace) for p in rollouts if p is not None),
        "has_changes": plan.has_changes,
    }


def plan_mode(plan: Plan) -> str:
    if plan.destroy:
        return "destroy"
    return "refresh_only" if plan.refresh_only else "normal"


def extension(plan: Plan) -> dict[str, Any]:
    images = _images(plan.data)
    return {
        "format_version": EXTENSION_VERSION,
        "tool": "reconciler",
        "version": __version__,
        "stack": plan.stack,
        "plan_mode": plan_mode(plan),
        "targets": list(plan.targets),
        "prior_state": {"lineage": plan.lineage, "serial": plan.serial},
        "summary": summary(plan),
        "resources": {
            str(c.address): _resource(c, images)
            for c in sorted(plan.changes, key=lambda c: c.address.sort_key())
        },
        "data_sources": [_data_source(r) for r in sorted(plan.data, key=lambda r: r.address.sort_key())],
        "drift": [_drift(e) for e in plan.drift],
        "fingerprints": dict(sorted(plan.fingerprints.items())),
    }
