"""Quoted-string escapes of the expression parser (\\n, \\uNNNN, ...). Pure. Callers: expressions.parse."""

from __future__ import annotations

import re

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
