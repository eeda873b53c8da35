"""Resources in Terraform's plan JSON: `resource_changes`, `resource_drift`, `planned_values`,
`prior_state`, named and shaped as Terraform's provider has them.

A type whose schema has a `terraform_view` (reconciler.sdk.TerraformView) is shown through it: a
view of the same cloud object (`aws_target_group` as `aws_lb_target_group`) everywhere, under the
provider type's name; a second picture of it (`aws_fleet` as its `aws_autoscaling_group`) only in
the state layouts (`planned_values`, `prior_state`), where policies look for resources. Addresses
stay reconciler's (`aws_target_group.web`): they are what `--target` takes and state holds.
Reads a Plan, decides nothing. Callers: render.tfplan.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from reconciler.address import Address, Mode
from reconciler.planning.model import (
    Action,
    ActionReason,
    DataRead,
    DriftEntry,
    DriftKind,
    Plan,
    ResourceChange,
)
from reconciler.render.tfplan.values import (
    SECRET,
    conceal,
    cty_type,
    holds_secret,
    known,
    secret_marks,
    unknown_marks,
)
from reconciler.sdk import TerraformView
from reconciler.sdk.registry import all_schemas, plugins
from reconciler.values import UNKNOWN

STATE_FORMAT = "1.0"

# Terraform's `change.actions` for each action; a replacement's order depends on create_before_destroy.
# A rollout moves the fleet's group onto a new launch template version: an in-place update.
ACTIONS: dict[Action, list[str]] = {
    Action.NOOP: ["no-op"],
    Action.CREATE: ["create"],
    Action.UPDATE: ["update"],
    Action.DELETE: ["delete"],
    Action.READ: ["read"],
    Action.ROLLOUT: ["update"],
    # Deleting the group a finished rollout kept: the fleet's own group is unchanged, but the
    # fleet's objects change, so policies see an update of the fleet.
    Action.CLEANUP: ["update"],
}

# Reasons Terraform has a name for; the others are only in the extension.
REASONS: dict[ActionReason, str] = {
    ActionReason.REPLACE_BECAUSE_ATTRIBUTE: "replace_because_cannot_update",
    ActionReason.REPLACE_BY_REQUEST: "replace_by_request",
    ActionReason.REPLACE_BECAUSE_GONE_TAINTED: "replace_because_tainted",
    ActionReason.DELETE_BECAUSE_NO_CONFIG: "delete_because_no_resource_config",
    ActionReason.READ_BECAUSE_CONFIG_UNKNOWN: "read_because_config_unknown",
}


def provider_source(provider: str) -> str:
    """The provider's Terraform registry source for its name and aliases (`aws`, `aws.eu` →
    `registry.terraform.io/hashicorp/aws`), as its plugin declares it."""
    name = provider.split(".")[0]
    plugin = plugins().get(name)
    source = plugin.terraform_source if plugin is not None else None
    return source or f"registry.terraform.io/reconciler/{name}"


@cache
def _views() -> dict[tuple[Mode, str], TerraformView]:
    return {key: s.terraform_view for key, s in all_schemas().items() if s.terraform_view is not None}


def view_of(mode: Mode, type_name: str) -> TerraformView | None:
    return _views().get((mode, type_name))


def reported_type(mode: Mode, type_name: str) -> str:
    """The type a change of `type_name` is reported as (its provider type when the same object)."""
    view = view_of(mode, type_name)
    return view.type_name if view is not None and view.same_object else type_name


def _shape(view: TerraformView | None, value: Any) -> Any:
    return view.shape(value) if view is not None and isinstance(value, dict) else value


def actions(change: ResourceChange) -> list[str]:
    if change.action is Action.REPLACE:
        return ["create", "delete"] if change.create_before_destroy else ["delete", "create"]
    return list(ACTIONS[change.action])


def action_reason(change: ResourceChange) -> str | None:
    if change.reason is ActionReason.DELETE_BECAUSE_NO_INSTANCE:
        return (
            "delete_because_count_index" if isinstance(change.address.key, int) else "delete_because_each_key"
        )
    return REASONS.get(change.reason)


def _where(address: Address, type_name: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "address": str(address),
        "mode": address.mode.value,
        "type": type_name,
        "name": address.name,
    }
    if address.key is not None:
        out["index"] = address.key
    return out


# ---- replace paths: reconciler's dotted paths → the view's path arrays -----------------------------


class _Probe:
    """Put where a replace path points, to find where the view moves it."""


def _steps(path: str) -> list[str | int]:
    return [int(p) if p.isdigit() else p for p in path.split(".")] if path else []


def _place(value: Any, steps: list[str | int], probe: _Probe) -> Any:
    if not steps:
        return probe
    head, rest = steps[0], steps[1:]
    if isinstance(value, dict) and head in value:
        return {**value, head: _place(value[head], rest, probe)}
    if isinstance(value, list) and isinstance(head, int) and head < len(value):
        return [*value[:head], _place(value[head], rest, probe), *value[head + 1 :]]
    return value


def _find(value: Any, probe: _Probe, path: list[str | int]) -> list[str | int] | None:
    if value is probe:
        return path
    items: Iterable[tuple[str | int, Any]] = ()
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    for key, sub in items:
        found = _find(sub, probe, [*path, key])
        if found is not None:
            return found
    return None


def replace_path(view: TerraformView | None, attrs: Mapping[str, Any] | None, path: str) -> list[str | int]:
    steps = _steps(path)
    if view is None or not isinstance(attrs, dict):
        return steps
    probe = _Probe()
    found = _find(view.shape(_place(attrs, steps, probe)), probe, [])
    return found if found is not None else steps


# ---- changes and drift ------------------------------------------------------------------------------


def _change(
    before: Any, after: Any, acts: list[str], *, replace_paths: list[list[str | int]] | None = None
) -> dict[str, Any]:
    change: dict[str, Any] = {
        "actions": acts,
        "before": known(before),
        "after": None if after is UNKNOWN else known(after),
        "after_unknown": True if after is UNKNOWN else unknown_marks(after),
        "before_sensitive": secret_marks(before),
        "after_sensitive": False if after is UNKNOWN else secret_marks(after),
    }
    if replace_paths:
        change["replace_paths"] = replace_paths
    return change


def resource_change(c: ResourceChange) -> dict[str, Any]:
    view = view_of(c.address.mode, c.type_name)
    same = view if view is not None and view.same_object else None
    before = _shape(same, conceal(c.before, c.sensitive_paths))
    after = _shape(same, conceal(c.after, c.sensitive_paths))
    source = c.after if c.after is not None else c.before
    paths = [replace_path(same, source, p) for p in c.replace_paths]
    entry = _where(c.address, reported_type(c.address.mode, c.type_name))
    entry["provider_name"] = provider_source(c.provider)
    entry["change"] = _change(before, after, actions(c), replace_paths=paths)
    reason = action_reason(c)
    if reason:
        entry["action_reason"] = reason
    return entry


def deferred_read(read: DataRead) -> dict[str, Any]:
    """A data source whose arguments are known only at apply: read then (`["read"]`)."""
    entry = _where(read.address, reported_type(Mode.DATA, read.type_name))
    entry["provider_name"] = provider_source(read.address.type.split("_")[0])
    entry["change"] = _change(None, UNKNOWN, ["read"])
    entry["action_reason"] = "read_because_config_unknown"
    return entry


def _rebuilt(after: Any, entry: DriftEntry) -> Any:
    """The attributes before the drift: `after` with each changed path set back (a value that
    was absent, `null` before, is removed again)."""
    before = after
    for d in entry.diffs:
        before = _set(before, _steps(d.path), SECRET if d.sensitive else d.before)
    return before


def _set(value: Any, steps: list[str | int], new: Any) -> Any:
    if not steps:
        return new
    head, rest = steps[0], steps[1:]
    if isinstance(value, dict):
        if not rest:
            kept = {k: v for k, v in value.items() if k != head}
            return kept if new is None else {**kept, head: new}
        return {**value, head: _set(value[head], rest, new)} if head in value else value
    if isinstance(value, list) and isinstance(head, int) and head < len(value):
        item = new if not rest else _set(value[head], rest, new)
        return [*value[:head], item, *value[head + 1 :]]
    return value


def drift(entry: DriftEntry) -> dict[str, Any] | None:
    """One `resource_drift` entry; a changed ownership tag is only in the extension (None here)."""
    if entry.kind == DriftKind.OWNERSHIP:
        return None
    view = view_of(entry.address.mode, entry.address.type)
    same = view if view is not None and view.same_object else None
    sensitive = [d.path for d in entry.diffs if d.sensitive]
    if entry.kind == DriftKind.DELETED:
        before, after, acts = None, None, ["delete"]
    else:
        after = conceal(entry.after, sensitive)
        before = _rebuilt(after, entry)
        acts = ["update"]
    out = _where(entry.address, reported_type(entry.address.mode, entry.address.type))
    out["provider_name"] = provider_source(entry.address.type.split("_")[0])
    out["change"] = _change(_shape(same, before), _shape(same, after), acts)
    return out


# ---- state layouts: planned_values, prior_state -------------------------------------------------------


def _state_resource(address: Address, type_name: str, provider: str, values: Any) -> dict[str, Any]:
    view = view_of(address.mode, type_name)
    shaped = _shape(view, values)
    out = _where(address, view.type_name if view is not None else type_name)
    out["provider_name"] = provider_source(provider)
    out["schema_version"] = view.schema_version if view is not None else 0
    out["values"] = known(shaped)
    out["sensitive_values"] = secret_marks(shaped) or {}
    return out


def _module(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resources": resources} if resources else {}


def _outputs(pairs: Iterable[tuple[str, Any, bool]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value, sensitive in pairs:
        entry: dict[str, Any] = {"sensitive": sensitive}
        hidden = sensitive or holds_secret(value)
        if not hidden and value is not UNKNOWN and not _unknown_inside(value):
            entry["type"] = cty_type(value)
            entry["value"] = value
        out[name] = entry
    return out


def _unknown_inside(value: Any) -> bool:
    return unknown_marks(value) != {} if isinstance(value, dict | list) else False


def planned_values(plan: Plan) -> dict[str, Any]:
    resources = [
        _state_resource(c.address, c.type_name, c.provider, conceal(c.after, c.sensitive_paths))
        for c in sorted_changes(plan)
        if c.after is not None and c.action is not Action.DELETE
    ]
    outputs = _outputs(
        (o.name, conceal(o.after), o.sensitive)
        for o in sorted(plan.outputs, key=lambda o: o.name)
        if not (o.changed and o.before is not None and o.after is None)
    )
    out: dict[str, Any] = {}
    if outputs:
        out["outputs"] = outputs
    out["root_module"] = _module(resources)
    return out


def prior_state(plan: Plan, *, terraform_version: str) -> dict[str, Any] | None:
    """The state the plan starts from (refreshed), or None when it holds nothing."""
    resources = [
        _state_resource(c.address, c.type_name, c.provider, conceal(c.before, c.sensitive_paths))
        for c in sorted_changes(plan)
        if c.before is not None
    ]
    resources += [
        _state_resource(r.address, r.type_name, r.address.type.split("_")[0], conceal(r.attributes))
        for r in sorted(plan.data, key=lambda r: r.address.sort_key())
        if not r.deferred
    ]
    outputs = _outputs(
        (o.name, conceal(o.before), o.sensitive)
        for o in sorted(plan.outputs, key=lambda o: o.name)
        if o.before is not None
    )
    if not resources and not outputs:
        return None
    values: dict[str, Any] = {}
    if outputs:
        values["outputs"] = outputs
    values["root_module"] = _module(resources)
    return {"format_version": STATE_FORMAT, "terraform_version": terraform_version, "values": values}


def sorted_changes(plan: Plan) -> list[ResourceChange]:
    return sorted(plan.changes, key=lambda c: c.address.sort_key())
