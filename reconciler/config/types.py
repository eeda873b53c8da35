"""Variable type constraints (`string`, `list(number)`, `object({...})`, ...) and conversion to them.

Callers: config.loader (parses `type = ...` in variable blocks), config.variables (converts the
values given by defaults, files, environment and the command line).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from reconciler.errors import Diagnostic
from reconciler.expressions import FunctionCall, Literal, ObjectExpr, TupleExpr, Variable
from reconciler.expressions.ast import Expr
from reconciler.expressions.coerce import (
    ConversionError,
    HclSet,
    hcl_equal,
    show,
    to_bool,
    to_number,
    to_string,
)


class TypeKind(StrEnum):
    STRING = "string"
    NUMBER = "number"
    BOOL = "bool"
    LIST = "list"
    SET = "set"
    MAP = "map"
    OBJECT = "object"
    TUPLE = "tuple"
    ANY = "any"


_PRIMITIVES = {
    "string": TypeKind.STRING,
    "number": TypeKind.NUMBER,
    "bool": TypeKind.BOOL,
    "any": TypeKind.ANY,
}
_COLLECTIONS = {"list": TypeKind.LIST, "set": TypeKind.SET, "map": TypeKind.MAP}


@dataclass(frozen=True)
class TypeSpec:
    kind: TypeKind
    element: TypeSpec | None = None  # list/set/map
    attributes: tuple[tuple[str, TypeSpec, bool], ...] = ()  # object: (name, type, optional)
    items: tuple[TypeSpec, ...] = ()  # tuple
    defaults: tuple[tuple[str, Any], ...] = field(default=(), compare=False)  # optional(type, default)

    @property
    def is_primitive(self) -> bool:
        return self.kind in (TypeKind.STRING, TypeKind.NUMBER, TypeKind.BOOL)

    def __str__(self) -> str:
        if self.kind in _COLLECTIONS.values():
            return f"{self.kind}({self.element})"
        if self.kind is TypeKind.OBJECT:
            inner = ", ".join(
                f"{n} = {'optional(' + str(t) + ')' if opt else t}" for n, t, opt in self.attributes
            )
            return f"object({{{inner}}})"
        if self.kind is TypeKind.TUPLE:
            return f"tuple([{', '.join(str(t) for t in self.items)}])"
        return self.kind.value


ANY = TypeSpec(TypeKind.ANY)


class TypeSpecError(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.summary)
        self.diagnostic = diagnostic


def parse_type(expr: Expr) -> TypeSpec:
    """The TypeSpec a `type = ...` expression denotes; raises TypeSpecError."""
    if isinstance(expr, Variable) and expr.name in _PRIMITIVES:
        return TypeSpec(_PRIMITIVES[expr.name])
    if isinstance(expr, FunctionCall) and len(expr.args) == 1:
        arg = expr.args[0]
        if expr.name in _COLLECTIONS:
            return TypeSpec(_COLLECTIONS[expr.name], element=parse_type(arg))
        if expr.name == "object" and isinstance(arg, ObjectExpr):
            return _object_type(arg)
        if expr.name == "tuple" and isinstance(arg, TupleExpr):
            return TypeSpec(TypeKind.TUPLE, items=tuple(parse_type(i) for i in arg.items))
    raise _bad(
        expr, "expected a type such as string, number, bool, list(string), map(number), object({...}) or any"
    )


def _object_type(arg: ObjectExpr) -> TypeSpec:
    """object({ name = type, other = optional(type[, default]) })."""
    attrs: list[tuple[str, TypeSpec, bool]] = []
    defaults: list[tuple[str, Any]] = []
    for item in arg.items:
        if not (isinstance(item.key, Literal) and isinstance(item.key.value, str)):
            raise _bad(item.key, "an object attribute name must be a name")
        name, value, optional = item.key.value, item.value, False
        if isinstance(value, FunctionCall) and value.name == "optional":
            if not 1 <= len(value.args) <= 2:
                raise _bad(value, "optional() takes a type and, optionally, a default value")
            optional = True
            if len(value.args) == 2:
                defaults.append((name, _default(value.args[1], parse_type(value.args[0]))))
            value = value.args[0]
        attrs.append((name, parse_type(value), optional))
    return TypeSpec(TypeKind.OBJECT, attributes=tuple(attrs), defaults=tuple(defaults))


def _default(expr: Expr, spec: TypeSpec) -> Any:
    from reconciler.errors import ConfigError
    from reconciler.expressions import EvalContext, evaluate

    if expr.references():
        raise _bad(expr, "the default value of optional() must be a literal value")
    try:
        return convert(evaluate(expr, EvalContext()), spec)
    except ConfigError as exc:
        raise TypeSpecError(exc.diagnostics[0]) from None
    except ConversionError as exc:
        raise _bad(expr, f"the default value does not match the attribute's type: {exc}") from None


def _bad(expr: Expr, detail: str) -> TypeSpecError:
    return TypeSpecError(Diagnostic("Invalid type specification", expr.pos, detail=detail))


def convert(value: Any, spec: TypeSpec) -> Any:
    """`value` converted to `spec` (null stays null); raises ConversionError naming the path."""
    if value is None or spec.kind is TypeKind.ANY:
        return value
    kind = spec.kind
    if kind is TypeKind.STRING:
        return to_string(value)
    if kind is TypeKind.NUMBER:
        return to_number(value)
    if kind is TypeKind.BOOL:
        return to_bool(value)
    assert spec.element is not None or kind in (TypeKind.OBJECT, TypeKind.TUPLE)
    if kind in (TypeKind.LIST, TypeKind.SET, TypeKind.TUPLE):
        if not isinstance(value, list | tuple):
            raise ConversionError(f"{_article(spec)} is required, got {show(value)}", value=value)
        if kind is TypeKind.TUPLE:
            if len(value) != len(spec.items):
                raise ConversionError(f"a tuple of {len(spec.items)} elements is required, got {len(value)}")
            return [_at(i, v, t) for i, (v, t) in enumerate(zip(value, spec.items, strict=True))]
        assert spec.element is not None
        items = [_at(i, v, spec.element) for i, v in enumerate(value)]
        if kind is TypeKind.SET:
            unique: list[Any] = []
            for item in items:
                if not any(hcl_equal(item, u) for u in unique):
                    unique.append(item)
            items = HclSet(sorted(unique) if spec.element.is_primitive else unique)
        return items
    if not isinstance(value, dict):
        raise ConversionError(f"{_article(spec)} is required, got {show(value)}", value=value)
    if kind is TypeKind.MAP:
        assert spec.element is not None
        return {k: _at(k, v, spec.element) for k, v in value.items()}
    out: dict[str, Any] = {}
    defaults = dict(spec.defaults)
    for name, attr_type, optional in spec.attributes:
        given = value.get(name)
        if given is None and name in defaults:
            out[name] = _at(name, defaults[name], attr_type)  # nested optional() defaults apply too
            continue
        if name not in value:
            if optional:
                out[name] = None
                continue
            raise ConversionError(f'attribute "{name}" is required')
        out[name] = _at(name, value[name], attr_type)
    return out


def _at(where: str | int, value: Any, spec: TypeSpec) -> Any:
    try:
        return convert(value, spec)
    except ConversionError as exc:
        label = f"element {where}" if isinstance(where, int) else f'attribute "{where}"'
        raise ConversionError(f"{label}: {exc}", value=exc.value) from None


def _article(spec: TypeSpec) -> str:
    return {"list": "a list", "set": "a set", "map": "a map", "object": "an object", "tuple": "a tuple"}[
        spec.kind
    ]
