"""Machine-readable rendering of a Plan: the documented JSON of `plan --format json` and
`show PLAN_FILE --format json`, in the spirit of Terraform's JSON plan (docs/plan-json.md, checked
against docs/plan-json.schema.json), plus the one-line summary CI scripts read.

It reads a Plan and never decides anything. Unknown values (known only after apply) become `null`
with `true` at the same place in `after_unknown`; sensitive values are never written, not even as
the digests plans keep of them: they become `null` and are marked in `before_sensitive` /
`after_sensitive` and `sensitive_paths`. Callers: cli (plan, show), render.markdown (counts).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from reconciler import __version__
from reconciler.address import Address
from reconciler.planning.model import (
    Action,
    AttributeDiff,
    DataRead,
    DriftEntry,
    OutputChange,
    Plan,
    ResourceChange,
)
from reconciler.planning.summary import summarize
from reconciler.render.rollout_text import change_note, rollout_lines
from reconciler.render.waves_text import waves_document
from reconciler.rollout.change import RolloutChange
from reconciler.sdk import Label, Release, known_image
from reconciler.sensitive import is_legacy
from reconciler.values import UNKNOWN, is_marked

FORMAT_VERSION = "1.0"
# Document 1.0 has no "cleanup" action: the cleanup of a fleet's kept group is an update of it
# (with "cleanup_groups").
_ACTION = {Action.CLEANUP: Action.UPDATE}

__all__ = ["FORMAT_VERSION", "plan_document", "summary", "summary_line"]


# ---- values: unknowns, secrets -------------------------------------------------------------------


def _is_digest(value: Any) -> bool:
    """A sensitive value as plans hold it (a Digest; or an older plan file's `sha256:` string)."""
    return is_marked(value) or is_legacy(value)


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def _hidden(value: Any, hidden: frozenset[str], path: str) -> bool:
    return (bool(path) and path in hidden) or _is_digest(value)


def _clean(value: Any, hidden: frozenset[str], path: str = "") -> Any:
    """`value` with UNKNOWN and every sensitive value (a path in `hidden`, or a digest) → None."""
    if value is UNKNOWN or _hidden(value, hidden, path):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v, hidden, _join(path, k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v, hidden, _join(path, i)) for i, v in enumerate(value)]
    return value


def _marks(value: Any, hit: Callable[[Any, str], bool], path: str = "") -> Any:
    """Terraform's shape for `after_unknown` and `*_sensitive`: true where `hit`; objects keep
    only the keys that hold something marked; arrays keep every element (false where unmarked)."""
    if hit(value, path):
        return True
    empty: tuple[Any, ...] = (False, {}, [])
    if isinstance(value, dict):
        subs = ((str(k), _marks(v, hit, _join(path, k))) for k, v in value.items())
        return {k: sub for k, sub in subs if sub not in empty}
    if isinstance(value, list | tuple):
        items = [_marks(v, hit, _join(path, i)) for i, v in enumerate(value)]
        return items if any(i not in empty for i in items) else []
    return False


def _unknown_tree(value: Any) -> Any:
    return _marks(value, lambda v, _: v is UNKNOWN)


def scrub(value: Any) -> Any:
    """Any value made safe to print: UNKNOWN → None, digests of secrets → None."""
    return _clean(value, frozenset())


def _attributes(value: dict[str, Any] | None, paths: Iterable[str]) -> tuple[Any, Any]:
    """(values safe to print, sensitivity marks) of a before/after object; `false` when absent."""
    if value is None:
        return None, False
    hidden = frozenset(paths)
    return _clean(value, hidden), _marks(value, lambda v, p: _hidden(v, hidden, p))


# ---- resource changes ----------------------------------------------------------------------------


def _where(address: Address) -> dict[str, Any]:
    return {
        "address": str(address),
        "mode": address.mode.value,
        "type": address.type,
        "name": address.name,
        "index": address.key,
    }


def _diff(d: AttributeDiff) -> dict[str, Any]:
    hidden = d.sensitive or _is_digest(d.before) or _is_digest(d.after)
    return {
        "path": d.path,
        "before": None if hidden else scrub(d.before),
        "after": None if hidden or d.unknown else scrub(d.after),
        "after_unknown": bool(d.unknown or d.after is UNKNOWN),
        "sensitive": hidden,
        "forces_replacement": d.forces_replacement,
    }


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
    """The `rollout` object of a fleet's ROLLOUT change (docs/plan-json.md#rollout)."""
    plan, resume = rollout.plan, rollout.resume
    document: dict[str, Any] = scrub(
        {
            "strategy": plan.strategy.value,
            "fleet": plan.fleet_name,
            "summary": plan.summary,
            "group": plan.group,
            "new_group": plan.green_group or None,
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
            "keep_previous_seconds": plan.keep_previous_s if plan.green_group else None,
            "rollback": {
                "group": plan.rollback.group,
                "launch_template_version": plan.rollback.launch_template_version,
                "image_id": plan.rollback.image_id or None,
                "image_name": plan.rollback.image_name,
                "description": str(plan.rollback),
            },
            "resume": (
                {"phase": str(resume.phase), "step": resume.step_index + 1} if resume is not None else None
            ),
            "notes": list(plan.notes),
            "lines": rollout_lines(rollout),
        }
    )
    return document


