"""Evaluate a block body and validate the values against the resource's pydantic model.

`evaluate_body` turns a Body into plain values (nested blocks → list of dicts, one per
occurrence). `validate_arguments` checks them with the schema's model, leaving fields that
contain UNKNOWN unvalidated (they come back as UNKNOWN), and maps pydantic errors to the source
position of the offending attribute. Sensitivity marks are taken off for the model and put back
on the validated values (on the same part when validation kept it as it was, else on the whole
argument), and the schema's sensitive arguments are marked whatever they came from; an error
about a marked value never shows it. Callers: planning (per instance, after evaluation).
"""

from __future__ import annotations

import functools
from typing import Any

from pydantic import BaseModel, ValidationError, create_model

from reconciler.config import dynamic
from reconciler.config.model import Body
from reconciler.config.validate import block_field
from reconciler.errors import ConfigError, Diagnostic, SourcePos
from reconciler.expressions import EvalContext, evaluate
from reconciler.expressions.coerce import show
from reconciler.sdk import ResourceSchema
from reconciler.sensitive import REDACTED, secret_texts
from reconciler.values import UNKNOWN, contains_unknown, get_path, mark_paths, unmark_deep


def evaluate_body(body: Body, ctx: EvalContext) -> dict[str, Any]:
    """Attributes → values, nested blocks → list of dicts; raises ConfigError with every error."""
    diags: list[Diagnostic] = []
    result = _evaluate(body, ctx, diags)
    if diags:
        raise ConfigError(diags)
    return result


