"""The expression AST: small frozen dataclasses, each with the source position it came from.

Built by `expressions.parse` from python-hcl2's Lark tree; read by `expressions.evaluator` and by
config validation (`Expr.references()` gives every static reference such as `var.x` or
`aws_launch_template.web.id`, minus names bound by `for` expressions).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from reconciler.address import Address, Mode
from reconciler.errors import SourcePos


class RefKind(StrEnum):
    VAR = "var"
    LOCAL = "local"
    DATA = "data"
    RESOURCE = "resource"
    COUNT = "count"
    EACH = "each"
    PATH = "path"


_ROOT_KINDS = {
    "var": RefKind.VAR,
    "local": RefKind.LOCAL,
    "data": RefKind.DATA,
    "count": RefKind.COUNT,
    "each": RefKind.EACH,
    "path": RefKind.PATH,
}


@dataclass(frozen=True)
class Reference:
    """A static traversal such as ("data", "aws_ami", "app", "id"), as written in the source."""

    parts: tuple[str | int, ...]
    pos: SourcePos

    @property
    def kind(self) -> RefKind:
        return _ROOT_KINDS.get(str(self.parts[0]), RefKind.RESOURCE)

    @property
    def name(self) -> str | None:
        """The variable or local name for VAR/LOCAL refs (also count/each/path attribute)."""
        if self.kind is RefKind.RESOURCE or len(self.parts) < 2:
            return None
        return str(self.parts[1])

    def target_address(self) -> Address | None:
        """The block-level Address of a DATA or RESOURCE reference (None if incomplete)."""
        kind = self.kind
        if kind is RefKind.DATA:
            if len(self.parts) >= 3 and all(isinstance(p, str) for p in self.parts[1:3]):
                return Address(str(self.parts[1]), str(self.parts[2]), None, Mode.DATA)
            return None
        if kind is RefKind.RESOURCE and len(self.parts) >= 2 and isinstance(self.parts[1], str):
            return Address(str(self.parts[0]), self.parts[1], None, Mode.MANAGED)
        return None

    def __str__(self) -> str:
        out = str(self.parts[0])
        for p in self.parts[1:]:
            out += f"[{p}]" if isinstance(p, int) else f".{p}"
        return out


@dataclass(frozen=True)
class Expr:
    """Base of every expression node."""

    pos: SourcePos

    def children(self) -> tuple[Expr, ...]:
        return ()

    def references(self) -> list[Reference]:
        out: list[Reference] = []
        self._collect(out, frozenset())
        return out

    def _collect(self, out: list[Reference], bound: frozenset[str]) -> None:
        for child in self.children():
            child._collect(out, bound)


@dataclass(frozen=True)
class Literal(Expr):
    value: Any  # str, int, float, bool or None


@dataclass(frozen=True)
class TupleExpr(Expr):
    items: tuple[Expr, ...]

    def children(self) -> tuple[Expr, ...]:
        return self.items


@dataclass(frozen=True)
class ObjectItem:
    key: Expr  # a bare identifier key becomes a Literal string
    value: Expr


@dataclass(frozen=True)
class ObjectExpr(Expr):
    items: tuple[ObjectItem, ...]

    def children(self) -> tuple[Expr, ...]:
        return tuple(e for item in self.items for e in (item.key, item.value))


@dataclass(frozen=True)
class Template(Expr):
    """A string with interpolations; parts are literal strings or expressions."""

    parts: tuple[str | Expr, ...]

    def children(self) -> tuple[Expr, ...]:
        return tuple(p for p in self.parts if isinstance(p, Expr))


@dataclass(frozen=True)
class Variable(Expr):
    """A bare name: the root of a traversal (`var`, `aws_fleet`, a `for` symbol)."""

    name: str

    def _collect(self, out: list[Reference], bound: frozenset[str]) -> None:
        if self.name not in bound:
            out.append(Reference((self.name,), self.pos))


@dataclass(frozen=True)
class GetAttr(Expr):
    """`obj.attr`; pos is where the whole traversal starts, step_pos where `.attr` is."""

    obj: Expr
    attr: str
    step_pos: SourcePos | None = None

    def children(self) -> tuple[Expr, ...]:
        return (self.obj,)

    def _collect(self, out: list[Reference], bound: frozenset[str]) -> None:
        _collect_traversal(self, out, bound)


@dataclass(frozen=True)
class Index(Expr):
    """`obj[key]`; pos is where the whole traversal starts, step_pos where `[` is."""

    obj: Expr
    key: Expr
    step_pos: SourcePos | None = None

    def children(self) -> tuple[Expr, ...]:
        return (self.obj, self.key)

    def _collect(self, out: list[Reference], bound: frozenset[str]) -> None:
        _collect_traversal(self, out, bound)


@dataclass(frozen=True)
class Splat(Expr):
    """`source[*].a.b` or `source.*.a`: apply `each` (built on a SplatItem) to every element."""

    source: Expr
    each: Expr

    def children(self) -> tuple[Expr, ...]:
        return (self.source, self.each)


@dataclass(frozen=True)
class SplatItem(Expr):
    """The current element inside a Splat's `each` expression."""


