"""Expanding a block into its instances (count / for_each) and evaluating one instance's arguments.

Shared by the planner (with UNKNOWNs) and the apply executor (with everything known). A sensitive
`count` is used as a number; a sensitive `for_each` (or a set with a sensitive element) is refused,
as in Terraform, since its keys become instance addresses; a map's sensitive values are fine and
reach `each.value` marked. Callers: planning.planner, planning.static, applying.executor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reconciler.address import Address, InstanceKey
from reconciler.errors import ConfigError, Diagnostic
from reconciler.expressions import EvalContext, evaluate
from reconciler.expressions.coerce import HclSet, show, type_name
from reconciler.sdk import ResourceSchema
from reconciler.values import SHOWN, UNKNOWN, contains_unknown, has_marks, unmark

if TYPE_CHECKING:
    from reconciler.config import ResourceBlock


@dataclass(frozen=True)
class Instance:
    address: Address
    key: InstanceKey
    ctx: EvalContext


def _context(block: ResourceBlock) -> str:
    kind = "data" if block.mode.value == "data" else "resource"
    return f'in {kind} "{block.type_name}" "{block.name}"'


def expand(block: ResourceBlock, ctx: EvalContext) -> list[Instance]:
    """The instances of a block; count and for_each must be known while planning."""
    if block.count is not None:
        n, n_marked = unmark(evaluate(block.count, ctx))
        if n is UNKNOWN:
            raise _err(
                block,
                block.count.pos,
                "Invalid count argument",
                "The count value depends on resource attributes that cannot be determined until apply.",
            )
        if isinstance(n, bool) or not isinstance(n, int | float) or n < 0 or int(n) != n:
            raise _err(
                block,
                block.count.pos,
                "Invalid count argument",
                f"count must be a whole number of at least 0, got {SHOWN if n_marked else repr(n)}.",
            )
        return [
            Instance(block.address.with_key(i), i, ctx.with_instance(count_index=i)) for i in range(int(n))
        ]
    if block.for_each is not None:
        value = for_each_value(block, evaluate(block.for_each, ctx))
        if contains_unknown(value):
            raise _err(
                block,
                block.for_each.pos,
                "Invalid for_each argument",
                "The for_each value depends on resource attributes that cannot be determined until apply.",
            )
        try:
            items = for_each_items(value)
        except ValueError as exc:
            raise _err(block, block.for_each.pos, "Invalid for_each argument", str(exc)) from None
        return [
            Instance(block.address.with_key(k), k, ctx.with_instance(each_key=k, each_value=v))
            for k, v in sorted(items)
        ]
    return [Instance(block.address, None, ctx)]


def for_each_items(value: Any) -> list[tuple[str, Any]]:
    """The (each.key, each.value) pairs of a known for_each value: a map, or a set of strings.

    Like Terraform, a list is refused even without duplicates (its order and duplicates have no
    meaning as instance keys); ValueError with the user-facing reason otherwise.
    """
    if isinstance(value, dict):
        return [(str(k), v) for k, v in value.items()]
    if isinstance(value, HclSet) and all(isinstance(v, str) for v in value):
        return [(v, v) for v in value]
    got = f"a {type_name(value)}" if value is not None else "null"
    if isinstance(value, HclSet):
        kinds = sorted({type_name(v) for v in value})
        got = f"a set of {' and '.join(kinds)}"
    reason = f'The "for_each" argument must be a map, or a set of strings, and you have provided {got}.'
    if isinstance(value, list) and not isinstance(value, HclSet):
        reason += " Convert it with toset([...]), or build a map with a for expression."
        dupes = [v for i, v in enumerate(value) if isinstance(v, str) and v in value[:i]]
        if dupes:
            reason += f" This list names {show(dupes[0])} more than once."
    raise ValueError(reason)


def for_each_value(block: ResourceBlock, value: Any) -> Any:
    """A for_each value that holds no sensitive key (a map's values may be sensitive)."""
    assert block.for_each is not None
    inner, marked = unmark(value)
    if marked or (isinstance(inner, list | tuple) and has_marks(inner)):
        raise _err(
            block,
            block.for_each.pos,
            "Invalid for_each argument",
            "Sensitive values, or values derived from sensitive values, cannot be used as for_each "
            "arguments: the keys would show the sensitive value in every instance address.",
        )
    return inner


def _err(block: ResourceBlock, pos: Any, summary: str, detail: str) -> ConfigError:
    return ConfigError([Diagnostic(summary=summary, pos=pos, detail=detail, context=_context(block))])


def evaluate_instance(block: ResourceBlock, instance: Instance, schema: ResourceSchema) -> dict[str, Any]:
    """Evaluate and validate one instance's arguments; sensitive parts come back marked (the
    schema's sensitive arguments always)."""
    from reconciler.config import evaluate_body, validate_arguments

    values = evaluate_body(block.body, instance.ctx)
    result, diags = validate_arguments(schema, values, block.body, context=_context(block))
    if diags:
        raise ConfigError(diags)
    return result


def planned_value(
    *,
    schema: ResourceSchema,
    desired: dict[str, Any],
    prior: dict[str, Any] | None,
    in_place: bool,
    changed: list[str] | None = None,
) -> tuple[dict[str, Any], str]:
    """What other blocks see of this instance while planning, and a note for the reviewer:
    arguments plus computed attributes, UNKNOWN for what only apply will tell (all computed on
    create; on an update, what the schema's preview cannot foresee)."""
    value = dict(desired)
    preview = None
    if prior is not None and in_place and changed and schema.preview_update is not None:
        preview = schema.preview_update(prior, changed, desired)
    for name in schema.computed:
        if prior is not None and in_place and (not changed or name not in schema.computed_on_update):
            value[name] = prior.get(name)
        elif preview is not None and name in preview.computed:
            value[name] = preview.computed[name]
        else:
            value[name] = UNKNOWN
    return value, preview.note if preview else ""


def assemble(block: ResourceBlock, values: dict[InstanceKey, Any]) -> Any:
    """The value a reference to the whole block sees: one instance, a list (count) or a map."""
    if block.count is not None:
        return [values[k] for k in sorted(k for k in values if isinstance(k, int))]
    if block.for_each is not None:
        return {str(k): v for k, v in sorted(values.items(), key=lambda kv: str(kv[0]))}
    return values.get(None, UNKNOWN)
