"""What every built-in function module shares: the spec type, the error, argument readers.

A function is a `FunctionSpec`: its implementation, its parameter names (Terraform's own, so an
error names the argument as Terraform would: `Invalid value for "offset" parameter`), how it
treats UNKNOWN and how it treats sensitivity marks (`MarkMode`, applied by expressions.calls).
Implementations take evaluated plain values and raise FunctionError with the index of the
culprit argument, or None when the call as a whole failed; an ELEMENTS function may find marked
elements (values.Sensitive) inside its arguments, and moves them as they are.
Callers: the functions_* modules (definitions) and expressions.evaluator (calls).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from reconciler.errors import FunctionError
from reconciler.expressions import numbers
from reconciler.expressions.coerce import ConversionError, show, to_bool, to_number, to_string, type_name
from reconciler.values import UNKNOWN, Digest, remark, unmark


@dataclass(frozen=True)
class FunctionEnv:
    """What functions may use beyond their arguments."""

    base_dir: Path
    render_template: Callable[[str, Path, dict[str, Any]], Any]  # (text, file, vars) → value


Impl = Callable[[FunctionEnv, list[Any]], Any]


class MarkMode(Enum):
    """How a call's result is marked when its arguments carry sensitivity marks (as Terraform)."""

    WHOLE = "whole"  # the function gets plain values; any mark anywhere marks the whole result
    ELEMENTS = "elements"  # it only moves elements: a mark on an argument itself marks the result,
    # marks on elements stay in place and travel with the elements it returns
    OWN = "own"  # it reads and sets marks itself (sensitive, nonsensitive, issensitive)


@dataclass(frozen=True)
class FunctionSpec:
    impl: Impl
    params: tuple[str, ...]
    variadic: str | None = None  # name of the repeated last parameter
    optional: int = 0  # how many of the trailing params may be left out
    tolerant: bool = False  # accepts collections that contain UNKNOWN
    marks: MarkMode = MarkMode.WHOLE

    @property
    def min_args(self) -> int:
        return len(self.params) - self.optional

    @property
    def max_args(self) -> int | None:
        return None if self.variadic is not None else len(self.params)

    def param_name(self, index: int) -> str:
        if index < len(self.params):
            return self.params[index]
        return self.variadic or f"argument {index + 1}"


def spec(
    impl: Impl,
    *params: str,
    variadic: str | None = None,
    optional: int = 0,
    tolerant: bool = False,
    marks: MarkMode = MarkMode.WHOLE,
) -> FunctionSpec:
    return FunctionSpec(impl, tuple(params), variadic, optional, tolerant, marks)


def nfc(text: str) -> str:
    """Terraform keeps every string in Unicode normal form C."""
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def arg_str(args: list[Any], i: int) -> str:
    if args[i] is None:
        raise FunctionError("argument must not be null", i)
    try:
        return to_string(args[i])
    except ConversionError as exc:
        raise FunctionError(str(exc), i) from None


def arg_num(args: list[Any], i: int) -> int | float:
    if args[i] is None:
        raise FunctionError("argument must not be null", i)
    try:
        return to_number(args[i])
    except ConversionError as exc:
        raise FunctionError(str(exc), i) from None


def arg_int(args: list[Any], i: int) -> int:
    """A whole number argument (as Terraform's number→int conversions require)."""
    value = arg_num(args, i)
    q = numbers.exact(value)
    if q is None or q.denominator != 1:
        raise FunctionError(f"a whole number is required, got {show(value)}", i)
    return int(q)


def arg_bool(args: list[Any], i: int) -> bool:
    try:
        return to_bool(args[i])
    except ConversionError as exc:
        raise FunctionError(str(exc), i) from None


def arg_list(args: list[Any], i: int) -> list[Any]:
    if args[i] is None:
        raise FunctionError("argument must not be null", i)
    if not isinstance(args[i], list | tuple):
        raise FunctionError(f"a list is required, got {type_name(args[i])} {show(args[i])}", i)
    return list(args[i])


def arg_map(args: list[Any], i: int) -> dict[str, Any]:
    if args[i] is None:
        raise FunctionError("argument must not be null", i)
    if not isinstance(args[i], dict):
        raise FunctionError(f"a map is required, got {type_name(args[i])} {show(args[i])}", i)
    return dict(args[i])


def unify(items: list[Any], *, what: str, arg: int) -> list[Any]:
    """Elements converted to one type, as cty does for list(any)/set(any)/map(any): primitives
    of mixed kinds become strings; collections mixed with anything else are refused. A marked
    element (ELEMENTS functions) is converted inside its mark; null, UNKNOWN and Digests (whose
    type cannot be seen) are left as they are."""
    kinds = {type_name(plain) for plain in map(_plain, items) if plain is not None and plain is not UNKNOWN}
    if len(kinds) <= 1:
        return items
    if kinds <= {"string", "number", "bool"}:
        return [_as_string(x) for x in items]
    raise FunctionError(f"cannot convert {what} of any single type", arg)


def _plain(item: Any) -> Any:
    return UNKNOWN if isinstance(item, Digest) else unmark(item)[0]


def _as_string(item: Any) -> Any:
    plain, marked = unmark(item)
    if plain is None or plain is UNKNOWN:
        return item
    return remark(to_string(plain), marked)


def sort_key(value: Any) -> Any:
    """Order of a set's elements as cty iterates them: numbers numerically, strings lexically."""
    if numbers.is_number(value):
        q = numbers.exact(value)
        return (0, q if q is not None else numbers.sign(value) * 10**9999, "")
    return (1, 0, str(value))
