"""Decode generic blocks into the typed model: resource/data meta-arguments, lifecycle, literals.

Callers: config.loader. Every problem is appended to a diagnostics list; nothing raises.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from reconciler.address import Address, Mode
from reconciler.config.model import Attribute, Body, Lifecycle, NestedBlock, ResourceBlock
from reconciler.errors import ConfigError, Diagnostic, SourcePos
from reconciler.expressions import (
    EvalContext,
    Expr,
    GetAttr,
    Literal,
    Reference,
    RefKind,
    Template,
    TupleExpr,
    Variable,
    evaluate,
    suggest,
    traversal_parts,
)
from reconciler.sdk import provider_for_type
from reconciler.values import UNKNOWN

META_ARGUMENTS = ("count", "for_each", "depends_on", "provider")
LIFECYCLE_ARGUMENTS = ("prevent_destroy", "create_before_destroy", "ignore_changes")

_MISSING = object()


class Diags(list[Diagnostic]):
    """A diagnostics list with a shorthand for adding errors."""

    def add(
        self,
        summary: str,
        pos: SourcePos | None,
        *,
        detail: str = "",
        context: str = "",
        suggestion: str | None = None,
    ) -> None:
        self.append(Diagnostic(summary, pos, detail=detail, context=context, suggestion=suggestion))


def literal(expr: Expr, diags: Diags, *, what: str, context: str = "") -> Any:
    """Evaluate an expression that must not refer to anything; _MISSING on error."""
    if expr.references():
        diags.add(
            f"Invalid value for {what}: it must be a literal value",
            expr.pos,
            detail="References to variables, locals, resources or data sources are not allowed here.",
            context=context,
        )
        return _MISSING
    try:
        value = evaluate(expr, EvalContext())
    except ConfigError as exc:
        diags.extend(exc.diagnostics)
        return _MISSING
    return value


def literal_of(
    attr: Attribute | None, types: type | tuple[type, ...], default: Any, diags: Diags, *, context: str = ""
) -> Any:
    """A literal attribute value of the given Python type(s), or `default` if absent/invalid."""
    if attr is None:
        return default
    value = literal(attr.expr, diags, what=f'"{attr.name}"', context=context)
    if value is _MISSING:
        return default
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in _as_tuple(types)):
        want = " or ".join(t.__name__ for t in _as_tuple(types)).replace("str", "string")
        diags.add(f'Invalid value for "{attr.name}": a {want} is required', attr.pos, context=context)
        return default
    return value


def _as_tuple(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


def check_names(
    body: Body,
    *,
    allowed_attrs: Iterable[str],
    allowed_blocks: Iterable[str] = (),
    diags: Diags,
    context: str,
) -> None:
    """'Unsupported argument' / 'Unsupported block type' for names outside the allowed sets."""
    attrs, blocks = list(allowed_attrs), list(allowed_blocks)
    for attr in body.attributes.values():
        if attr.name not in attrs:
            diags.add(
                f'Unsupported argument "{attr.name}"',
                attr.pos,
                context=context,
                suggestion=suggest(attr.name, attrs),
            )
    for block in body.blocks:
        if block.type not in blocks:
            diags.add(
                f'Unsupported block type "{block.type}"',
                block.pos,
                context=context,
                suggestion=suggest(block.type, blocks),
            )


def reference_of(expr: Expr) -> Reference | None:
    static = traversal_parts(expr)
    if static is None:
        return None
    return Reference(static[1], expr.pos)


def depends_on_list(attr: Attribute | None, diags: Diags, *, context: str) -> list[Reference]:
    if attr is None:
        return []
    if not isinstance(attr.expr, TupleExpr):
        diags.add(
            'Invalid "depends_on": a list of resource or data source references is required',
            attr.pos,
            context=context,
        )
        return []
    out: list[Reference] = []
    for item in attr.expr.items:
        ref = reference_of(item)
        if ref is None or ref.kind not in (RefKind.RESOURCE, RefKind.DATA) or ref.target_address() is None:
            diags.add(
                "Invalid depends_on reference",
                item.pos,
                context=context,
                detail="Only resources and data sources (TYPE.NAME or data.TYPE.NAME) may be listed.",
            )
            continue
        out.append(ref)
    return out


def provider_key(attr: Attribute | None, diags: Diags, *, context: str, type_name: str) -> str:
    """The provider configuration a block names (`aws`, `aws.eu`); its type's provider when none."""
    if attr is None:
        return provider_for_type(type_name)
    expr = attr.expr
    if isinstance(expr, Variable):
        return expr.name
    if isinstance(expr, GetAttr) and isinstance(expr.obj, Variable):
        return f"{expr.obj.name}.{expr.attr}"
    diags.add(
        'Invalid "provider": expected a provider reference such as aws or aws.eu', attr.pos, context=context
    )
    return provider_for_type(type_name)


