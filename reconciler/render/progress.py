"""Progress of an apply: plain lines without a terminal, a live table of rollouts on one.

On a terminal, each fleet being rolled out gets a row (phase, step, instances new/old/healthy,
time waited) that rich redraws in place, or, when the fleets do not fit the screen, each wave
does (render.progress_waves); every other event still prints as a line above it.
Without a terminal (CI logs) every event is one plain line. Callers: cli.plan (apply).
"""

from __future__ import annotations

import threading
from types import TracebackType

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from reconciler.render.progress_waves import wave_table
from reconciler.rollout.numbering import phase_words
from reconciler.rollout.report import RolloutEvent


class ApplyProgress:
    """Sink for executor events; a context manager that owns the live display, if any."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.live_mode = console.is_terminal
        self.rows: dict[str, RolloutEvent] = {}
        self.lock = threading.Lock()
        self.live: Live | None = None

    def __enter__(self) -> ApplyProgress:
        if self.live_mode:
            self.live = Live(self._table(), console=self.console, refresh_per_second=4, transient=False)
            self.live.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.live is not None:
            self.live.update(self._table())
            self.live.__exit__(kind, err, tb)

    def line(self, address: str, message: str) -> None:
        with self.lock:
            self.console.print(Text(f"{address}: {message}"))

    def rollout(self, address: str, event: RolloutEvent, text: str) -> None:
        with self.lock:
            if self.live is None:
                self.console.print(Text(f"{address}: {text}"))
                return
            self.rows[address] = event
            self.live.update(self._table())

    def _table(self) -> Table:
        if len(self.rows) > max(5, self.console.size.height - 8):  # more fleets than fit: per wave
            return wave_table(self.rows)
        table = Table(title="Rollouts" if self.rows else None, show_edge=False, expand=False)
        for col in ("fleet", "phase", "step", "new", "old", "healthy", "waited", "now"):
            table.add_column(col, no_wrap=col != "now")
        for address, e in sorted(self.rows.items()):
            table.add_row(
                address,
                phase_words(e.phase),
                f"{e.step}/{e.total}",
                str(e.new),
                str(e.old),
                str(e.healthy),
                f"{e.waited_s:.0f}s",
                e.description,
            )
        return table