def _change(c: ResourceChange, labels: Mapping[str, Label]) -> dict[str, Any]:
    before, before_sensitive = _attributes(c.before, c.sensitive_paths)
    after, after_sensitive = _attributes(c.after, c.sensitive_paths)
    hidden = set(c.sensitive_paths)
    hidden.update(_paths(before_sensitive), _paths(after_sensitive))
    return {
        **_where(c.address),
        "provider": c.provider,
        "action": _ACTION.get(c.action, c.action).value,
        "action_reason": c.reason.value or None,
        "id": c.id,
        "before": before,
        "after": after,
        "after_unknown": _unknown_tree(c.after) if c.after is not None else False,
        "before_sensitive": before_sensitive,
        "after_sensitive": after_sensitive,
        "sensitive_paths": sorted(hidden),
        "replace_paths": list(c.replace_paths),
        "changed_attributes": [_diff(d) for d in c.diffs],
        "depends_on": list(c.depends_on),
        "create_before_destroy": c.create_before_destroy,
        "note": change_note(c) or None,
        "rollout": rollout_document(c.rollout, labels) if c.rollout is not None else None,
        "cleanup_groups": list(c.cleanup.groups) if c.cleanup is not None else [],
    }


def _paths(marks: Any, prefix: str = "") -> Iterable[str]:
    """The dotted paths marked true in a marks structure."""
    if marks is True:
        yield prefix
    elif isinstance(marks, dict):
        for k, v in marks.items():
            yield from _paths(v, _join(prefix, k))
    elif isinstance(marks, list):
        for i, v in enumerate(marks):
            yield from _paths(v, _join(prefix, i))


# ---- data sources, outputs, drift ----------------------------------------------------------------


def _data(read: DataRead) -> dict[str, Any]:
    now = read.attributes.get("id") if not read.deferred else None
    prev = (read.previous or {}).get("id")
    return {
        **_where(read.address),
        "id": now,
        "deferred": read.deferred,
        "explanation": read.explanation or None,
        "attributes": None if read.deferred else scrub(read.attributes),
        "previous_id": prev,
        "previous_attributes": scrub(read.previous) if read.previous is not None else None,
        "changed": read.previous is not None and not read.deferred and prev != now,
    }


def _output_action(o: OutputChange) -> Action:
    if not o.changed:
        return Action.NOOP
    if o.before is None:
        return Action.CREATE
    if o.after is None:
        return Action.DELETE
    return Action.UPDATE


def _output(o: OutputChange) -> dict[str, Any]:
    hidden = o.sensitive or _is_digest(o.before) or _is_digest(o.after)
    return {
        "action": _output_action(o).value,
        "before": None if hidden else scrub(o.before),
        "after": None if hidden else scrub(o.after),
        "after_unknown": _unknown_tree(o.after) if not hidden else False,
        "sensitive": hidden,
    }


def _drift(entry: DriftEntry) -> dict[str, Any]:
    sensitive = [d.path for d in entry.diffs if d.sensitive]
    after, after_sensitive = _attributes(entry.after, sensitive)
    return {
        **_where(entry.address),
        "kind": entry.kind,
        "changed_attributes": [_diff(d) for d in entry.diffs],
        "after": after,
        "after_sensitive": after_sensitive,
    }


# ---- the document ---------------------------------------------------------------------------------


def summary(plan: Plan) -> dict[str, Any]:
    """Counts as the human summary line states them (a replacement adds one and destroys one)."""
    counts = summarize(plan)
    return {
        "add": counts.add,
        "change": counts.change,
        "destroy": counts.destroy,
        "rollout": counts.rollouts,
        "instances": counts.instances,
        "has_changes": counts.has_changes,
    }


def summary_line(plan: Plan) -> str:
    """One compact JSON line for CI: {"add":1,"change":2,"destroy":0,"rollout":1,"instances":4,...}."""
    return json.dumps(summary(plan), separators=(",", ":"))


def plan_mode(plan: Plan) -> str:
    if plan.destroy:
        return "destroy"
    return "refresh_only" if plan.refresh_only else "normal"


def plan_document(plan: Plan) -> dict[str, Any]:
    """The whole plan as a JSON-serialisable dict (docs/plan-json.md)."""
    labels = plan.labels
    doc = {
        "format_version": FORMAT_VERSION,
        "reconciler_version": __version__,
        "stack": plan.stack,
        "plan_mode": plan_mode(plan),
        "has_changes": plan.has_changes,
        "prior_state": {"lineage": plan.lineage, "serial": plan.serial},
        "targets": list(plan.targets),
        "resource_changes": [_change(c, labels) for c in plan.changes],
        "data_sources": [_data(r) for r in plan.data],
        "output_changes": {o.name: _output(o) for o in sorted(plan.outputs, key=lambda o: o.name)},
        "resource_drift": [_drift(e) for e in plan.drift],
        "summary": summary(plan),
    }
    if plan.waves is not None:  # only for stacks that use waves: other plans read as before
        doc["waves"] = waves_document(plan.waves)
        for change, rendered in zip(plan.changes, doc["resource_changes"], strict=True):  # type: ignore[call-overload]
            if change.rollout is not None:
                rendered["wave"] = change.rollout.wave
    return doc
