"""Function-call plumbing shared by the evaluator: arity checks, sensitivity marks of the
arguments (`split_marks`, by the function's MarkMode), Terraform-style error messages that name
the parameter and never show a sensitive argument, and `try`/`can`, which evaluate their
arguments themselves so they can catch the errors.

Callers: expressions.evaluator.
"""

from __future__ import annotations

from typing import Any, Protocol

from reconciler.errors import EvalError, FunctionError
from reconciler.expressions import ast as A
from reconciler.expressions.coerce import ConversionError
from reconciler.expressions.context import error
from reconciler.expressions.functions_base import FunctionEnv, FunctionSpec, MarkMode, nfc
from reconciler.sensitive import secret_texts
from reconciler.values import UNKNOWN, contains_unknown, has_marks, mark, remark, unmark, unmark_deep


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


def split_marks(spec: FunctionSpec, args: list[Any], *, spread_from: int) -> tuple[list[Any], set[int]]:
    """(the arguments as the function gets them, the indexes of those that carry a mark): a mark
    anywhere inside counts (WHOLE), or only one on the argument itself (ELEMENTS: the elements
    keep theirs); an OWN function gets its arguments as they are and no index counts. Arguments
    from `spread_from` on came from a marked `...` list."""
    if spec.marks is MarkMode.OWN:
        return list(args), set()
    if spec.marks is MarkMode.ELEMENTS:
        unmarked = [unmark(a) for a in args]
    else:
        unmarked = [(plain, bool(paths)) for plain, paths in map(unmark_deep, args)]
    marked = {i for i, (_, m) in enumerate(unmarked) if m or i >= spread_from}
    return [plain for plain, _ in unmarked], marked


WITHHELD = "the call failed on a sensitive argument (the message is withheld so as not to show it)"


def visible_message(exc: FunctionError | ConversionError, args: list[Any], marked: set[int]) -> str:
    """The message of a refused call, unless it may show a sensitive argument: withheld when the
    culprit argument (or, if none is named, any argument) is sensitive, or when the text quotes
    any sensitive part of any argument; `args` are the plain values the function got."""
    message = exc.message if isinstance(exc, FunctionError) else str(exc)
    if not marked and not any(has_marks(a) for a in args):
        return message
    culprit = exc.arg if isinstance(exc, FunctionError) else None
    if isinstance(exc, ConversionError):
        message = exc.masked()  # the same message, a value it quotes shown as (sensitive value)
    elif culprit is None or culprit >= len(args) or culprit in marked or has_marks(args[culprit]):
        return WITHHELD
    secrets = secret_texts([mark(a) if i in marked else a for i, a in enumerate(args)])
    return WITHHELD if any(text in message for text in secrets) else message


def function_error(
    expr: A.FunctionCall, spec: FunctionSpec, exc: FunctionError | ConversionError, *, message: str
) -> EvalError:
    """The diagnostic for a refused call (`message`, see visible_message): at the culprit
    argument, naming its parameter."""
    if isinstance(exc, ConversionError) or exc.arg is None:
        return error(
            expr.pos, "Error in function call", detail=f'Call to function "{expr.name}" failed: {message}.'
        )
    pos = expr.args[exc.arg].pos if exc.arg < len(expr.args) else expr.pos
    return error(
        pos,
        "Invalid function argument",
        detail=f'Invalid value for "{spec.param_name(exc.arg)}" parameter of {expr.name}(): {message}.',
    )


def call_function(
    expr: A.FunctionCall, spec: FunctionSpec, args: list[Any], *, env: FunctionEnv, spread_from: int
) -> Any:
    """The result of calling `spec` with evaluated `args` (arity checked), marked as its MarkMode
    says; UNKNOWN (marked if an argument was) when an argument it cannot take is unknown."""
    plain, marked_args = split_marks(spec, args, spread_from=spread_from)
    marked = bool(marked_args)
    own = spec.marks is MarkMode.OWN  # sensitive(), nonsensitive() take UNKNOWN as it is
    if not own and (
        any(a is UNKNOWN for a in plain) or (not spec.tolerant and any(contains_unknown(a) for a in plain))
    ):
        return remark(UNKNOWN, marked)
    try:
        result = spec.impl(env, plain)
    except (FunctionError, ConversionError) as exc:
        raise function_error(expr, spec, exc, message=visible_message(exc, plain, marked_args)) from None
    plain_result, result_marked = unmark(result)
    if isinstance(plain_result, str):
        result = remark(nfc(plain_result), result_marked)
    return remark(result, marked)


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
            return UNKNOWN if expr.name == "can" else remark(UNKNOWN, has_marks(value))
        return True if expr.name == "can" else value
    if expr.name == "can":
        return False
    raise error(
        expr.pos,
        "Error in function call",
        detail='Call to function "try" failed: no expression succeeded:\n' + "\n".join(problems),
    )
