"""Render a value the way `terraform console` prints it, and strip Terraform's type wrappers.

Used by the conformance test only: reconciler's values carry no list/tuple, set or map/object
distinction, so `tolist([...])`, `toset([...])`, `tomap({...})` and typed nulls in Terraform's
output are unwrapped before comparing (set order is kept: Terraform prints sets sorted).
"""

from __future__ import annotations

import re
from typing import Any

from reconciler.expressions.functions_format import go_quote  # Go's strconv.Quote, as format("%q")
from reconciler.expressions.numbers import format_number
from reconciler.values import is_marked

_WRAPPER = re.compile(r"to(?:list|set|map)\(")
_TYPED_NULL = re.compile(r"to(?:number|string|bool|list|set|map)\(null\)")
def render(value: Any, indent: int = 0) -> str:
    pad = "  " * indent
    if is_marked(value):
        return "(sensitive value)"  # as Terraform prints a marked value, wherever it is
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return format_number(value)
    if isinstance(value, str):
        if "\n" not in value:
            return go_quote(value)
        marker = "EOT"
        while marker in value.split("\n"):
            marker += "_"
        if indent == 0:
            return f"<<{marker}\n{value}\n{marker}"
        body = "\n".join(pad + line for line in value.split("\n"))
        return f"<<-{marker}\n{body}\n{pad}{marker}"
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        inner = "".join(f"{pad}  {render(v, indent + 1)},\n" for v in value)
        return f"[\n{inner}{pad}]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        inner = "".join(f"{pad}  {go_quote(k)} = {render(value[k], indent + 1)}\n" for k in sorted(value))
        return f"{{\n{inner}{pad}}}"
    raise TypeError(f"cannot render {value!r}")


def unwrap(text: str) -> str:
    """Terraform's console text without tolist(/toset(/tomap( wrappers and typed nulls."""
    text = _TYPED_NULL.sub("null", text)
    out: list[str] = []
    brackets: list[bool] = []  # per open bracket: was it wrapped?
    wrapped_next = False
    i = 0
    heredoc: str | None = None
    while i < len(text):
        if heredoc is not None:
            end = text.find("\n", i)
            line = text[i:] if end < 0 else text[i : end + 1]
            out.append(line)
            i += len(line)
            if line.strip().rstrip(",") == heredoc:
                heredoc = None
            continue
        ch = text[i]
        m = _WRAPPER.match(text, i)
        if m:
            wrapped_next = True
            i = m.end()
            continue
        if text.startswith("<<", i):
            end = text.find("\n", i)
            heredoc = text[i:end].lstrip("<-")
            out.append(text[i : end + 1])
            i = end + 1
            continue
        if ch == '"':
            j = i + 1
            while text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i : j + 1])
            i = j + 1
            continue
        if ch in "[{":
            brackets.append(wrapped_next)
            wrapped_next = False
        elif ch in "]}" and brackets.pop() and text.startswith(")", i + 1):
            out.append(ch)
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)
