"""Static validation: evaluate every block with all cloud values unknown, before any cloud call.

Wrong types, bad references inside expressions, invalid function arguments and schema validator
errors (an invalid version specifier, say) are found here and reported together, so an invalid
configuration never reaches the cloud. Callers: session.load (every command), cli validate.
"""

from __future__ import annotations

from collections.abc import Mapping
from graphlib import TopologicalSorter
from typing import TYPE_CHECKING, Any

from providers.registry import all_schemas
from reconciler.config import evaluate_body, validate_arguments
from reconciler.errors import ConfigError, Diagnostic
from reconciler.expressions import EvalContext, evaluate
from reconciler.planning.instances import for_each_value
from reconciler.planning.sensitivity import check_output
from reconciler.values import SHOWN, UNKNOWN, contains_unknown, unmark

if TYPE_CHECKING:
    from reconciler.config import ResourceBlock, Stack


def validate_statically(stack: Stack, variables: Mapping[str, Any], graph: dict[str, set[str]]) -> None:
    """Raise ConfigError with every problem that can be found without the cloud."""
    ctx = EvalContext(
        variables=dict(variables),
        locals={},
        base_dir=stack.directory,
        data={a: UNKNOWN for a in stack.data},
        resources={a: UNKNOWN for a in stack.resources},
    )
    diags: list[Diagnostic] = []
    for node in TopologicalSorter(graph).static_order():
        kind, _, name = node.partition(".")
        try:
            if kind == "local":
                ctx.locals[name] = evaluate(stack.locals[name].expr, ctx)
            elif kind == "output":
                check_output(stack.outputs[name], evaluate(stack.outputs[name].value, ctx))
            elif kind != "var":
                block = stack.block_at(_addr(node))
                if block is not None:
                    diags.extend(_check_block(block, ctx))
        except ConfigError as err:
            diags.extend(err.diagnostics)
            if kind == "local":
                ctx.locals[name] = UNKNOWN
    if diags:
        raise ConfigError(_dedupe(diags))


def _addr(node: str):  # type: ignore[no-untyped-def]
    from reconciler.address import Address

    return Address.parse(node)


def _check_block(block: ResourceBlock, ctx: EvalContext) -> list[Diagnostic]:
    schema = all_schemas().get((block.mode, block.type_name))
    if schema is None:
        return []  # the loader already reported the unknown type
    contexts = [ctx]
    if block.count is not None:
        n, n_marked = unmark(evaluate(block.count, ctx))
        if n is not UNKNOWN and (isinstance(n, bool) or not isinstance(n, int) or n < 0):
            return [
                Diagnostic(
                    summary="Invalid count argument",
                    pos=block.count.pos,
                    context=block.context,
                    detail="count must be a whole number of at least 0, "
                    f"got {SHOWN if n_marked else repr(n)}.",
                )
            ]
        contexts = (
            [ctx.with_instance(count_index=0)] if n is UNKNOWN or (isinstance(n, int) and n > 0) else []
        )
    elif block.for_each is not None:
        try:
            value = for_each_value(block, evaluate(block.for_each, ctx))
        except ConfigError as err:
            return list(err.diagnostics)
        if contains_unknown(value):
            contexts = [ctx.with_instance(each_key=UNKNOWN, each_value=UNKNOWN)]  # type: ignore[arg-type]
        elif isinstance(value, dict):
            contexts = [ctx.with_instance(each_key=str(k), each_value=v) for k, v in value.items()]
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            contexts = [ctx.with_instance(each_key=v, each_value=v) for v in value]
        else:
            return [
                Diagnostic(
                    summary="Invalid for_each argument",
                    pos=block.for_each.pos,
                    context=block.context,
                    detail="for_each needs a map, or a set of strings (use toset([...])).",
                )
            ]
    diags: list[Diagnostic] = []
    for inst_ctx in contexts:
        try:
            values = evaluate_body(block.body, inst_ctx)
        except ConfigError as err:
            diags.extend(err.diagnostics)
            continue
        _, found = validate_arguments(schema, values, block.body, context=block.context)
        diags.extend(found)
    return diags


def _dedupe(diags: list[Diagnostic]) -> list[Diagnostic]:
    seen = set()
    out = []
    for d in diags:
        key = (d.summary, d.pos)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out
