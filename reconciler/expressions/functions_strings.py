"""String functions with Terraform's semantics: grapheme clusters, Go's case mapping, RE2-style
regular expressions.

`length("e\u0301")` is 1 and `substr` counts user-perceived characters (extended grapheme
clusters, as Terraform's go-textseg does); `upper("straße")` is `STRAßE` because Go maps case one
character at a time (simple case mapping), never `ß` → `SS`. Callers: expressions.functions
(the registry).
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

import regex

from reconciler.errors import FunctionError
from reconciler.expressions import numbers
from reconciler.expressions.coerce import ConversionError, to_string, type_name
from reconciler.expressions.functions_base import (
    FunctionEnv,
    FunctionSpec,
    MarkMode,
    arg_int,
    arg_list,
    arg_str,
    nfc,
    spec,
)

_GRAPHEME = regex.compile(r"\X")


def graphemes(text: str) -> list[str]:
    found: list[str] = _GRAPHEME.findall(text)
    return found


def _upper_char(ch: str) -> str:
    up = ch.upper()
    if len(up) == 1:
        return up
    title = ch.title()
    return title if len(title) == 1 else ch


def _lower_char(ch: str) -> str:
    low = ch.lower()
    return low if len(low) == 1 else "i" if ch == "\u0130" else ch


def _title_char(ch: str) -> str:
    title = ch.title()
    return title if len(title) == 1 else _upper_char(ch)


def _is_separator(ch: str) -> bool:
    """Go's strings.Title word boundaries."""
    if ord(ch) <= 0x7F:
        return not (ch.isalnum() or ch == "_")
    if ch.isalpha() or ch.isdigit():
        return False
    return ch.isspace()


def fn_upper(env: FunctionEnv, args: list[Any]) -> Any:
    return nfc("".join(_upper_char(c) for c in arg_str(args, 0)))


def fn_lower(env: FunctionEnv, args: list[Any]) -> Any:
    return nfc("".join(_lower_char(c) for c in arg_str(args, 0)))


def fn_title(env: FunctionEnv, args: list[Any]) -> Any:
    out: list[str] = []
    previous = " "
    for ch in arg_str(args, 0):
        out.append(_title_char(ch) if _is_separator(previous) else ch)
        previous = ch
    return nfc("".join(out))


def fn_length(env: FunctionEnv, args: list[Any]) -> Any:
    value = args[0]
    if isinstance(value, str):
        return numbers.from_int(len(graphemes(value)))
    if isinstance(value, list | tuple | dict):
        return numbers.from_int(len(value))
    if value is None:
        raise FunctionError("argument must not be null", 0)
    raise FunctionError(
        f"argument must be a string, a collection type, or a structural type, got {type_name(value)}", 0
    )


def fn_substr(env: FunctionEnv, args: list[Any]) -> Any:
    clusters = graphemes(arg_str(args, 0))
    offset, length = arg_int(args, 1), arg_int(args, 2)
    if offset < 0:
        offset = max(0, offset + len(clusters))
    rest = clusters[offset:]
    return "".join(rest if length < 0 else rest[:length])


def fn_startswith(env: FunctionEnv, args: list[Any]) -> Any:
    return arg_str(args, 0).startswith(arg_str(args, 1))


def fn_endswith(env: FunctionEnv, args: list[Any]) -> Any:
    return arg_str(args, 0).endswith(arg_str(args, 1))


def fn_strcontains(env: FunctionEnv, args: list[Any]) -> Any:
    return arg_str(args, 1) in arg_str(args, 0)


def fn_trimspace(env: FunctionEnv, args: list[Any]) -> Any:
    return arg_str(args, 0).strip()


def fn_trim(env: FunctionEnv, args: list[Any]) -> Any:
    return arg_str(args, 0).strip(arg_str(args, 1))


def fn_trimprefix(env: FunctionEnv, args: list[Any]) -> Any:
    return arg_str(args, 0).removeprefix(arg_str(args, 1))


def fn_trimsuffix(env: FunctionEnv, args: list[Any]) -> Any:
    return arg_str(args, 0).removesuffix(arg_str(args, 1))


def fn_chomp(env: FunctionEnv, args: list[Any]) -> Any:
    return re.sub(r"(?:\r\n|\r|\n)+\Z", "", arg_str(args, 0))


def fn_strrev(env: FunctionEnv, args: list[Any]) -> Any:
    return "".join(reversed(graphemes(arg_str(args, 0))))


def fn_indent(env: FunctionEnv, args: list[Any]) -> Any:
    pad = " " * arg_int(args, 0)
    return f"\n{pad}".join(arg_str(args, 1).split("\n"))


