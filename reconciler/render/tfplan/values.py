"""Values as Terraform's plan JSON writes them: unknowns and secrets left out, and marked.

Terraform omits an unknown value from an object (keeps `null` in its place in a list) and marks it
`true` in `after_unknown`; the marks structures mirror the value (objects keep only the keys that
hold a container or something marked, lists keep every element, `false` where unmarked). reconciler
writes a sensitive value the same way an unknown one is written, omitted and marked `true` in
`before_sensitive`/`after_sensitive` (Terraform writes the value itself there: reconciler never
does). A sensitive value here is a digest the plan keeps of it, a still-marked value, an older
plan's `sha256:` digest, or whatever sits at one of a change's `sensitive_paths`: `conceal` turns
each into SECRET first. Pure. Callers: render.tfplan.resources, render.tfplan (outputs, variables).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from reconciler.sensitive import is_legacy
from reconciler.values import UNKNOWN, is_marked


class _Secret:
    """Stands for a sensitive value: never written, marked `true` in the *_sensitive structures."""

    def __repr__(self) -> str:
        return "(sensitive)"


SECRET = _Secret()


KEYED_PREFIX = "hmac-sha256:"  # a saved plan's digest of a sensitive variable, as a plain string


def is_hidden(value: Any) -> bool:
    """A value that is itself a secret as plans hold it (not one that merely contains one)."""
    keyed = isinstance(value, str) and value.startswith(KEYED_PREFIX) and len(value) == len(KEYED_PREFIX) + 64
    return value is SECRET or is_marked(value) or is_legacy(value) or keyed


def conceal(value: Any, paths: Iterable[str] = ()) -> Any:
    """`value` with every secret, and whatever sits at a dotted path in `paths`, turned into SECRET."""
    out = _conceal(value)
    for path in paths:
        out = _at(out, path.split(".") if path else [])
    return out


def _conceal(value: Any) -> Any:
    if is_hidden(value):
        return SECRET
    if isinstance(value, dict):
        return {str(k): _conceal(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_conceal(v) for v in value]
    return value


def _at(value: Any, steps: list[str]) -> Any:
    if not steps:
        return SECRET if value is not None and value is not UNKNOWN else value
    head, rest = steps[0], steps[1:]
    if isinstance(value, dict) and head in value:
        return {**value, head: _at(value[head], rest)}
    if isinstance(value, list) and head.isdigit() and int(head) < len(value):
        index = int(head)
        return [*value[:index], _at(value[index], rest), *value[index + 1 :]]
    return value


def _left_out(value: Any) -> bool:
    return value is UNKNOWN or value is SECRET


def known(value: Any) -> Any:
    """What can be written: unknowns and secrets omitted from objects, `null` in lists."""
    if _left_out(value):
        return None
    if isinstance(value, dict):
        return {k: known(v) for k, v in sorted(value.items()) if not _left_out(v)}
    if isinstance(value, list | tuple):
        return [known(v) for v in value]
    return value


def _marks(value: Any, marked: Any) -> Any:
    """Terraform's unknownAsBool / sensitiveAsBool: the structure of `value` with `true` where
    `marked` holds, `false` for any other leaf (dropped from objects, kept in lists)."""
    if value is marked:
        return True
    if isinstance(value, dict):
        subs = {k: _marks(v, marked) for k, v in sorted(value.items())}
        return {k: v for k, v in subs.items() if v is not False}
    if isinstance(value, list | tuple):
        return [_marks(v, marked) for v in value]
    return False


def _holds(value: Any, marked: Any) -> bool:
    if value is marked:
        return True
    if isinstance(value, dict):
        return any(_holds(v, marked) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_holds(v, marked) for v in value)
    return False


def unknown_marks(value: Any) -> Any:
    """`after_unknown` of a resource: `{}` when everything is known (and for `null`)."""
    if value is None or not _holds(value, UNKNOWN):
        return {}
    return _marks(value, UNKNOWN)


def secret_marks(value: Any) -> Any:
    """`before_sensitive`/`after_sensitive`/`sensitive_values`: `false` for `null`."""
    if value is None:
        return False
    return _marks(value, SECRET)


def output_unknown(value: Any) -> Any:
    """`after_unknown` of an output: `false` when known, else `true` or a marks structure."""
    return _marks(value, UNKNOWN) if _holds(value, UNKNOWN) else False


def holds_secret(value: Any) -> bool:
    return _holds(value, SECRET)


def cty_type(value: Any) -> Any:
    """Terraform's JSON name of a known value's type (`planned_values.outputs.*.type`)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return ["tuple", [cty_type(v) for v in value]]
    if isinstance(value, dict):
        return ["object", {str(k): cty_type(v) for k, v in value.items()}]
    return "dynamic"
