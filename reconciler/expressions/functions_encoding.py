"""Encoding functions: jsonencode/jsondecode, yamlencode, base64, digests and uuidv5.

`jsonencode` writes exactly Terraform's bytes: keys sorted, no spaces, Go's escaping (`<`, `>`,
`&`, U+2028 and U+2029 as \\uXXXX, other control characters as \\u00XX, non-ASCII text as
is) and numbers as Terraform prints them. `jsondecode` keeps numbers at 512 bits. `yamlencode`
follows the output of Terraform's YAML encoder for the shapes configurations use: double-quoted
strings and keys, literal blocks for multi-line strings, block-style lists and maps.
Callers: expressions.functions (the registry), functions_format (%v).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from typing import Any

from reconciler.errors import FunctionError
from reconciler.expressions import numbers
from reconciler.expressions.coerce import to_string
from reconciler.expressions.functions_base import FunctionEnv, FunctionSpec, arg_str, nfc, spec

_JSON_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def _json_string(text: str) -> str:
    out = ['"']
    for ch in text:
        if ch in _JSON_ESCAPES:
            out.append(_JSON_ESCAPES[ch])
        elif ord(ch) < 0x20 or ch in "<>&\u2028\u2029":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def json_text(value: Any) -> str:
    """Terraform's jsonencode of a plain value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if numbers.is_number(value):
        return numbers.format_number(value)
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, list | tuple):
        return "[" + ",".join(json_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{_json_string(k)}:{json_text(value[k])}" for k in sorted(value)) + "}"
    raise FunctionError(f"cannot encode {value!r} as JSON", 0)


def fn_jsonencode(env: FunctionEnv, args: list[Any]) -> Any:
    return json_text(args[0])


def _from_json(value: Any) -> Any:
    if isinstance(value, str):
        return nfc(value)
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if isinstance(value, dict):
        return {nfc(k): _from_json(v) for k, v in value.items()}
    return value


def fn_jsondecode(env: FunctionEnv, args: list[Any]) -> Any:
    text = arg_str(args, 0)
    try:
        decoded = json.loads(text, parse_float=numbers.from_text, parse_int=numbers.from_text)
    except json.JSONDecodeError as exc:
        raise FunctionError(f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except ValueError as exc:
        raise FunctionError(str(exc)) from None
    return _from_json(decoded)


# ---- YAML ----------------------------------------------------------------------------------

_YAML_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\0": "\\0"}


def _yaml_quoted(text: str) -> str:
    out = ['"']
    for ch in text:
        if ch in _YAML_ESCAPES:
            out.append(_YAML_ESCAPES[ch])
        elif not ch.isprintable() or ch in "\ufeff\u2028\u2029":
            out.append(f"\\x{ord(ch):02X}" if ord(ch) <= 0xFF else f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _yaml_scalar(value: Any, indent: int) -> tuple[str, bool]:
    """(text, plain): how a scalar prints after `key: ` or `- `."""
    if value is None:
        return "null", True
    if isinstance(value, bool):
        return ("true" if value else "false"), True
    if numbers.is_number(value):
        return numbers.format_number(value), True
    text = to_string(value)
    if "\n" in text and text.strip(" \n") and all(c.isprintable() or c == "\n" for c in text):
        stripped = text.rstrip("\n")
        trailing = len(text) - len(stripped)
        chomp = "-" if trailing == 0 else ("" if trailing == 1 else "+")
        content = text[:-1] if chomp == "+" else stripped
        pad = " " * max(indent, 2)
        marker = "2" if text.startswith(" ") else ""
        lines = "\n".join((pad + line) if line else "" for line in content.split("\n"))
        return f"|{marker}{chomp}\n{lines}", False
    return _yaml_quoted(text), False


def _yaml(value: Any, indent: int) -> list[str]:
    """Lines of a block collection at `indent` spaces."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key in sorted(value):
            item = value[key]
            head = f"{pad}{_yaml_quoted(key)}:"
            if isinstance(item, dict) and item:
                lines.append(head)
                lines.extend(_yaml(item, indent + 2))
            elif isinstance(item, list | tuple) and item:
                lines.append(head)
                lines.extend(_yaml(item, indent))
            else:
                lines.append(f"{head} {_inline(item, indent + 2)}")
        return lines
    for item in value:
        if isinstance(item, list | tuple | dict) and item:
            inner = _yaml(item, indent + 2)
            lines.append(f"{pad}- {inner[0].lstrip()}")
            lines.extend(inner[1:])
        else:
            lines.append(f"{pad}- {_inline(item, indent + 2)}")
    return lines


def _inline(value: Any, indent: int) -> str:
    if isinstance(value, list | tuple):
        return "[]"
    if isinstance(value, dict):
        return "{}"
    return _yaml_scalar(value, indent)[0]


def fn_yamlencode(env: FunctionEnv, args: list[Any]) -> Any:
    value = args[0]
    if isinstance(value, list | tuple | dict) and value:
        return "\n".join(_yaml(value, 0)) + "\n"
    if isinstance(value, list | tuple | dict):
        return _inline(value, 0) + "\n"
    text, plain = _yaml_scalar(value, 2)
    return text + ("\n...\n" if plain else "\n")


# ---- base64, digests, uuid -----------------------------------------------------------------


def fn_base64encode(env: FunctionEnv, args: list[Any]) -> Any:
    return base64.b64encode(arg_str(args, 0).encode()).decode()


def fn_base64decode(env: FunctionEnv, args: list[Any]) -> Any:
    text = arg_str(args, 0)
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise FunctionError(f'failed to decode base64 data "{text}"', 0) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise FunctionError("the result of decoding the provided string is not valid UTF-8", 0) from None


def _digest(name: str, *, encoding: str) -> Any:
    def impl(env: FunctionEnv, args: list[Any]) -> Any:
        digest = hashlib.new(name, arg_str(args, 0).encode())
        return digest.hexdigest() if encoding == "hex" else base64.b64encode(digest.digest()).decode()

    return impl


_NAMESPACES = {
    "dns": uuid.NAMESPACE_DNS,
    "url": uuid.NAMESPACE_URL,
    "oid": uuid.NAMESPACE_OID,
    "x500": uuid.NAMESPACE_X500,
}


def fn_uuidv5(env: FunctionEnv, args: list[Any]) -> Any:
    name_space, name = arg_str(args, 0), arg_str(args, 1)
    namespace = _NAMESPACES.get(name_space)
    if namespace is None:
        try:
            namespace = uuid.UUID(name_space)
        except ValueError:
            raise FunctionError(
                f"uuidv5() doesn't support namespace {name_space} (invalid UUID length: {len(name_space)})", 0
            ) from None
    return str(uuid.uuid5(namespace, name))


ENCODING_FUNCTIONS: dict[str, FunctionSpec] = {
    "jsonencode": spec(fn_jsonencode, "val"),
    "jsondecode": spec(fn_jsondecode, "str"),
    "yamlencode": spec(fn_yamlencode, "value"),
    "base64encode": spec(fn_base64encode, "str"),
    "base64decode": spec(fn_base64decode, "str"),
    "base64sha256": spec(_digest("sha256", encoding="base64"), "str"),
    "base64sha512": spec(_digest("sha512", encoding="base64"), "str"),
    "sha1": spec(_digest("sha1", encoding="hex"), "str"),
    "sha256": spec(_digest("sha256", encoding="hex"), "str"),
    "sha512": spec(_digest("sha512", encoding="hex"), "str"),
    "md5": spec(_digest("md5", encoding="hex"), "str"),
    "uuidv5": spec(fn_uuidv5, "namespace", "name"),
}
