"""The built-in functions of the expression language (file, format, join, merge, ...).

Each takes already evaluated plain values and returns one, or raises FunctionError with a
user-facing message; the evaluator turns that into a Diagnostic at the call's position and
handles UNKNOWN arguments before calling (unless a function is marked tolerant of UNKNOWN inside
collections), and sensitivity marks: by default it strips every mark from the arguments and marks
the result when there was one; a function with `marks=MarkMode.ELEMENTS` only moves elements
around, so it gets its arguments with their elements' marks in place and they stay on the
elements it returns (Terraform keeps `merge({...}, {Token = var.secret})`'s other keys readable).
Callers: expressions.evaluator only.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from reconciler.expressions.coerce import (
    ConversionError,
    format_number,
    hcl_equal,
    is_number,
    normalize_number,
    show,
    to_bool,
    to_number,
    to_string,
    type_name,
)
from reconciler.values import UNKNOWN, has_marks, unmark, unmark_deep


class FunctionError(Exception):
    """A function refused its arguments; `arg` is the 0-based index of the culprit if known."""

    def __init__(self, message: str, arg: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.arg = arg


@dataclass(frozen=True)
class FunctionEnv:
    """What functions may use beyond their arguments."""

    base_dir: Path
    render_template: Callable[[str, Path, dict[str, Any]], Any]  # (text, file, vars) → value


Impl = Callable[[FunctionEnv, list[Any]], Any]


class MarkMode(Enum):
    """How a function's result is marked when an argument is sensitive."""

    WHOLE = "whole"  # any mark anywhere in an argument marks the whole result
    ELEMENTS = "elements"  # only marks on the arguments themselves; elements keep their own


@dataclass(frozen=True)
class FunctionSpec:
    impl: Impl
    min_args: int
    max_args: int | None  # None: variadic
    tolerant: bool = False  # accepts collections that contain UNKNOWN
    marks: MarkMode = MarkMode.WHOLE


def split_marks(spec: FunctionSpec, args: list[Any], *, spread_from: int) -> tuple[list[Any], set[int]]:
    """(the arguments as the function gets them, the indexes of those that carry a mark): a mark
    anywhere inside counts (the default), or only on the argument itself for MarkMode.ELEMENTS;
    arguments from `spread_from` on came from a marked `...` list."""
    if spec.marks is MarkMode.ELEMENTS:
        unmarked = [unmark(a) for a in args]
    else:
        unmarked = [(plain, bool(paths)) for plain, paths in map(unmark_deep, args)]
    marked = {i for i, (_, m) in enumerate(unmarked) if m or i >= spread_from}
    return [plain for plain, _ in unmarked], marked


WITHHELD = "the call failed on a sensitive argument (the message is withheld so as not to show it)"


def visible_message(exc: FunctionError, args: list[Any], marked: set[int]) -> str:
    """The function's message, unless it may quote a sensitive argument."""
    if exc.arg is not None and exc.arg < len(args):
        hidden = exc.arg in marked or has_marks(args[exc.arg])
    else:
        hidden = bool(marked) or any(has_marks(a) for a in args)
    return WITHHELD if hidden else exc.message


def _str(args: list[Any], i: int) -> str:
    try:
        return to_string(args[i])
    except ConversionError as exc:
        raise FunctionError(str(exc), i) from None


def _num(args: list[Any], i: int) -> int | float:
    try:
        return to_number(args[i])
    except ConversionError as exc:
        raise FunctionError(str(exc), i) from None


def _list(args: list[Any], i: int) -> list[Any]:
    if not isinstance(args[i], list | tuple):
        raise FunctionError(f"a list is required, got {type_name(args[i])} {show(args[i])}", i)
    return list(args[i])


def _map(args: list[Any], i: int) -> dict[str, Any]:
    if not isinstance(args[i], dict):
        raise FunctionError(f"a map is required, got {type_name(args[i])} {show(args[i])}", i)
    return dict(args[i])


def _read(env: FunctionEnv, args: list[Any]) -> tuple[Path, str]:
    raw = _str(args, 0)
    path = Path(raw) if Path(raw).is_absolute() else env.base_dir / raw
    try:
        return path, path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FunctionError(f'no file exists at "{raw}" (looked in {env.base_dir})', 0) from None
    except UnicodeDecodeError:
        raise FunctionError(f'the file "{raw}" is not valid UTF-8', 0) from None
    except OSError as exc:
        raise FunctionError(f'cannot read "{raw}": {exc.strerror}', 0) from None


def fn_file(env: FunctionEnv, args: list[Any]) -> Any:
    return _read(env, args)[1]


def fn_templatefile(env: FunctionEnv, args: list[Any]) -> Any:
    path, text = _read(env, args)
    return env.render_template(text, path, _map(args, 1))


_VERB = re.compile(r"%(?:\[(\d+)\])?([-+ 0#]*)(\d*)(?:\.(\d+))?([a-zA-Z%])")


