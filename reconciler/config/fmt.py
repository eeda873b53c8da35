"""`reconciler fmt`: exactly the output of `terraform fmt` (Terraform 1.11).

The file is cut into HCL tokens (config.fmt_lexer), Terraform's own rewrites are applied — block
labels quoted (`resource aws_fleet web` → `resource "aws_fleet" "web"`), an attribute whose whole
value is one interpolation unwrapped (`"${var.x}"` → `var.x`), pre-0.12 variable types modernised
(`"string"` → `string`, `list` → `list(any)`) — and then hclwrite's layout (config.fmt_layout).
Only spaces change otherwise: blank lines, comments, heredoc bodies and line endings stay as they
are. Text the scanner cannot read is returned unchanged (the CLI refuses unparsable files first).
Callers: the CLI's `fmt` command, tests.
"""

from __future__ import annotations

from reconciler.config.fmt_layout import layout
from reconciler.config.fmt_lexer import Tok, Token, bracket_change, ends_line, lex


def format_source(text: str) -> str:
    """The canonical formatting of `text` (idempotent)."""
    tokens = lex(text)
    if any(t.type is Tok.INVALID for t in tokens):
        return text
    tokens = _Rewriter(tokens).run()
    body = [t for t in tokens if t.type is not Tok.EOF]
    if not body or not ends_line(body[-1]):
        tokens.insert(len(body), Token(Tok.NEWLINE, "\n"))
    layout(tokens)
    return "".join(" " * t.spaces + t.text for t in tokens if t.type is not Tok.EOF)


class _Rewriter:
    """Walks bodies (attributes and blocks) to apply terraform fmt's token rewrites."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0

    def run(self) -> list[Token]:
        self.body(blocks=(), closing=False)
        return self.tokens

    def peek(self, offset: int = 0) -> Token:
        j = min(self.i + offset, len(self.tokens) - 1)
        return self.tokens[j]

    def body(self, *, blocks: tuple[str, ...], closing: bool) -> None:
        while self.peek().type is not Tok.EOF:
            token = self.peek()
            if token.type in (Tok.NEWLINE, Tok.COMMENT):
                self.i += 1
            elif closing and token.type is Tok.CBRACE:
                self.i += 1
                return
            elif token.type is Tok.IDENT and self.peek(1).type is Tok.EQUAL:
                self.attribute(blocks)
            elif token.type is Tok.IDENT:
                self.block(blocks)
            else:
                self.i += 1  # not a body item HCL would accept; leave it as it is

    def block(self, blocks: tuple[str, ...]) -> None:
        block_type = self.peek().text
        self.i += 1
        while self.peek().type not in (Tok.OBRACE, Tok.EOF, Tok.NEWLINE):
            label = self.peek()
            if label.type is Tok.IDENT:
                self.tokens[self.i : self.i + 1] = [
                    Token(Tok.OQUOTE, '"', label.spaces),
                    Token(Tok.QUOTED_LIT, label.text),
                    Token(Tok.CQUOTE, '"'),
                ]
                self.i += 3
            else:
                self.i += 1
        if self.peek().type is Tok.OBRACE:
            self.i += 1
            self.body(blocks=(*blocks, block_type), closing=True)

    def attribute(self, blocks: tuple[str, ...]) -> None:
        name = self.peek().text
        self.i += 2
        start = self.i
        depth = 0
        while self.peek().type is not Tok.EOF:
            token = self.peek()
            if depth == 0 and (ends_line(token) or token.type is Tok.CBRACE):
                break
            depth += bracket_change(token)
            self.i += 1
        expr = self.tokens[start : self.i]
        is_type = blocks == ("variable",) and name == "type"
        new = _type_expr(expr) if is_type else _value_expr(expr)
        if new is not expr:
            self.tokens[start : self.i] = new
            self.i = start + len(new)


def _value_expr(tokens: list[Token]) -> list[Token]:
    """terraform fmt's formatValueExpr: "${ x }" as a whole value becomes x."""
    if len(tokens) < 5:
        return tokens
    first, second, penultimate, last = tokens[0], tokens[1], tokens[-2], tokens[-1]
    if not (
        first.type is Tok.OQUOTE
        and second.type is Tok.TEMPLATE_INTERP
        and penultimate.type is Tok.TEMPLATE_SEQ_END
        and last.type is Tok.CQUOTE
    ):
        return tokens
    inside = tokens[2:-2]
    quotes = 0
    for token in inside:
        if token.type is Tok.OQUOTE:
            quotes += 1
        elif token.type is Tok.CQUOTE:
            quotes -= 1
        elif quotes > 0:
            continue
        elif token.type in (Tok.TEMPLATE_INTERP, Tok.TEMPLATE_SEQ_END, Tok.QUOTED_LIT):
            return tokens
    while inside and inside[0].type is Tok.NEWLINE:
        inside = inside[1:]
    while inside and inside[-1].type is Tok.NEWLINE:
        inside = inside[:-1]
    multi_line = any(t.type is Tok.NEWLINE for t in inside)
    wrapped = bool(inside) and inside[0].type is Tok.OPAREN and inside[-1].type is Tok.CPAREN
    if multi_line and not wrapped:
        return [Token(Tok.OPAREN, "("), *inside, Token(Tok.CPAREN, ")")]
    return inside


_BARE_COLLECTIONS = ("list", "map", "set")
_LEGACY = {"string": ["string"], "list": ["list", "(", "string", ")"], "map": ["map", "(", "string", ")"]}


def _type_expr(tokens: list[Token]) -> list[Token]:
    """terraform fmt's formatTypeExpr: `list` → `list(any)`, `"string"` → `string`."""
    if len(tokens) == 1 and tokens[0].type is Tok.IDENT and tokens[0].text in _BARE_COLLECTIONS:
        return _type_tokens([tokens[0].text, "(", "any", ")"], tokens[0].spaces)
    if (
        len(tokens) == 3
        and tokens[0].type is Tok.OQUOTE
        and tokens[1].type is Tok.QUOTED_LIT
        and tokens[2].type is Tok.CQUOTE
        and tokens[1].text in _LEGACY
    ):
        return _type_tokens(_LEGACY[tokens[1].text], tokens[0].spaces)
    return tokens


def _type_tokens(words: list[str], spaces: int) -> list[Token]:
    kinds = {"(": Tok.OPAREN, ")": Tok.CPAREN}
    out = [Token(kinds.get(w, Tok.IDENT), w) for w in words]
    out[0].spaces = spaces
    return out