def lifecycle_of(blocks: list[NestedBlock], diags: Diags, *, context: str) -> Lifecycle:
    if not blocks:
        return Lifecycle()
    for extra in blocks[1:]:
        diags.add('Duplicate "lifecycle" block', extra.pos, context=context)
    body = blocks[0].body
    check_names(body, allowed_attrs=LIFECYCLE_ARGUMENTS, diags=diags, context=context)
    attrs = body.attributes
    ignore: list[str] = []
    positions: list[SourcePos] = []
    ic = attrs.get("ignore_changes")
    if ic is not None:
        if isinstance(ic.expr, Variable) and ic.expr.name == "all":
            ignore, positions = ["all"], [ic.expr.pos]
        elif isinstance(ic.expr, TupleExpr):
            for item in ic.expr.items:
                name = _ignore_name(item)
                if name is None:
                    diags.add(
                        "Invalid ignore_changes entry: expected an attribute name", item.pos, context=context
                    )
                else:
                    ignore.append(name)
                    positions.append(item.pos)
        else:
            diags.add(
                'Invalid "ignore_changes": a list of attribute names (or all) is required',
                ic.pos,
                context=context,
            )
    return Lifecycle(
        prevent_destroy=literal_of(attrs.get("prevent_destroy"), bool, False, diags, context=context),
        create_before_destroy=literal_of(
            attrs.get("create_before_destroy"), bool, False, diags, context=context
        ),
        ignore_changes=tuple(ignore),
        ignore_positions=tuple(positions),
    )


def _ignore_name(item: Expr) -> str | None:
    if isinstance(item, Literal) and isinstance(item.value, str):
        return item.value
    if isinstance(item, Template):
        return None
    ref = reference_of(item)
    return ".".join(str(p) for p in ref.parts) if ref is not None else None


def resource_block(block: NestedBlock, mode: Mode, diags: Diags) -> ResourceBlock:
    """A resource or data block (labels already checked) with its meta-arguments split off."""
    type_name, name = block.labels[0], block.labels[1]
    kind = "data" if mode is Mode.DATA else "resource"
    context = f'in {kind} "{type_name}" "{name}"'
    attrs = dict(block.body.attributes)
    meta = {k: attrs.pop(k) for k in META_ARGUMENTS if k in attrs}
    lifecycle_blocks = block.body.blocks_of("lifecycle")
    if mode is Mode.DATA:
        for lb in lifecycle_blocks:
            diags.add(
                'Unsupported block type "lifecycle"',
                lb.pos,
                context=context,
                detail="Data sources have no lifecycle.",
            )
        lifecycle_blocks = []
    others = [b for b in block.body.blocks if b.type != "lifecycle"]
    count, for_each = meta.get("count"), meta.get("for_each")
    if count is not None and for_each is not None:
        diags.add(
            'Invalid combination of "count" and "for_each"',
            for_each.pos,
            context=context,
            detail='A block may use "count" or "for_each", not both.',
        )
    body = Body(attrs, others, block.body.pos)
    return ResourceBlock(
        address=Address(type_name, name, None, mode),
        mode=mode,
        type_name=type_name,
        name=name,
        body=body,
        pos=block.pos,
        count=count.expr if count is not None else None,
        for_each=for_each.expr if for_each is not None else None,
        depends_on=depends_on_list(meta.get("depends_on"), diags, context=context),
        provider_key=provider_key(meta.get("provider"), diags, context=context, type_name=type_name),
        lifecycle=lifecycle_of(lifecycle_blocks, diags, context=context),
    )


def is_missing(value: Any) -> bool:
    return value is _MISSING or value is UNKNOWN
