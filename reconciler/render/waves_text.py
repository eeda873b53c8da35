"""The rollout waves of a plan in words: the lines the human, Markdown and JSON renderings share.

`wave_lines` gives the human block (order, bake, an interrupted bake still holding a wave back,
alarms, one line per wave, the halting rule); `wave_rows` the Markdown table and `hold_note` the
line under it; `waves_document` the JSON object (`plan.waves.to_dict()` plus the
wave of each fleet). Reads a `WavePlan` only. Callers: render.human, render.markdown,
render.json_plan.
"""

from __future__ import annotations

import re
from typing import Any

from reconciler.rollout.bake import BakeHold
from reconciler.rollout.waves import HALTING_RULE, WavePlan
from reconciler.sdk.rollout_block import format_duration

__all__ = ["hold_note", "hold_text", "summary_suffix", "wave_lines", "wave_rows", "waves_document"]

_SHOWN = 4  # fleets named per wave before "and N more"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _watching(alarms: tuple[str, ...]) -> str:
    named = ", ".join(alarms)
    if not named:
        return "watching each fleet's own alarms"
    return f"watching alarm{'s' if len(alarms) > 1 else ''} {named} and each fleet's own"


def hold_text(hold: BakeHold) -> str:
    """`wave 1 bake in progress: 7m 40s left; wave 2 starts after it` (left: when planned)."""
    ends = hold.marker.to_dict()["ends_at"]
    return (
        f"wave {hold.marker.wave} bake in progress: {format_duration(hold.left_s)} left; "
        f"wave {hold.before} starts after it (an apply was interrupted during the bake; it ends "
        f"{ends}, {_watching(hold.marker.alarms)})"
    )


def _fleets(fleets: tuple[str, ...]) -> str:
    shown = ", ".join(fleets[:_SHOWN])
    return shown + (f", … and {len(fleets) - _SHOWN} more" if len(fleets) > _SHOWN else "")


def wave_lines(waves: WavePlan) -> list[str]:
    """`Waves: 3, in order; bake 10m after each but the last, watching …`, a line per wave, the rule."""
    head = f"Waves: {len(waves.waves)}, in order"
    if waves.rules.bake_s and len(waves.waves) > 1:
        head += f"; bake {waves.rules.bake_text} after each but the last, {_watching(waves.rules.alarms)}"
    lines = [head]
    if waves.hold is not None:
        lines.append(f"  {hold_text(waves.hold)}")
    for wave in waves.waves:
        resumes = f" (resumes {len(wave.resumes)})" if wave.resumes else ""
        lines.append(
            f"  wave {wave.number}  {_plural(len(wave.fleets), 'fleet')} "
            f"({_plural(wave.instances, 'instance')})  {_fleets(wave.fleets)}{resumes}"
        )
    lines.append(f"  halting  {HALTING_RULE}")
    return lines


def wave_rows(waves: WavePlan) -> list[str]:
    """Markdown table rows: | wave | fleets | instances | then |."""
    rows = []
    for i, wave in enumerate(waves.waves):
        last = i == len(waves.waves) - 1
        then = "—" if last else (f"bake {waves.rules.bake_text}" if waves.rules.bake_s else "next wave")
        rows.append(
            f"| {wave.number} | {_fleets(tuple(f'`{f}`' for f in wave.fleets))} | {wave.instances} | {then} |"
        )
    return rows


def hold_note(waves: WavePlan) -> list[str]:
    """The Markdown line under the waves table when a recorded bake holds a wave back."""
    if waves.hold is None:
        return []
    text = re.sub(r"([\\`*_\[\]<>|])", r"\\\1", hold_text(waves.hold))
    return [f"\n_{text[0].upper()}{text[1:]}._"]


def summary_suffix(waves: WavePlan | None) -> str:
    """` in 3 waves` for the plan's summary line (nothing for one wave)."""
    return f" in {len(waves.waves)} waves" if waves is not None and len(waves.waves) > 1 else ""


def waves_document(waves: WavePlan) -> dict[str, Any]:
    return waves.to_dict()
