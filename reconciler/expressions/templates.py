"""String templates: `${...}` interpolations and the `%{ if }` / `%{ for }` directives, with the
`~` strip markers, parsed into Template / TemplateIf / TemplateFor nodes and rendered.

Both kinds of template text end up here as a flat list of pieces (literal text, interpolations,
directive markers): heredocs and template files are split by `split_text`, quoted strings come
from python-hcl2's tree (expressions.parse). `build` applies the strip markers (`${~`, `~}`,
`%{~`, `~}` remove the whitespace, newlines included, on that side) and nests the directives.
python-hcl2 cannot parse `${~ ... ~}` inside quoted strings, so `mask_strip_markers` blanks
those markers before parsing and remembers where they were.
Callers: expressions.parse, expressions.evaluator (render_directive), config.hclparse.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from reconciler.errors import Diagnostic, SourcePos
from reconciler.expressions import ast as A
from reconciler.expressions.coerce import ConversionError, show, to_bool, to_string, type_name
from reconciler.expressions.context import error
from reconciler.expressions.functions_base import nfc
from reconciler.values import UNKNOWN, remark, unmark

_FOR = re.compile(r"for\s+([A-Za-z_][\w-]*)(?:\s*,\s*([A-Za-z_][\w-]*))?\s+in\s+(.+)", re.S)


@dataclass
class Piece:
    """One piece of a template: literal text, an interpolation, or a directive marker."""

    kind: str  # "text", "interp", "if", "else", "endif", "for", "endfor"
    pos: SourcePos
    text: str = ""
    expr: A.Expr | None = None
    names: tuple[str | None, str] | None = None  # for: (key_var, value_var)
    strip_left: bool = False
    strip_right: bool = False


class TemplateSyntaxError(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.summary)
        self.diagnostic = diagnostic


def _fail(pos: SourcePos, summary: str) -> TemplateSyntaxError:
    return TemplateSyntaxError(Diagnostic(summary, pos))


def build(pieces: list[Piece], pos: SourcePos, *, flush: bool = False) -> A.Expr:
    """The template expression for `pieces` (strip markers applied, directives nested).

    As in HCL, a strip marker trims only the adjacent literal piece (in heredocs and template
    files one piece never spans a line end), and a flush heredoc (`<<-`) then loses the
    smallest indentation of its lines, where a line starting with `${`/`%{` counts as 0."""
    for i, piece in enumerate(pieces):
        if piece.strip_left and i > 0 and pieces[i - 1].kind == "text":
            pieces[i - 1].text = pieces[i - 1].text.rstrip()
        if piece.strip_right and i + 1 < len(pieces) and pieces[i + 1].kind == "text":
            pieces[i + 1].text = pieces[i + 1].text.lstrip()
    if flush:
        _flush(pieces)
    body, end = _sequence(pieces, 0, pos)
    if end < len(pieces):
        raise _fail(pieces[end].pos, f"Unexpected %{{ {pieces[end].kind} }} in template")
    return body


def _flush(pieces: list[Piece]) -> None:
    least: int | None = None
    adjust: list[Piece] = []
    newline = True
    for piece in pieces:
        if piece.kind == "text" and not piece.text:
            continue  # HCL has no empty literal tokens
        if newline:
            newline = False
            if piece.kind != "text":
                least = 0
            elif piece.text.lstrip() or not piece.text.endswith("\n"):  # blank lines do not count
                spaces = len(piece.text) - len(piece.text.lstrip())
                least = spaces if least is None else min(least, spaces)
                adjust.append(piece)
        if piece.kind == "text" and piece.text.endswith("\n"):
            newline = True
    for piece in adjust:
        piece.text = piece.text[least or 0 :]


def _sequence(pieces: list[Piece], i: int, pos: SourcePos) -> tuple[A.Expr, int]:
    parts: list[str | A.Expr] = []
    while i < len(pieces):
        piece = pieces[i]
        if piece.kind in ("else", "endif", "endfor"):
            break
        if piece.kind == "text":
            parts.append(piece.text)
            i += 1
        elif piece.kind == "interp":
            assert piece.expr is not None
            parts.append(piece.expr)
            i += 1
        elif piece.kind == "if":
            then, i = _sequence(pieces, i + 1, piece.pos)
            otherwise = None
            if i < len(pieces) and pieces[i].kind == "else":
                otherwise, i = _sequence(pieces, i + 1, pieces[i].pos)
            if i >= len(pieces) or pieces[i].kind != "endif":
                raise _fail(piece.pos, "Unterminated template if: expected %{ endif }")
            assert piece.expr is not None
            parts.append(A.TemplateIf(piece.pos, piece.expr, then, otherwise))
            i += 1
        else:  # for
            body, i = _sequence(pieces, i + 1, piece.pos)
            if i >= len(pieces) or pieces[i].kind != "endfor":
                raise _fail(piece.pos, "Unterminated template for: expected %{ endfor }")
            assert piece.expr is not None and piece.names is not None
            parts.append(A.TemplateFor(piece.pos, piece.names[0], piece.names[1], piece.expr, body))
            i += 1
    return _make(pos, parts), i


def _make(pos: SourcePos, parts: list[str | A.Expr]) -> A.Expr:
    merged: list[str | A.Expr] = []
    for p in parts:
        if isinstance(p, str) and merged and isinstance(merged[-1], str):
            merged[-1] = merged[-1] + p
        elif not (isinstance(p, str) and p == ""):
            merged.append(p)
    merged = [nfc(p) if isinstance(p, str) else p for p in merged]
    if not merged:
        return A.Literal(pos, "")
    if len(merged) == 1 and isinstance(merged[0], str):
        return A.Literal(pos, merged[0])
    return A.Template(pos, tuple(merged))


def directive(keyword_text: str, pos: SourcePos, *, parse: Any) -> Piece:
    """A directive marker from its inner text ("if x", "for k, v in y", "endif", ...)."""
    text = keyword_text.strip()
    word = text.split(None, 1)[0] if text else ""
    if word in ("else", "endif", "endfor") and text == word:
        return Piece(word, pos)
    if word == "if":
        return Piece("if", pos, expr=parse(text[2:].strip()))
    m = _FOR.fullmatch(text)
    if word == "for" and m:
        names = (m.group(1), m.group(2)) if m.group(2) else (None, m.group(1))
        return Piece("for", pos, expr=parse(m.group(3).strip()), names=names)
    raise _fail(pos, f"Invalid template directive %{{ {text} }}")


# ---- rendering -----------------------------------------------------------------------------


class _Evaluates(Protocol):
    def eval(self, expr: A.Expr, scope: dict[str, Any]) -> Any: ...


def _as_text(evaluator: _Evaluates, body: A.Expr, scope: dict[str, Any]) -> Any:
    value, marked = unmark(evaluator.eval(body, scope))
    if value is UNKNOWN:
        return remark(UNKNOWN, marked)
    if value is None:
        raise error(body.pos, "Invalid template interpolation value: the value is null")
    try:
        return remark(to_string(value), marked)
    except ConversionError:
        raise error(
            body.pos, f"Invalid template interpolation value: cannot include a {type_name(value)} in a string"
        ) from None


def render_directive(evaluator: _Evaluates, expr: A.TemplateIf | A.TemplateFor, scope: dict[str, Any]) -> Any:
    """The text an %{ if } or %{ for } directive renders to (UNKNOWN if it depends on one);
    marked when its condition or collection is, or when any text it renders is."""
    if isinstance(expr, A.TemplateIf):
        cond, marked = unmark(evaluator.eval(expr.condition, scope))
        if cond is UNKNOWN:
            return remark(UNKNOWN, marked)
        try:
            chosen = to_bool(cond) if cond is not None else None
        except ConversionError:
            chosen = None
        if chosen is None:
            raise error(
                expr.condition.pos,
                "Incorrect condition type",
                detail=f"The condition expression must be of type bool, got {show(remark(cond, marked))}.",
            )
        branch = expr.then if chosen else expr.otherwise
        return remark("" if branch is None else _as_text(evaluator, branch, scope), marked)
    coll, marked = unmark(evaluator.eval(expr.collection, scope))
    if coll is UNKNOWN:
        return remark(UNKNOWN, marked)
    if isinstance(coll, dict):
        pairs: list[tuple[Any, Any]] = [(k, coll[k]) for k in sorted(coll)]
    elif isinstance(coll, list | tuple):
        pairs = list(enumerate(coll))
    else:
        raise error(
            expr.collection.pos,
            "Iteration over non-iterable value",
            detail=f"A value of type {type_name(coll)} cannot be used as the collection in a 'for' "
            "expression.",
        )
    out: list[str] = []
    for key, value in pairs:
        inner = {**scope, expr.value_var: value}
        if expr.key_var:
            inner[expr.key_var] = key
        text, text_marked = unmark(_as_text(evaluator, expr.body, inner))
        marked = marked or text_marked
        if text is UNKNOWN:
            return remark(UNKNOWN, marked)
        out.append(text)
    return remark("".join(out), marked)


# ---- template text (heredocs, template files) ----------------------------------------------


def _find_end(text: str, start: int) -> int:
    """Index of the `}` closing the sequence whose body starts at `start` (-1 if none)."""
    depth = 0
    i = start
    in_str = False
    while i < len(text):
        ch = text[i]
        if in_str:
            if ch == "\\":
                i += 1
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    return -1


def parse_template_text(
    text: str,
    *,
    file: Path,
    line: int = 1,
    column: int = 1,
    pos: SourcePos | None = None,
    flush: bool = False,
    depth: int = 0,
    parse_expression: Callable[..., A.Expr],
) -> A.Expr:
    """A heredoc body or template file → Literal / Template; raises ExprParseError.

    `depth` is the expression nesting above the template (see expressions.limits);
    `parse_expression` parses each interpolation (expressions.parse passes its own: the two
    parsers recurse into each other, and this module imports no parser)."""
    from reconciler.errors import ExprParseError

    def where(offset: int) -> SourcePos:
        before = text[:offset]
        nl = before.count("\n")
        col = offset - (before.rfind("\n") + 1) + 1
        return SourcePos(file, line + nl, (col + column - 1) if nl == 0 else col)

    pieces: list[Piece] = []
    buf: list[str] = []
    i = 0
    try:
        while i < len(text):
            if text.startswith("$${", i) or text.startswith("%%{", i):
                buf.append(text[i + 1 : i + 3])
                i += 3
                continue
            if not (text.startswith("${", i) or text.startswith("%{", i)):
                buf.append(text[i])
                i += 1
                if text[i - 1] == "\n":  # literal pieces end at line ends
                    pieces.append(Piece("text", where(i), text="".join(buf)))
                    buf = []
                continue
            end = _find_end(text, i + 2)
            if end < 0:
                raise _fail(where(i), "Unterminated template sequence: expected }")
            pieces.append(Piece("text", where(i), text="".join(buf)))
            buf = []
            inner_start, inner_end = i + 2, end
            left = text.startswith("~", inner_start)
            right = inner_end > inner_start and text[inner_end - 1] == "~"
            inner = text[inner_start + left : inner_end - right]
            offset = inner_start + left + (len(inner) - len(inner.lstrip()))
            at = where(offset)

            def parse(src: str, at: SourcePos = at) -> A.Expr:
                return parse_expression(src, file=file, line=at.line, column=at.column, depth=depth + 1)

            if text[i] == "$":
                piece = Piece("interp", where(i), expr=parse(inner.strip()))
            else:
                piece = directive(inner, where(i), parse=parse)
            piece.strip_left, piece.strip_right = left, right
            pieces.append(piece)
            i = end + 1
        pieces.append(Piece("text", where(i), text="".join(buf)))
        return build(pieces, pos or SourcePos(file, line, column), flush=flush)
    except TemplateSyntaxError as exc:
        raise ExprParseError([exc.diagnostic]) from None


# ---- ${~ ~} in quoted strings, which python-hcl2 cannot parse ------------------------------


def mask_strip_markers(text: str) -> tuple[str, dict[tuple[int, int], tuple[bool, bool]]]:
    """`text` with the `~` of `${~` and `~}` in quoted strings blanked, and for each such
    interpolation (keyed by the line and column of its `${`) which sides strip."""
    if "~" not in text:
        return text, {}
    chars = list(text)
    marks: dict[tuple[int, int], tuple[bool, bool]] = {}
    stack: list[list[Any]] = []  # ["str"] or ["interp", depth, key, left]
    line, col, i = 1, 1, 0
    heredoc: str | None = None
    while i < len(text):
        ch = text[i]
        top = stack[-1] if stack else None
        if heredoc is not None:
            nl = text.find("\n", i)
            end = len(text) if nl < 0 else nl
            if text[i:end].strip() == heredoc:
                heredoc = None
            line, col, i = line + 1, 1, end + 1
            continue
        if top is not None and top[0] == "str":
            if ch == "\\":
                i, col = i + 2, col + 2
                continue
            if ch == '"':
                stack.pop()
            elif text.startswith("$${", i) or text.startswith("%%{", i):
                i, col = i + 3, col + 3
                continue
            elif text.startswith("${", i) or text.startswith("%{", i):
                interp = ch == "$"
                left = interp and text.startswith("~", i + 2)
                if left:
                    chars[i + 2] = " "
                stack.append(["interp", 0, (line, col) if interp else None, left])
                i, col = i + 2, col + 2
                continue
        elif ch == "#" or text.startswith("//", i):
            nl = text.find("\n", i)
            i = len(text) if nl < 0 else nl
            continue
        elif text.startswith("/*", i):
            close = text.find("*/", i + 2)
            end = len(text) if close < 0 else close + 2
            line += text.count("\n", i, end)
            i, col = end, 1
            continue
        elif ch == '"':
            stack.append(["str"])
        elif text.startswith("<<", i):
            m = re.match(r"<<-?([A-Za-z_][\w-]*)\n", text[i:])
            if m:
                heredoc = m.group(1)
                line, col, i = line + 1, 1, i + m.end()
                continue
        elif top is not None and ch == "{":
            top[1] += 1
        elif top is not None and ch == "}":
            if top[1] == 0:
                right = top[2] is not None and text[i - 1] == "~"
                if right:
                    chars[i - 1] = " "
                if right or top[3]:
                    marks[top[2]] = (bool(top[3]), right)
                stack.pop()
            else:
                top[1] -= 1
        if ch == "\n":
            line, col = line + 1, 1
        else:
            col += 1
        i += 1
    return "".join(chars), marks
