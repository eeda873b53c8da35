"""Time and network functions: timeadd, formatdate (RFC 3339 timestamps, Go durations and
Terraform's date format verbs) and cidrsubnet, cidrsubnets, cidrhost, cidrnetmask.

Callers: expressions.functions (the registry).
"""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from reconciler.errors import FunctionError
from reconciler.expressions.functions_base import FunctionEnv, FunctionSpec, arg_int, arg_str, spec

_RFC3339 = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})\Z")
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"]  # fmt: skip
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def parse_timestamp(text: str, arg: int) -> datetime:
    m = _RFC3339.match(text)
    if m is None:
        raise FunctionError(f'not a valid RFC3339 timestamp: cannot use "{text}" as year', arg)
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    micro = int((m.group(7) or ".0")[1:7].ljust(6, "0"))
    zone = m.group(8)
    if zone in ("Z", "z"):
        tz = UTC
    else:
        sign = -1 if zone[0] == "-" else 1
        tz = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    try:
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
    except ValueError as exc:
        raise FunctionError(f"not a valid RFC3339 timestamp: {exc}", arg) from None


def _duration(text: str) -> timedelta:
    body = text[1:] if text[:1] in "+-" else text
    if body == "0":
        return timedelta(0)
    pos, seconds = 0, 0.0
    while pos < len(body):
        m = _DURATION_PART.match(body, pos)
        if m is None:
            unit = re.match(r"[\d.]*([^\d.]*)", body[pos:])
            what = f'unknown unit "{unit.group(1)}"' if unit and unit.group(1) else "invalid duration"
            raise FunctionError(f'time: {what} in duration "{text}"', 1)
        seconds += float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
        pos = m.end()
    if not body:
        raise FunctionError(f'time: invalid duration "{text}"', 1)
    return timedelta(seconds=-seconds if text.startswith("-") else seconds)


def _rfc3339(moment: datetime) -> str:
    offset = moment.utcoffset() or timedelta(0)
    if offset == timedelta(0):
        zone = "Z"
    else:
        minutes = int(offset.total_seconds()) // 60
        zone = f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + zone


def fn_timeadd(env: FunctionEnv, args: list[Any]) -> Any:
    moment = parse_timestamp(arg_str(args, 0), 0)
    return _rfc3339(moment + _duration(arg_str(args, 1)))


def _offset(moment: datetime, *, colon: bool) -> str:
    minutes = int((moment.utcoffset() or timedelta(0)).total_seconds()) // 60
    sep = ":" if colon else ""
    return f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}{sep}{abs(minutes) % 60:02d}"


def _verb(token: str, t: datetime) -> str:
    n, c = len(token), token[0]
    hour12 = t.hour % 12 or 12
    table: dict[tuple[str, int], str] = {
        ("Y", 4): f"{t.year:04d}", ("Y", 2): f"{t.year % 100:02d}",
        ("M", 1): str(t.month), ("M", 2): f"{t.month:02d}",
        ("M", 3): _MONTHS[t.month - 1][:3], ("M", 4): _MONTHS[t.month - 1],
        ("D", 1): str(t.day), ("D", 2): f"{t.day:02d}",
        ("E", 3): _DAYS[t.weekday()][:3], ("E", 4): _DAYS[t.weekday()],
        ("h", 1): str(t.hour), ("h", 2): f"{t.hour:02d}",
        ("H", 1): str(hour12), ("H", 2): f"{hour12:02d}",
        ("A", 2): "AM" if t.hour < 12 else "PM", ("a", 2): "am" if t.hour < 12 else "pm",
        ("m", 1): str(t.minute), ("m", 2): f"{t.minute:02d}",
        ("s", 1): str(t.second), ("s", 2): f"{t.second:02d}",
        ("Z", 4): _offset(t, colon=False), ("Z", 5): _offset(t, colon=True),
    }  # fmt: skip
    if c == "Z" and n == 1:
        return "Z" if not (t.utcoffset() or timedelta(0)) else _offset(t, colon=True)
    if c == "Z" and n == 3:
        text = _offset(t, colon=False)
        return "UTC" if text == "+0000" else text
    if (c, n) not in table:
        raise FunctionError(f'invalid date format verb "{token}"', 0)
    return table[(c, n)]


