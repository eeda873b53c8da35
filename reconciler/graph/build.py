"""The block dependency graph of a stack: which variables, locals, data sources, resources and
outputs each block needs first.

Nodes are text ids: `var.NAME`, `local.NAME`, `data.TYPE.NAME`, `TYPE.NAME`, `output.NAME`. Edges
come from references and `depends_on`. A cycle becomes a diagnostic that prints the cycle.
Callers: planning.planner (block walk), applying.executor (instance walk), cli validate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler.errors import ConfigError, Diagnostic
from reconciler.expressions import Reference, RefKind
from reconciler.graph.walk import find_cycle

if TYPE_CHECKING:
    from reconciler.config import Stack

Graph = dict[str, set[str]]


def node_for(ref: Reference) -> str | None:
    """The graph node a reference points at, or None for count/each/path."""
    if ref.kind is RefKind.VAR:
        return f"var.{ref.parts[1]}"
    if ref.kind is RefKind.LOCAL:
        return f"local.{ref.parts[1]}"
    if ref.kind in (RefKind.DATA, RefKind.RESOURCE):
        target = ref.target_address()
        return str(target) if target is not None else None
    return None


def _deps(refs: list[Reference], known: set[str]) -> set[str]:
    out = set()
    for ref in refs:
        node = node_for(ref)
        if node is not None and node in known:
            out.add(node)
    return out


def build_graph(stack: Stack) -> Graph:
    """Block-level graph; raises ConfigError naming the cycle if there is one."""
    nodes: set[str] = {f"var.{n}" for n in stack.variables}
    nodes |= {f"local.{n}" for n in stack.locals}
    nodes |= {str(a) for a in stack.data} | {str(a) for a in stack.resources}
    nodes |= {f"output.{n}" for n in stack.outputs}
    graph: Graph = {n: set() for n in nodes}
    for name, attr in stack.locals.items():
        graph[f"local.{name}"] = _deps(attr.expr.references(), nodes)
    for blocks in (stack.data, stack.resources):
        for addr, block in blocks.items():
            graph[str(addr)] = _deps(block.references() + list(block.depends_on), nodes)
    for name, out in stack.outputs.items():
        refs = out.value.references() + list(getattr(out, "depends_on", []) or [])
        graph[f"output.{name}"] = _deps(refs, nodes)
    cycle = find_cycle(graph)
    if cycle:
        first = cycle[0]
        pos = _pos_of(stack, first)
        raise ConfigError(
            [
                Diagnostic(
                    summary="Cycle: " + " → ".join(cycle),
                    pos=pos,
                    detail="These blocks refer to each other, so none of them can be evaluated first.",
                )
            ]
        )
    return graph


def _pos_of(stack: Stack, node: str):  # type: ignore[no-untyped-def]
    kind, _, name = node.partition(".")
    if kind == "var" and name in stack.variables:
        return stack.variables[name].pos
    if kind == "local" and name in stack.locals:
        return stack.locals[name].pos
    if kind == "output" and name in stack.outputs:
        return stack.outputs[name].pos
    for blocks in (stack.data, stack.resources):
        for addr, block in blocks.items():
            if str(addr) == node:
                return block.pos
    return None


def dependents_closure(graph: Graph, roots: set[str]) -> set[str]:
    """`roots` plus everything they depend on, transitively (what --target must include)."""
    out: set[str] = set()
    todo = list(roots)
    while todo:
        n = todo.pop()
        if n in out:
            continue
        out.add(n)
        todo.extend(graph.get(n, ()))
    return out