def _evaluate(
    body: Body, ctx: EvalContext, diags: list[Diagnostic], scope: dict[str, Any] | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, attr in body.attributes.items():
        try:
            out[name] = evaluate(attr.expr, ctx, scope)
        except ConfigError as exc:
            diags.extend(exc.diagnostics)
    for block in body.blocks:
        if block.type == dynamic.DYNAMIC:
            generated = dynamic.expand(block, ctx, scope=scope or {}, diags=diags, evaluate_body=_evaluate)
            name = block.labels[0] if block.labels else block.type
            if generated is UNKNOWN or out.get(name) is UNKNOWN:
                out[name] = UNKNOWN
            else:
                out.setdefault(name, []).extend(generated)
            continue
        if out.get(block.type) is not UNKNOWN:
            out.setdefault(block.type, []).append(_evaluate(block.body, ctx, diags, scope))
    return out


_KIND_WORDS = {
    "int": "a number",
    "float": "a number",
    "bool": "a bool",
    "string": "a string",
    "list": "a list",
    "dict": "a map",
    "model": "an object",
}


def validate_arguments(
    schema: ResourceSchema, values: dict[str, Any], body: Body, *, context: str
) -> tuple[dict[str, Any], list[Diagnostic]]:
    """(every model field → value, with defaults and UNKNOWN fields; diagnostics).

    On diagnostics the first element is the input as given (not validated).
    """
    plain, marks = unmark_deep(values)
    secrets = secret_texts([values]) if marks else set()
    result, diags = _validate(schema, plain, body, context=context, secrets=secrets)
    if diags:
        return values, diags
    kept = [p for p in marks if p and get_path(result, p, _ABSENT) == get_path(plain, p)]
    moved = [p[:1] for p in marks if p and p not in kept]
    forced = [(name,) for name in schema.sensitive if result.get(name) is not None]
    return mark_paths(result, [*kept, *moved, *forced]), diags


_ABSENT = object()


def _validate(
    schema: ResourceSchema, values: dict[str, Any], body: Body, *, context: str, secrets: set[str]
) -> tuple[dict[str, Any], list[Diagnostic]]:
    model = schema.model
    diags: list[Diagnostic] = []
    data: dict[str, Any] = {}
    shapes = _field_shapes(model)
    for name, value in values.items():
        nested, repeated = shapes.get(name, (None, False))
        if nested is not None and not repeated and isinstance(value, list) and _from_blocks(body, name):
            if len(value) > 1:
                named = _blocks_named(body, name)
                extra = named[1] if len(named) > 1 else named[0]
                diags.append(
                    Diagnostic(
                        f'Too many "{name}" blocks',
                        extra.pos,
                        context=context,
                        detail=f'Only one "{name}" block is allowed.',
                    )
                )
            if not value:
                continue
            value = value[0]
        data[name] = value
    unknown = {name for name, value in data.items() if contains_unknown(value)}
    known = {name: value for name, value in data.items() if name not in unknown}
    target = _relaxed(model, frozenset(unknown)) if unknown else model
    try:
        instance = target.model_validate(known)
    except ValidationError as exc:
        for err in exc.errors():
            loc = err.get("loc", ())
            if unknown and (not loc or (err["type"] == "missing" and loc[0] in unknown)):
                continue  # may be caused by a value we cannot see yet
            diags.append(_diagnostic(err, body, context, secrets))
        if diags:
            return data, diags
        return {**_defaults(model), **data}, diags
    except (TypeError, ValueError, AttributeError):
        if not unknown:
            raise
        return {**_defaults(model), **data}, diags  # a model validator tripped over a missing field
    if diags:
        return data, diags
    result = instance.model_dump(mode="json")
    for name in unknown:
        result[name] = UNKNOWN
    return result, diags


def _holds_secret(got: Any, err: Any, secrets: set[str]) -> bool:
    text = f"{show(got, limit=10**6)} {got!r} {err.get('msg', '')} {err.get('ctx', '')}"
    return any(s in text for s in secrets)


def _sensitive_reason(kind: str, err: Any) -> str:
    """What pydantic said, when its own words do not quote the value (its built-in messages do not)."""
    message = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
    return message if kind in _QUOTE_FREE and "input" not in message else f"{REDACTED} is not valid here"


_QUOTE_FREE = {
    "string_pattern_mismatch",
    "string_too_long",
    "string_too_short",
    "greater_than",
    "greater_than_equal",
    "less_than",
    "less_than_equal",
    "too_long",
    "too_short",
    "literal_error",
    "int_parsing",
    "int_type",
    "float_parsing",
    "bool_parsing",
    "string_type",
    "dict_type",
    "list_type",
    "enum",
}


def _from_blocks(body: Body, name: str) -> bool:
    return bool(_blocks_named(body, name)) or name not in body.attributes


def _blocks_named(body: Body, name: str) -> list[Any]:
    """The blocks that produce `name` values: written out, or generated by `dynamic "name"`."""
    return [
        b for b in body.blocks if b.type == name or (b.type == dynamic.DYNAMIC and b.labels[:1] == (name,))
    ]


@functools.lru_cache(maxsize=256)
def _field_shapes(model: type[BaseModel]) -> dict[str, tuple[type[BaseModel] | None, bool]]:
    """Each field of `model` → (nested model, repeated): worked out once per model, not per instance."""
    return {name: block_field(field.annotation) for name, field in model.model_fields.items()}


@functools.lru_cache(maxsize=256)
def _relaxed(model: type[BaseModel], optional: frozenset[str]) -> type[BaseModel]:
    """`model` with the given fields made optional (Any, default None)."""
    overrides: dict[str, Any] = {name: (Any, None) for name in optional}
    relaxed: type[BaseModel] = create_model(model.__name__, __base__=model, **overrides)
    return relaxed


def _defaults(model: type[BaseModel]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        value = field.get_default(call_default_factory=True) if not field.is_required() else None
        out[name] = value.model_dump(mode="json") if isinstance(value, BaseModel) else value
    return out


def _position(loc: tuple[Any, ...], body: Body) -> SourcePos:
    """The source position of the attribute a pydantic error location points at."""
    pos = body.pos
    current: Body | None = body
    i = 0
    while current is not None and i < len(loc):
        name = loc[i]
        if not isinstance(name, str):
            break
        if name in current.attributes:
            return current.attributes[name].pos
        blocks = _blocks_named(current, name)
        if not blocks:
            break
        index = 0
        if i + 1 < len(loc) and isinstance(loc[i + 1], int):
            index = loc[i + 1]
            i += 1
        block = blocks[min(index, len(blocks) - 1)]
        pos = block.pos
        current = block.body
        if block.type == dynamic.DYNAMIC and block.body.blocks_of("content"):
            current = block.body.blocks_of("content")[0].body
        i += 1
    return pos


def _diagnostic(err: Any, body: Body, context: str, secrets: set[str]) -> Diagnostic:
    loc = tuple(err.get("loc", ()))
    kind = str(err.get("type", ""))
    path = ".".join(str(p) for p in loc if isinstance(p, str)) or "(block)"
    pos = _position(loc, body)
    got = err.get("input")
    if secrets and _holds_secret(got, err, secrets):
        return Diagnostic(
            f'Invalid value for attribute "{path}": {_sensitive_reason(kind, err)}',
            pos,
            context=context,
            detail=f"The value is sensitive, so it is not shown ({kind}).",
        )
    if kind == "missing":
        return Diagnostic(
            f'Missing required argument "{loc[-1]}"',
            pos,
            context=context,
            detail=f'The argument "{path}" is required, but was not set.',
        )
    if kind == "extra_forbidden":
        return Diagnostic(f'Unsupported attribute "{path}"', pos, context=context)
    want = next((w for k, w in _KIND_WORDS.items() if kind.startswith(k)), None)
    if kind == "int_from_float":
        want, kind = "a whole number", "int_type"
    if want is not None and (kind.endswith("_type") or kind.endswith("_parsing")):
        return Diagnostic(
            f'Inappropriate value for attribute "{path}": {want} is required, got {show(got)}',
            pos,
            context=context,
        )
    message = str(err.get("msg", "invalid value"))
    message = message.removeprefix("Value error, ")
    shown = show(got) if got is not None and not isinstance(got, dict) else ""
    repeated = bool(shown) and (shown in message or str(got) in message)  # the validator said it
    return Diagnostic(
        f'Invalid value for attribute "{path}": {message}',
        pos,
        context=context,
        detail=f"Got {shown}." if shown and not repeated else "",
    )
