"""`dynamic "NAME" { for_each, iterator, labels, content { ... } }` blocks, as in Terraform.

A dynamic block stands for one NAME block per element of `for_each`; inside `content`, the
iterator (default: NAME) has `.key` (map key or list index) and `.value`. This module gives
the references a dynamic block makes (the iterator is not a reference to anything), its static
checks against the nested block's schema, and its expansion when a body is evaluated. With an
unknown `for_each` the blocks are UNKNOWN, but the content is still evaluated once (with an
unknown iterator) so its mistakes are reported before any cloud call. A sensitive `for_each` is
allowed, as in Terraform: each generated block (and its iterator) is marked sensitive.
Callers: config.model (Body.references), config.validate (check_body), config.arguments
(evaluate_body).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from reconciler.errors import ConfigError, Diagnostic
from reconciler.expressions import EvalContext, Reference, Variable, evaluate
from reconciler.expressions.coerce import show, type_name
from reconciler.values import UNKNOWN, contains_unknown, remark, unmark

if TYPE_CHECKING:
    from reconciler.config.model import Body, NestedBlock

DYNAMIC = "dynamic"
ARGUMENTS = ("for_each", "iterator", "labels")


def iterator_name(block: NestedBlock) -> str:
    attr = block.body.attributes.get("iterator")
    if attr is not None and isinstance(attr.expr, Variable):
        return attr.expr.name
    return block.labels[0] if block.labels else DYNAMIC


def references(block: NestedBlock) -> list[Reference]:
    """References of a dynamic block: for_each and labels, and its content minus the iterator."""
    out: list[Reference] = []
    for name in ("for_each", "labels"):
        attr = block.body.attributes.get(name)
        if attr is not None:
            out.extend(attr.expr.references())
    iterator = iterator_name(block)
    for content in block.body.blocks_of("content"):
        out.extend(r for r in content.body.references() if r.parts[0] != iterator)
    return out


def check(block: NestedBlock, *, add: Callable[..., None], context: str) -> NestedBlock | None:
    """Structural checks; the content block (to be checked as a `block.labels[0]` block) or None."""
    if len(block.labels) != 1:
        add(
            "Invalid dynamic block: it takes one label, the type of the blocks it generates",
            block.pos,
            context=context,
        )
        return None
    for attr in block.body.attributes.values():
        if attr.name not in ARGUMENTS:
            add(f'Unsupported argument "{attr.name}" in dynamic block', attr.pos, context=context)
    if "for_each" not in block.body.attributes:
        add('Missing required argument "for_each" in dynamic block', block.pos, context=context)
    iterator = block.body.attributes.get("iterator")
    if iterator is not None and not isinstance(iterator.expr, Variable):
        add("Invalid dynamic iterator: expected a bare name", iterator.pos, context=context)
    labels = block.body.attributes.get("labels")
    if labels is not None:
        add(
            f'Extraneous labels for "{block.labels[0]}" blocks',
            labels.pos,
            context=context,
            detail=f'"{block.labels[0]}" blocks take no labels.',
        )
    contents = block.body.blocks_of("content")
    for other in block.body.blocks:
        if other.type != "content":
            add(f'Unsupported block type "{other.type}" in dynamic block', other.pos, context=context)
    for extra in contents[1:]:
        add('Duplicate "content" block in dynamic block', extra.pos, context=context)
    if not contents:
        add('Missing "content" block in dynamic block', block.pos, context=context)
        return None
    return contents[0]


EvaluateBody = Callable[["Body", EvalContext, list[Diagnostic], dict[str, Any]], dict[str, Any]]


def expand(
    block: NestedBlock,
    ctx: EvalContext,
    *,
    scope: dict[str, Any],
    diags: list[Diagnostic],
    evaluate_body: EvaluateBody,
) -> list[dict[str, Any]] | Any:
    """The generated blocks' values (a list of dicts), or UNKNOWN; problems go to `diags`."""
    contents = block.body.blocks_of("content")
    for_each = block.body.attributes.get("for_each")
    if not block.labels or not contents or for_each is None:
        return []  # check() reported it
    try:
        collection, marked = unmark(evaluate(for_each.expr, ctx, scope))
    except ConfigError as exc:
        diags.extend(exc.diagnostics)
        return UNKNOWN
    iterator = iterator_name(block)
    if contains_unknown(collection):
        evaluate_body(contents[0].body, ctx, diags, {**scope, iterator: {"key": UNKNOWN, "value": UNKNOWN}})
        return UNKNOWN
    if isinstance(collection, dict):
        pairs: list[tuple[Any, Any]] = [(k, collection[k]) for k in sorted(collection)]
    elif isinstance(collection, list | tuple):
        pairs = list(enumerate(collection))
    else:
        shown = show(remark(collection, marked))
        what = "a null value" if collection is None else f"a {type_name(collection)} value ({shown})"
        diags.append(
            Diagnostic(
                "Invalid dynamic for_each value",
                for_each.pos,
                detail=f"Cannot use {what} in for_each: a map, list or set is required.",
            )
        )
        return []
    return [
        remark(
            evaluate_body(
                contents[0].body,
                ctx,
                diags,
                {**scope, iterator: {"key": remark(key, marked), "value": remark(value, marked)}},
            ),
            marked,
        )
        for key, value in pairs
    ]