def fn_format(env: FunctionEnv, args: list[Any]) -> Any:
    spec = _str(args, 0)
    values = args[1:]
    out: list[str] = []
    pos = 0
    next_arg = 0
    for m in _VERB.finditer(spec):
        out.append(spec[pos : m.start()])
        pos = m.end()
        explicit, flags, width, prec, verb = m.groups()
        if verb == "%":
            out.append("%")
            continue
        idx = int(explicit) - 1 if explicit else next_arg
        next_arg = idx + 1
        if idx >= len(values):
            raise FunctionError(f"not enough arguments for format verb {m.group(0)!r}")
        out.append(_format_one(values[idx], flags, width, prec, verb, idx + 1))
    out.append(spec[pos:])
    return "".join(out)


def _format_one(value: Any, flags: str, width: str, prec: str, verb: str, i: int) -> str:
    try:
        if verb in "dxXob":
            number = to_number(value)
            if not isinstance(number, int):
                raise FunctionError(f"%{verb} needs a whole number, got {show(value)}", i)
            py = f"{{:{flags}{width}{'d' if verb == 'd' else verb}}}"
            return py.format(number)
        if verb in "feEgG":
            py = f"{{:{flags}{width}{'.' + prec if prec else ''}{verb}}}"
            return py.format(float(to_number(value)))
        if verb == "t":
            text = "true" if to_bool(value) else "false"
        elif verb == "q":
            text = json.dumps(to_string(value))
        elif verb == "s":
            text = to_string(value)
        elif verb == "v":
            text = to_string(value) if not isinstance(value, list | dict) else _json(value)
        else:
            raise FunctionError(f"unsupported format verb %{verb}")
    except ConversionError as exc:
        raise FunctionError(f"%{verb}: {exc}", i) from None
    if prec:
        text = text[: int(prec)]
    if width:
        text = text.ljust(int(width)) if "-" in flags else text.rjust(int(width))
    return text


def fn_join(env: FunctionEnv, args: list[Any]) -> Any:
    sep = _str(args, 0)
    items: list[str] = []
    for i in range(1, len(args)):
        for item in _list(args, i):
            try:
                items.append(to_string(item))
            except ConversionError as exc:
                raise FunctionError(f"element of the list: {exc}", i) from None
    return sep.join(items)


def fn_split(env: FunctionEnv, args: list[Any]) -> Any:
    sep, text = _str(args, 0), _str(args, 1)
    if text == "":
        return []
    if sep == "":
        return list(text)
    return text.split(sep)


def fn_lookup(env: FunctionEnv, args: list[Any]) -> Any:
    mapping, key = _map(args, 0), _str(args, 1)
    if key in mapping:
        return mapping[key]
    if len(args) > 2:
        return args[2]
    raise FunctionError(f'lookup failed to find key "{key}"', 1)


def fn_merge(env: FunctionEnv, args: list[Any]) -> Any:
    out: dict[str, Any] = {}
    for i, arg in enumerate(args):
        if arg is None:
            continue
        out.update(_map(args, i))
    return out


def fn_concat(env: FunctionEnv, args: list[Any]) -> Any:
    return [item for i in range(len(args)) for item in _list(args, i)]


def fn_length(env: FunctionEnv, args: list[Any]) -> Any:
    value = args[0]
    if isinstance(value, str | list | tuple | dict):
        return len(value)
    raise FunctionError(f"length needs a string, list or map, got {type_name(value)}", 0)


def fn_replace(env: FunctionEnv, args: list[Any]) -> Any:
    text, sub, repl = _str(args, 0), _str(args, 1), _str(args, 2)
    if len(sub) > 1 and sub.startswith("/") and sub.endswith("/"):
        try:
            pattern = re.compile(sub[1:-1])
        except re.error as exc:
            raise FunctionError(f"invalid regular expression: {exc}", 1) from None
        py_repl = re.sub(r"\$\{?(\w+)\}?", r"\\g<\1>", repl.replace("\\", "\\\\"))
        return pattern.sub(py_repl, text)
    return text.replace(sub, repl)


