"""Markdown rendering of a Plan: the pull-request comment of `plan --format markdown` and
`show PLAN_FILE --format markdown` (GitHub-flavoured).

Layout: the one-line verdict first; a `> [!WARNING]` banner naming every deletion and replacement;
a table of changes grouped by action; one paragraph per fleet rollout (AMI old → new with names and
dates, strategy, instances replaced, duration, rollback target); the AMI lookups and why each chose
its image; what changed outside reconciler; output changes; per-resource attribute diffs folded in
`<details>` blocks; the apply command. The text stays within `limit` characters (GitHub's comment
limit is 65,536): sections that do not fit are cut short with a note on how to see the full plan.

It reads a Plan and never decides anything; wording comes from render.human. Secrets show as
`(sensitive)`. Callers: cli (plan, show).
"""

from __future__ import annotations

import html
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rich.console import Console

from reconciler.planning.model import ACTION_SYMBOL, Action, DataRead, Plan, ResourceChange
from reconciler.render.human import REASON_TEXT, VERB, fmt_value, image_names, summary_line
from reconciler.render.rollout_text import change_lines, change_note, duration_text, strategy_label
from reconciler.render.waves_text import hold_note, wave_rows
from reconciler.rollout.numbering import phase_words, position
from reconciler.rollout.waves import HALTING_RULE
from reconciler.sdk import Label, Mode, Release, TypeRole, known_image
from reconciler.sdk.registry import all_schemas
from reconciler.sensitive import is_legacy
from reconciler.values import UNKNOWN, is_marked

GITHUB_LIMIT = 65536
# Destructive actions first: that is what a reviewer must not miss. A cleanup of a fleet's kept
# group is an in-place change of the fleet, listed with the updates.
ACTION_ORDER = (Action.DELETE, Action.REPLACE, Action.ROLLOUT, Action.UPDATE, Action.CREATE, Action.READ)
_RANK = {Action.CLEANUP: Action.UPDATE}
MAX_BANNER_ITEMS = 20

__all__ = ["GITHUB_LIMIT", "render_markdown", "verdict"]


# ---- small helpers --------------------------------------------------------------------------------


def _text(text: str) -> str:
    """Plain text with Markdown's emphasis, link and HTML characters escaped."""
    return re.sub(r"([\\`*_\[\]<>|])", r"\\\1", text)


def _code(text: str) -> str:
    """An inline code span that survives backticks in `text`."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _fenced(lines: list[str], lang: str = "") -> str:
    body = "\n".join(lines)
    longest = max((len(m) for m in re.findall(r"`{3,}", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{lang}\n{body}\n{fence}"


def _is_secret(value: Any, hidden: frozenset[str] = frozenset(), path: str = "") -> bool:
    """A digest of a secret, or a value at a sensitive path."""
    return is_marked(value) or is_legacy(value) or bool(path and path in hidden)


def _mask(value: Any, hidden: frozenset[str], path: str) -> Any:
    if _is_secret(value, hidden, path):
        return "(sensitive)"
    if isinstance(value, dict):
        return {k: _mask(v, hidden, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v, hidden, f"{path}.{i}" if path else str(i)) for i, v in enumerate(value)]
    return value


def _value(value: Any, hidden: frozenset[str] = frozenset(), path: str = "") -> str:
    """One value as the human plan shows it; secrets (however deep) never shown."""
    return "(sensitive)" if _is_secret(value, hidden, path) else fmt_value(_mask(value, hidden, path))


def _why(c: ResourceChange) -> str:
    if c.action is Action.REPLACE and c.replace_paths:
        return f"{', '.join(c.replace_paths)} forces replacement"
    return REASON_TEXT.get(c.reason, "")


def _verb(c: ResourceChange) -> str:
    why = _why(c)
    return VERB.get(c.action, c.action.value) + (f" ({why})" if why else "")


def _by_action(changes: list[ResourceChange]) -> list[ResourceChange]:
    return [c for action in ACTION_ORDER for c in changes if _RANK.get(c.action, c.action) is action]


def verdict(plan: Plan) -> str:
    """The first line: `**No changes.** …` or `**Plan: 1 to add, … .**`."""
    if not plan.has_changes and not plan.refresh_only:
        return "**No changes.** The infrastructure matches the configuration."
    return f"**{summary_line(plan)}**"


# ---- sections -------------------------------------------------------------------------------------


def _banner(changes: list[ResourceChange], *, room: int) -> str:
    """The warning naming every deletion and replacement, as many as fit in `room` characters."""
    risky = [c for c in changes if c.action in (Action.DELETE, Action.REPLACE)]
    if not risky:
        return ""
    n = len(risky)
    head = ["> [!WARNING]", f"> This plan deletes or replaces {n} resource{'s' if n != 1 else ''}:"]
    items = []
    for c in risky[:MAX_BANNER_ITEMS]:
        word = "**deleted**" if c.action is Action.DELETE else "**replaced**"
        why = _why(c)
        items.append(f"> - {_code(str(c.address))} will be {word}" + (f" ({_text(why)})" if why else ""))
    for shown in range(len(items), -1, -1):
        more = [f"> - and {n - shown} more (see the table below)"] if shown < n else []
        text = "\n".join([*head, *items[:shown], *more]) + "\n"
        if len(text) <= room or shown == 0:
            return text
    raise AssertionError("unreachable")  # pragma: no cover


def _hazard_banner(hazards: list[str]) -> str:
    """The types' own warnings (an image made public), each in full: never cut."""
    return "\n".join(["> [!WARNING]", *(f"> **{_text(h)}**" for h in hazards)]) + "\n"


