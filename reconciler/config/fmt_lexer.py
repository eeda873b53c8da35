"""The HCL token stream `reconciler fmt` works on, cut as HCL's own scanner cuts it.

Tokens keep their exact text (a `#` comment includes its newline, a heredoc opener `<<EOT\\n`
too, a heredoc closer its indentation; `${~` and `~}` are single tokens) so the formatter can
change only the spaces between them. Text the scanner cannot place becomes an INVALID token,
which makes the formatter leave the file alone. Callers: config.fmt, config.fmt_layout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Tok(StrEnum):
    OBRACE = "{"
    CBRACE = "}"
    OBRACK = "["
    CBRACK = "]"
    OPAREN = "("
    CPAREN = ")"
    OQUOTE = "oquote"
    CQUOTE = "cquote"
    OHEREDOC = "oheredoc"
    CHEREDOC = "cheredoc"
    QUOTED_LIT = "quoted_lit"
    STRING_LIT = "string_lit"
    TEMPLATE_INTERP = "${"
    TEMPLATE_CONTROL = "%{"
    TEMPLATE_SEQ_END = "seq_end"
    NUMBER = "number"
    IDENT = "ident"
    COMMENT = "comment"
    NEWLINE = "newline"
    EQUAL = "="
    COMMA = ","
    DOT = "."
    ELLIPSIS = "..."
    COLON = ":"
    DOUBLE_COLON = "::"
    QUESTION = "?"
    MINUS = "-"
    PLUS = "+"
    STAR = "*"
    SLASH = "/"
    PERCENT = "%"
    BANG = "!"
    OPERATOR = "op"  # == != < <= > >= && || =>
    EOF = "eof"
    INVALID = "invalid"


@dataclass
class Token:
    type: Tok
    text: str
    spaces: int = 0  # spaces before it; the formatter rewrites these


_IDENT = re.compile(r"[^\W\d][\w-]*")
_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_HEREDOC = re.compile(r"<<(-?)([^\W\d][\w-]*)(\r?\n)")
_PUNCT = [
    ("...", Tok.ELLIPSIS),
    ("::", Tok.DOUBLE_COLON),
    ("=>", Tok.OPERATOR),
    ("==", Tok.OPERATOR),
    ("!=", Tok.OPERATOR),
    ("<=", Tok.OPERATOR),
    (">=", Tok.OPERATOR),
    ("&&", Tok.OPERATOR),
    ("||", Tok.OPERATOR),
    ("<", Tok.OPERATOR),
    (">", Tok.OPERATOR),
    ("{", Tok.OBRACE),
    ("}", Tok.CBRACE),
    ("[", Tok.OBRACK),
    ("]", Tok.CBRACK),
    ("(", Tok.OPAREN),
    (")", Tok.CPAREN),
    ("=", Tok.EQUAL),
    (",", Tok.COMMA),
    (".", Tok.DOT),
    (":", Tok.COLON),
    ("?", Tok.QUESTION),
    ("-", Tok.MINUS),
    ("+", Tok.PLUS),
    ("*", Tok.STAR),
    ("/", Tok.SLASH),
    ("%", Tok.PERCENT),
    ("!", Tok.BANG),
]


class _Lexer:
    def __init__(self, src: str) -> None:
        self.src = src
        self.pos = 0
        self.out: list[Token] = []
        self.pending_spaces = 0

    def emit(self, kind: Tok, text: str) -> None:
        self.out.append(Token(kind, text, self.pending_spaces))
        self.pending_spaces = 0
        self.pos += len(text)

    def run(self) -> list[Token]:
        self.code(interp=False)
        self.emit(Tok.EOF, "")
        return self.out

    # ---- code: the top level and the inside of ${ } / %{ } ---------------------------------

    def code(self, *, interp: bool) -> None:
        src = self.src
        depth = 0
        while self.pos < len(src):
            ch = src[self.pos]
            if ch in " \t":
                self.pending_spaces += 1
                self.pos += 1
                continue
            if interp and depth == 0 and (src.startswith("~}", self.pos) or ch == "}"):
                self.emit(Tok.TEMPLATE_SEQ_END, "~}" if ch == "~" else "}")
                return
            if ch == "\n" or src.startswith("\r\n", self.pos):
                self.emit(Tok.NEWLINE, "\n" if ch == "\n" else "\r\n")
            elif ch == "#" or src.startswith("//", self.pos):
                end = src.find("\n", self.pos)
                self.emit(Tok.COMMENT, src[self.pos :] if end < 0 else src[self.pos : end + 1])
            elif src.startswith("/*", self.pos):
                end = src.find("*/", self.pos + 2)
                kind = Tok.COMMENT if end >= 0 else Tok.INVALID  # unterminated: leave the file alone
                self.emit(kind, src[self.pos : end + 2] if end >= 0 else src[self.pos :])
            elif ch == '"':
                self.emit(Tok.OQUOTE, '"')
                self.quoted()
            elif (m := _HEREDOC.match(src, self.pos)) is not None:
                self.emit(Tok.OHEREDOC, m.group(0))
                self.heredoc(m.group(2))
            elif (m := _NUMBER.match(src, self.pos)) is not None:
                self.emit(Tok.NUMBER, m.group(0))
            elif (m := _IDENT.match(src, self.pos)) is not None:
                self.emit(Tok.IDENT, m.group(0))
            else:
                for text, kind in _PUNCT:
                    if src.startswith(text, self.pos):
                        if kind is Tok.OBRACE:
                            depth += 1
                        elif kind is Tok.CBRACE:
                            depth -= 1
                        self.emit(kind, text)
                        break
                else:
                    self.emit(Tok.INVALID, ch)

    def sequence(self) -> None:
        """`${` or `%{` (with an optional `~`) at pos, then its expression up to `}`."""
        src = self.src
        kind = Tok.TEMPLATE_INTERP if src[self.pos] == "$" else Tok.TEMPLATE_CONTROL
        self.emit(kind, src[self.pos : self.pos + (3 if src.startswith("~", self.pos + 2) else 2)])
        self.code(interp=True)

    # ---- quoted strings and heredocs ---------------------------------------------------------

    def _literal_end(self, start: int, *, stop_at_newline: bool, quote: bool) -> int:
        src = self.src
        i = start
        while i < len(src):
            if src.startswith("$${", i) or src.startswith("%%{", i):
                i += 3
                continue
            if src.startswith("${", i) or src.startswith("%{", i):
                return i
            ch = src[i]
            if quote and ch == "\\":
                i += 2
                continue
            if quote and (ch == '"' or ch == "\n"):
                return i
            if stop_at_newline and ch == "\n":
                return i + 1
            i += 1
        return i

    def quoted(self) -> None:
        src = self.src
        while self.pos < len(src):
            if src[self.pos] == '"':
                self.emit(Tok.CQUOTE, '"')
                return
            if src[self.pos] == "\n":
                self.emit(Tok.INVALID, "\n")  # unterminated string
                return
            if src.startswith("${", self.pos) or src.startswith("%{", self.pos):
                self.sequence()
                continue
            end = self._literal_end(self.pos, stop_at_newline=False, quote=True)
            self.emit(Tok.QUOTED_LIT, src[self.pos : end])

    def heredoc(self, marker: str) -> None:
        src = self.src
        start_of_line = True
        while self.pos < len(src):
            if start_of_line:
                nl = src.find("\n", self.pos)
                line = src[self.pos :] if nl < 0 else src[self.pos : nl + 1]
                if line.strip() == marker and "${" not in line and "%{" not in line:
                    closer = line.rstrip("\n").rstrip("\r") if nl >= 0 else line
                    self.emit(Tok.CHEREDOC, closer)
                    return
            if src.startswith("${", self.pos) or src.startswith("%{", self.pos):
                self.sequence()
                start_of_line = False
                continue
            end = self._literal_end(self.pos, stop_at_newline=True, quote=False)
            text = src[self.pos : end]
            self.emit(Tok.STRING_LIT, text)
            start_of_line = text.endswith("\n")
        self.emit(Tok.INVALID, "")  # unterminated heredoc


def lex(src: str) -> list[Token]:
    """The tokens of `src`, ending with EOF; joined with their spaces they give `src` back
    (tabs between tokens count as one space each)."""
    return _Lexer(src).run()


def bracket_change(token: Token) -> int:
    if token.type in (Tok.OBRACE, Tok.OBRACK, Tok.OPAREN, Tok.TEMPLATE_INTERP, Tok.TEMPLATE_CONTROL):
        return 1
    if token.type in (Tok.CBRACE, Tok.CBRACK, Tok.CPAREN, Tok.TEMPLATE_SEQ_END):
        return -1
    return 0


def ends_line(token: Token) -> bool:
    return token.type is Tok.NEWLINE or (token.type is Tok.COMMENT and token.text.endswith("\n"))
