"""Human rendering of a Plan, in the manner of Terraform (+ ~ -/+ - <=), for a terminal or a log.

It reads a Plan and never decides anything. Colour comes from rich, which turns it off for
non-terminals and when NO_COLOR is set. Secrets are never shown: a sensitive value (a Digest or a
marked value, at any depth: `tags = { Name = "web", Token = (sensitive) }`) prints `(sensitive)`,
a changed one `(sensitive value changed)`. Callers: cli (plan, apply, destroy, show, state show).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.text import Text

from reconciler.planning.model import ACTION_SYMBOL, Action, ActionReason, DataRead, Plan, ResourceChange
from reconciler.planning.summary import summarize
from reconciler.render.rollout_text import change_lines, change_note
from reconciler.render.waves_text import summary_suffix, wave_lines
from reconciler.sdk import Label
from reconciler.values import UNKNOWN, is_marked

STYLE = {
    Action.CREATE: "green",
    Action.UPDATE: "yellow",
    Action.REPLACE: "magenta",
    Action.DELETE: "red",
    Action.READ: "cyan",
    Action.ROLLOUT: "bold blue",
    Action.CLEANUP: "yellow",
    Action.NOOP: "",
}

VERB = {
    Action.CREATE: "create",
    Action.UPDATE: "update in-place",
    Action.REPLACE: "replace",
    Action.DELETE: "delete",
    Action.ROLLOUT: "rollout",
    Action.CLEANUP: "update in-place",  # the fleet stays; what its last rollout kept goes
}

REASON_TEXT = {
    ActionReason.DELETE_BECAUSE_NO_CONFIG: "no longer in the configuration",
    ActionReason.DELETE_BECAUSE_NO_INSTANCE: "its count/for_each key is gone",
    ActionReason.CREATE_BECAUSE_GONE: "deleted outside reconciler",
    ActionReason.REPLACE_BY_REQUEST: "requested with --replace",
}


def fmt_value(value: Any, *, sensitive: bool = False) -> str:
    """One value in HCL-like notation; nulls inside objects are left out, secrets never shown."""
    if sensitive or is_marked(value):
        return "(sensitive)"
    if value is UNKNOWN:
        return "(known after apply)"
    if isinstance(value, dict):
        items = [f"{_key(k)} = {fmt_value(v)}" for k, v in sorted(value.items()) if v is not None]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    if isinstance(value, list):
        return "[" + ", ".join(fmt_value(v) for v in value) + "]"
    return json.dumps(value)


def _key(k: Any) -> str:
    text = str(k)
    return text if text.replace("_", "").isalnum() and not text[:1].isdigit() else json.dumps(text)


def summary_line(plan: Plan) -> str:
    counts = summarize(plan)
    if plan.refresh_only:
        n = len(plan.takeable_drift)
        return (
            "No changes outside reconciler."
            if not n
            else f"Refresh: {n} object{'s' if n != 1 else ''} changed outside reconciler "
            "will be taken into state."
        )
    if not plan.has_changes:
        return "No changes. Your infrastructure matches the configuration."
    text = f"Plan: {counts.add} to add, {counts.change} to change, {counts.destroy} to destroy"
    if counts.rollouts:
        fleets = f"{counts.rollouts} fleet{'s' if counts.rollouts != 1 else ''}"
        instances = f"{counts.instances} instance{'s' if counts.instances != 1 else ''}"
        text += f", {fleets} to roll out ({instances}){summary_suffix(plan.waves)}"
    if not any(c.is_change for c in plan.changes):
        text = "Plan: only outputs change"
    return text + "."


def describe_data(
    read: DataRead, labels: Mapping[str, Label] | None = None, *, address: str | None = None
) -> str:
    """One line for a read: `address: what it found` (`address` overrides the read's own)."""

    def short(attrs: dict[str, Any] | None) -> str:
        if not attrs:
            return "(nothing)"
        name = attrs.get("name") or attrs.get("id")
        extra = [str(attrs[k]) for k in ("id", "creation_date") if attrs.get(k) and attrs.get(k) != name]
        label = (labels or {}).get(str(attrs.get("id")))
        extra += list(label.facts) if label is not None else []  # the provider's words on it
        return f"{name} ({', '.join(extra)})" if extra else str(name)

    where = address if address is not None else str(read.address)
    if read.deferred:
        return f"{where}: (known after apply)"
    now = short(read.attributes)
    prev = read.previous
    if prev is not None and prev.get("id") != read.attributes.get("id"):
        return f"{where}: {short(prev)} → {now}"
    return f"{where}: {now}"


def _read_groups(plan: Plan) -> list[tuple[str, list[DataRead]]]:
    """The plan's reads in order, as (the address to print, the reads it stands for): the instances
    of one block that all found the same thing, for the same reason, are one line (`block[*]`);
    a block whose instances differ is listed instance by instance, so every difference is seen."""
    blocks: dict[str, list[DataRead]] = {}
    for read in plan.data:
        blocks.setdefault(str(read.address.block), []).append(read)
    out: list[tuple[str, list[DataRead]]] = []
    for block, reads in blocks.items():
        seen = {(describe_data(r, plan.labels, address=""), r.explanation) for r in reads}
        if len(reads) > 1 and len(seen) == 1:
            out.append((f"{block}[*] ({len(reads)} instances)", reads))
        else:
            out += [(str(r.address), [r]) for r in reads]
    return out


def render_plan(plan: Plan, console: Console) -> None:
    out = console.print
    for hazard in plan.hazards:  # the types' own warnings first, where nobody can miss them
        out(Text(f"WARNING: {hazard}", style="bold red"))
    if plan.hazards:
        out()
    for where, reads in _read_groups(plan):
        read = reads[0]
        changed = read.previous is not None and read.previous.get("id") != read.attributes.get("id")
        out(Text(describe_data(read, plan.labels, address=where), style="bold" if changed else ""))
        if read.explanation:
            out(Text(f"  {read.explanation}", style="dim"))
    if plan.data:
        out()
    if plan.drift:
        render_drift(plan, console)
        out()
    changes = [c for c in plan.changes if c.is_change]
    if changes:
        out(Text("Reconciler will perform the following actions:", style="bold"))
        out()
        names = image_names(plan)
        for c in changes:
            render_change(c, console, names=names)
        out()
        if plan.waves is not None:
            for line in wave_lines(plan.waves):
                out(Text(line))
            out()
    outputs = [o for o in plan.outputs if o.changed]
    if outputs and not plan.refresh_only:
        out(Text("Changes to outputs:", style="bold"))
        for o in outputs:
            sym = "+" if o.before is None else ("-" if o.after is None else "~")
            before = "" if o.before is None else f"{fmt_value(o.before, sensitive=o.sensitive)} → "
            out(Text(f"  {sym} {o.name} = {before}{fmt_value(o.after, sensitive=o.sensitive)}"))
        out()
    out(Text(summary_line(plan), style="bold"))


DRIFT_HEAD = {
    "deleted": ("-", "red", "was deleted"),
    "updated": ("~", "yellow", "was changed"),
    "ownership": ("!", "bold red", "ownership tags were changed"),
}


def render_drift(plan: Plan, console: Console) -> None:
    """The "Changed outside reconciler" section: what the refresh found different from state."""
    out = console.print
    out(Text("Changed outside reconciler since the last apply:", style="bold"))
    for entry in plan.drift:
        sym, style, what = DRIFT_HEAD.get(entry.kind, ("?", "", entry.kind))
        out(Text(f"  {sym} {entry.address} {what}", style=style))
        width = max((len(d.path) for d in entry.diffs), default=0)
        for d in entry.diffs:
            if d.sensitive:
                value = "(sensitive value changed)"
            else:
                value = f"{_drift_value(d.before)} → {_drift_value(d.after)}"
            out(Text(f"      {d.path.ljust(width)}  {value}"))
        if entry.kind == "ownership" and any(d.path.endswith(":stack") for d in entry.diffs):
            hint = "reconciler will not change or delete it until the tag is restored (or it is imported)"
            out(Text(f"      {hint}", style="dim"))
    if not plan.refresh_only and any(c.is_change for c in plan.changes):
        out(Text("The plan below starts from what the cloud has now.", style="dim"))


def _drift_value(value: Any) -> str:
    """A drifted value; None is a removed tag or setting, and long lists are counted."""
    if value is None:
        return "(removed)"
    text = fmt_value(value)
    if is_marked(value):
        return text
    if isinstance(value, list) and len(text) > 60:
        return f"[{len(value)} item{'s' if len(value) != 1 else ''}]"
    return text


def image_names(plan: Plan) -> dict[str, str]:
    """Image id → image name from the plan's lookups, to annotate image ids."""
    return {i: label.name for i, label in plan.labels.items() if label.name}


def render_change(c: ResourceChange, console: Console, *, names: dict[str, str] | None = None) -> None:
    sym = ACTION_SYMBOL[c.action]
    head = Text()
    head.append(f"{sym:>3} ", style=STYLE[c.action])
    head.append(str(c.address), style="bold")
    verb = VERB[c.action]
    if c.action is Action.REPLACE and c.replace_paths:
        verb += f" ({', '.join(c.replace_paths)} forces replacement)"
    elif c.reason in REASON_TEXT:
        verb += f" ({REASON_TEXT[c.reason]})"
    note = change_note(c)
    if note:
        verb += f": {note}"
    pad = max(1, 50 - len(str(c.address)))
    head.append(" " * pad + verb, style=STYLE[c.action])
    console.print(head)
    sensitive = set(c.sensitive_paths)
    rows: list[tuple[str, str]] = []
    unknown: list[str] = []
    if c.action is Action.CREATE:
        for name, value in sorted((c.after or {}).items()):
            if value in (None, [], {}) or value is UNKNOWN:
                continue
            rows.append((name, fmt_value(value, sensitive=name in sensitive)))
        unknown = sorted(k for k, v in (c.after or {}).items() if v is UNKNOWN)
    elif c.action is Action.DELETE:
        if c.id:
            rows.append(("id", fmt_value(c.id)))
    else:
        for d in c.diffs:
            if d.sensitive:
                rows.append((d.path, "(sensitive value changed)"))
                continue
            after = "(known after apply)" if d.unknown else fmt_value(d.after)
            note = "   # forces replacement" if d.forces_replacement and c.action is Action.REPLACE else ""
            named = names or {}
            if (
                isinstance(d.before, str)
                and isinstance(d.after, str)
                and (d.before in named or d.after in named)
            ):
                note += f"   ({named.get(d.before, '?')} → {named.get(d.after, '?')})"
            rows.append((d.path, f"{fmt_value(d.before)} → {after}{note}"))
    width = max((len(k) for k, _ in rows), default=0)
    for key, value in rows:
        console.print(Text(f"      {key.ljust(width)}  {value}"))
    if unknown:
        console.print(Text(f"      (known after apply: {', '.join(unknown)})", style="dim"))
    for line in change_lines(c):
        console.print(Text(f"      {line}"))


def render(plan: Plan, *, out: Console, plan_file: str | None = None, pretty: bool = False) -> None:
    """`--format human` (render.FORMATS)."""
    render_plan(plan, out)
