"""`format` and `formatlist`: Terraform's printf verbs (%s %d %f %e %g %x %X %o %b %q %t %v %%),
with flags, width, precision and explicit argument indexes (%[2]s).

%v prints primitives as `tostring` would and collections as JSON; numbers print as Terraform
prints them (`format("%s", 1/3)` has 157 digits). Callers: expressions.functions (the registry).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from reconciler.errors import FunctionError
from reconciler.expressions import numbers
from reconciler.expressions.coerce import ConversionError, to_bool, to_number, to_string
from reconciler.expressions.functions_base import FunctionEnv, FunctionSpec, arg_str, spec

_VERB = re.compile(r"%(?:\[(\d+)\])?([-+ 0#]*)(\d*)(?:\.(\d*))?([a-zA-Z%])")
_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def go_quote(text: str) -> str:
    """Go's strconv.Quote: printable characters kept, others escaped."""
    out = ['"']
    for ch in text:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ch == " " or (ch.isprintable() and unicodedata.category(ch) not in ("Zs", "Cf")):
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


# Go's fmt refuses widths above 10^6 (Terraform then prints "%!(NOVERB)"); reconciler says so instead.
MAX_FORMAT_WIDTH = 1_000_000


def format_text(spec_text: str, values: list[Any], *, arg: int | None = 0) -> str:
    out: list[str] = []
    pos = 0
    next_arg = 0
    for m in _VERB.finditer(spec_text):
        out.append(spec_text[pos : m.start()])
        pos = m.end()
        explicit, flags, width, prec, verb = m.groups()
        if verb == "%":
            out.append("%")
            continue
        if max(int(width or 0), int(prec or 0)) > MAX_FORMAT_WIDTH:
            raise FunctionError(f"a format width or precision is at most {MAX_FORMAT_WIDTH}", arg)
        idx = int(explicit) - 1 if explicit else next_arg
        next_arg = idx + 1
        if idx >= len(values):
            raise FunctionError(
                f'not enough arguments for "{m.group(0)}" at {m.start()}: need index {idx + 1} '
                f"but have {len(values)} total"
            )
        out.append(_one(values[idx], flags, width, prec, verb, m))
    out.append(spec_text[pos:])
    return "".join(out)


def _python_spec(flags: str, width: str, prec: str | None, kind: str) -> str:
    align = "<" if "-" in flags else ""
    sign = "+" if "+" in flags else (" " if " " in flags else "")
    alt = "#" if "#" in flags and kind in "xXob" else ""
    zero = "0" if "0" in flags and "-" not in flags else ""
    dot = f".{prec or 0}" if prec is not None else ""
    return f"{align}{sign}{alt}{zero}{width}{dot}{kind}"


def _one(value: Any, flags: str, width: str, prec: str | None, verb: str, m: re.Match[str]) -> str:
    where = f'"{m.group(0)}" at {m.start()}'
    if value is None:
        raise FunctionError(f"unsupported value for {where}: null value cannot be formatted")
    try:
        if verb in "dxXob":
            if isinstance(value, str) and verb in "xX":
                text = value.encode().hex()
                return text.upper() if verb == "X" else text
            q = numbers.exact(to_number(value))
            if q is None or q.denominator != 1:
                raise FunctionError(f"unsupported value for {where}: an integer is required")
            return format(int(q), _python_spec(flags, width, None, verb))
        if verb in "feEgG":
            return format(float(to_number(value)), _python_spec(flags, width, prec, verb))
        if verb == "t":
            text = "true" if to_bool(value) else "false"
        elif verb == "q":
            text = go_quote(to_string(value))
        elif verb == "s":
            text = to_string(value)
        elif verb == "v":
            from reconciler.expressions.functions_encoding import json_text

            text = json_text(value) if isinstance(value, list | tuple | dict) else to_string(value)
        else:
            raise FunctionError(f"unsupported format verb %{verb} at {m.start()}")
    except ConversionError as exc:
        raise FunctionError(f"unsupported value for {where}: {exc}") from None
    if prec is not None and verb in "sqv":
        text = text[: int(prec or 0)]
    if width:
        pad = "0" if "0" in flags and "-" not in flags else " "
        text = text.ljust(int(width)) if "-" in flags else text.rjust(int(width), pad)
    return text


def fn_format(env: FunctionEnv, args: list[Any]) -> Any:
    return format_text(arg_str(args, 0), args[1:])


def fn_formatlist(env: FunctionEnv, args: list[Any]) -> Any:
    fmt = arg_str(args, 0)
    length: int | None = None
    first_list = 0
    for i, value in enumerate(args[1:], start=1):
        if isinstance(value, list | tuple):
            if length is None:
                length, first_list = len(value), i
            elif len(value) != length:
                raise FunctionError(
                    f"argument {i} has length {len(value)}, which is inconsistent with argument "
                    f"{first_list} of length {length}",
                    i,
                )
    if length is None:
        raise FunctionError("at least one of the arguments must be a list", 0)
    out = []
    for n in range(length):
        row = [v[n] if isinstance(v, list | tuple) else v for v in args[1:]]
        out.append(format_text(fmt, row))
    return out


FORMAT_FUNCTIONS: dict[str, FunctionSpec] = {
    "format": spec(fn_format, "format", variadic="args"),
    "formatlist": spec(fn_formatlist, "format", variadic="args"),
}