def fn_formatdate(env: FunctionEnv, args: list[Any]) -> Any:
    fmt = arg_str(args, 0)
    moment = parse_timestamp(arg_str(args, 1), 1)
    out: list[str] = []
    i = 0
    while i < len(fmt):
        c = fmt[i]
        if c == "'":
            if fmt.startswith("''", i):
                out.append("'")
                i += 2
                continue
            j = i + 1
            literal: list[str] = []
            while j < len(fmt):
                if fmt[j] == "'" and fmt.startswith("''", j):
                    literal.append("'")
                    j += 2
                elif fmt[j] == "'":
                    break
                else:
                    literal.append(fmt[j])
                    j += 1
            if j >= len(fmt):
                raise FunctionError("unterminated literal '", 0)
            out.append("".join(literal))
            i = j + 1
        elif c in "YMDEhHAamsZ":
            j = i
            while j < len(fmt) and fmt[j] == c:
                j += 1
            out.append(_verb(fmt[i:j], moment))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _network(text: str, arg: int) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise FunctionError(f"invalid CIDR expression: invalid CIDR address: {text}", arg) from None


def _subnet(net: ipaddress.IPv4Network | ipaddress.IPv6Network, bits: int, num: int) -> str:
    new_prefix = net.prefixlen + bits
    if new_prefix > net.max_prefixlen:
        raise FunctionError(f"insufficient address space to extend prefix of {net.prefixlen} by {bits}")
    if num < 0 or num >= 2**bits:
        raise FunctionError(f"prefix extension of {bits} does not accommodate a subnet numbered {num}")
    base = int(net.network_address) + (num << (net.max_prefixlen - new_prefix))
    return str(ipaddress.ip_network((base, new_prefix)))


def fn_cidrsubnet(env: FunctionEnv, args: list[Any]) -> Any:
    return _subnet(_network(arg_str(args, 0), 0), arg_int(args, 1), arg_int(args, 2))


def fn_cidrsubnets(env: FunctionEnv, args: list[Any]) -> Any:
    net = _network(arg_str(args, 0), 0)
    out: list[str] = []
    current = int(net.network_address)
    for i in range(1, len(args)):
        bits = arg_int(args, i)
        size = 1 << (net.max_prefixlen - net.prefixlen - bits)
        current = -(-current // size) * size
        num = (current - int(net.network_address)) // size
        out.append(_subnet(net, bits, num))
        current += size
    return out


def fn_cidrhost(env: FunctionEnv, args: list[Any]) -> Any:
    net = _network(arg_str(args, 0), 0)
    num = arg_int(args, 1)
    if num < 0:
        num += net.num_addresses
    if not 0 <= num < net.num_addresses:
        raise FunctionError(
            f"prefix of {net.prefixlen} does not accommodate a host numbered {arg_int(args, 1)}"
        )
    return str(net.network_address + num)


def fn_cidrnetmask(env: FunctionEnv, args: list[Any]) -> Any:
    net = _network(arg_str(args, 0), 0)
    if net.version != 4:
        raise FunctionError("only IPv4 networks are supported", 0)
    return str(net.netmask)


TIME_NET_FUNCTIONS: dict[str, FunctionSpec] = {
    "timeadd": spec(fn_timeadd, "timestamp", "duration"),
    "formatdate": spec(fn_formatdate, "format", "time"),
    "cidrsubnet": spec(fn_cidrsubnet, "prefix", "newbits", "netnum"),
    "cidrsubnets": spec(fn_cidrsubnets, "prefix", variadic="newbits"),
    "cidrhost": spec(fn_cidrhost, "prefix", "hostnum"),
    "cidrnetmask": spec(fn_cidrnetmask, "prefix"),
}
