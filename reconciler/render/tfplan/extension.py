"""The `reconciler` key of the JSON plan: everything only reconciler knows, in one place.

Terraform's keys describe what any policy tool understands; this one object holds the rest
(docs/plan-json.md#the-reconciler-key): the tool and stack, the plan mode and targets, the state
the plan was made against, the action counts, reconciler's own action and reason for every
resource (a rollout is `["update"]` in Terraform's words), each fleet's rollout (strategy,
batches, health gates, durations, rollback target), kept groups to clean up, AMI resolutions with
the reason for each choice, drift kinds (including changed ownership tags), and the staleness
fingerprints `apply PLAN_FILE` checks. Policy tools ignore it. Reads a Plan, decides nothing.

Rollouts and cleanups are read from the typed change (rollout.change). Callers: render.tfplan.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler import __version__
from reconciler.planning.model import DataRead, DriftEntry, Plan, ResourceChange
from reconciler.planning.summary import summarize
from reconciler.render.rollout_text import rollout_lines
from reconciler.render.tfplan.values import conceal, known
from reconciler.render.waves_text import waves_document
from reconciler.rollout.change import RolloutChange
from reconciler.sdk import Label, Release, known_image

EXTENSION_VERSION = "1.1"  # 1.1: warnings, and each resource's lines and warnings


def _image(release: Release, labels: Mapping[str, Label]) -> dict[str, Any]:
    image_id = release.image_id
    seen = labels.get(image_id)
    name: str | None = release.image_name
    if not name or name == image_id or not known_image(image_id):  # a placeholder, not a name
        name = seen.name if seen else None
    return {
        "id": image_id if known_image(image_id) else None,
        "name": name,
        "version": release.image_version or (seen.version if seen else None) or None,
        "creation_date": (seen.created or None) if seen else None,
        "instance_type": release.instance_type or None,
        "launch_template_version": release.launch_template_version or None,
    }


def rollout_document(rollout: RolloutChange, labels: Mapping[str, Label]) -> dict[str, Any]:
    """The `rollout` object of a fleet's ROLLOUT change (docs/plan-json.md#the-reconciler-key)."""
    plan, resume = rollout.plan, rollout.resume
    green = plan.green_group or None
    return {
        "strategy": plan.strategy.value,
        "fleet": plan.fleet_name,
        "summary": plan.summary,
        "group": plan.group,
        "new_group": green,
        "old": _image(plan.old, labels),
        "new": _image(plan.new, labels),
        "desired_capacity": plan.desired,
        "total_instances": plan.total_instances,
        "instances_to_replace": plan.replace_count,
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
        "resume": {"phase": str(resume.phase), "step": resume.step_index + 1} if resume is not None else None,
        "notes": list(plan.notes),
        "lines": rollout_lines(rollout),
    }


def _resource(c: ResourceChange, labels: Mapping[str, Label]) -> dict[str, Any]:
    return {
        "type": c.type_name,
        "action": c.action.value,
        "action_reason": c.reason.value or None,
        "note": c.note or None,
        "depends_on": list(c.depends_on),
        "create_before_destroy": c.create_before_destroy,
        "rollout": rollout_document(c.rollout, labels) if c.rollout is not None else None,
        "cleanup_groups": list(c.cleanup.groups) if c.cleanup is not None else [],
        "lines": list(c.lines),
        "warnings": list(c.warnings),
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
    """Counts as the human summary line states them (planning.summary, the one count)."""
    counts = summarize(plan)
    return {
        "add": counts.add,
        "change": counts.change,
        "destroy": counts.destroy,
        "rollout": counts.rollouts,
        "instances": counts.instances,
        "has_changes": counts.has_changes,
    }


def plan_mode(plan: Plan) -> str:
    if plan.destroy:
        return "destroy"
    return "refresh_only" if plan.refresh_only else "normal"


def extension(plan: Plan) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "format_version": EXTENSION_VERSION,
        "tool": "reconciler",
        "version": __version__,
        "stack": plan.stack,
        "plan_mode": plan_mode(plan),
        "targets": list(plan.targets),
        "prior_state": {"lineage": plan.lineage, "serial": plan.serial},
        "summary": summary(plan),
        "warnings": plan.hazards,
        "resources": {
            str(c.address): _resource(c, plan.labels)
            for c in sorted(plan.changes, key=lambda c: c.address.sort_key())
        },
        "data_sources": [_data_source(r) for r in sorted(plan.data, key=lambda r: r.address.sort_key())],
        "drift": [_drift(e) for e in plan.drift],
        "fingerprints": dict(sorted(plan.fingerprints.items())),
    }
    if plan.waves is not None:  # stacks that use rollout waves: the waves, and each fleet's
        doc["waves"] = waves_document(plan.waves)
        for c in plan.changes:
            if c.rollout is not None:
                doc["resources"][str(c.address)]["wave"] = c.rollout.wave
    return doc
