"""The layout rules of `terraform fmt` (HCL's hclwrite formatter), applied to a token stream.

Three passes over the lines of a file, each changing only the spaces before tokens:
- indentation: two spaces per level, where a line that opens brackets (any number of them: the
  `jsonencode({` of a policy is one level) indents the following lines once, and a line that
  closes them dedents by the levels those openers made;
- spacing between the tokens of a line (`a = b`, `f(x, y)`, `!x`, `-1`, `var.a[0]`, `{ a = 1 }`,
  nothing inside `${...}` delimiters);
- alignment: the `=` of consecutive one-line attributes line up, and so do the trailing comments
  of consecutive lines.
Callers: config.fmt.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from reconciler.config.fmt_lexer import Tok, Token, bracket_change, ends_line
from reconciler.expressions.functions_strings import graphemes

_NIL = Token(Tok.EOF, "")


@dataclass
class _Line:
    lead: list[Token]
    assign: list[Token] = field(default_factory=list)
    comment: list[Token] = field(default_factory=list)


def _columns(tokens: list[Token]) -> int:
    return sum(t.spaces + len(graphemes(t.text)) for t in tokens)


def lines_of(tokens: list[Token]) -> list[_Line]:
    lines: list[_Line] = []
    current: list[Token] = []
    for token in tokens:
        if token.type is Tok.EOF:
            break
        current.append(token)
        if ends_line(token):
            lines.append(_Line(current))
            current = []
    if current:
        lines.append(_Line(current))
    for line in lines:
        lead = line.lead
        if len(lead) > 1 and lead[-1].type is Tok.COMMENT:
            line.comment, line.lead = lead[-1:], lead[:-1]
            lead = line.lead
        for i, token in enumerate(lead):
            if i > 0 and token.type is Tok.EQUAL:
                if sum(bracket_change(t) for t in lead[i:]) == 0:
                    line.assign, line.lead = lead[i:], lead[:i]
                break
    return lines


def indent(lines: list[_Line]) -> None:
    stack: list[int] = []
    for line in lines:
        if not line.lead:
            continue
        if line.lead[0].type is Tok.NEWLINE:
            line.lead[0].spaces = 0
            continue
        net = 0
        for token in line.lead:
            net += bracket_change(token)
            if token.type is Tok.OHEREDOC:
                break
        net += sum(bracket_change(t) for t in line.assign)
        if net > 0:
            line.lead[0].spaces = 2 * len(stack)
            stack.append(net)
            continue
        closed = -net
        while closed > 0 and stack:
            if closed > stack[-1]:
                closed -= stack.pop()
            elif closed < stack[-1]:
                stack[-1] -= closed
                closed = 0
            else:
                stack.pop()
                closed = 0
        line.lead[0].spaces = 2 * len(stack)


def space(lines: list[_Line]) -> None:
    for line in lines:
        _space_cell(line.lead)
        if line.assign:
            line.assign[0].spaces = 1
        _space_cell(line.assign)


def _space_cell(cell: list[Token]) -> None:
    for i in range(len(cell) - 1):
        before = cell[i - 1] if i > 0 else _NIL
        cell[i + 1].spaces = 1 if space_after(cell[i], before, cell[i + 1]) else 0


_TEMPLATE_TEXT = (Tok.QUOTED_LIT, Tok.STRING_LIT, Tok.OQUOTE, Tok.OHEREDOC)
_NEGATION_AFTER = (
    Tok.OPAREN, Tok.OBRACE, Tok.OBRACK, Tok.EQUAL, Tok.COLON, Tok.COMMA, Tok.QUESTION,
    Tok.PLUS, Tok.STAR, Tok.SLASH, Tok.PERCENT, Tok.MINUS, Tok.OPERATOR, Tok.BANG,
)  # fmt: skip


def space_after(subject: Token, before: Token, after: Token) -> bool:
    """hclwrite's spaceAfterToken."""
    s, a = subject.type, after.type
    if a is Tok.NEWLINE or (a is Tok.EOF and after.text == ""):
        return False
    if s is Tok.IDENT and a is Tok.OPAREN:
        return False
    if (s is Tok.IDENT and a is Tok.DOUBLE_COLON) or (s is Tok.DOUBLE_COLON and a is Tok.IDENT):
        return False
    if s is Tok.DOT or a is Tok.DOT:
        return False
    if a in (Tok.COMMA, Tok.ELLIPSIS):
        return False
    if s is Tok.COMMA:
        return True
    if s in _TEMPLATE_TEXT or a in (Tok.QUOTED_LIT, Tok.STRING_LIT, Tok.CQUOTE, Tok.CHEREDOC):
        return False
    if s is Tok.IDENT and subject.text == "in" and before.type is Tok.IDENT:
        return True
    if a is Tok.OBRACK and (s in (Tok.IDENT, Tok.NUMBER) or bracket_change(subject) < 0):
        return False
    if s is Tok.BANG:
        return False
    if s is Tok.MINUS:
        if before is _NIL or before.type in _NEGATION_AFTER:
            return before.type is Tok.OPERATOR and before.text == "=>"  # => is not an operator to HCL
        return True
    if s is Tok.OBRACE or a is Tok.CBRACE:
        return not (s is Tok.OBRACE and a is Tok.CBRACE)
    if s in (Tok.TEMPLATE_INTERP, Tok.TEMPLATE_CONTROL) and a is Tok.OBRACE:
        return True
    if s is Tok.CBRACE and a is Tok.TEMPLATE_SEQ_END:
        return True
    if s is Tok.TEMPLATE_SEQ_END and a in (Tok.TEMPLATE_INTERP, Tok.TEMPLATE_CONTROL):
        return False
    if bracket_change(subject) > 0:
        return False
    return bracket_change(after) >= 0


def align(lines: list[_Line]) -> None:
    _chain(lines, lambda ln: ln.assign, lambda ln: _columns(ln.lead))
    _chain(lines, lambda ln: ln.comment, lambda ln: _columns(ln.lead) + _columns(ln.assign))


def _chain(lines: list[_Line], cell: Callable[[_Line], list[Token]], width: Callable[[_Line], int]) -> None:
    run: list[_Line] = []

    def close() -> None:
        widest = max((width(ln) for ln in run), default=0)
        for ln in run:
            cell(ln)[0].spaces = widest - width(ln) + 1
        run.clear()

    for line in lines:
        if cell(line):
            run.append(line)
        elif run:
            close()
    if run:
        close()


def layout(tokens: list[Token]) -> None:
    lines = lines_of(tokens)
    indent(lines)
    space(lines)
    align(lines)
