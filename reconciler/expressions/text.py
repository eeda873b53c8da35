"""Text helpers of the expression parser: quoted-string escapes, template part merging, and
finding the end of a `${...}` interpolation in template text. Pure. Callers: expressions.parse.
"""

from __future__ import annotations

import re

from reconciler.errors import SourcePos
from reconciler.expressions import ast as A

_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


def unescape(text: str) -> str:
    """Process HCL quoted-string escapes (\\n, \\t, \\", \\\\, \\uNNNN, \\UNNNNNNNN).

    ValueError (a user-facing message) for a \\u or \\U escape that is no Unicode character."""
    if "\\" not in text:
        return text
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            width = {"u": 4, "U": 8}.get(nxt)
            if width and re.fullmatch(r"[0-9a-fA-F]+", text[i + 2 : i + 2 + width] or "x"):
                code = int(text[i + 2 : i + 2 + width], 16)
                if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                    raise ValueError(f"{text[i : i + 2 + width]} is not a Unicode character")
                out.append(chr(code))
                i += 2 + width
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def make_template(pos: SourcePos, parts: list[str | A.Expr]) -> A.Expr:
    """A Literal for plain text, else a Template with adjacent text parts merged."""
    merged: list[str | A.Expr] = []
    for p in parts:
        if isinstance(p, str) and merged and isinstance(merged[-1], str):
            merged[-1] = merged[-1] + p
        elif not (isinstance(p, str) and p == ""):
            merged.append(p)
    if not merged:
        return A.Literal(pos, "")
    if len(merged) == 1 and isinstance(merged[0], str):
        return A.Literal(pos, merged[0])
    return A.Template(pos, tuple(merged))


def find_interp_end(text: str, start: int) -> int:
    """Index of the `}` closing the interpolation whose body starts at `start` (-1 if none)."""
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
