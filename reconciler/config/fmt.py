"""Canonical formatting of HCL text (`reconciler fmt`): a pure, idempotent text transformation.

Two-space indentation by nesting, one space around `=`, `=` aligned within runs of consecutive
single-line attributes (like `terraform fmt`), trailing whitespace removed, runs of blank lines
collapsed, comments kept, one trailing newline. Heredoc bodies, block comments and anything
inside strings are left exactly as written, so the parse result never changes.
Callers: the CLI's `fmt` command.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

_ATTR = re.compile(r'^(?P<key>[A-Za-z_][\w-]*|"(?:[^"\\]|\\.)*")[ \t]*=(?![=>])[ \t]*(?P<value>.*)$')
_HEREDOC = re.compile(r"<<-?([A-Za-z][\w.-]*)[ \t]*$")
_OPEN = "{[("
_CLOSE = "}])"


class _Mode(StrEnum):
    CODE = "code"
    STRING = "string"
    INTERP = "interp"
    COMMENT = "comment"  # /* ... */
    HEREDOC = "heredoc"


@dataclass
class _Line:
    text: str
    verbatim: bool  # starts inside a heredoc, block comment or string
    depth: int  # bracket depth at the start of the line
    single: bool  # ends where it started: same depth, back in code


def _scan(lines: list[str]) -> list[_Line]:
    out: list[_Line] = []
    depth = 0
    stack: list[tuple[_Mode, int]] = []  # (mode, brace depth inside an interpolation)
    heredoc: str | None = None
    for raw in lines:
        mode = stack[-1][0] if stack else _Mode.CODE
        if heredoc is not None:
            out.append(_Line(raw, True, depth, False))
            if raw.strip() == heredoc:
                heredoc = None
            continue
        start_depth = depth
        verbatim = mode is not _Mode.CODE
        pending: str | None = None
        i = 0
        while i < len(raw):
            ch = raw[i]
            mode = stack[-1][0] if stack else _Mode.CODE
            if mode is _Mode.COMMENT:
                if raw.startswith("*/", i):
                    stack.pop()
                    i += 1
            elif mode is _Mode.STRING:
                if ch == "\\":
                    i += 1
                elif ch == '"':
                    stack.pop()
                elif raw.startswith("$${", i) or raw.startswith("%%{", i):
                    i += 2  # escaped: literal text
                elif raw.startswith("${", i) or raw.startswith("%{", i):
                    stack.append((_Mode.INTERP, 0))
                    i += 1
            else:  # CODE or INTERP
                if ch == "#" or raw.startswith("//", i):
                    break
                if raw.startswith("/*", i):
                    stack.append((_Mode.COMMENT, 0))
                    i += 1
                elif ch == '"':
                    stack.append((_Mode.STRING, 0))
                elif mode is _Mode.INTERP:
                    if ch == "{":
                        stack[-1] = (_Mode.INTERP, stack[-1][1] + 1)
                    elif ch == "}":
                        if stack[-1][1] == 0:
                            stack.pop()
                        else:
                            stack[-1] = (_Mode.INTERP, stack[-1][1] - 1)
                elif ch in _OPEN:
                    depth += 1
                elif ch in _CLOSE:
                    depth = max(0, depth - 1)
                elif raw.startswith("<<", i):
                    m = _HEREDOC.match(raw, i)
                    if m:
                        pending = m.group(1)
                        break
            i += 1
        single = depth == start_depth and not stack and pending is None
        out.append(_Line(raw, verbatim, start_depth, single))
        if pending is not None:
            heredoc = pending
    return out


def format_source(text: str) -> str:
    """The canonical formatting of `text` (idempotent; parses to the same result)."""
    rendered: list[_Attr | _Text] = []
    for line in _scan(text.splitlines()):
        if line.verbatim:
            rendered.append(_Text(line.text, verbatim=True))
            continue
        content = line.text.strip()
        if not content:
            rendered.append(_Text(""))
            continue
        closers = len(content) - len(content.lstrip(_CLOSE))
        level = max(0, line.depth - closers)
        indent = "  " * level
        m = _ATTR.match(content)
        if m and line.single and m.group("value"):
            rendered.append(_Attr(indent, m.group("key"), m.group("value").rstrip()))
        elif m and m.group("value"):
            rendered.append(_Text(f"{indent}{m.group('key')} = {m.group('value').rstrip()}"))
        else:
            rendered.append(_Text(indent + content))
    return _join(_align(rendered))


@dataclass(frozen=True)
class _Attr:
    indent: str
    key: str
    value: str


@dataclass(frozen=True)
class _Text:
    text: str
    verbatim: bool = False


def _align(rendered: list[_Attr | _Text]) -> list[_Text]:
    out: list[_Text] = []
    i = 0
    while i < len(rendered):
        item = rendered[i]
        if isinstance(item, _Text):
            out.append(item)
            i += 1
            continue
        run = [item]
        j = i + 1
        while j < len(rendered):
            nxt = rendered[j]
            if not isinstance(nxt, _Attr) or nxt.indent != item.indent:
                break
            run.append(nxt)
            j += 1
        width = max(len(r.key) for r in run)
        out.extend(_Text(f"{r.indent}{r.key.ljust(width)} = {r.value}") for r in run)
        i = j
    return out


def _join(lines: list[_Text]) -> str:
    out: list[str] = []
    previous_blank = True  # drops leading blank lines
    for line in lines:
        blank = line.text == "" and not line.verbatim
        if blank and previous_blank:
            continue
        out.append(line.text)
        previous_blank = blank
    while out and out[-1] == "" and not lines[-1].verbatim:
        out.pop()
    return "\n".join(out) + "\n" if out else ""
