"""The words of a fleet's rollout and cleanup, shared by every renderer: the strategy's label,
the duration, the reviewer's lines under the change, and the note beside it.

Pure formatting of the typed payloads (reconciler.rollout.change); byte for byte what plans have
always shown. Callers: render.human, render.markdown, render.tfplan (the extension).
"""

from __future__ import annotations

from reconciler.planning.model import ResourceChange
from reconciler.rollout.change import CleanupChange, RolloutChange
from reconciler.rollout.model import RolloutPlan
from reconciler.sdk import Release, StrategyName
from reconciler.sdk.rollout_block import format_duration

__all__ = ["change_lines", "change_note", "cleanup_lines", "duration_text", "rollout_lines", "strategy_label"]


def strategy_label(name: StrategyName) -> str:
    """ "blue/green" for blue_green."""
    return name.value.replace("_", "/")


def duration_text(plan: RolloutPlan) -> str:
    """ "at least 5m 0s" (and the worst case when health timeouts add to it)."""
    text = f"at least {format_duration(plan.min_duration_s)}"
    if plan.max_duration_s > plan.min_duration_s:
        text += f", at most {format_duration(plan.max_duration_s)}"
    return text


def _release(release: Release) -> str:
    version = release.launch_template_version
    return f"{release.image_name}" + (f", v{version}" if version else "")


def rollout_lines(rollout: RolloutChange) -> list[str]:
    """The lines under a ROLLOUT change: strategy, groups, steps, duration, gates, rollback."""
    plan, resume = rollout.plan, rollout.resume
    old, new = plan.old, plan.new
    if plan.green_group:
        group = (
            f"{plan.group} ({plan.total_instances} instances, {_release(old)}) → "
            f"{plan.green_group} ({plan.desired} instances, {_release(new)})"
        )
    else:
        moved = f"{_release(old)} → {_release(new)}"
        group = f"{plan.group} ({plan.total_instances} instances): {moved}, in place"
    lines = [f"strategy  {strategy_label(plan.strategy)}: {plan.summary}", f"group     {group}"]
    if old.instance_type and new.instance_type and old.instance_type != new.instance_type:
        lines.append(f"type      {old.instance_type} → {new.instance_type}")
    for n, text in enumerate(plan.outline(), 1):
        lines.append(("steps" if n == 1 else "").ljust(10) + f"{n}. {text}")
    replaced = f"{plan.replace_count} of {plan.total_instances} instances"
    lines.append(f"replaces  {replaced}, {duration_text(plan)}")
    if plan.health_gates:
        lines.append(f"gates     {', '.join(plan.health_gates)}")
    lines.append(f"rollback  {plan.rollback}" + ("" if plan.auto_rollback else " (auto_rollback off)"))
    for note in plan.notes:
        lines.append(f"note      {note}")
    if resume is not None:
        lines.insert(
            0, f"resume    {resume.phase.value} at step {resume.step_index + 1} of {len(plan.steps)}"
        )
    return lines


def cleanup_lines(cleanup: CleanupChange) -> list[str]:
    """The lines under a CLEANUP change: what is deleted."""
    return [f"cleanup   delete {group} ({cleanup.plan.old.image_name})" for group in cleanup.groups]


def change_lines(change: ResourceChange) -> list[str]:
    """The lines under a change: its rollout's or its cleanup's ([] for any other)."""
    if change.rollout is not None:
        return rollout_lines(change.rollout)
    if change.cleanup is not None:
        return cleanup_lines(change.cleanup)
    return []


def change_note(change: ResourceChange) -> str:
    """The one line beside a change: the provider's note, or what a rollout or cleanup does."""
    if change.rollout is not None:
        label = strategy_label(change.rollout.plan.strategy)
        return f"resume the unfinished {label} rollout" if change.rollout.resume is not None else label
    if change.cleanup is not None and change.cleanup.groups:
        keep = format_duration(change.cleanup.plan.keep_previous_s)
        return f"delete {change.cleanup.groups[0]}, kept {keep} for rollback after the last rollout"
    return change.note
