"""The evaluation context (what expressions may refer to), EvalError, and reference roots.

`resolve_root` gives the value of `var.x`, `local.x`, `data.T.N`, `T.N`, `count.index`,
`each.key`/`each.value` and `path.*`, or an EvalError with a "Did you mean" suggestion.
Callers: expressions.evaluator; config and planning build EvalContexts.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from reconciler.address import Address, Mode
from reconciler.errors import Diagnostic, EvalError, SourcePos
from reconciler.expressions import ast as A


@dataclass
class EvalContext:
    """Everything an expression may refer to."""

    variables: dict[str, Any] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    data: dict[Address, Any] = field(default_factory=dict)
    resources: dict[Address, Any] = field(default_factory=dict)
    count_index: int | None = None
    each_key: Any = None
    each_value: Any = None
    base_dir: Path = field(default_factory=Path.cwd)

    def with_instance(
        self,
        *,
        count_index: int | None = None,
        each_key: str | None = None,
        each_value: Any = None,
    ) -> EvalContext:
        """A copy for one instance of a counted / for_each block (each_key None: no for_each)."""
        return replace(self, count_index=count_index, each_key=each_key, each_value=each_value)


def suggest(name: str, candidates: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


def error(pos: SourcePos, summary: str, *, detail: str = "", suggestion: str | None = None) -> EvalError:
    return EvalError(Diagnostic(summary, pos, detail=detail, suggestion=suggestion))


def resolve_root(
    ctx: EvalContext,
    root: A.Variable,
    steps: list[A.GetAttr | A.Index],
    scope: dict[str, Any],
    *,
    templated: bool,
) -> tuple[Any, int]:
    """The value of the root reference and how many steps it consumed."""
    name = root.name
    if name in scope:
        return scope[name], 0
    if templated:
        raise error(
            root.pos,
            f'Invalid template variable "{name}"',
            suggestion=suggest(name, scope),
            detail="templatefile() vars has no such key.",
        )
    first = steps[0].attr if steps and isinstance(steps[0], A.GetAttr) else None
    if name in ("var", "local"):
        table = ctx.variables if name == "var" else ctx.locals
        noun = "input variable" if name == "var" else "local value"
        if first is None:
            raise error(root.pos, f'Invalid reference: "{name}" must be followed by a name')
        if first not in table:
            raise error(
                step_pos(steps[0]),
                f'Reference to undeclared {noun} "{first}"',
                suggestion=_prefixed(name, suggest(first, table)),
            )
        return table[first], 1
    if name == "count":
        if first != "index":
            raise error(root.pos, 'Invalid reference: only "count.index" exists')
        if ctx.count_index is None:
            raise error(root.pos, 'Reference to "count.index" in a block without "count"')
        return ctx.count_index, 1
    if name == "each":
        if first not in ("key", "value"):
            raise error(root.pos, 'Invalid reference: use "each.key" or "each.value"')
        if ctx.each_key is None:
            raise error(root.pos, f'Reference to "each.{first}" in a block without "for_each"')
        return (ctx.each_key if first == "key" else ctx.each_value), 1
    if name == "path":
        paths = {"module": str(ctx.base_dir), "root": str(ctx.base_dir), "cwd": str(Path.cwd())}
        if first not in paths:
            raise error(
                root.pos,
                'Invalid reference: use "path.module", "path.root" or "path.cwd"',
                suggestion=_prefixed("path", suggest(first or "", paths)),
            )
        return paths[first], 1
    if name == "data":
        second = steps[1].attr if len(steps) > 1 and isinstance(steps[1], A.GetAttr) else None
        if first is None or second is None:
            raise error(root.pos, 'Invalid reference: "data" must be followed by a type and a name')
        addr = Address(first, second, None, Mode.DATA)
        if addr not in ctx.data:
            raise error(
                root.pos,
                f'Reference to undeclared data source "{addr}"',
                suggestion=suggest(str(addr), (str(a) for a in ctx.data)),
            )
        return ctx.data[addr], 2
    if first is None:
        raise error(
            root.pos,
            f'Invalid reference: unknown name "{name}"',
            detail="A reference to a resource type must be followed by the resource name.",
            suggestion=suggest(name, [*scope, "var", "local", "data", "count", "each", "path"]),
        )
    addr = Address(name, first)
    if addr not in ctx.resources:
        raise error(
            root.pos,
            f'Reference to undeclared resource "{addr}"',
            suggestion=suggest(str(addr), (str(a) for a in ctx.resources)),
        )
    return ctx.resources[addr], 1


def step_pos(step: A.GetAttr | A.Index) -> SourcePos:
    return step.step_pos or step.pos


def _prefixed(prefix: str, name: str | None) -> str | None:
    return f"{prefix}.{name}" if name else None