@dataclass(frozen=True)
class Unary(Expr):
    op: str  # "!" or "-"
    operand: Expr

    def children(self) -> tuple[Expr, ...]:
        return (self.operand,)


@dataclass(frozen=True)
class Binary(Expr):
    op: str  # + - * / % == != < > <= >= && ||
    left: Expr
    right: Expr

    def children(self) -> tuple[Expr, ...]:
        return (self.left, self.right)


@dataclass(frozen=True)
class Conditional(Expr):
    condition: Expr
    true_value: Expr
    false_value: Expr

    def children(self) -> tuple[Expr, ...]:
        return (self.condition, self.true_value, self.false_value)


@dataclass(frozen=True)
class FunctionCall(Expr):
    name: str
    args: tuple[Expr, ...]
    expand_final: bool = False  # f(xs...)

    def children(self) -> tuple[Expr, ...]:
        return self.args


@dataclass(frozen=True)
class ForExpr(Expr):
    """`[for k, v in coll : value if cond]` or `{for k, v in coll : key => value... if cond}`."""

    key_var: str | None
    value_var: str
    collection: Expr
    value: Expr
    key: Expr | None = None  # set for the object form
    condition: Expr | None = None
    grouping: bool = False

    def _collect(self, out: list[Reference], bound: frozenset[str]) -> None:
        self.collection._collect(out, bound)
        inner = bound | {self.value_var} | ({self.key_var} if self.key_var else set())
        for e in (self.key, self.value, self.condition):
            if e is not None:
                e._collect(out, inner)

    def children(self) -> tuple[Expr, ...]:
        extra = tuple(e for e in (self.key, self.condition) if e is not None)
        return (self.collection, self.value, *extra)


def traversal_parts(expr: Expr) -> tuple[str, tuple[str | int, ...]] | None:
    """(root name, static parts) if `expr` is a chain of attrs/literal indexes on a Variable."""
    steps: list[str | int] = []
    node = expr
    while True:
        if isinstance(node, GetAttr):
            steps.append(node.attr)
            node = node.obj
        elif isinstance(node, Index):
            key = node.key
            if not (isinstance(key, Literal) and isinstance(key.value, str | int)):
                if not (isinstance(key, Template) and all(isinstance(p, str) for p in key.parts)):
                    return None
                steps.append("".join(str(p) for p in key.parts))
            elif isinstance(key.value, bool):
                return None
            else:
                steps.append(key.value)
            node = node.obj
        elif isinstance(node, Variable):
            return node.name, (node.name, *reversed(steps))
        else:
            return None


def _root_variable(expr: Expr) -> Variable | None:
    node = expr
    while isinstance(node, GetAttr | Index):
        node = node.obj
    return node if isinstance(node, Variable) else None


def _collect_traversal(expr: GetAttr | Index, out: list[Reference], bound: frozenset[str]) -> None:
    static = traversal_parts(expr)
    root = _root_variable(expr)
    if static is not None and root is not None:
        name, parts = static
        if name not in bound:
            out.append(Reference(parts, root.pos))
        return
    expr.obj._collect(out, bound)
    if isinstance(expr, Index):
        expr.key._collect(out, bound)


@dataclass(frozen=True)
class TemplateIf(Expr):
    """`%{ if cond }then%{ else }otherwise%{ endif }` inside a template; renders to a string."""

    condition: Expr
    then: Expr
    otherwise: Expr | None = None

    def children(self) -> tuple[Expr, ...]:
        return (self.condition, self.then, *((self.otherwise,) if self.otherwise is not None else ()))


@dataclass(frozen=True)
class TemplateFor(Expr):
    """`%{ for k, v in coll }body%{ endfor }` inside a template; renders to a string."""

    key_var: str | None
    value_var: str
    collection: Expr
    body: Expr

    def children(self) -> tuple[Expr, ...]:
        return (self.collection, self.body)

    def _collect(self, out: list[Reference], bound: frozenset[str]) -> None:
        self.collection._collect(out, bound)
        self.body._collect(out, bound | {self.value_var} | ({self.key_var} if self.key_var else set()))
