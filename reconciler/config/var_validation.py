"""Variable `validation { condition, error_message }` blocks, as in Terraform.

Each rule is decoded with its variable (structure errors go with the other load errors) and
checked once the variable's value is known, before any cloud call: a false condition is reported
at the variable's declaration with the rule's message and where the rule is. A condition may use
any input variable and the functions; it must be a bool. Callers: config.loader (decode),
config.variables (check).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reconciler.errors import ConfigError, Diagnostic, SourcePos
from reconciler.expressions import EvalContext, Expr, evaluate
from reconciler.expressions.coerce import ConversionError, show, to_bool, to_string
from reconciler.values import contains_unknown, mark, unmark_deep

if TYPE_CHECKING:
    from reconciler.config.decode import Diags
    from reconciler.config.model import NestedBlock, Stack


@dataclass(frozen=True)
class Validation:
    condition: Expr
    error_message: Expr
    pos: SourcePos


def decode(blocks: list[NestedBlock], diags: Diags, *, context: str) -> list[Validation]:
    out: list[Validation] = []
    for block in blocks:
        attrs = block.body.attributes
        for attr in attrs.values():
            if attr.name not in ("condition", "error_message"):
                diags.add(
                    f'Unsupported argument "{attr.name}" in validation block', attr.pos, context=context
                )
        for nested in block.body.blocks:
            diags.add(
                f'Unsupported block type "{nested.type}" in validation block', nested.pos, context=context
            )
        missing = [n for n in ("condition", "error_message") if n not in attrs]
        for name in missing:
            diags.add(f'Missing required argument "{name}" in validation block', block.pos, context=context)
        if not missing:
            out.append(Validation(attrs["condition"].expr, attrs["error_message"].expr, block.pos))
    return out


def check(stack: Stack, values: Mapping[str, Any]) -> tuple[list[Diagnostic], set[str]]:
    """(the failed rules of every variable whose value is known, the names of those variables)."""
    ctx = EvalContext(variables=dict(values), base_dir=stack.directory)
    diags: list[Diagnostic] = []
    failed: set[str] = set()
    for name, block in stack.variables.items():
        if name not in values or contains_unknown(values[name]):
            continue
        before = len(diags)
        context = f'in variable "{name}"'
        for rule in block.validations:
            try:
                result, marks = unmark_deep(evaluate(rule.condition, ctx))  # a bool shows no secret
                if contains_unknown(result):
                    continue
                ok = to_bool(result) if result is not None else None
            except ConfigError as exc:
                diags.extend(exc.diagnostics)
                continue
            except ConversionError:
                ok = None
            if ok is None:
                got = show(mark(result) if marks else result)
                diags.append(
                    Diagnostic(
                        "Invalid validation condition",
                        rule.condition.pos,
                        context=context,
                        detail=f"The condition must be true or false, got {got}.",
                    )
                )
            elif not ok:
                shown = "(sensitive value)" if block.sensitive else show(values[name])
                diags.append(_failed(block.pos, rule, ctx, name=name, shown=shown))
        if len(diags) > before:
            failed.add(name)
    return diags, failed


def _failed(pos: SourcePos, rule: Validation, ctx: EvalContext, *, name: str, shown: str) -> Diagnostic:
    try:
        message, marks = unmark_deep(evaluate(rule.error_message, ctx))
        message = to_string(message)
    except (ConfigError, ConversionError):
        message = "(the error_message could not be evaluated)"
    else:
        if marks:  # as Terraform says it
            message = "The error message included a sensitive value, so it will not be displayed."
    where = f"{rule.pos.file.name}:{rule.pos.line}"
    return Diagnostic(
        f'Invalid value for variable "{name}"',
        pos,
        context=f'in variable "{name}"',
        detail=f"{message}\nThe value is {shown}; this was checked by the validation rule at {where}.",
    )
