"""Function-call plumbing shared by the evaluator: arity checks, Terraform-style error messages
that name the parameter, and `try`/`can`, which evaluate their arguments themselves so they can
catch the errors.

Callers: expressions.evaluator.
"""

from __future__ import annotations

from typing import Any, Protocol

from reconciler.expressions import ast as A
from reconciler.expressions.coerce import ConversionError
from reconciler.expressions.context import EvalError, error
from reconciler.expressions.functions_base import FunctionError, FunctionSpec
from reconciler.values import UNKNOWN, contains_unknown


class _Evaluates(Protocol):
    def eval(self, expr: A.Expr, scope: dict[str, Any]) -> Any: ...


def check_arity(expr: A.FunctionCall, least: int, most: int | None, given: int) -> None:
    if given < least:
        raise error(
            expr.pos,
            "Not enough function arguments",
            detail=f'Function "{expr.name}" expects {least} argument(s). '
            f"Missing value for argument {given + 1}.",
        )
    if most is not None and given > most:
        raise error(
            expr.pos,
            "Too many function arguments",
            detail=f'Function "{expr.name}" expects only {most} argument(s).',
        )


def function_error(
    expr: A.FunctionCall, spec: FunctionSpec, exc: FunctionError | ConversionError
) -> EvalError:
    """The diagnostic for a refused call: at the culprit argument, naming its parameter."""
    if isinstance(exc, ConversionError) or exc.arg is None:
        message = exc.message if isinstance(exc, FunctionError) else str(exc)
        return error(
            expr.pos, "Error in function call", detail=f'Call to function "{expr.name}" failed: {message}.'
        )
    pos = expr.args[exc.arg].pos if exc.arg < len(expr.args) else expr.pos
    return error(
        pos,
        "Invalid function argument",
        detail=f'Invalid value for "{spec.param_name(exc.arg)}" parameter of {expr.name}(): {exc.message}.',
    )


def try_or_can(evaluator: _Evaluates, expr: A.FunctionCall, scope: dict[str, Any]) -> Any:
    """try(a, b, ...): the first argument that evaluates without error; can(x): whether x does."""
    if expr.name == "can":
        check_arity(expr, 1, 1, len(expr.args))
    else:
        check_arity(expr, 1, None, len(expr.args))
    problems: list[str] = []
    for arg in expr.args:
        try:
            value = evaluator.eval(arg, scope)
        except EvalError as exc:
            diag = exc.diagnostic
            problems.append(f"- {diag.summary} (line {arg.pos.line}): {diag.detail}".rstrip(": "))
            continue
        if contains_unknown(value):
            return UNKNOWN
        return True if expr.name == "can" else value
    if expr.name == "can":
        return False
    raise error(
        expr.pos,
        "Error in function call",
        detail='Call to function "try" failed: no expression succeeded:\n' + "\n".join(problems),
    )