def _table_rows(changes: list[ResourceChange]) -> list[str]:
    rows = []
    for c in _by_action(changes):
        note = _verb(c) + (f": {change_note(c)}" if change_note(c) else "")
        # a pipe needs its backslash in a table, even inside a code span
        symbol, address = _code(ACTION_SYMBOL[c.action]), _code(str(c.address)).replace("|", "\\|")
        rows.append(f"| {symbol} | {address} | {_text(note)} |")
    return rows


def _release(release: Release, labels: Mapping[str, Label]) -> str:
    image_id = release.image_id
    name = release.image_name or image_id or "?"
    facts = [image_id] if known_image(image_id) and image_id != name else []
    seen = labels.get(image_id)
    created = seen.created if seen else None
    if created:
        facts.append(str(created)[:10])
    if release.launch_template_version:
        facts.append(f"launch template v{release.launch_template_version}")
    return f"{_code(name)}" + (f" ({', '.join(facts)})" if facts else "")


def _rollout_paragraph(c: ResourceChange, labels: Mapping[str, Label]) -> list[str]:
    if c.rollout is None:
        return [f"**{_code(str(c.address))}**: {change_note(c) or 'rollout'}"]
    plan, resume = c.rollout.plan, c.rollout.resume
    groups = f"{plan.group} → {plan.green_group}" if plan.green_group else f"{plan.group}, in place"
    text = (
        f"**{_code(str(c.address))}** ({_text(groups)}): {_release(plan.old, labels)} → "
        f"{_release(plan.new, labels)}, **{strategy_label(plan.strategy)}** rollout; replaces "
        f"**{plan.replace_count} of {plan.total_instances}** "
        f"{'instance' if plan.total_instances == 1 else 'instances'}, estimated {duration_text(plan)}."
    )
    if plan.health_gates:
        text += f" Health gates: {_text(', '.join(plan.health_gates))}."
    rollback = f"Rollback target: {_text(str(plan.rollback))}"
    text += f" {rollback}" + ("" if plan.auto_rollback else " (auto_rollback is off)") + "."
    if resume is not None:
        at = position(plan.steps, resume.step_index)
        where = f"{phase_words(resume.phase)}, at step {at.number} of {at.total}"
        text += f" Resumes an unfinished rollout ({where})."
    lines = [text, ""]
    lines += [f"{n}. {_text(step)}" for n, step in enumerate(plan.outline(), 1)]
    lines += [f"- _note:_ {_text(note)}" for note in plan.notes]
    return lines


def _image_lookup(type_name: str) -> bool:
    schema = all_schemas().get((Mode.DATA, type_name))
    return schema is not None and schema.role is TypeRole.IMAGE_LOOKUP


def _chosen(attrs: dict[str, Any] | None) -> str:
    if not attrs:
        return "(nothing)"
    name = str(attrs.get("name") or attrs.get("id") or "?")
    facts = [str(attrs["id"])] if attrs.get("id") and attrs.get("id") != name else []
    if attrs.get("creation_date"):
        facts.append(str(attrs["creation_date"])[:10])
    return _code(name) + (f" ({', '.join(facts)})" if facts else "")


