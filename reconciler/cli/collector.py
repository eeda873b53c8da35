"""The cyclic garbage collector, paused while a command loads and plans.

Loading and planning build a large, long-lived object graph (the parsed stack, state, every
answer of the cloud) and free almost nothing that reference counting does not free by itself;
CPython's cyclic collector nevertheless walks all of it again and again as it grows (a fifth of
the CPU of a 1,000-fleet no-change plan, measured with benchmarks/plan_scale.py). The pause is
bounded by the command's own planning work; `resume` turns the collector back on before an apply,
whose rollouts may run for hours and must not grow. Imports only the standard library.
Callers: reconciler.cli.plan.
"""

from __future__ import annotations

import gc
from types import TracebackType


class CollectorPaused:
    """`with CollectorPaused() as collector:` … `collector.resume()`: the collector is back on at
    `resume` or at the end of the block (also on an error), if it was on at the start."""

    def __init__(self) -> None:
        self._was_enabled = False
        self._paused = False

    def __enter__(self) -> CollectorPaused:
        self._was_enabled = gc.isenabled()
        if self._was_enabled:
            gc.disable()
            self._paused = True
        return self

    def resume(self) -> None:
        if self._paused:
            self._paused = False
            gc.enable()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.resume()
