"""The parallel dependency walk used by plan and apply (stdlib graphlib + a thread pool).

`walk` runs `visit(node)` for every node after all of its dependencies succeeded, at most
`parallelism` at a time. On the first failure it starts nothing new, lets running visits finish,
and reports every failure; nodes downstream of a failure are skipped. Callers: planning.planner,
applying.executor.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter
from typing import Generic, TypeVar

N = TypeVar("N", bound=Hashable)


@dataclass
class WalkResult(Generic[N]):
    done: list[N] = field(default_factory=list)
    failures: list[tuple[N, BaseException]] = field(default_factory=list)
    skipped: list[N] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def find_cycle(graph: Mapping[N, set[N]]) -> list[N] | None:
    """A cycle as a list of nodes (first node repeated at the end), or None."""
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as err:
        ring: list[N] = list(err.args[1])[:-1]
        start = min(range(len(ring)), key=lambda i: str(ring[i]))  # stable across runs
        ring = ring[start:] + ring[:start]
        return [*ring, ring[0]]
    return None


def walk(
    graph: Mapping[N, set[N]],
    visit: Callable[[N], None],
    *,
    parallelism: int = 10,
    stop: threading.Event | None = None,
) -> WalkResult[N]:
    """Visit nodes in dependency order (graph maps node → nodes it depends on)."""
    sorter: TopologicalSorter[N] = TopologicalSorter(graph)
    sorter.prepare()
    result: WalkResult[N] = WalkResult()
    stopping = stop or threading.Event()
    running: dict[Future[None], N] = {}
    with ThreadPoolExecutor(max_workers=max(1, parallelism), thread_name_prefix="walk") as pool:
        while sorter.is_active():
            if not stopping.is_set():
                for node in sorter.get_ready():
                    running[pool.submit(visit, node)] = node
            if not running:
                break
            finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for fut in finished:
                node = running.pop(fut)
                err = fut.exception()
                if err is None:
                    result.done.append(node)
                    if not stopping.is_set():
                        sorter.done(node)
                else:
                    result.failures.append((node, err))
                    stopping.set()
    visited = set(result.done) | {n for n, _ in result.failures}
    result.skipped = [n for n in graph if n not in visited]
    return result
