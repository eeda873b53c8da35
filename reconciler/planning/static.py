"""Static validation: evaluate every block with all cloud values unknown, before any cloud call.

Wrong types, bad references inside expressions, invalid function arguments and schema validator
errors (an invalid version specifier, say) are found here and reported together, so an invalid
configuration never reaches the cloud. Callers: session.load (every command), cli validate.
"""

from __future__ import annotations

from collections.abc import Mapping
from graphlib import TopologicalSorter
from typing import TYPE_CHECKING, Any

from reconciler.address import Address, Mode
from reconciler.config import evaluate_body, validate_arguments
from reconciler.errors import ConfigError, Diagnostic
from reconciler.expressions import EvalContext, Expr, evaluate
from reconciler.expressions.coerce import show
from reconciler.expressions.limits import value_exceeds_depth, value_too_deep
from reconciler.planning.instances import for_each_items, for_each_value
from reconciler.planning.names import Claim, claim_of, duplicate_claims
from reconciler.planning.sensitivity import check_output
from reconciler.sdk.registry import all_schemas
from reconciler.values import UNKNOWN, contains_unknown, remark, unmark

if TYPE_CHECKING:
    from reconciler.config import ResourceBlock, Stack


def validate_statically(
    stack: Stack,
    variables: Mapping[str, Any],
    graph: dict[str, set[str]],
    *,
    scopes: Mapping[str, str] | None = None,
) -> None:
    """Raise ConfigError with every problem that can be found without the cloud.

    `scopes` (provider key → cloud name space, see planning.names) lets two provider
    configurations of one region and account share a name space; by default each is its own.
    """
    ctx = EvalContext(
        variables=dict(variables),
        locals={},
        base_dir=stack.directory,
        data={a: UNKNOWN for a in stack.data},
        resources={a: UNKNOWN for a in stack.resources},
    )
    diags: list[Diagnostic] = []
    claims: list[Claim] = []
    for node in TopologicalSorter(graph).static_order():
        kind, _, name = node.partition(".")
        try:
            if kind == "local":
                ctx.locals[name] = _shallow(
                    evaluate(stack.locals[name].expr, ctx), stack.locals[name].expr, node
                )
            elif kind == "output":
                output = stack.outputs[name]
                check_output(output, _shallow(evaluate(output.value, ctx), output.value, node))
            elif kind != "var":
                block = stack.block_at(_addr(node))
                if block is not None:
                    scope = (scopes or {}).get(
                        block.provider_key, f"the region of provider {block.provider_key}"
                    )
                    diags.extend(_check_block(block, ctx, scope=scope, claims=claims))
        except ConfigError as err:
            diags.extend(err.diagnostics)
            if kind == "local":
                ctx.locals[name] = UNKNOWN
    claims.sort(key=lambda c: (str(c.pos.file), c.pos.line, c.address) if c.pos else ("", 0, c.address))
    diags.extend(duplicate_claims(claims))
    if diags:
        raise ConfigError(_dedupe(diags))


def _shallow(value: Any, expr: Expr, what: str) -> Any:
    """`value`, unless it nests deeper than the value limit (e.g. locals built from locals)."""
    if value_exceeds_depth(value):
        raise ConfigError([value_too_deep(expr.pos, what)])
    return value


def _addr(node: str) -> Address:
    return Address.parse(node)


# Every instance of a block is evaluated (for its errors and the cloud names it claims) up to this
# many; beyond, one is, and duplicate names are left to the check before each create at apply.
MAX_CHECKED_INSTANCES = 1000


def _check_block(
    block: ResourceBlock, ctx: EvalContext, *, scope: str, claims: list[Claim]
) -> list[Diagnostic]:
    """The block's problems, every instance evaluated; appends the cloud names it claims."""
    schema = all_schemas().get((block.mode, block.type_name))
    if schema is None:
        return []  # the loader already reported the unknown type
    # (the instance's address, None while its key is unknown; its context)
    contexts: list[tuple[Address | None, EvalContext]] = [(block.address, ctx)]
    if block.count is not None:
        n, n_marked = unmark(evaluate(block.count, ctx))
        if n is not UNKNOWN and (isinstance(n, bool) or not isinstance(n, int) or n < 0):
            return [
                Diagnostic(
                    summary="Invalid count argument",
                    pos=block.count.pos,
                    context=block.context,
                    detail=f"count must be a whole number of at least 0, got {show(remark(n, n_marked))}.",
                )
            ]
        if isinstance(n, int) and n <= MAX_CHECKED_INSTANCES:
            contexts = [(block.address.with_key(i), ctx.with_instance(count_index=i)) for i in range(n)]
        else:  # instances unknown (or very many): check one, claim nothing
            contexts = [(None, ctx.with_instance(count_index=0))] if n != 0 else []
    elif block.for_each is not None:
        try:
            value = for_each_value(block, evaluate(block.for_each, ctx))
        except ConfigError as err:
            return list(err.diagnostics)
        if contains_unknown(value):
            unknown: Any = UNKNOWN
            contexts = [(None, ctx.with_instance(each_key=unknown, each_value=unknown))]
        else:
            try:
                items = for_each_items(value)
            except ValueError as exc:
                return [
                    Diagnostic(
                        summary="Invalid for_each argument",
                        pos=block.for_each.pos,
                        context=block.context,
                        detail=str(exc),
                    )
                ]
            contexts = [
                (block.address.with_key(k), ctx.with_instance(each_key=k, each_value=v)) for k, v in items
            ]
            if len(contexts) > MAX_CHECKED_INSTANCES:
                contexts = [(None, contexts[0][1])]
    diags: list[Diagnostic] = []
    name_attr = block.body.attributes.get(schema.cloud_name or "")
    for address, inst_ctx in contexts:
        try:
            values = evaluate_body(block.body, inst_ctx)
        except ConfigError as err:
            diags.extend(err.diagnostics)
            continue
        deep = [n for n, v in values.items() if n in block.body.attributes and value_exceeds_depth(v)]
        if deep:
            diags += [value_too_deep(block.body.attributes[n].pos, f'argument "{n}"') for n in deep]
            continue
        checked, found = validate_arguments(schema, values, block.body, context=block.context)
        diags.extend(found)
        if not found and address is not None and block.mode is Mode.MANAGED:
            claim = claim_of(
                schema=schema,
                values=checked,
                address=str(address),
                scope=scope,
                pos=name_attr.pos if name_attr is not None else block.pos,
                context=block.context,
            )
            if claim is not None:
                claims.append(claim)
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
