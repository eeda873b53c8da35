"""Evaluate an expression AST against an EvalContext into plain Python values (or UNKNOWN).

UNKNOWN propagates through every operation, traversal, interpolation and function call; list and
map literals keep it as an element, and a conditional with a known condition picks its branch.
Sensitivity marks (values.Sensitive) propagate the same way, as Terraform's do: an operation,
interpolation or comparison with a marked operand gives a marked result; indexing a marked
collection, or indexing with a marked key, gives a marked element; a marked condition marks the
conditional's result and a `for` expression's; list and map literals keep marked elements; a
function call with a marked argument anywhere gives a marked result, except the functions that only
move elements around (merge, concat, lookup, ...: FunctionSpec.marks), whose elements keep their
own marks. A Digest is a sensitive value that cannot be seen (a marked UNKNOWN). Messages never
show a marked value. Mistakes raise EvalError (a ConfigError with one Diagnostic at the
expression's position, with a "Did you mean" suggestion where a close name exists). Callers:
config (bodies, locals, outputs, variables), planning (per-instance evaluation with
`EvalContext.with_instance`).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reconciler.errors import SourcePos
from reconciler.expressions import ast as A
from reconciler.expressions.coerce import (
    ConversionError,
    hcl_equal,
    is_number,
    normalize_number,
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
from reconciler.expressions.functions import (
    FUNCTIONS,
    FunctionEnv,
    FunctionError,
    split_marks,
    visible_message,
)
from reconciler.values import SHOWN, UNKNOWN, contains_unknown, remark, unmark, unmark_deep


def evaluate(expr: A.Expr, ctx: EvalContext) -> Any:
    """The value of `expr`: str, int/float, bool, None, list, dict, or UNKNOWN."""
    return _Evaluator(ctx).eval(expr, {})


def render_template(text: str, file: Path, variables: dict[str, Any], ctx: EvalContext) -> Any:
    """templatefile(): `text` may use only the given variables (as bare names)."""
    from reconciler.expressions.parse import parse_template

    tmpl = parse_template(text, file=file)
    sub = EvalContext(base_dir=file.parent)
    return _Evaluator(sub, templated=True).eval(tmpl, dict(variables))


Scope = dict[str, Any]

_ARITH: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "%": operator.mod,
}
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
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
                cond, marked = unmark(self.eval(expr.condition, scope))
                if cond is UNKNOWN:
                    return remark(UNKNOWN, marked)
                chosen = expr.true_value if self._bool(cond, expr.condition.pos, marked) else expr.false_value
                return remark(self.eval(chosen, scope), marked)
            case A.FunctionCall():
                return self._call(expr, scope)
            case A.ForExpr():
                return self._for(expr, scope)
        raise error(expr.pos, f"Unsupported expression {type(expr).__name__}")

    # ---- helpers -----------------------------------------------------------------------------

    def _bool(self, value: Any, pos: SourcePos, marked: bool = False) -> bool:
        try:
            return to_bool(value)
        except ConversionError as exc:
            raise error(pos, f"Invalid condition: {_message(exc, marked)}") from None

    def _number(self, value: Any, pos: SourcePos, what: str, marked: bool = False) -> int | float:
        try:
            return to_number(value)
        except ConversionError as exc:
            raise error(pos, f"Invalid {what}: {_message(exc, marked)}") from None

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
                raise error(item.key.pos, f"Invalid object key: {_message(exc, key_marked)}") from None
        return remark(out, marked)

    def _template(self, expr: A.Template, scope: Scope) -> Any:
        if len(expr.parts) == 1 and isinstance(expr.parts[0], A.Expr):
            return self.eval(expr.parts[0], scope)  # "${x}" is x itself
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
        return remark(UNKNOWN if unknown else "".join(pieces), marked)

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
        element = self._element(value, key, step, value_marked=value_marked, key_marked=key_marked)
        return remark(element, marked)

    def _element(
        self, value: Any, key: Any, step: A.GetAttr | A.Index, *, value_marked: bool, key_marked: bool
    ) -> Any:
        """`value[key]`; messages show neither a marked value nor a marked key."""
        shown_key = SHOWN if key_marked else show(key)
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
                    f"Unsupported {noun} {_quoted(skey, key_marked)}",
                    detail=f"This value has no {noun} named {shown_key}.",
                    suggestion=None if key_marked or value_marked else suggest(skey, value),
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
                raise error(step_pos(step), f"Invalid index: {_message(exc, key_marked)}") from None
            if not isinstance(index, int) or not 0 <= index < len(value):
                raise error(
                    step_pos(step), f"Invalid index: {shown_key} is out of range (length {len(value)})"
                )
            return value[index]
        shown = SHOWN if value_marked else show(value)
        raise error(step_pos(step), f"Cannot index a {type_name(value)} value ({shown})")

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
                raise error(expr.pos, f"Invalid operand for !: {_message(exc, marked)}") from None
        return remark(normalize_number(-self._number(value, expr.pos, "operand for unary -", marked)), marked)

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
        ln = self._number(left, expr.left.pos, f"operand for {op}", lm)
        rn = self._number(right, expr.right.pos, f"operand for {op}", rm)
        if op in _COMPARE:
            return _COMPARE[op](ln, rn)
        if op in ("/", "%") and rn == 0:
            raise error(expr.right.pos, "Division by zero")
        result = _ARITH[op](ln, rn)
        return normalize_number(result) if is_number(result) else result

    def _bool_operand(self, value: Any, pos: SourcePos, op: str, marked: bool = False) -> bool:
        try:
            return to_bool(value)
        except ConversionError as exc:
            raise error(pos, f"Invalid operand for {op}: {_message(exc, marked)}") from None

    # ---- functions and for expressions -------------------------------------------------------

    def _call(self, expr: A.FunctionCall, scope: Scope) -> Any:
        spec = FUNCTIONS.get(expr.name)
        if spec is None:
            raise error(
                expr.pos, f'Call to unknown function "{expr.name}"', suggestion=suggest(expr.name, FUNCTIONS)
            )
        args = [self.eval(a, scope) for a in expr.args]
        spread_marked = False
        if expr.expand_final and args:
            last, spread_marked = unmark(args.pop())
            if last is UNKNOWN:
                return remark(UNKNOWN, spread_marked)
            if not isinstance(last, list | tuple):
                raise error(expr.args[-1].pos, "Invalid expanding argument: a list is required")
            args.extend(last)
        if len(args) < spec.min_args or (spec.max_args is not None and len(args) > spec.max_args):
            want = (
                str(spec.min_args)
                if spec.min_args == spec.max_args
                else (
                    f"at least {spec.min_args}"
                    if spec.max_args is None
                    else f"{spec.min_args} to {spec.max_args}"
                )
            )
            raise error(
                expr.pos, f'Wrong number of arguments to "{expr.name}": needs {want}, got {len(args)}'
            )
        spread = len(expr.args) - 1 if spread_marked else len(args)  # elements of a marked `...` list
        plain_args, marked_args = split_marks(spec, args, spread_from=spread)
        marked = bool(marked_args)
        if any(a is UNKNOWN for a in plain_args) or (
            not spec.tolerant and any(contains_unknown(a) for a in plain_args)
        ):
            return remark(UNKNOWN, marked)
        env = FunctionEnv(
            base_dir=self.ctx.base_dir,
            render_template=lambda text, file, variables: render_template(text, file, variables, self.ctx),
        )
        try:
            return remark(spec.impl(env, plain_args), marked)
        except FunctionError as exc:
            pos = expr.args[exc.arg].pos if exc.arg is not None and exc.arg < len(expr.args) else expr.pos
            message = visible_message(exc, plain_args, marked_args)
            raise error(pos, f"Invalid function argument: {expr.name}(): {message}") from None
        except ConversionError as exc:
            message = _message(exc, marked)
            raise error(expr.pos, f"Invalid function argument: {expr.name}(): {message}") from None

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
                    f"Duplicate object key {_quoted(skey, key_marked)} in for expression",
                    detail="Add ... after the value to group values by key.",
                )
            else:
                as_map[skey] = value
        if unknown:
            return remark(UNKNOWN, marked)
        return remark(as_list if expr.key is None else as_map, marked)

    def _key(self, key: Any, pos: SourcePos, marked: bool = False) -> str:
        try:
            return to_string(key)
        except ConversionError as exc:
            raise error(pos, f"Invalid object key: {_message(exc, marked)}") from None


def _quoted(key: str, marked: bool) -> str:
    return SHOWN if marked else f'"{key}"'


def _message(exc: ConversionError, marked: bool) -> str:
    """A conversion error's message, without the value when that value is sensitive."""
    return exc.masked() if marked else str(exc)


__all__ = ["EvalContext", "EvalError", "evaluate", "render_template", "suggest"]