def _lookup(read: DataRead) -> str:
    if read.deferred:
        now = "(known after apply)"
    else:
        now = _chosen(read.attributes)
        prev = read.previous
        if prev is not None and prev.get("id") != read.attributes.get("id"):
            now = f"{_chosen(prev)} → **{now}**"
    text = f"- {_code(str(read.address))}: {now}"
    return text + (f"  \n  _{_text(read.explanation)}_" if read.explanation else "")


def _drift_lines(plan: Plan) -> list[str]:
    lines = []
    for entry in plan.drift:
        if entry.kind == "deleted":
            lines.append(f"- {_code(str(entry.address))} was **deleted**")
            continue
        lines.append(f"- {_code(str(entry.address))} was changed")
        for d in entry.diffs:
            if d.sensitive or _is_secret(d.before) or _is_secret(d.after):
                lines.append(f"  - {_code(d.path)}: (sensitive value changed)")
            else:
                lines.append(f"  - {_code(d.path)}: {_code(_value(d.before))} → {_code(_value(d.after))}")
    return lines


def _output_lines(plan: Plan) -> list[str]:
    lines: list[str] = []
    for o in (o for o in plan.outputs if o.changed and not plan.refresh_only):
        after = "(sensitive)" if o.sensitive else _value(o.after)
        if o.before is None:
            lines.append(f"- `+` {_code(o.name)} = {_code(after)}")
        elif o.sensitive:
            what = "removed" if o.after is None else "sensitive value changed"
            lines.append(f"- `{'-' if o.after is None else '~'}` {_code(o.name)}: ({what})")
        else:
            sym = "-" if o.after is None else "~"
            lines.append(f"- `{sym}` {_code(o.name)}: {_code(_value(o.before))} → {_code(after)}")
    return lines


def _diff_lines(c: ResourceChange, names: dict[str, str]) -> list[str]:
    """The attribute diff of one change, in `diff` syntax (- old, + new) for GitHub's colours."""
    hidden = frozenset(c.sensitive_paths)
    lines: list[str] = []
    if c.action is Action.CREATE:
        for name, value in sorted((c.after or {}).items()):
            if value is UNKNOWN:
                lines.append(f"+ {name} = (known after apply)")
            elif value not in (None, [], {}):
                lines.append(f"+ {name} = {_value(value, hidden, name)}")
    elif c.action is Action.DELETE:
        for name, value in sorted((c.before or {}).items()):
            if value not in (None, [], {}):
                lines.append(f"- {name} = {_value(value, hidden, name)}")
    else:
        for d in c.diffs:
            if d.sensitive or _is_secret(d.before, hidden, d.path) or _is_secret(d.after):
                lines.append(f"~ {d.path} = (sensitive value changed)")
                continue
            note = "  # forces replacement" if d.forces_replacement and c.action is Action.REPLACE else ""
            named = isinstance(d.before, str) and isinstance(d.after, str)
            if named and (d.before in names or d.after in names):
                note += f"  # {names.get(d.before, '?')} → {names.get(d.after, '?')}"
            lines.append(f"- {d.path} = {_value(d.before, hidden, d.path)}")
            unknown = d.unknown or d.after is UNKNOWN
            after = "(known after apply)" if unknown else _value(d.after, hidden, d.path)
            lines.append(f"+ {d.path} = {after}{note}")
    lines += [f"  {line}" for line in change_lines(c)]
    return lines


def _details(c: ResourceChange, names: dict[str, str]) -> str:
    note = change_note(c)
    summary = f"{ACTION_SYMBOL[c.action]} {c.address}  {_verb(c)}" + (f": {note}" if note else "")
    body = _diff_lines(c, names) or ["(no attribute changes)"]
    return (
        f"<details><summary><code>{html.escape(summary, quote=False)}</code></summary>\n\n"
        f"{_fenced(body, 'diff')}\n\n</details>"
    )


# ---- assembly within the limit --------------------------------------------------------------------


@dataclass
class _Section:
    head: str
    items: list[str]
    note: str  # replaces the items left out: "{n}" is their number, "{see}" says how to see them

    def tail(self, n: int, see: str) -> str:
        return self.note.format(n=n, see=see)

    @property
    def size(self) -> int:
        return len(self.head) + sum(len(i) + 1 for i in self.items) + 2


