"""Nesting limits of the language, so that no input can exhaust Python's stack.

The parser, the evaluator and every later walk (state, plan files, renderers) recurse over
expressions, blocks and values, so their depth is bounded where they enter the tool:

- an expression nests at most MAX_EXPRESSION_DEPTH levels: each bracket `[ ]`, `{ }` or `( )`,
  function call, operator, conditional, index or attribute step, `for` expression and string
  template is one level (`a + b + c` is two: a chain of operators counts each one);
- blocks nest at most MAX_BLOCK_DEPTH levels (`resource` is level 1; the provider schemas use 3);
- a value (a local, an output, an argument, a variable from a JSON file) nests at most
  MAX_VALUE_DEPTH lists and maps.

Beyond a limit the input gets a diagnostic at its file and line, never a crash. Real stacks stay
far below (Terraform modules rarely nest ten levels). Callers: expressions.parse (expressions),
config.hclparse (blocks), config.variables and planning.static (values).
"""

from __future__ import annotations

from typing import Any

from reconciler.errors import Diagnostic, SourcePos
from reconciler.values import Sensitive

MAX_EXPRESSION_DEPTH = 100
MAX_BLOCK_DEPTH = 100
MAX_VALUE_DEPTH = 100


def expression_too_deep(pos: SourcePos) -> Diagnostic:
    return Diagnostic(
        "Expression nested too deeply",
        pos,
        detail=f"An expression may nest at most {MAX_EXPRESSION_DEPTH} levels (each bracket, call, "
        "operator, conditional, index or attribute step, for expression and template counts one); "
        "this one goes deeper here. Split it into locals.",
    )


def block_too_deep(pos: SourcePos) -> Diagnostic:
    return Diagnostic(
        "Blocks nested too deeply",
        pos,
        detail=f"Blocks may nest at most {MAX_BLOCK_DEPTH} levels; this block is deeper.",
    )


def value_too_deep(pos: SourcePos | None, what: str) -> Diagnostic:
    return Diagnostic(
        f"Value nested too deeply: {what}",
        pos,
        detail=f"A value may nest at most {MAX_VALUE_DEPTH} lists and maps.",
    )


def value_exceeds_depth(value: Any, limit: int = MAX_VALUE_DEPTH) -> bool:
    """True when `value` nests more than `limit` lists/maps; iterative, so any depth is safe."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        while isinstance(item, Sensitive):  # a mark is no level, but what it holds is walked
            item = item.value
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        if depth + 1 > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def json_too_deep(text: str, limit: int = MAX_VALUE_DEPTH) -> tuple[int, int] | None:
    """(line, column) of the first `[` or `{` of JSON `text` nested deeper than `limit`, else None."""
    depth = 0
    in_string = escaped = False
    line, line_start = 1, 0
    for i, ch in enumerate(text):
        if ch == "\n":
            line, line_start = line + 1, i + 1
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return line, i - line_start + 1
        elif ch in "]}":
            depth -= 1
    return None
