"""Evaluate an expression AST against an EvalContext into plain Python values (or UNKNOWN).

UNKNOWN propagates through every operation, traversal, interpolation and function call; list and
map literals keep it as an element, and a conditional with a known condition picks its branch.
Mistakes raise EvalError (a ConfigError with one Diagnostic at the expression's position, with a
"Did you mean" suggestion where a close name exists). Callers: config (bodies, locals, outputs,
variables), planning (per-instance evaluation with `EvalContext.with_instance`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from reconciler.errors import SourcePos
from reconciler.expressions import ast as A
from reconciler.expressions import numbers
from reconciler.expressions.calls import check_arity, function_error, try_or_can
from reconciler.expressions.coerce import (
    ConversionError,
    hcl_equal,
    show,
    to_bool,
    to_number,
    to_string,
    type_name,
)
from reconciler.expressions.context import (
    EvalContext,
    EvalError,
    error,
    resolve_root,
    step_pos,
    suggest,
)
from reconciler.expressions.functions import FUNCTIONS, SPECIAL_FUNCTIONS, FunctionEnv, FunctionError
from reconciler.expressions.functions_base import nfc
from reconciler.expressions.templates import render_directive
from reconciler.values import UNKNOWN, contains_unknown


def evaluate(expr: A.Expr, ctx: EvalContext, scope: dict[str, Any] | None = None) -> Any:
    """The value of `expr`: str, int/float, bool, None, list, dict, or UNKNOWN.

    `scope` binds extra bare names (a dynamic block's iterator, say) for this evaluation."""
    return _Evaluator(ctx).eval(expr, dict(scope or {}))


def render_template(text: str, file: Path, variables: dict[str, Any], ctx: EvalContext) -> Any:
    """templatefile(): `text` may use only the given variables (as bare names)."""
    from reconciler.expressions.parse import parse_template

    tmpl = parse_template(text, file=file)
    sub = EvalContext(base_dir=file.parent)
    return _Evaluator(sub, templated=True).eval(tmpl, dict(variables))


Scope = dict[str, Any]

_ARITH: dict[str, Callable[[Any, Any], Any]] = {
    "+": numbers.add,
    "-": numbers.subtract,
    "*": numbers.multiply,
    "/": numbers.divide,
    "%": numbers.modulo,
}
_COMPARE: dict[str, Callable[[int], bool]] = {
    "<": lambda c: c < 0,
    ">": lambda c: c > 0,
    "<=": lambda c: c <= 0,
    ">=": lambda c: c >= 0,
}


class _Evaluator:
    def __init__(self, ctx: EvalContext, *, templated: bool = False) -> None:
        self.ctx = ctx
        self.templated = templated

    def eval(self, expr: A.Expr, scope: Scope) -> Any:
        match expr:
            case A.Literal(value=value):
                return value
            case A.TupleExpr(items=items):
                return [self.eval(i, scope) for i in items]
            case A.ObjectExpr():
                return self._object(expr, scope)
            case A.Template():
                return self._template(expr, scope)
            case A.Variable() | A.GetAttr() | A.Index():
                return self._traversal(expr, scope)
            case A.Splat():
                return self._splat(expr, scope)
            case A.SplatItem():
                return scope["\0splat"]
            case A.Unary():
                return self._unary(expr, scope)
            case A.Binary():
                return self._binary(expr, scope)
            case A.Conditional():
                cond = self.eval(expr.condition, scope)
                if cond is UNKNOWN:
                    return UNKNOWN
                chosen = expr.true_value if self._condition(cond, expr.condition.pos) else expr.false_value
                return self.eval(chosen, scope)
            case A.FunctionCall():
                return self._call(expr, scope)
            case A.ForExpr():
                return self._for(expr, scope)
            case A.TemplateIf() | A.TemplateFor():
                return render_directive(self, expr, scope)
        raise error(expr.pos, f"Unsupported expression {type(expr).__name__}")

    # ---- helpers -----------------------------------------------------------------------------

    def _bool(self, value: Any, pos: SourcePos) -> bool:
        try:
            return to_bool(value)
        except ConversionError as exc:
            raise error(pos, f"Invalid condition: {exc}") from None

    def _condition(self, value: Any, pos: SourcePos) -> bool:
        if value is None:
            raise error(pos, "Invalid conditional: the condition value is null")
        try:
            return to_bool(value)
        except ConversionError:
            raise error(
                pos,
                "Incorrect condition type",
                detail=f"The condition expression must be of type bool, got {show(value)}.",
            ) from None

    def _object(self, expr: A.ObjectExpr, scope: Scope) -> Any:
        out: dict[str, Any] = {}
        for item in expr.items:
            key = self.eval(item.key, scope)
            if key is UNKNOWN:
                return UNKNOWN
            try:
                out[to_string(key)] = self.eval(item.value, scope)
            except ConversionError as exc:
                raise error(item.key.pos, f"Invalid object key: {exc}") from None
        return out

    def _template(self, expr: A.Template, scope: Scope) -> Any:
        if len(expr.parts) == 1 and isinstance(expr.parts[0], A.Expr):
            value = self.eval(expr.parts[0], scope)  # "${x}" is x itself
            return nfc(value) if isinstance(value, str) else value
        pieces: list[str] = []
        unknown = False
        for part in expr.parts:
            if isinstance(part, str):
                pieces.append(part)
                continue
            value = self.eval(part, scope)
            if value is UNKNOWN:
                unknown = True
                continue
            if value is None:
                raise error(part.pos, "Invalid template interpolation value: the value is null")
            try:
                pieces.append(to_string(value))
            except ConversionError:
                raise error(
                    part.pos,
                    f"Invalid template interpolation value: cannot include a {type_name(value)} "
                    "in a string template",
                ) from None
        return UNKNOWN if unknown else nfc("".join(pieces))

    # ---- traversals --------------------------------------------------------------------------

    def _traversal(self, expr: A.Expr, scope: Scope) -> Any:
        steps: list[A.GetAttr | A.Index] = []
        node = expr
        while isinstance(node, A.GetAttr | A.Index):
            steps.append(node)
            node = node.obj
        steps.reverse()
        if isinstance(node, A.Variable):
            value, used = resolve_root(self.ctx, node, steps, scope, templated=self.templated)
            steps = steps[used:]
        else:
            value = self.eval(node, scope)
        for step in steps:
            value = self._step(value, step, scope)
        return value

    def _step(self, value: Any, step: A.GetAttr | A.Index, scope: Scope) -> Any:
        if isinstance(step, A.GetAttr):
            key: Any = step.attr
        else:
            key = self.eval(step.key, scope)
        if value is UNKNOWN or key is UNKNOWN:
            return UNKNOWN
        if value is None:
            raise error(step_pos(step), "Attempt to get an attribute or element of a null value")
        if isinstance(value, dict):
            if isinstance(key, bool) or not isinstance(key, str | int | float):
                raise error(
                    step_pos(step), f"Invalid index: a map key must be a string, got {type_name(key)}"
                )
            skey = to_string(key)
            if skey not in value:
                noun = "attribute" if isinstance(step, A.GetAttr) else "key"
                raise error(
                    step_pos(step),
                    f'Unsupported {noun} "{skey}"',
                    detail=f"This value has no {noun} named {show(skey)}.",
                    suggestion=suggest(skey, value),
                )
            return value[skey]
        if isinstance(value, list | tuple):
            if isinstance(step, A.GetAttr):
                raise error(
                    step_pos(step),
                    f'Unsupported attribute "{step.attr}" on a list',
                    detail="Use an index such as [0], or a splat such as [*], first.",
                )
            try:
                index = to_number(key)
            except ConversionError as exc:
                raise error(step_pos(step), f"Invalid index: {exc}") from None
            if not isinstance(index, int) or not 0 <= index < len(value):
                if isinstance(index, int) and index >= len(value):
                    raise error(
                        step_pos(step),
                        "Invalid index",
                        detail=f"The given key does not identify an element in this collection value: "
                        f"the given index ({index}) is greater than or equal to the length of the "
                        f"collection ({len(value)}).",
                    )
                raise error(
                    step_pos(step), f"Invalid index: {show(key)} is out of range (length {len(value)})"
                )
            return value[index]
        raise error(step_pos(step), f"Cannot index a {type_name(value)} value ({show(value)})")

    def _splat(self, expr: A.Splat, scope: Scope) -> Any:
        source = self.eval(expr.source, scope)
        if source is UNKNOWN:
            return UNKNOWN
        if source is None:
            return []
        items = source if isinstance(source, list | tuple) else [source]
        out = []
        for item in items:
            if item is UNKNOWN:
                out.append(UNKNOWN)
            else:
                out.append(self.eval(expr.each, {**scope, "\0splat": item}))
        return out

    # ---- operators ---------------------------------------------------------------------------

    def _unary(self, expr: A.Unary, scope: Scope) -> Any:
        value = self.eval(expr.operand, scope)
        if value is UNKNOWN:
            return UNKNOWN
        if expr.op == "!":
            try:
                return not to_bool(value)
            except ConversionError as exc:
                raise error(expr.pos, f"Invalid operand for !: {exc}") from None
        return numbers.negate(self._operand(value, expr.operand.pos, "unary"))

    def _binary(self, expr: A.Binary, scope: Scope) -> Any:
        left = self.eval(expr.left, scope)
        right = self.eval(expr.right, scope)
        if left is UNKNOWN or right is UNKNOWN:
            return UNKNOWN
        op = expr.op
        if op in ("==", "!="):
            return hcl_equal(left, right) == (op == "==")
        if op in ("&&", "||"):
            lb = self._bool_operand(left, expr.left.pos, op)
            rb = self._bool_operand(right, expr.right.pos, op)
            return (lb and rb) if op == "&&" else (lb or rb)
        ln = self._operand(left, expr.left.pos, "left")
        rn = self._operand(right, expr.right.pos, "right")
        if op in _COMPARE:
            return _COMPARE[op](numbers.compare(ln, rn))
        try:
            return _ARITH[op](ln, rn)
        except numbers.NumberError as exc:
            raise error(expr.pos, "Operation failed", detail=f"Error during operation: {exc}.") from None

    def _operand(self, value: Any, pos: SourcePos, side: str) -> Any:
        if value is None:
            raise error(
                pos, "Invalid operand", detail=f"Unsuitable value for {side} operand: a number is required."
            )
        try:
            return to_number(value)
        except ConversionError as exc:
            detail = f"Unsuitable value for {side} operand: {exc}."
            raise error(pos, "Invalid operand", detail=detail) from None

    def _bool_operand(self, value: Any, pos: SourcePos, op: str) -> bool:
        try:
            return to_bool(value)
        except ConversionError as exc:
            raise error(pos, f"Invalid operand for {op}: {exc}") from None

    # ---- functions and for expressions -------------------------------------------------------

    def _call(self, expr: A.FunctionCall, scope: Scope) -> Any:
        if expr.name in SPECIAL_FUNCTIONS:
            return try_or_can(self, expr, scope)
        spec = FUNCTIONS.get(expr.name)
        if spec is None:
            raise error(
                expr.pos,
                f'Call to unknown function "{expr.name}"',
                detail=f'There is no function named "{expr.name}".',
                suggestion=suggest(expr.name, [*FUNCTIONS, *SPECIAL_FUNCTIONS]),
            )
        if self.templated and expr.name == "templatefile":  # as Terraform: no recursion through files
            raise error(expr.pos, "templatefile() cannot be called from inside a template file")
        args = [self.eval(a, scope) for a in expr.args]
        if expr.expand_final and args:
            last = args.pop()
            if last is UNKNOWN:
                return UNKNOWN
            if not isinstance(last, list | tuple):
                raise error(expr.args[-1].pos, "Invalid expanding argument: a list is required")
            args.extend(last)
        check_arity(expr, spec.min_args, spec.max_args, len(args))
        if any(a is UNKNOWN for a in args) or (not spec.tolerant and any(contains_unknown(a) for a in args)):
            return UNKNOWN
        env = FunctionEnv(
            base_dir=self.ctx.base_dir,
            render_template=lambda text, file, variables: render_template(text, file, variables, self.ctx),
        )
        try:
            result = spec.impl(env, args)
        except (FunctionError, ConversionError) as exc:
            raise function_error(expr, spec, exc) from None
        return nfc(result) if isinstance(result, str) else result

    def _for(self, expr: A.ForExpr, scope: Scope) -> Any:
        coll = self.eval(expr.collection, scope)
        if coll is UNKNOWN:
            return UNKNOWN
        if isinstance(coll, dict):
            pairs: list[tuple[Any, Any]] = [(k, coll[k]) for k in sorted(coll)]
        elif isinstance(coll, list | tuple):
            pairs = list(enumerate(coll))
        else:
            raise error(expr.collection.pos, f"Iteration over a {type_name(coll)} value is not possible")
        as_list: list[Any] = []
        as_map: dict[str, Any] = {}
        unknown = False
        for k, v in pairs:
            inner = {**scope, expr.value_var: v}
            if expr.key_var:
                inner[expr.key_var] = k
            if expr.condition is not None:
                cond = self.eval(expr.condition, inner)
                if cond is UNKNOWN:
                    unknown = True
                    continue
                if not self._bool(cond, expr.condition.pos):
                    continue
            value = self.eval(expr.value, inner)
            if expr.key is None:
                as_list.append(value)
                continue
            key = self.eval(expr.key, inner)
            if key is UNKNOWN:
                unknown = True
                continue
            skey = self._key(key, expr.key.pos)
            if expr.grouping:
                as_map.setdefault(skey, []).append(value)
            elif skey in as_map:
                raise error(
                    expr.key.pos,
                    f'Duplicate object key "{skey}" in for expression',
                    detail="Add ... after the value to group values by key.",
                )
            else:
                as_map[skey] = value
        if unknown:
            return UNKNOWN
        return as_list if expr.key is None else as_map

    def _key(self, key: Any, pos: SourcePos) -> str:
        try:
            return to_string(key)
        except ConversionError as exc:
            raise error(pos, f"Invalid object key: {exc}") from None


__all__ = ["EvalContext", "EvalError", "evaluate", "render_template", "suggest"]
