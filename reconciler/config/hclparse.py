"""One HCL file → a generic Body (attributes and labelled blocks with positions), or diagnostics.

Syntax errors (lark's UnexpectedToken / UnexpectedCharacters / UnexpectedEOF, and whatever
python-hcl2 wraps them in) become one Diagnostic with file, line and column. Callers:
config.loader (every *.hcl file of a stack), config.variables (var files).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hcl2
from lark import Token, Tree
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from reconciler.config.model import Attribute, Body, NestedBlock
from reconciler.errors import ConfigError, Diagnostic, SourcePos
from reconciler.expressions import Literal, TreeConverter
from reconciler.expressions.limits import MAX_BLOCK_DEPTH, block_too_deep
from reconciler.expressions.templates import mask_strip_markers
from reconciler.sourcetext import SourceEncodingError

_TOKEN_WORDS = {
    "RBRACE": "'}'",
    "LBRACE": "'{'",
    "RSQB": "']'",
    "LSQB": "'['",
    "RPAR": "')'",
    "LPAR": "'('",
    "EQ": "'='",
    "COMMA": "','",
    "COLON": "':'",
    "DBLQUOTE": "'\"'",
    "NL_OR_COMMENT": "new line",
}


def parse_file(path: Path, text: str) -> tuple[Body | None, list[Diagnostic]]:
    """The file's top-level body, or None and the syntax/structure diagnostics."""
    masked, strip_marks = mask_strip_markers(text)
    try:
        tree = hcl2.parses_to_tree(masked)
    except (LarkError, ValueError) as exc:
        return None, [syntax_diagnostic(path, text, exc)]
    diags: list[Diagnostic] = []
    conv = TreeConverter(path, strip_marks=strip_marks)
    body = _body(tree.children[0], conv, diags)
    return body, diags


def encoding_diagnostic(exc: SourceEncodingError) -> Diagnostic:
    """A file that is not UTF-8, at the line and column of its first invalid byte."""
    return Diagnostic(
        "Invalid character encoding",
        SourcePos(exc.path, exc.line, exc.column),
        detail=f"The {exc.describe()}. Files must be UTF-8 encoded; check the encoding your editor saves.",
    )


def syntax_diagnostic(path: Path, text: str, exc: Exception) -> Diagnostic:
    inner: Any = exc
    while not isinstance(inner, UnexpectedInput) and inner.__context__ is not None:
        inner = inner.__context__  # python-hcl2 may wrap lark's error
    line = getattr(inner, "line", None) or 1
    column = getattr(inner, "column", None) or 1
    lines = text.split("\n")
    what = "invalid syntax"
    if isinstance(inner, UnexpectedToken):
        token = inner.token
        expected = set(inner.expected or ())
        missing = next((_TOKEN_WORDS[c] for c in ("RPAR", "RSQB", "RBRACE") if c in expected), None)
        if token.type == "$END":
            what = "unexpected end of file"
            if missing:
                what += f" (missing {missing}?)"
            elif "DBLQUOTE" in expected:
                what += " (unterminated string?)"
            # point at the end of the last line that has text
            last = max((i for i, ln in enumerate(lines) if ln.strip()), default=0)
            line, column = last + 1, len(lines[last].rstrip()) + 1
        else:
            what = f"unexpected {_describe(token)}"
            if token.type == "RBRACE" and expected == {"$END"}:
                what += " (there is no block to close)"
            elif token.type in ("RPAR", "RSQB", "RBRACE") and missing and missing != _describe(token):
                what += f" (missing {missing}?)"
    elif isinstance(inner, UnexpectedCharacters):
        what = f"unexpected character {inner.char!r}"
    elif isinstance(inner, UnexpectedEOF):
        what = "unexpected end of file"
    elif not isinstance(inner, UnexpectedInput):
        what = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return Diagnostic(f"Invalid HCL syntax: {what}", SourcePos(path, min(line, len(lines)), column))


def _describe(token: Token) -> str:
    if token.type in _TOKEN_WORDS:
        return _TOKEN_WORDS[token.type]
    value = str(token).split("\n")[0].strip() or str(token).strip()
    if token.type == "STRING_CHARS":
        return f"character {value[:1]!r}" if value else "text"
    return repr(value[:30])


def _pos(conv: TreeConverter, node: Tree[Any] | Token) -> SourcePos:
    return conv.pos_of(node)


def _name_of(node: Tree[Any]) -> str:
    """An attribute name, block type or label (identifier, keyword, literal or string)."""
    if node.data == "string":
        parts = [c for c in node.children if isinstance(c, Tree)]
        return "".join(str(p.children[0]) for p in parts if isinstance(p.children[0], Token))
    return str(node.children[0])


def _body(node: Tree[Any], conv: TreeConverter, diags: list[Diagnostic], depth: int = 0) -> Body:
    attrs: dict[str, Attribute] = {}
    blocks: list[NestedBlock] = []
    for child in TreeConverter.subtrees(node):
        if child.data == "attribute":
            name_node, value_node = TreeConverter.subtrees(child)
            name = _name_of(name_node)
            pos = _pos(conv, name_node)
            try:
                expr = conv.convert(value_node)
            except ConfigError as exc:
                diags.extend(exc.diagnostics)
                expr = Literal(pos, None)
            if name in attrs:
                diags.append(
                    Diagnostic(
                        f'Duplicate argument "{name}"',
                        pos,
                        detail=f"It was already set on line {attrs[name].pos.line}.",
                    )
                )
                continue
            attrs[name] = Attribute(name, expr, pos)
        elif child.data == "block":
            subs = TreeConverter.subtrees(child)
            names = [s for s in subs if s.data != "body"]
            inner = [s for s in subs if s.data == "body"]
            pos = _pos(conv, names[0])
            if depth >= MAX_BLOCK_DEPTH:
                diags.append(block_too_deep(pos))
                continue
            inner_body = _body(inner[0], conv, diags, depth + 1) if inner else Body({}, [], pos)
            inner_body.pos = pos  # "missing argument" errors point at the block's type name
            labels = tuple(_name_of(n) for n in names[1:])
            blocks.append(NestedBlock(_name_of(names[0]), labels, inner_body, pos))
    body_pos = SourcePos(conv.file, getattr(node.meta, "line", 1), getattr(node.meta, "column", 1))
    return Body(attrs, blocks, body_pos)
