"""Resolve the stack's image lookups (aws_ami data sources) exactly as `plan` resolves them:
variables, locals and the data sources they need, read through each provider's `read_data`;
resources stay unknown. A lookup whose arguments are known only at apply, or whose read fails,
says so in its explanation instead of failing the listing.

Callers: reconciler.cli.ami (`ami list`).
"""

from __future__ import annotations

from dataclasses import dataclass
from graphlib import TopologicalSorter
from typing import TYPE_CHECKING, Any

from reconciler.address import Address

if TYPE_CHECKING:
    from reconciler.config import Stack
    from reconciler.sdk import Provider

__all__ = ["Lookup", "image_types", "resolve_lookups"]


@dataclass
class Lookup:
    """One aws_ami lookup instance of the stack, resolved as plan would resolve it."""

    address: Address
    provider_key: str
    config: dict[str, Any] | None  # None: its arguments are known only at apply
    image_id: str | None = None
    name: str = ""
    explanation: str = ""  # why this image, or why none (the lookup's own error message)
    sensitive: bool = False  # its arguments hold a sensitive value: never shown


def _needed(graph: dict[str, set[str]], roots: set[str]) -> set[str]:
    """`roots` and everything they depend on."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(graph.get(node, ()))
    return seen


def image_types() -> list[str]:
    """The data-source types that look up machine images (aws_ami)."""
    from reconciler.sdk import Mode, TypeRole
    from reconciler.sdk.registry import all_schemas

    schemas = all_schemas().items()
    return sorted(t for (mode, t), s in schemas if mode is Mode.DATA and s.role is TypeRole.IMAGE_LOOKUP)


def resolve_lookups(stack: Stack, variables: dict[str, Any], providers: dict[str, Provider]) -> list[Lookup]:
    """Every image lookup instance (aws_ami), read through its provider as plan reads it."""
    from reconciler.errors import CloudError
    from reconciler.expressions import EvalContext, evaluate
    from reconciler.graph.build import build_graph
    from reconciler.planning.instances import assemble, evaluate_instance, expand
    from reconciler.planning.planner import schema_for
    from reconciler.planning.sensitivity import SECRET_LOOKUP
    from reconciler.sdk import ReadDataRequest
    from reconciler.sensitive import REGISTRY, reveal
    from reconciler.values import UNKNOWN, contains_unknown, has_marks

    kinds = image_types()
    graph = build_graph(stack)
    needed = _needed(graph, {str(a) for a in stack.data if a.type in kinds})
    ctx = EvalContext(
        variables=dict(variables),
        resources={a: UNKNOWN for a in stack.resources},
        base_dir=stack.directory,
    )
    found: list[Lookup] = []
    for node in TopologicalSorter({n: graph[n] & needed for n in needed}).static_order():
        kind, _, name = node.partition(".")
        if kind == "local":
            ctx.locals[name] = evaluate(stack.locals[name].expr, ctx)
        elif kind == "data":
            block = stack.data[Address.parse(node)]
            values: dict[Any, Any] = {}
            for inst in expand(block, ctx):
                marked = evaluate_instance(block, inst, schema_for(block))
                config = reveal(marked, what=str(inst.address)) if not contains_unknown(marked) else marked
                lookup = Lookup(
                    inst.address,
                    block.provider_key,
                    None if contains_unknown(config) else config,
                    sensitive=has_marks(marked),
                )
                values[inst.key] = UNKNOWN
                if lookup.config is not None:
                    request = ReadDataRequest(address=inst.address, type_name=block.type_name, config=config)
                    try:
                        result = providers[block.provider_key].read_data(request)
                    except CloudError as exc:
                        if block.type_name not in kinds:
                            raise
                        lookup.explanation = REGISTRY.scrub(exc.message)
                    else:
                        values[inst.key] = result.attributes
                        lookup.image_id = str(result.attributes.get("id") or "") or None
                        lookup.name = str(result.attributes.get("name") or "")
                        lookup.explanation = SECRET_LOOKUP if lookup.sensitive else result.explanation
                else:
                    lookup.explanation = "its arguments are known only at apply"
                if block.type_name in kinds:
                    found.append(lookup)
            ctx.data[block.address] = assemble(block, values)
    return sorted(found, key=lambda lk: lk.address.sort_key())
