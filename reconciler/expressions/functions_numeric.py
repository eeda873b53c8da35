"""Numeric functions and the number/string conversions, on Terraform's big-float numbers.

abs, ceil, floor, min, max, sum and range keep the exact value and precision of their inputs;
pow and log compute in float64 as Terraform does (53 bits); parseint reads any base 2–62.
Callers: expressions.functions (the registry).
"""

from __future__ import annotations

import math
from typing import Any

from reconciler.errors import FunctionError
from reconciler.expressions import numbers
from reconciler.expressions.coerce import to_string, type_name
from reconciler.expressions.functions_base import (
    FunctionEnv,
    FunctionSpec,
    arg_int,
    arg_list,
    arg_num,
    arg_str,
    spec,
)
from reconciler.expressions.numbers import NumberError

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def fn_abs(env: FunctionEnv, args: list[Any]) -> Any:
    value = arg_num(args, 0)
    return numbers.negate(value) if numbers.sign(value) < 0 else value


def _rounded(value: Any, up: bool) -> Any:
    q = numbers.exact(value)
    if q is None:
        return value
    return numbers.from_int(math.ceil(q) if up else math.floor(q), numbers.precision(value))


def fn_ceil(env: FunctionEnv, args: list[Any]) -> Any:
    return _rounded(arg_num(args, 0), up=True)


def fn_floor(env: FunctionEnv, args: list[Any]) -> Any:
    return _rounded(arg_num(args, 0), up=False)


def _float(value: Any) -> float:
    return float(value)


def fn_pow(env: FunctionEnv, args: list[Any]) -> Any:
    base, power = _float(arg_num(args, 0)), _float(arg_num(args, 1))
    try:
        return numbers.from_float(math.pow(base, power))
    except OverflowError:
        return numbers.from_float(math.inf)
    except (ValueError, NumberError):
        raise FunctionError("the result is not a real number") from None


def fn_log(env: FunctionEnv, args: list[Any]) -> Any:
    num, base = _float(arg_num(args, 0)), _float(arg_num(args, 1))
    try:
        return numbers.from_float(math.log(num) / math.log(base))
    except (ValueError, ZeroDivisionError, NumberError):
        raise FunctionError("the result is not a real number") from None


def fn_signum(env: FunctionEnv, args: list[Any]) -> Any:
    q = numbers.exact(arg_num(args, 0))
    if q is None or q.denominator != 1 or not -(2**63) <= q < 2**63:
        raise FunctionError(
            "value must be a whole number, between -9223372036854775808 and 9223372036854775807"
        )
    return numbers.from_int((q > 0) - (q < 0))


def fn_parseint(env: FunctionEnv, args: list[Any]) -> Any:
    if not isinstance(args[0], str):
        raise FunctionError(f"first argument must be a string, not {type_name(args[0])}", 0)
    text = args[0]
    base = arg_int(args, 1)
    if not 2 <= base <= 62:
        raise FunctionError("base must be a whole number between 2 and 62 inclusive", 1)
    body = text[1:] if text[:1] in "+-" else text
    alphabet = _DIGITS[:base] if base > 36 else _DIGITS[:base] + _DIGITS[36 : 36 + max(0, base - 10)]
    if not body or any(c not in alphabet for c in body):
        raise FunctionError(f'cannot parse "{text}" as a base {base} integer', 0)
    value = 0
    for c in body:
        digit = _DIGITS.index(c) if base > 36 else int(c, 36)
        value = value * base + digit
    return numbers.from_int(-value if text.startswith("-") else value)


def _numbers(args: list[Any]) -> list[Any]:
    return [arg_num(args, i) for i in range(len(args))]


def fn_min(env: FunctionEnv, args: list[Any]) -> Any:
    if not args:
        raise FunctionError("must pass at least one number")
    best = None
    for value in _numbers(args):
        if best is None or numbers.compare(value, best) < 0:
            best = value
    return best


def fn_max(env: FunctionEnv, args: list[Any]) -> Any:
    if not args:
        raise FunctionError("must pass at least one number")
    best = None
    for value in _numbers(args):
        if best is None or numbers.compare(value, best) > 0:
            best = value
    return best


def fn_sum(env: FunctionEnv, args: list[Any]) -> Any:
    items = arg_list(args, 0)
    if not items:
        raise FunctionError("cannot sum an empty list", 0)
    values = []
    for item in items:
        try:
            values.append(arg_num([item], 0))
        except FunctionError as exc:
            raise FunctionError(exc.message, 0) from None
    total = values[0]
    try:
        for value in values[1:]:
            total = numbers.add(total, value)
    except NumberError as exc:
        raise FunctionError(str(exc)) from None
    return total


def fn_range(env: FunctionEnv, args: list[Any]) -> Any:
    """range(limit), range(start, limit) or range(start, limit, step), like Terraform's."""
    nums = _numbers(args)
    if len(nums) == 1:
        start, limit, step = 0, nums[0], 1
    else:
        start, limit, step = nums[0], nums[1], nums[2] if len(nums) > 2 else 1
        if len(nums) == 2 and numbers.compare(limit, start) < 0:
            step = -1
    ascending = numbers.compare(start, limit) <= 0
    if (ascending and numbers.compare(step, 0) < 0) or (not ascending and numbers.compare(step, 0) > 0):
        raise FunctionError(
            "step must be "
            + ("positive" if ascending else "negative")
            + " when start is "
            + ("less" if ascending else "greater")
            + " than limit",
            2,
        )
    out: list[Any] = []
    value: Any = start
    while (numbers.compare(value, limit) < 0) if ascending else (numbers.compare(value, limit) > 0):
        if len(out) >= 1024:
            raise FunctionError(
                "more than 1024 values were generated; either decrease the difference between start "
                "and end or use a smaller step"
            )
        out.append(value)
        value = numbers.add(value, step)
    return out


def fn_tonumber(env: FunctionEnv, args: list[Any]) -> Any:
    value = args[0]
    if value is None or numbers.is_number(value):
        return value
    if isinstance(value, str):
        try:
            return numbers.from_text(value)
        except NumberError:
            raise FunctionError(
                f'cannot convert "{value}" to number; given string must be a decimal representation '
                "of a number",
                0,
            ) from None
    raise FunctionError(f"cannot convert {type_name(value)} to number", 0)


def fn_tostring(env: FunctionEnv, args: list[Any]) -> Any:
    value = args[0]
    if value is None:
        return None
    if isinstance(value, list | tuple):
        raise FunctionError("cannot convert tuple to string", 0)
    if isinstance(value, dict):
        raise FunctionError("cannot convert object to string", 0)
    return to_string(value)


def fn_tobool(env: FunctionEnv, args: list[Any]) -> Any:
    value = args[0]
    if value is None or isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise FunctionError(f"cannot convert {arg_str(args, 0)!r} to bool", 0)


NUMERIC_FUNCTIONS: dict[str, FunctionSpec] = {
    "abs": spec(fn_abs, "num"),
    "ceil": spec(fn_ceil, "num"),
    "floor": spec(fn_floor, "num"),
    "pow": spec(fn_pow, "num", "power"),
    "log": spec(fn_log, "num", "base"),
    "signum": spec(fn_signum, "num"),
    "parseint": spec(fn_parseint, "number", "base"),
    "min": spec(fn_min, variadic="numbers"),
    "max": spec(fn_max, variadic="numbers"),
    "sum": spec(fn_sum, "list"),
    "range": spec(fn_range, "start", "limit", "step", optional=2),
    "tonumber": spec(fn_tonumber, "v"),
    "tostring": spec(fn_tostring, "v"),
    "tobool": spec(fn_tobool, "v"),
}
