"""One traversal step, `value[key]` or `value.attr`, with Terraform's messages; a message never
shows a sensitive value or key (the caller says which was marked and puts the marks back on
the result). Callers: expressions.evaluator.
"""

from __future__ import annotations

from typing import Any

from reconciler.expressions import ast as A
from reconciler.expressions.coerce import ConversionError, show, to_number, to_string, type_name
from reconciler.expressions.context import error, step_pos, suggest
from reconciler.values import SHOWN


def index_value(
    value: Any, key: Any, step: A.GetAttr | A.Index, *, value_marked: bool, key_marked: bool
) -> Any:
    """`value[key]`; messages show neither a marked value nor a marked key."""
    shown_key = SHOWN if key_marked else show(key)
    if value is None:
        raise error(step_pos(step), "Attempt to get an attribute or element of a null value")
    if isinstance(value, dict):
        if isinstance(key, bool) or not isinstance(key, str | int | float):
            raise error(
                step_pos(step), f"Invalid index: a map key must be a string, got {type_name(key)}"
            )
        skey = to_string(key)
        if skey not in value:
            noun = "attribute" if isinstance(step, A.GetAttr) else "key"
            raise error(
                step_pos(step),
                f"Unsupported {noun} {quoted(skey, key_marked)}",
                detail=f"This value has no {noun} named {shown_key}.",
                suggestion=None if key_marked or value_marked else suggest(skey, value),
            )
        return value[skey]
    if isinstance(value, list | tuple):
        if isinstance(step, A.GetAttr):
            raise error(
                step_pos(step),
                f'Unsupported attribute "{step.attr}" on a list',
                detail="Use an index such as [0], or a splat such as [*], first.",
            )
        try:
            index = to_number(key)
        except ConversionError as exc:
            raise error(step_pos(step), f"Invalid index: {conversion_message(exc, key_marked)}") from None
        if not isinstance(index, int) or not 0 <= index < len(value):
            if isinstance(index, int) and index >= len(value):
                raise error(
                    step_pos(step),
                    "Invalid index",
                    detail=f"The given key does not identify an element in this collection value: "
                    f"the given index ({SHOWN if key_marked else index}) is greater than or equal "
                    f"to the length of the collection ({len(value)}).",
                )
            raise error(
                step_pos(step), f"Invalid index: {shown_key} is out of range (length {len(value)})"
            )
        return value[index]
    shown = SHOWN if value_marked else show(value)
    raise error(step_pos(step), f"Cannot index a {type_name(value)} value ({shown})")


def quoted(key: str, marked: bool) -> str:
    return SHOWN if marked else f'"{key}"'


def conversion_message(exc: ConversionError, marked: bool) -> str:
    """A conversion error's message, without the value when that value is sensitive."""
    return exc.masked() if marked else str(exc)