def compile_pattern(pattern: str, arg: int) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.ASCII)  # RE2's \d, \w, \s are ASCII-only
    except (re.error, OverflowError) as exc:  # OverflowError: a{99999999999}
        raise FunctionError(f"invalid regexp pattern: {exc}", arg) from None


_GO_VARIABLE = re.compile(r"\{(\w+)\}|(\w+)")


def _go_expand(repl: str, match: re.Match[str]) -> str:
    """Go's Regexp.Expand of `repl` for one match: $1, ${1}, $name, ${name}, $$ for "$"; a group
    that does not exist or did not match expands to "" (as in Terraform), a malformed $ is text."""
    out: list[str] = []
    i = 0
    while i < len(repl):
        if repl[i] != "$":
            nxt = repl.find("$", i)
            nxt = len(repl) if nxt < 0 else nxt
            out.append(repl[i:nxt])
            i = nxt
            continue
        if repl.startswith("$$", i):
            out.append("$")
            i += 2
            continue
        var = _GO_VARIABLE.match(repl, i + 1)
        if var is None:
            out.append("$")
            i += 1
            continue
        name = var.group(1) or var.group(2)
        key: int | str = int(name) if name.isdigit() else name
        with contextlib.suppress(IndexError):  # no such group: ""
            out.append(match.group(key) or "")
        i = var.end()
    return "".join(out)


def fn_replace(env: FunctionEnv, args: list[Any]) -> Any:
    text, sub, repl = arg_str(args, 0), arg_str(args, 1), arg_str(args, 2)
    if len(sub) > 1 and sub.startswith("/") and sub.endswith("/"):
        pattern = compile_pattern(sub[1:-1], 1)
        return pattern.sub(lambda m: _go_expand(repl, m), text)
    return text.replace(sub, repl)


def fn_split(env: FunctionEnv, args: list[Any]) -> Any:
    sep, text = arg_str(args, 0), arg_str(args, 1)
    if sep == "":
        return list(text)
    return text.split(sep)


def fn_join(env: FunctionEnv, args: list[Any]) -> Any:
    sep = arg_str(args, 0)
    items: list[str] = []
    for i in range(1, len(args)):
        for item in arg_list(args, i):
            if item is None:
                raise FunctionError("element of the list must not be null", i)
            try:
                items.append(to_string(item))
            except ConversionError as exc:
                raise FunctionError(f"element of the list: {exc}", i) from None
    return sep.join(items)


def _match_value(pattern: re.Pattern[str], m: re.Match[str]) -> Any:
    if pattern.groupindex:
        return {name: m.group(name) or "" for name in pattern.groupindex}
    if pattern.groups:
        return [g or "" for g in m.groups()]
    return m.group(0)


def fn_regex(env: FunctionEnv, args: list[Any]) -> Any:
    pattern = compile_pattern(arg_str(args, 0), 0)
    m = pattern.search(arg_str(args, 1))
    if m is None:
        raise FunctionError("pattern did not match any part of the given string")
    return _match_value(pattern, m)


def fn_regexall(env: FunctionEnv, args: list[Any]) -> Any:
    pattern = compile_pattern(arg_str(args, 0), 0)
    return [_match_value(pattern, m) for m in pattern.finditer(arg_str(args, 1))]


STRING_FUNCTIONS: dict[str, FunctionSpec] = {
    "upper": spec(fn_upper, "str"),
    "lower": spec(fn_lower, "str"),
    "title": spec(fn_title, "str"),
    "length": spec(fn_length, "value", tolerant=True, marks=MarkMode.ELEMENTS),
    "substr": spec(fn_substr, "str", "offset", "length"),
    "startswith": spec(fn_startswith, "str", "prefix"),
    "endswith": spec(fn_endswith, "str", "suffix"),
    "strcontains": spec(fn_strcontains, "str", "substr"),
    "trimspace": spec(fn_trimspace, "str"),
    "trim": spec(fn_trim, "str", "cutset"),
    "trimprefix": spec(fn_trimprefix, "str", "prefix"),
    "trimsuffix": spec(fn_trimsuffix, "str", "suffix"),
    "chomp": spec(fn_chomp, "str"),
    "strrev": spec(fn_strrev, "str"),
    "indent": spec(fn_indent, "spaces", "str"),
    "replace": spec(fn_replace, "str", "substr", "replace"),
    "split": spec(fn_split, "separator", "str"),
    "join": spec(fn_join, "separator", variadic="lists"),
    "regex": spec(fn_regex, "pattern", "string"),
    "regexall": spec(fn_regexall, "pattern", "string"),
}
