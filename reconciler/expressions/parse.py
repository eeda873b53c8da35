"""Lark tree (python-hcl2 8.x `parses_to_tree`) → expression AST, plus template text parsing.

Callers: config.hclparse (attribute values of every block), the `templatefile` function and
variable values given as text (`parse_expression`). Heredoc bodies and template files are split
into literal text and `${...}` interpolations here; each interpolation is parsed by hcl2 again
with positions mapped back to the original file.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hcl2
from lark import Token, Tree
from lark.exceptions import UnexpectedInput

from reconciler.errors import Diagnostic, ExprParseError, SourcePos
from reconciler.expressions import ast as A
from reconciler.expressions import numbers
from reconciler.expressions import templates as T
from reconciler.expressions.limits import MAX_EXPRESSION_DEPTH, expression_too_deep
from reconciler.expressions.text import unescape

PosMap = Callable[[int, int], tuple[int, int]]

_SKIP_TREES = {"new_line_or_comment"}


def _identity(line: int, column: int) -> tuple[int, int]:
    return line, column


class TreeConverter:
    """Converts expression subtrees of one file into AST nodes.

    `depth` counts the nesting levels entered (see expressions.limits); a heredoc's
    interpolations are converted with the depth of the heredoc, so the limit holds across them.
    """

    def __init__(
        self,
        file: Path,
        posmap: PosMap = _identity,
        strip_marks: dict[tuple[int, int], tuple[bool, bool]] | None = None,
        *,
        depth: int = 0,
    ) -> None:
        self.file = file
        self.posmap = posmap
        self.strip_marks = strip_marks or {}  # see templates.mask_strip_markers
        self.depth = depth

    def pos_of(self, node: Tree[Any] | Token) -> SourcePos:
        if isinstance(node, Token):
            line, col = node.line or 1, node.column or 1
        else:
            line = getattr(node.meta, "line", 1)
            col = getattr(node.meta, "column", 1)
        line, col = self.posmap(line, col)
        return SourcePos(self.file, line, col)

    def fail(self, node: Tree[Any] | Token, summary: str) -> ExprParseError:
        return ExprParseError([Diagnostic(summary, self.pos_of(node))])

    def convert(self, node: Tree[Any] | Token) -> A.Expr:
        if isinstance(node, Token):
            raise self.fail(node, f"Unexpected token {node.value!r} in expression")
        method = getattr(self, "_" + str(node.data), None)
        if method is None:
            raise self.fail(node, f"Unsupported expression syntax ({node.data})")
        level = not _transparent(node)
        if level and self.depth > MAX_EXPRESSION_DEPTH:
            raise ExprParseError([expression_too_deep(self.pos_of(node))])
        self.depth += level
        try:
            result: A.Expr = method(node)
        finally:
            self.depth -= level
        return result

    @staticmethod
    def subtrees(node: Tree[Any]) -> list[Tree[Any]]:
        return [c for c in node.children if isinstance(c, Tree) and c.data not in _SKIP_TREES]

    # ---- terms -------------------------------------------------------------------------------

    def _expr_term(self, node: Tree[Any]) -> A.Expr:
        subs = self.subtrees(node)
        if len(subs) != 1:
            raise self.fail(node, "Unsupported expression syntax")
        return self.convert(subs[0])

    def _int_lit(self, node: Tree[Any]) -> A.Expr:
        return A.Literal(self.pos_of(node), numbers.from_text(str(node.children[0])))

    def _float_lit(self, node: Tree[Any]) -> A.Expr:
        return A.Literal(self.pos_of(node), numbers.from_text(str(node.children[0])))

    def _literal_value(self, node: Tree[Any]) -> A.Expr:
        text = str(node.children[0])
        return A.Literal(self.pos_of(node), {"true": True, "false": False, "null": None}[text])

    def _identifier(self, node: Tree[Any]) -> A.Expr:
        return A.Variable(self.pos_of(node), str(node.children[0]))

    def _keyword(self, node: Tree[Any]) -> A.Expr:
        return A.Variable(self.pos_of(node), str(node.children[0]))

    def _string(self, node: Tree[Any]) -> A.Expr:
        pieces: list[T.Piece] = []
        for child in node.children:
            if isinstance(child, Token):
                continue  # the quotes
            if child.data != "string_part":
                raise self.fail(child, "Unsupported string syntax")
            inner = child.children[0]
            pos = self.pos_of(inner)
            if isinstance(inner, Token):
                if inner.type == "STRING_CHARS":
                    try:
                        pieces.append(T.Piece("text", pos, text=unescape(str(inner))))
                    except ValueError as exc:
                        raise self.fail(inner, f"Invalid escape sequence: {exc}") from None
                else:  # ESCAPED_INTERPOLATION / ESCAPED_DIRECTIVE: $${ → ${, %%{ → %{
                    pieces.append(T.Piece("text", pos, text=str(inner)[1:]))
            elif inner.data == "interpolation":
                raw = (getattr(inner.meta, "line", 0), getattr(inner.meta, "column", 0))
                left, right = self.strip_marks.get(raw, (False, False))
                expr = self.convert(self.subtrees(inner)[0])
                pieces.append(T.Piece("interp", pos, expr=expr, strip_left=left, strip_right=right))
            else:
                pieces.append(self._directive(inner, pos))
        try:
            return T.build(pieces, self.pos_of(node))
        except T.TemplateSyntaxError as exc:
            raise ExprParseError([exc.diagnostic]) from None

    def _directive(self, node: Tree[Any], pos: SourcePos) -> T.Piece:
        kind = {
            "template_if_start": "if",
            "template_else": "else",
            "template_endif": "endif",
            "template_for_start": "for",
            "template_endfor": "endfor",
        }.get(str(node.data))
        if kind is None:
            raise self.fail(node, f"Unsupported template directive ({node.data})")
        tokens = [str(c) for c in node.children if isinstance(c, Token)]
        words = ("if", "else", "endif", "for", "endfor")
        keyword_at = next(i for i, t in enumerate(tokens) if t.strip() in words)
        piece = T.Piece(kind, pos)
        piece.strip_left = "~" in tokens[:keyword_at]
        piece.strip_right = len(tokens) > 1 and tokens[-2].strip() == "~"
        subs = self.subtrees(node)
        if kind == "if":
            piece.expr = self.convert(subs[0])
        elif kind == "for":
            names = [str(s.children[0]) for s in subs if s.data == "identifier"]
            coll = [s for s in subs if s.data != "identifier"]
            piece.names = (names[0], names[1]) if len(names) == 2 else (None, names[0])
            piece.expr = self.convert(coll[0])
        return piece

    def _heredoc_template(self, node: Tree[Any]) -> A.Expr:
        return self._heredoc(node, trim=False)

    def _heredoc_template_trim(self, node: Tree[Any]) -> A.Expr:
        return self._heredoc(node, trim=True)

    def _heredoc(self, node: Tree[Any], *, trim: bool) -> A.Expr:
        token = node.children[0]
        assert isinstance(token, Token)
        text = str(token)
        first_nl = text.index("\n")
        lines = text[first_nl + 1 :].split("\n")
        # last element is "" (text ends with "\n"); the one before is the closing marker
        body_lines = lines[:-2]
        body = "".join(ln.rstrip("\r") + "\n" for ln in body_lines)
        pos = self.pos_of(node)
        return T.parse_template_text(
            body,
            file=self.file,
            line=pos.line + 1,
            column=1,
            pos=pos,
            flush=trim,
            depth=self.depth - 1,
            parse_expression=parse_expression,
        )

    def _tuple(self, node: Tree[Any]) -> A.Expr:
        return A.TupleExpr(self.pos_of(node), tuple(self.convert(c) for c in self.subtrees(node)))

    def _object(self, node: Tree[Any]) -> A.Expr:
        items = []
        for elem in self.subtrees(node):
            key_node, value_node = self.subtrees(elem)
            items.append(A.ObjectItem(self._object_key(key_node), self.convert(value_node)))
        return A.ObjectExpr(self.pos_of(node), tuple(items))

    def _object_key(self, node: Tree[Any]) -> A.Expr:
        inner = self.subtrees(node)[0] if self.subtrees(node) else node
        if inner.data == "keyword":
            return A.Literal(self.pos_of(inner), str(inner.children[0]))
        is_paren = inner.data == "expr_term" and any(
            isinstance(c, Token) and c.type == "LPAR" for c in inner.children
        )
        expr = self.convert(inner)
        if isinstance(expr, A.Variable) and not is_paren:  # a bare identifier key is the name
            return A.Literal(expr.pos, expr.name)
        if isinstance(expr, A.Literal) and not is_paren and isinstance(expr.value, bool | None):
            return A.Literal(expr.pos, json.dumps(expr.value))
        return expr

    # ---- operators ---------------------------------------------------------------------------

    def _unary_op(self, node: Tree[Any]) -> A.Expr:
        op = next(str(c) for c in node.children if isinstance(c, Token))
        operand = self.convert(self.subtrees(node)[0])
        if op == "-" and isinstance(operand, A.Literal) and numbers.is_number(operand.value):
            return A.Literal(self.pos_of(node), numbers.negate(operand.value))
        return A.Unary(self.pos_of(node), op, operand)

    def _binary_op(self, node: Tree[Any]) -> A.Expr:
        left_node, term = self.subtrees(node)
        op_node, right_node = self.subtrees(term)
        op = str(op_node.children[0]).strip()
        return A.Binary(self.pos_of(node), op, self.convert(left_node), self.convert(right_node))

    def _conditional(self, node: Tree[Any]) -> A.Expr:
        cond, yes, no = self.subtrees(node)
        return A.Conditional(self.pos_of(node), self.convert(cond), self.convert(yes), self.convert(no))

    def _function_call(self, node: Tree[Any]) -> A.Expr:
        names = [c for c in self.subtrees(node) if c.data == "identifier"]
        if len(names) != 1:
            raise self.fail(node, "Provider-namespaced functions (a::b::c) are not supported")
        name = str(names[0].children[0])
        args: tuple[A.Expr, ...] = ()
        expand = False
        for c in self.subtrees(node):
            if c.data == "arguments":
                args = tuple(self.convert(a) for a in self.subtrees(c))
                expand = any(isinstance(t, Token) and t.type == "ELLIPSIS" for t in c.children)
        return A.FunctionCall(self.pos_of(node), name, args, expand)

    # ---- traversals --------------------------------------------------------------------------

    def _apply_step(self, base: A.Expr, step: Tree[Any]) -> A.Expr:
        pos = self.pos_of(step)
        if step.data == "get_attr":
            name_node = self.subtrees(step)[0]
            return A.GetAttr(base.pos, base, str(name_node.children[0]), pos)
        if step.data == "braces_index":
            return A.Index(base.pos, base, self.convert(self.subtrees(step)[0]), pos)
        if step.data == "short_index":
            digits = next(c for c in step.children if isinstance(c, Token) and c.type == "INT_LITERAL")
            return A.Index(base.pos, base, A.Literal(pos, int(str(digits))), pos)
        raise self.fail(step, f"Unsupported traversal ({step.data})")

    def _get_attr_expr_term(self, node: Tree[Any]) -> A.Expr:
        obj, step = self.subtrees(node)
        return self._apply_step(self.convert(obj), step)

    def _index_expr_term(self, node: Tree[Any]) -> A.Expr:
        return self._get_attr_expr_term(node)

    def _splat(self, node: Tree[Any]) -> A.Expr:
        source, splat = self.subtrees(node)
        pos = self.pos_of(splat)
        each: A.Expr = A.SplatItem(pos)
        for step in self.subtrees(splat):
            each = self._apply_step(each, step)
        return A.Splat(self.pos_of(node), self.convert(source), each)

    def _attr_splat_expr_term(self, node: Tree[Any]) -> A.Expr:
        return self._splat(node)

    def _full_splat_expr_term(self, node: Tree[Any]) -> A.Expr:
        return self._splat(node)

    # ---- for expressions ---------------------------------------------------------------------

    def _for_parts(self, node: Tree[Any]) -> tuple[str | None, str, A.Expr, A.Expr | None]:
        intro = next(c for c in self.subtrees(node) if c.data == "for_intro")
        names = [str(c.children[0]) for c in self.subtrees(intro) if c.data == "identifier"]
        coll = next(c for c in self.subtrees(intro) if c.data != "identifier")
        cond_nodes = [c for c in self.subtrees(node) if c.data == "for_cond"]
        cond = self.convert(self.subtrees(cond_nodes[0])[0]) if cond_nodes else None
        key_var, value_var = (names[0], names[1]) if len(names) == 2 else (None, names[0])
        return key_var, value_var, self.convert(coll), cond

    def _for_tuple_expr(self, node: Tree[Any]) -> A.Expr:
        key_var, value_var, coll, cond = self._for_parts(node)
        body = [c for c in self.subtrees(node) if c.data not in ("for_intro", "for_cond")]
        return A.ForExpr(self.pos_of(node), key_var, value_var, coll, self.convert(body[0]), None, cond)

    def _for_object_expr(self, node: Tree[Any]) -> A.Expr:
        key_var, value_var, coll, cond = self._for_parts(node)
        body = [c for c in self.subtrees(node) if c.data not in ("for_intro", "for_cond")]
        grouping = any(isinstance(c, Token) and c.type == "ELLIPSIS" for c in node.children)
        return A.ForExpr(
            self.pos_of(node),
            key_var,
            value_var,
            coll,
            self.convert(body[1]),
            self.convert(body[0]),
            cond,
            grouping,
        )


def _transparent(node: Tree[Any]) -> bool:
    """An `expr_term` that only wraps its one child (not a parenthesis) is no nesting level."""
    return node.data == "expr_term" and not any(
        isinstance(c, Token) and c.type == "LPAR" for c in node.children
    )


def parse_expression(text: str, *, file: Path, line: int = 1, column: int = 1, depth: int = 0) -> A.Expr:
    """Parse one expression written at (line, column) of `file`, `depth` levels deep; raises
    ConfigError."""
    prefix = "__expr__ = "

    def posmap(ln: int, col: int) -> tuple[int, int]:
        if ln == 1:
            return line, max(1, col - len(prefix) + column - 1)
        return line + ln - 1, col

    masked, marks = T.mask_strip_markers(prefix + text)
    try:
        tree = hcl2.parses_to_tree(masked)
    except UnexpectedInput as exc:
        ln, col = posmap(getattr(exc, "line", 1) or 1, getattr(exc, "column", 1) or 1)
        raise ExprParseError(
            [Diagnostic(f"Invalid expression: {text.strip()[:60]!r}", SourcePos(file, ln, col))]
        ) from None
    body = tree.children[0]
    attrs = [c for c in body.children if isinstance(c, Tree) and c.data == "attribute"]
    others = [c for c in body.children if isinstance(c, Tree) and c.data not in ("attribute", *_SKIP_TREES)]
    if len(attrs) != 1 or others:
        raise ExprParseError(
            [Diagnostic("Invalid expression: expected a single expression", SourcePos(file, line, column))]
        )
    conv = TreeConverter(file, posmap, strip_marks=marks, depth=depth)
    return conv.convert(conv.subtrees(attrs[0])[-1])


def parse_template(
    text: str,
    *,
    file: Path,
    line: int = 1,
    column: int = 1,
    pos: SourcePos | None = None,
    depth: int = 0,
) -> A.Expr:
    """Parse template text (a heredoc body or a templatefile) into a Literal or Template.

    `depth` is the expression nesting above the template, which is itself one level."""
    return T.parse_template_text(
        text, file=file, line=line, column=column, pos=pos, depth=depth, parse_expression=parse_expression
    )
