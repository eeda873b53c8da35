"""Evaluate an expression AST against an EvalContext into plain Python values (or UNKNOWN).

UNKNOWN propagates through every operation, traversal, interpolation and function call; list and
map literals keep it as an element, and a conditional with a known condition picks its branch.
Sensitivity marks (values.Sensitive) propagate the same way, as Terraform's do: an operation,
interpolation, template directive or comparison with a marked operand gives a marked result;
indexing a marked collection, or indexing with a marked key, gives a marked element; a marked
condition marks the conditional's result and a `for` expression's; list and map literals keep
marked elements; a function call with a marked argument anywhere gives a marked result, except
the functions that only move elements around (merge, concat, lookup, element, flatten, ...:
FunctionSpec.marks, applied in expressions.calls), whose elements keep their own marks. A Digest
is a sensitive value that cannot be seen (a marked UNKNOWN). Messages never show a marked value.
Mistakes raise EvalError (a ConfigError with one Diagnostic at the expression's position, with a
"Did you mean" suggestion where a close name exists). Callers: config (bodies, locals, outputs,
variables), planning (per-instance evaluation with `EvalContext.with_instance`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reconciler.errors import ConfigError, EvalError, SourcePos
from reconciler.expressions import ast as A
from reconciler.expressions import numbers
from reconciler.expressions.calls import call_function, check_arity, try_or_can
from reconciler.expressions.coerce import (
    ConversionError,
    hcl_equal,
    show,
    to_bool,
    to_number,
    to_string,
    type_name,
)
from reconciler.expressions.context import EvalContext, error, resolve_root, suggest
from reconciler.expressions.functions import FUNCTIONS, SPECIAL_FUNCTIONS, FunctionEnv
from reconciler.expressions.functions_base import nfc
from reconciler.expressions.indexing import conversion_message, index_value, quoted
from reconciler.expressions.templates import render_directive
from reconciler.values import UNKNOWN, remark, unmark, unmark_deep


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
                return self._conditional(expr, scope)
            case A.FunctionCall():
                return self._call(expr, scope)
            case A.ForExpr():
                return self._for(expr, scope)
            case A.TemplateIf() | A.TemplateFor():
                return render_directive(self, expr, scope)
        raise error(expr.pos, f"Unsupported expression {type(expr).__name__}")

    # ---- helpers -----------------------------------------------------------------------------

    def _bool(self, value: Any, pos: SourcePos, marked: bool = False) -> bool:
        try:
            return to_bool(value)
        except ConversionError as exc:
            raise error(pos, f"Invalid condition: {conversion_message(exc, marked)}") from None

    def _condition(self, value: Any, pos: SourcePos, marked: bool) -> bool:
        if value is None:
            raise error(pos, "Invalid conditional: the condition value is null")
        try:
            return to_bool(value)
        except ConversionError:
            raise error(
                pos,
                "Incorrect condition type",
                detail=f"The condition expression must be of type bool, got {show(remark(value, marked))}.",
            ) from None

    def _conditional(self, expr: A.Conditional, scope: Scope) -> Any:
        """The chosen branch's value, marked if the condition is or if either branch's value is
        marked itself (HCL unifies both results: `true ? "a" : sensitive("b")` is sensitive)."""
        cond, marked = unmark(self.eval(expr.condition, scope))
        if cond is UNKNOWN:
            return remark(UNKNOWN, marked)
        chosen, other = (expr.true_value, expr.false_value)
        if not self._condition(cond, expr.condition.pos, marked):
            chosen, other = other, chosen
        value = self.eval(chosen, scope)
        if not marked:
            with contextlib.suppress(ConfigError):  # only its mark matters; HCL reports no error of it
                marked = unmark(self.eval(other, scope))[1]
        return remark(value, marked)

    def _object(self, expr: A.ObjectExpr, scope: Scope) -> Any:
        out: dict[str, Any] = {}
        marked = False
        for item in expr.items:
            key, key_marked = unmark(self.eval(item.key, scope))
            marked = marked or key_marked  # a marked key marks the whole object
            if key is UNKNOWN:
                return remark(UNKNOWN, marked)
            try:
                out[to_string(key)] = self.eval(item.value, scope)
            except ConversionError as exc:
                message = conversion_message(exc, key_marked)
                raise error(item.key.pos, f"Invalid object key: {message}") from None
        return remark(out, marked)

    def _template(self, expr: A.Template, scope: Scope) -> Any:
        if len(expr.parts) == 1 and isinstance(expr.parts[0], A.Expr):
            value, marked = unmark(self.eval(expr.parts[0], scope))  # "${x}" is x itself
            return remark(nfc(value) if isinstance(value, str) else value, marked)
        pieces: list[str] = []
        unknown = marked = False
        for part in expr.parts:
            if isinstance(part, str):
                pieces.append(part)
                continue
            value, part_marked = unmark(self.eval(part, scope))
            marked = marked or part_marked
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
        return remark(UNKNOWN if unknown else nfc("".join(pieces)), marked)

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
        value, value_marked = unmark(value)
        key_marked = False
        if isinstance(step, A.GetAttr):
            key: Any = step.attr
        else:
            key, key_marked = unmark(self.eval(step.key, scope))
        marked = value_marked or key_marked
        if value is UNKNOWN or key is UNKNOWN:
            return remark(UNKNOWN, marked)
        element = index_value(value, key, step, value_marked=value_marked, key_marked=key_marked)
        return remark(element, marked)

    def _splat(self, expr: A.Splat, scope: Scope) -> Any:
        source, marked = unmark(self.eval(expr.source, scope))
        if source is UNKNOWN:
            return remark(UNKNOWN, marked)
        if source is None:
            return remark([], marked)
        items = source if isinstance(source, list | tuple) else [source]
        out = []
        for item in items:
            if item is UNKNOWN:
                out.append(UNKNOWN)
            else:
                out.append(self.eval(expr.each, {**scope, "\0splat": item}))
        return remark(out, marked)

    # ---- operators ---------------------------------------------------------------------------

    def _unary(self, expr: A.Unary, scope: Scope) -> Any:
        value, marked = unmark(self.eval(expr.operand, scope))
        if value is UNKNOWN:
            return remark(UNKNOWN, marked)
        if expr.op == "!":
            try:
                return remark(not to_bool(value), marked)
            except ConversionError as exc:
                raise error(expr.pos, f"Invalid operand for !: {conversion_message(exc, marked)}") from None
        return remark(numbers.negate(self._operand(value, expr.operand.pos, "unary", marked)), marked)

    def _binary(self, expr: A.Binary, scope: Scope) -> Any:
        left, left_marks = unmark_deep(self.eval(expr.left, scope))
        right, right_marks = unmark_deep(self.eval(expr.right, scope))
        lm, rm = bool(left_marks), bool(right_marks)
        if left is UNKNOWN or right is UNKNOWN:
            return remark(UNKNOWN, lm or rm)
        return remark(self._operate(expr, left, right, lm=lm, rm=rm), lm or rm)

    def _operate(self, expr: A.Binary, left: Any, right: Any, *, lm: bool, rm: bool) -> Any:
        op = expr.op
        if op in ("==", "!="):
            return hcl_equal(left, right) == (op == "==")
        if op in ("&&", "||"):
            lb = self._bool_operand(left, expr.left.pos, op, lm)
            rb = self._bool_operand(right, expr.right.pos, op, rm)
            return (lb and rb) if op == "&&" else (lb or rb)
        ln = self._operand(left, expr.left.pos, "left", lm)
        rn = self._operand(right, expr.right.pos, "right", rm)
        if op in _COMPARE:
            return _COMPARE[op](numbers.compare(ln, rn))
        try:
            return _ARITH[op](ln, rn)
        except numbers.NumberError as exc:
            raise error(expr.pos, "Operation failed", detail=f"Error during operation: {exc}.") from None

    def _operand(self, value: Any, pos: SourcePos, side: str, marked: bool) -> Any:
        if value is None:
            raise error(
                pos, "Invalid operand", detail=f"Unsuitable value for {side} operand: a number is required."
            )
        try:
            return to_number(value)
        except ConversionError as exc:
            detail = f"Unsuitable value for {side} operand: {conversion_message(exc, marked)}."
            raise error(pos, "Invalid operand", detail=detail) from None

    def _bool_operand(self, value: Any, pos: SourcePos, op: str, marked: bool) -> bool:
        try:
            return to_bool(value)
        except ConversionError as exc:
            raise error(pos, f"Invalid operand for {op}: {conversion_message(exc, marked)}") from None

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
        spread_from: int | None = None  # arguments from here on are the elements of a marked `...` list
        if expr.expand_final and args:
            last, spread_marked = unmark(args.pop())
            if last is UNKNOWN:
                return remark(UNKNOWN, spread_marked)
            if not isinstance(last, list | tuple):
                raise error(expr.args[-1].pos, "Invalid expanding argument: a list is required")
            spread_from = len(args) if spread_marked else None
            args.extend(last)
        check_arity(expr, spec.min_args, spec.max_args, len(args))
        env = FunctionEnv(
            base_dir=self.ctx.base_dir,
            render_template=lambda text, file, variables: render_template(text, file, variables, self.ctx),
        )
        spread_from = len(args) if spread_from is None else spread_from
        return call_function(expr, spec, args, env=env, spread_from=spread_from)

    def _for(self, expr: A.ForExpr, scope: Scope) -> Any:
        coll, marked = unmark(self.eval(expr.collection, scope))
        if coll is UNKNOWN:
            return remark(UNKNOWN, marked)
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
                cond, cond_marked = unmark(self.eval(expr.condition, inner))
                marked = marked or cond_marked  # which elements are kept reveals the condition
                if cond is UNKNOWN:
                    unknown = True
                    continue
                if not self._bool(cond, expr.condition.pos, cond_marked):
                    continue
            value = self.eval(expr.value, inner)
            if expr.key is None:
                as_list.append(value)
                continue
            key, key_marked = unmark(self.eval(expr.key, inner))
            marked = marked or key_marked  # a marked key marks the whole map
            if key is UNKNOWN:
                unknown = True
                continue
            skey = self._key(key, expr.key.pos, key_marked)
            if expr.grouping:
                as_map.setdefault(skey, []).append(value)
            elif skey in as_map:
                raise error(
                    expr.key.pos,
                    f"Duplicate object key {quoted(skey, key_marked)} in for expression",
                    detail="Add ... after the value to group values by key.",
                )
            else:
                as_map[skey] = value
        if unknown:
            return remark(UNKNOWN, marked)
        return remark(as_list if expr.key is None else as_map, marked)

    def _key(self, key: Any, pos: SourcePos, marked: bool) -> str:
        try:
            return to_string(key)
        except ConversionError as exc:
            raise error(pos, f"Invalid object key: {conversion_message(exc, marked)}") from None


__all__ = ["EvalContext", "EvalError", "evaluate", "render_template", "suggest"]
