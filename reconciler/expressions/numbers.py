"""Numbers as Terraform's are: binary big floats with a precision, printed in shortest form.

cty (Terraform's value system) keeps every number as a Go `big.Float`: literals and numbers parsed
from text carry 512 bits of mantissa, integers made by functions such as `length` carry 64, and
results of float64 maths (`pow`) carry 53. Arithmetic rounds to the larger precision of its
operands (to nearest, ties to even), so `0.1 + 0.2` is exactly the 512-bit `0.3` and `1/3` prints
157 digits: `format_number` is Go's `Text('f', -1)`, the shortest decimal that reads back as the
same number at that precision.

Python representation (what the evaluator, planning and state see):
- a plain `int` is an integral number of (at least) 512 bits — by far the common case, so counts,
  sizes and ports stay ordinary ints everywhere;
- `PrecInt` is an int that carries a smaller precision (`length()` results);
- `Num` is a float subclass for everything else (non-integral values, infinities, negative zero,
  integers of lower precision too large to print exactly). Its float value is the nearest
  double, which is what JSON serialisation (state, plan files) and pydantic see; the exact value
  and precision travel in `exact`/`prec` for further arithmetic and for printing.

Callers: expressions.coerce (conversions, equality), expressions.evaluator (operators), the
function modules, expressions.parse (number literals).
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Any

LITERAL_PREC = 512
INT64_PREC = 64
FLOAT64_PREC = 53
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


class NumberError(ValueError):
    """An operation has no numeric result (zero divided by zero, opposing infinities)."""


class PrecInt(int):
    """An integer that carries a precision below 512 bits (cty's NumberIntVal has 64)."""

    prec: int

    def __new__(cls, value: int, prec: int = INT64_PREC) -> PrecInt:
        obj = super().__new__(cls, value)
        obj.prec = prec
        return obj


class Num(float):
    """A non-plain-int number: its exact value (None for infinities) and its precision."""

    exact: Fraction | None
    prec: int

    def __new__(cls, exact: Fraction | None, prec: int, *, sign: int = 1) -> Num:
        if exact is None:
            as_float = math.copysign(math.inf, sign)
        elif exact == 0:
            as_float = math.copysign(0.0, sign)
        else:
            try:
                as_float = float(exact)
            except OverflowError:
                as_float = math.copysign(math.inf, exact)
        obj = super().__new__(cls, as_float)
        obj.exact = exact
        obj.prec = prec
        return obj

    def __reduce__(self) -> Any:
        return (Num, (self.exact, self.prec), None, None, None)

    def __copy__(self) -> Num:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Num:
        return self


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _sigbits(n: int) -> int:
    n = abs(n)
    return 0 if n == 0 else (n >> ((n & -n).bit_length() - 1)).bit_length()


def min_prec(q: Fraction) -> int:
    """Bits needed to represent q exactly (Go's MinPrec)."""
    if q == 0:
        return 0
    return _sigbits(q.numerator)  # q is dyadic: the denominator is a power of two


def exact(value: Any) -> Fraction | None:
    """The exact value (None for an infinity)."""
    if isinstance(value, Num):
        return value.exact
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return _round(Fraction(repr(value)), LITERAL_PREC)  # as if written in the source
    raise TypeError(f"not a number: {value!r}")


def precision(value: Any) -> int:
    if isinstance(value, Num | PrecInt):
        return value.prec
    if isinstance(value, int):
        return max(LITERAL_PREC, _sigbits(value))
    return LITERAL_PREC


def sign(value: Any) -> int:
    if isinstance(value, float):
        return -1 if math.copysign(1.0, value) < 0 else 1
    return -1 if value < 0 else 1


def _exponent(a: Fraction) -> int:
    """e such that 2**(e-1) <= a < 2**e, for a > 0."""
    n, d = a.numerator, a.denominator
    k = n.bit_length() - d.bit_length()
    above = n >= (d << k) if k >= 0 else (n << -k) >= d
    return k + 1 if above else k


def _round(q: Fraction, prec: int) -> Fraction:
    """q rounded to `prec` significant bits, to nearest, ties to even."""
    if q == 0:
        return q
    a = abs(q)
    shift = prec - _exponent(a)
    num, den = (a.numerator << shift, a.denominator) if shift >= 0 else (a.numerator, a.denominator << -shift)
    m, r = divmod(num, den)
    if 2 * r > den or (2 * r == den and m & 1):
        m += 1
    result = Fraction(m << -shift if shift < 0 else m, 1 if shift < 0 else 1 << shift)
    return result if q > 0 else -result


def make(q: Fraction | None, prec: int, *, neg: bool = False) -> int | Num:
    """The Python value for the (already rounded) number q at `prec` bits."""
    if q is None:
        return Num(None, prec, sign=-1 if neg else 1)
    if q == 0 and neg:
        return Num(Fraction(0), prec, sign=-1)
    if q.denominator == 1:
        n = int(q)
        if prec == max(LITERAL_PREC, _sigbits(n)):
            return n
        if abs(n) < (1 << prec):
            return PrecInt(n, prec)
    return Num(q, prec)


def from_text(text: str) -> int | Num:
    """A decimal number as cty parses it (512 bits); NumberError if the text is not one."""
    if not _DECIMAL.fullmatch(text):
        raise NumberError(f"{text!r} is not a decimal number")
    q = _round(Fraction(text), LITERAL_PREC)
    return make(q, LITERAL_PREC, neg=text.startswith("-") and q == 0)


def from_float(value: float) -> int | Num:
    """A float64 result (Go's math package): 53 bits."""
    if math.isnan(value):
        raise NumberError("the result is not a number")
    if math.isinf(value):
        return make(None, FLOAT64_PREC, neg=value < 0)
    return make(Fraction(value), FLOAT64_PREC, neg=math.copysign(1.0, value) < 0)


def from_int(value: int, prec: int = INT64_PREC) -> int | Num:
    """An integer made by a function (cty's NumberIntVal: 64 bits, or more for big integers)."""
    return make(_round(Fraction(value), max(prec, _sigbits(value))), max(prec, _sigbits(value)))


# ---- arithmetic ----------------------------------------------------------------------------


def add(a: Any, b: Any) -> int | Num:
    ea, eb = exact(a), exact(b)
    prec = max(precision(a), precision(b))
    if ea is None or eb is None:
        if ea is None and eb is None and sign(a) != sign(b):
            raise NumberError("can't compute sum of opposing infinities")
        return make(None, prec, neg=sign(a if ea is None else b) < 0)
    total = ea + eb
    return make(_round(total, prec), prec, neg=total == 0 and sign(a) < 0 and sign(b) < 0)


def negate(a: Any) -> int | Num:
    ea = exact(a)
    return make(None if ea is None else -ea, precision(a), neg=sign(a) > 0)


def subtract(a: Any, b: Any) -> int | Num:
    if exact(a) is None and exact(b) is None and sign(a) == sign(b):
        raise NumberError("can't subtract infinity from itself")
    return add(a, negate(b))


def multiply(a: Any, b: Any) -> int | Num:
    ea, eb = exact(a), exact(b)
    neg = sign(a) != sign(b)
    if ea is None or eb is None:
        if ea == 0 or eb == 0:
            raise NumberError("can't multiply zero by infinity")
        return make(None, max(precision(a), precision(b)), neg=neg)
    product = _round(ea * eb, LITERAL_PREC)
    prec = max(precision(a), precision(b), min_prec(product))
    return make(product, prec, neg=neg and product == 0)


def divide(a: Any, b: Any) -> int | Num:
    ea, eb = exact(a), exact(b)
    prec = max(precision(a), precision(b))
    neg = sign(a) != sign(b)
    if (ea == 0 and eb == 0) or (ea is None and eb is None):
        raise NumberError("can't divide zero by zero or infinity by infinity")
    if ea is None:
        return make(None, prec, neg=neg)
    if eb is None:
        return make(Fraction(0), prec, neg=neg)
    if eb == 0:
        return make(None, prec, neg=neg)
    return make(_round(ea / eb, prec), prec, neg=neg and ea == 0)


def modulo(a: Any, b: Any) -> int | Num:
    """cty's Modulo: the remainder of truncated division; x % 0 is x."""
    ea, eb = exact(a), exact(b)
    if ea is None or eb is None:
        return multiply(a, b)
    if eb == 0:
        return make(ea, precision(a), neg=sign(a) < 0 and ea == 0)
    quotient = exact(divide(a, b))
    assert quotient is not None
    truncated = Fraction(math.trunc(quotient))
    prec = precision(a)
    work = _round(truncated, prec)
    work = _round(eb * work, prec)
    return make(_round(ea - work, prec), prec)


def compare(a: Any, b: Any) -> int:
    """-1, 0 or 1 as a <, ==, > b (exact; infinities at the ends)."""
    ea, eb = exact(a), exact(b)
    ka = (sign(a), Fraction(0)) if ea is None else (0, ea)
    kb = (sign(b), Fraction(0)) if eb is None else (0, eb)
    return (ka > kb) - (ka < kb)


def is_whole(value: Any) -> bool:
    q = exact(value)
    return q is not None and q.denominator == 1


# ---- formatting ----------------------------------------------------------------------------


def format_number(value: Any) -> str:
    """Go's big.Float Text('f', -1): the shortest decimal that rounds back to the value."""
    q = exact(value)
    if q is None:
        return "+Inf" if sign(value) > 0 else "-Inf"
    if q == 0:
        return "-0" if sign(value) < 0 else "0"
    prec = precision(value)
    if q.denominator == 1 and abs(q.numerator).bit_length() <= prec:
        return str(q.numerator)
    digits, point = _shortest(abs(q), prec)
    if point <= 0:
        text = "0." + "0" * -point + digits
    elif point >= len(digits):
        text = digits + "0" * (point - len(digits))
    else:
        text = digits[:point] + "." + digits[point:]
    return ("-" if q < 0 else "") + text


def _decimal_exponent(a: Fraction) -> int:
    """k such that 10**(k-1) <= a < 10**k."""
    k = math.floor((_exponent(a) - 1) * 0.30102999566398120)
    while Fraction(10) ** k <= a:
        k += 1
    while Fraction(10) ** (k - 1) > a:
        k -= 1
    return k


def _shortest(a: Fraction, prec: int) -> tuple[str, int]:
    """(digits, point): a's shortest decimal at `prec` bits is 0.digits × 10**point."""
    half_ulp = Fraction(2) ** (_exponent(a) - prec - 1)
    lower, upper = a - half_ulp, a + half_ulp
    inclusive = (a / (2 * half_ulp)).numerator % 2 == 0  # an even mantissa owns its bounds
    k = _decimal_exponent(a)
    n = 1
    while True:
        scale = Fraction(10) ** (n - k)
        scaled = a * scale
        down_n = math.floor(scaled)
        if down_n == scaled:
            return _digits(down_n, n, k)
        down, up = Fraction(down_n) / scale, Fraction(down_n + 1) / scale
        ok_down = down > lower or (inclusive and down == lower)
        ok_up = up < upper or (inclusive and up == upper)
        if ok_down and ok_up:
            rest = scaled - down_n
            round_up = rest > Fraction(1, 2) or (rest == Fraction(1, 2) and down_n % 2 == 1)
            return _digits(down_n + 1 if round_up else down_n, n, k)
        if ok_down:
            return _digits(down_n, n, k)
        if ok_up:
            return _digits(down_n + 1, n, k)
        n += 1


def _digits(mantissa: int, n: int, k: int) -> tuple[str, int]:
    text = str(mantissa)
    point = k + (len(text) - n)  # a carry (9.99 → 10.0) adds a digit
    return text.rstrip("0") or "0", point
