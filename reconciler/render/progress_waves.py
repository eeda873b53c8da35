"""The live rollout display when the fleets do not fit a screen: one row per wave.

Counts are taken from the last event of each fleet (no cloud call): fleets done / rolling / rolled
back or failed, instances on the new and on the old image, healthy, and the first detail of a
fleet that is waiting on something. Pure. Callers: render.progress.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.table import Table

from reconciler.rollout.model import Phase
from reconciler.rollout.report import RolloutEvent

__all__ = ["wave_table"]

_DONE = (Phase.COMPLETE,)
_BACK = (Phase.ROLLING_BACK, Phase.ROLLED_BACK, Phase.FAILED)


def wave_table(rows: Mapping[str, RolloutEvent]) -> Table:
    table = Table(title="Rollouts by wave", show_edge=False, expand=False)
    for col in ("wave", "fleets", "done", "rolling", "back/failed", "new", "old", "healthy", "now"):
        table.add_column(col, no_wrap=col != "now")
    waves: dict[int, list[tuple[str, RolloutEvent]]] = {}
    for address, event in rows.items():
        waves.setdefault(event.wave, []).append((address, event))
    for number in sorted(waves):
        events = sorted(waves[number])
        done = sum(e.phase in _DONE for _, e in events)
        back = sum(e.phase in _BACK for _, e in events)
        waiting = next((f"{a}: {e.detail}" for a, e in events if e.detail and e.phase not in _DONE), "")
        table.add_row(
            str(number or 1),
            str(len(events)),
            str(done),
            str(len(events) - done - back),
            str(back),
            str(sum(e.new for _, e in events)),
            str(sum(e.old for _, e in events)),
            str(sum(e.healthy for _, e in events)),
            waiting,
        )
    return table
