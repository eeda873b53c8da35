"""The built-in functions of the expression language: the registry, the functions that read
files or render templates (file, templatefile, templatestring), and the ones that set or read
sensitivity marks (sensitive, nonsensitive, issensitive: Terraform 1.11's semantics, where
`nonsensitive` of a value that is not sensitive returns it unchanged and only the mark on the
value itself comes off, its elements keep theirs).

Each family lives in its own module (functions_strings, functions_collections, functions_numeric,
functions_format, functions_encoding, functions_time_net) on the shared base of functions_base;
`FUNCTIONS` maps every name to its FunctionSpec. `try` and `can` are not here: they must see
evaluation errors of their arguments, so the evaluator implements them.
Every function's result carries its arguments' marks (functions_base.MarkMode; the evaluator
applies them through expressions.calls), so a new function is sensitive-safe by default.
Callers: expressions.evaluator (calls), config validation (names of known functions).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reconciler import sourcetext
from reconciler.errors import ConfigError, FunctionError
from reconciler.expressions.coerce import format_number
from reconciler.expressions.functions_base import FunctionEnv, FunctionSpec, MarkMode, arg_map, arg_str, spec
from reconciler.expressions.functions_collections import COLLECTION_FUNCTIONS
from reconciler.expressions.functions_encoding import ENCODING_FUNCTIONS
from reconciler.expressions.functions_format import FORMAT_FUNCTIONS
from reconciler.expressions.functions_numeric import NUMERIC_FUNCTIONS
from reconciler.expressions.functions_strings import STRING_FUNCTIONS
from reconciler.expressions.functions_time_net import TIME_NET_FUNCTIONS
from reconciler.values import mark, unmark


def _read(env: FunctionEnv, args: list[Any]) -> tuple[Path, str]:
    raw = arg_str(args, 0)
    path = Path(raw) if Path(raw).is_absolute() else env.base_dir / raw
    try:
        return path, sourcetext.read(path, strip_bom=False)
    except FileNotFoundError:
        raise FunctionError(f'no file exists at "{raw}" (looked in {env.base_dir})', 0) from None
    except sourcetext.SourceEncodingError as exc:
        raise FunctionError(f'the file "{raw}" is not UTF-8 text: {exc.describe()}', 0) from None
    except OSError as exc:
        raise FunctionError(f'cannot read "{raw}": {exc.strerror}', 0) from None


def fn_file(env: FunctionEnv, args: list[Any]) -> Any:
    return _read(env, args)[1]


def fn_templatefile(env: FunctionEnv, args: list[Any]) -> Any:
    path, text = _read(env, args)
    return env.render_template(text, path, arg_map(args, 1))


def fn_templatestring(env: FunctionEnv, args: list[Any]) -> Any:
    template, variables = arg_str(args, 0), arg_map(args, 1)
    try:
        return env.render_template(template, Path("<templatestring argument>"), variables)
    except ConfigError as exc:
        diag = exc.diagnostics[0]
        if diag.summary.startswith("Invalid template variable"):
            name = diag.summary.split('"')[1]
            raise FunctionError(f'vars map does not contain key "{name}"', 1) from None
        raise FunctionError(f"{diag.summary}: {diag.detail}".rstrip(": "), 0) from None


def fn_sensitive(env: FunctionEnv, args: list[Any]) -> Any:
    return mark(args[0])  # null and unknown values too, as in Terraform


def fn_nonsensitive(env: FunctionEnv, args: list[Any]) -> Any:
    return unmark(args[0])[0]  # a Digest, held only as a digest, stays unknown


def fn_issensitive(env: FunctionEnv, args: list[Any]) -> Any:
    return unmark(args[0])[1]


FUNCTIONS: dict[str, FunctionSpec] = {
    "file": spec(fn_file, "path"),
    "templatefile": spec(fn_templatefile, "path", "vars"),
    "templatestring": spec(fn_templatestring, "template", "vars"),
    "sensitive": spec(fn_sensitive, "value", tolerant=True, marks=MarkMode.OWN),
    "nonsensitive": spec(fn_nonsensitive, "value", tolerant=True, marks=MarkMode.OWN),
    "issensitive": spec(fn_issensitive, "value", tolerant=True, marks=MarkMode.OWN),
    **STRING_FUNCTIONS,
    **FORMAT_FUNCTIONS,
    **COLLECTION_FUNCTIONS,
    **NUMERIC_FUNCTIONS,
    **ENCODING_FUNCTIONS,
    **TIME_NET_FUNCTIONS,
}

# Evaluated by the evaluator itself (they catch their arguments' errors).
SPECIAL_FUNCTIONS = ("try", "can")

__all__ = [
    "FUNCTIONS",
    "SPECIAL_FUNCTIONS",
    "FunctionEnv",
    "FunctionError",
    "FunctionSpec",
    "MarkMode",
    "format_number",
]