def fn_base64decode(env: FunctionEnv, args: list[Any]) -> Any:
    try:
        return base64.b64decode(_str(args, 0), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise FunctionError("the argument is not valid base64 text (or not UTF-8 once decoded)", 0) from None


def fn_tostring(env: FunctionEnv, args: list[Any]) -> Any:
    return None if args[0] is None else _str(args, 0)


def fn_tonumber(env: FunctionEnv, args: list[Any]) -> Any:
    return None if args[0] is None else _num(args, 0)


def fn_tolist(env: FunctionEnv, args: list[Any]) -> Any:
    return None if args[0] is None else _list(args, 0)


def fn_toset(env: FunctionEnv, args: list[Any]) -> Any:
    items = _list(args, 0)
    if any(isinstance(x, list | tuple | dict) for x in items):
        raise FunctionError("toset supports only lists of strings, numbers or bools", 0)
    kinds = {type_name(x) for x in items}
    if len(kinds) > 1:
        items = [to_string(x) for x in items]
    unique: list[Any] = []
    for x in items:
        if not any(hcl_equal(x, y) for y in unique):
            unique.append(x)
    return sorted(unique)


def fn_keys(env: FunctionEnv, args: list[Any]) -> Any:
    return sorted(_map(args, 0))


def fn_values(env: FunctionEnv, args: list[Any]) -> Any:
    mapping = _map(args, 0)
    return [mapping[k] for k in sorted(mapping)]


def _json(value: Any) -> str:
    def norm(v: Any) -> Any:
        if is_number(v):
            return normalize_number(v)
        if isinstance(v, dict):
            return {k: norm(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [norm(x) for x in v]
        return v

    return json.dumps(norm(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def fn_jsonencode(env: FunctionEnv, args: list[Any]) -> Any:
    return _json(args[0])


def fn_min(env: FunctionEnv, args: list[Any]) -> Any:
    return min(_num(args, i) for i in range(len(args)))


def fn_max(env: FunctionEnv, args: list[Any]) -> Any:
    return max(_num(args, i) for i in range(len(args)))


def fn_coalesce(env: FunctionEnv, args: list[Any]) -> Any:
    for arg in args:
        if arg is UNKNOWN:
            return UNKNOWN
        if arg is not None and arg != "":
            return arg
    raise FunctionError("no non-null, non-empty-string arguments")


def fn_contains(env: FunctionEnv, args: list[Any]) -> Any:
    return any(hcl_equal(item, args[1]) for item in _list(args, 0))


def _simple(fn: Callable[[str], str]) -> Impl:
    return lambda env, args: fn(_str(args, 0))


def fn_range(env: FunctionEnv, args: list[Any]) -> Any:
    """range(limit), range(start, limit) or range(start, limit, step), like Terraform's."""
    nums = [_num(args, i) for i in range(len(args))]
    start, limit, step = (
        (0, nums[0], 1) if len(nums) == 1 else (nums[0], nums[1], nums[2] if len(nums) > 2 else 1)
    )
    if step == 0:
        raise FunctionError("step must not be zero", 2)
    if (limit - start) / step > 1024:
        raise FunctionError("more than 1024 elements", 0)
    out: list[Any] = []
    value = start
    while (step > 0 and value < limit) or (step < 0 and value > limit):
        out.append(value)
        value += step
    return out


FUNCTIONS: dict[str, FunctionSpec] = {
    "range": FunctionSpec(fn_range, 1, 3),
    "file": FunctionSpec(fn_file, 1, 1),
    "templatefile": FunctionSpec(fn_templatefile, 2, 2),
    "format": FunctionSpec(fn_format, 1, None),
    "join": FunctionSpec(fn_join, 2, None),
    "split": FunctionSpec(fn_split, 2, 2),
    "lookup": FunctionSpec(fn_lookup, 2, 3, tolerant=True, marks=MarkMode.ELEMENTS),
    "merge": FunctionSpec(fn_merge, 0, None, tolerant=True, marks=MarkMode.ELEMENTS),
    "concat": FunctionSpec(fn_concat, 0, None, tolerant=True, marks=MarkMode.ELEMENTS),
    "length": FunctionSpec(fn_length, 1, 1, tolerant=True, marks=MarkMode.ELEMENTS),
    "upper": FunctionSpec(_simple(str.upper), 1, 1),
    "lower": FunctionSpec(_simple(str.lower), 1, 1),
    "replace": FunctionSpec(fn_replace, 3, 3),
    "base64encode": FunctionSpec(_simple(lambda s: base64.b64encode(s.encode()).decode()), 1, 1),
    "base64decode": FunctionSpec(fn_base64decode, 1, 1),
    "tostring": FunctionSpec(fn_tostring, 1, 1),
    "tonumber": FunctionSpec(fn_tonumber, 1, 1),
    "tolist": FunctionSpec(fn_tolist, 1, 1, tolerant=True, marks=MarkMode.ELEMENTS),
    "toset": FunctionSpec(fn_toset, 1, 1),
    "keys": FunctionSpec(fn_keys, 1, 1, tolerant=True, marks=MarkMode.ELEMENTS),
    "values": FunctionSpec(fn_values, 1, 1, tolerant=True, marks=MarkMode.ELEMENTS),
    "jsonencode": FunctionSpec(fn_jsonencode, 1, 1),
    "min": FunctionSpec(fn_min, 1, None),
    "max": FunctionSpec(fn_max, 1, None),
    "coalesce": FunctionSpec(fn_coalesce, 1, None, tolerant=True),
    "contains": FunctionSpec(fn_contains, 2, 2),
}

__all__ = [
    "FUNCTIONS",
    "FunctionEnv",
    "FunctionError",
    "FunctionSpec",
    "MarkMode",
    "format_number",
    "split_marks",
    "visible_message",
]