class _Budget:
    """Appends parts while they fit in `limit` characters, keeping `reserve` for what follows."""

    def __init__(self, limit: int, reserve: int, see: str) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.limit = limit
        self.reserve = reserve
        self.see = see
        self.cut = False  # something was left out
        self.noted = False  # ... and a note where it was says so

    def add(self, text: str) -> bool:
        if self.size + len(text) + 1 + self.reserve > self.limit:
            self.cut = True
            return False
        self.parts.append(text)
        self.size += len(text) + 1
        return True

    def add_section(self, section: _Section, *, keep: int = 0) -> None:
        """The heading and as many items as fit, keeping `keep` characters for later sections;
        the items left out are replaced by the section's note."""
        if not section.items:
            return
        note_room = len(section.tail(len(section.items), self.see)) + 2
        self.reserve += note_room + keep
        shown = 0
        first = len(section.head) + len(section.items[0]) + 2
        headed = self.size + first + self.reserve <= self.limit and self.add(section.head)
        if headed:
            for item in section.items:
                if not self.add(item):
                    break
                shown += 1
        self.reserve -= note_room + keep
        if shown < len(section.items):
            self.cut = True  # a section left out entirely is covered by the closing note
            note = section.tail(len(section.items) - shown, self.see)
            self.noted = (headed and self.add(note)) or self.noted
        if self.parts and not self.parts[-1].endswith("\n"):
            self.add("")


def render_markdown(plan: Plan, *, limit: int = GITHUB_LIMIT, plan_file: str | None = None) -> str:
    """The plan as a pull-request comment of at most `limit` characters."""
    changes = _by_action([c for c in plan.changes if c.is_change])
    see_all = f"run `reconciler show {plan_file or 'plan.json'}` to see the full plan"
    if not plan.has_changes:
        ending = ""
    elif plan_file:
        ending = f"To apply exactly this plan: `reconciler apply {plan_file}`"
    else:
        ending = (
            "To apply exactly this plan, save it with `reconciler plan --out plan.json` "
            "and run `reconciler apply plan.json`."
        )
    cut_note = f"_This comment was shortened to fit {limit:,} characters; {see_all}._"
    labels, names = plan.labels, image_names(plan)
    table = _Section(
        "| | Resource | Action |\n|---|---|---|", _table_rows(changes), "\n_… and {n} more rows; {see}._"
    )
    facts = [  # what a reviewer needs besides the table: kept room for while the table is cut
        _Section(
            "### Rollouts\n",
            ["\n".join(_rollout_paragraph(c, labels)) + "\n" for c in changes if c.action is Action.ROLLOUT],
            "_… and {n} more rollouts; {see}._\n",
        ),
        _Section(
            "### Rollout waves\n\n| wave | fleets | instances | then |\n|---|---|---|---|",
            [*wave_rows(plan.waves), *hold_note(plan.waves), f"\n_Halting: {HALTING_RULE}._\n"]
            if plan.waves is not None
            else [],
            "_… and {n} more waves; {see}._\n",
        ),
        _Section(
            "### AMI lookups\n",
            [_lookup(r) for r in plan.data if r.explanation or _image_lookup(r.type_name)],
            "- _… and {n} more; {see}._",
        ),
        _Section("### Changed outside reconciler\n", _drift_lines(plan), "- _… and {n} more lines; {see}._"),
        _Section("### Outputs\n", _output_lines(plan), "- _… and {n} more outputs; {see}._"),
    ]
    details = _Section(
        "### Details\n",
        [_details(c, names) + "\n" for c in changes],
        "_Details of {n} more resources are not shown; {see}._\n",
    )
    budget = _Budget(limit, reserve=len(ending) + len(cut_note) + 4, see=see_all)
    budget.add(verdict(plan) + "\n")
    if plan.hazards:
        budget.add(_hazard_banner(plan.hazards))
    banner = _banner(changes, room=limit // 4)
    if banner:
        budget.add(banner)
    budget.add_section(table, keep=min(sum(f.size for f in facts), limit // 2))
    for section in [*facts, details]:
        budget.add_section(section)
    text = "\n".join(budget.parts).rstrip("\n")
    if budget.cut and not budget.noted:
        text += "\n\n" + cut_note
    if ending:
        text += "\n\n" + ending
    text += "\n"
    if len(text) > limit:  # only when the limit cannot even hold the verdict and the ending
        text = text[: max(0, limit - len(cut_note) - 3)].rstrip() + "\n\n" + cut_note + "\n"
    return text[:limit]


def render(plan: Plan, *, out: Console, plan_file: str | None = None, pretty: bool = False) -> None:
    """`--format markdown` (render.FORMATS): the comment on stdout."""
    text = render_markdown(plan, plan_file=plan_file) if plan_file else render_markdown(plan)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
