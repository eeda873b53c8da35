"""The parallel walk: dependency order, bounded parallelism, stop on failure, cycles reported."""

import threading
import time

from reconciler.graph.walk import find_cycle, walk


def test_visits_dependencies_first():
    graph = {"a": set(), "b": {"a"}, "c": {"a"}, "d": {"b", "c"}}
    order: list[str] = []
    lock = threading.Lock()

    def visit(n: str) -> None:
        with lock:
            order.append(n)

    result = walk(graph, visit, parallelism=4)
    assert result.ok and sorted(result.done) == ["a", "b", "c", "d"]
    assert order.index("a") < order.index("b") < order.index("d")
    assert order.index("c") < order.index("d")


def test_independent_nodes_run_in_parallel_up_to_the_limit():
    graph = {str(i): set() for i in range(6)}
    active = 0
    peak = 0
    lock = threading.Lock()

    def visit(_: str) -> None:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.05)
        with lock:
            active -= 1

    walk(graph, visit, parallelism=3)
    assert peak == 3


def test_failure_stops_new_work_and_skips_dependents():
    graph = {"a": set(), "b": {"a"}, "c": {"b"}, "x": set()}

    def visit(n: str) -> None:
        if n == "b":
            raise RuntimeError("boom")

    result = walk(graph, visit, parallelism=1)
    assert [n for n, _ in result.failures] == ["b"]
    assert "c" in result.skipped


def test_cycle_is_reported_with_its_members():
    cycle = find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}})
    assert cycle is not None and set(cycle) == {"a", "b", "c"} and cycle[0] == cycle[-1]
    assert find_cycle({"a": set(), "b": {"a"}}) is None
