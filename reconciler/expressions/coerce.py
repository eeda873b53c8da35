"""HCL's value conversions and equality over plain Python values.

Numbers follow `expressions.numbers` (ints, and Num/PrecInt for Terraform's big floats); a string
converts to a number or bool when its text is one (as in HCL: `"1" + 1` is 2).
Callers: the evaluator, the functions, config.types (variable type conversion) and
config.arguments (messages).
"""

from __future__ import annotations

import json
import math
from typing import Any

from reconciler.expressions import numbers
from reconciler.expressions.numbers import NumberError, is_number
from reconciler.values import SHOWN, UNKNOWN, Digest, Sensitive

_NOTHING: Any = object()


class HclSet(list[Any]):
    """A set value (from `toset()` or a `set(...)` variable): a sorted, duplicate-free list that
    remembers it is a set, so that `for_each` can tell it from a list (which it refuses, as
    Terraform does). Everything else treats it as the list it is."""


class ConversionError(ValueError):
    """A value cannot be converted to the required type; the message is user-facing.

    `value` is the offending value when the message shows it (`show(value)`), so `masked()` can
    give the same message without it, for a sensitive value.
    """

    def __init__(self, message: str, *, value: Any = _NOTHING) -> None:
        super().__init__(message)
        self.value = value

    def masked(self) -> str:
        text = str(self)
        if self.value is _NOTHING:
            return text
        return text.replace(show(self.value), SHOWN)


def type_name(value: Any) -> str:
    if isinstance(value, Sensitive):
        return type_name(value.value)
    if isinstance(value, Digest):
        return "sensitive value"
    if value is None:
        return "null"
    if value is UNKNOWN:
        return "unknown"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, HclSet):
        return "set"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, dict):
        return "map"
    return type(value).__name__


def normalize_number(value: int | float) -> int | float:
    """A number from outside the evaluator (a plain float) as the value cty would hold."""
    if isinstance(value, int | numbers.Num):
        return value
    if not math.isfinite(value):
        return numbers.make(None, numbers.LITERAL_PREC, neg=value < 0)
    return numbers.from_text(repr(value))


def format_number(value: int | float) -> str:
    return numbers.format_number(value)


def show(value: Any, limit: int = 60) -> str:
    """A short HCL-like rendering of a value for messages: "two", 5, true, null, [...]; a marked
    value (or one that holds a marked part) is "(sensitive value)"."""
    if isinstance(value, Sensitive | Digest) or _holds_marks(value):
        return SHOWN
    if isinstance(value, str):
        text = json.dumps(value)
    elif value is None:
        text = "null"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif is_number(value):
        text = format_number(value)
    elif value is UNKNOWN:
        text = "(known after apply)"
    else:
        try:
            text = json.dumps(value, default=repr)
        except (TypeError, ValueError):
            text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _holds_marks(value: Any) -> bool:
    if isinstance(value, Sensitive | Digest):
        return True
    if isinstance(value, dict):
        return any(_holds_marks(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_holds_marks(v) for v in value)
    return False


def to_number(value: Any) -> int | float:
    if is_number(value):
        return normalize_number(value)
    if isinstance(value, str):
        try:
            return numbers.from_text(value)
        except NumberError:
            pass
    raise ConversionError(f"a number is required, got {show(value)}", value=value)


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in ("true", "false"):
        return value == "true"
    raise ConversionError(f"a bool is required, got {show(value)}", value=value)


def to_string(value: Any) -> str:
    """Primitive → string (numbers and bools too); null and collections are errors."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if is_number(value):
        return format_number(value)
    if value is None:
        raise ConversionError("a string is required, got null")
    raise ConversionError(f"a string is required, got a {type_name(value)}")


def hcl_equal(left: Any, right: Any) -> bool:
    """Equality without Python's True == 1 and with 1 == 1.0."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if is_number(left) and is_number(right):
        return numbers.compare(left, right) == 0
    if isinstance(left, list | tuple) and isinstance(right, list | tuple):
        return len(left) == len(right) and all(hcl_equal(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(hcl_equal(left[k], right[k]) for k in left)
    if type_name(left) != type_name(right):
        return False
    return bool(left == right)
