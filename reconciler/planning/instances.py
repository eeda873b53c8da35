"""Expanding a block into its instances (count / for_each) and evaluating one instance's arguments.

Shared by the planner (with UNKNOWNs) and the apply executor (with everything known). Callers:
planning.planner, applying.executor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from providers.base import ResourceSchema
from reconciler.address import Address, InstanceKey
from reconciler.errors import ConfigError, Diagnostic
from reconciler.expressions import EvalContext, evaluate
from reconciler.values import UNKNOWN, contains_unknown, sensitive_digest

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
        n = evaluate(block.count, ctx)
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
                f"count must be a whole number of at least 0, got {n!r}.",
            )
        return [
            Instance(block.address.with_key(i), i, ctx.with_instance(count_index=i)) for i in range(int(n))
        ]
    if block.for_each is not None:
        value = evaluate(block.for_each, ctx)
        if contains_unknown(value):
            raise _err(
                block,
                block.for_each.pos,
                "Invalid for_each argument",
                "The for_each value depends on resource attributes that cannot be determined until apply.",
            )
        items: list[tuple[str, Any]]
        if isinstance(value, dict):
            items = [(str(k), v) for k, v in value.items()]
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            items = [(v, v) for v in value]
        else:
            raise _err(
                block,
                block.for_each.pos,
                "Invalid for_each argument",
                "for_each needs a map, or a set of strings (use toset([...])).",
            )
        return [
            Instance(block.address.with_key(k), k, ctx.with_instance(each_key=k, each_value=v))
            for k, v in sorted(items)
        ]
    return [Instance(block.address, None, ctx)]


def _err(block: ResourceBlock, pos: Any, summary: str, detail: str) -> ConfigError:
    return ConfigError([Diagnostic(summary=summary, pos=pos, detail=detail, context=_context(block))])


def evaluate_instance(block: ResourceBlock, instance: Instance, schema: ResourceSchema) -> dict[str, Any]:
    """Evaluate and validate one instance's arguments; sensitive values stay in plain text here."""
    from reconciler.config import evaluate_body, validate_arguments

    values = evaluate_body(block.body, instance.ctx)
    result, diags = validate_arguments(schema, values, block.body, context=_context(block))
    if diags:
        raise ConfigError(diags)
    return result


def digest_sensitive(values: dict[str, Any], schema: ResourceSchema) -> dict[str, Any]:
    """A copy with every known sensitive argument replaced by its digest (what state stores)."""
    out = dict(values)
    for name in schema.sensitive:
        if name in out and out[name] is not UNKNOWN and out[name] is not None:
            out[name] = sensitive_digest(out[name])
    return out


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
