"""Validate a request's `config` against its type's pydantic model, as diagnostics.

The engine validates configuration before it calls a provider; this is the provider's own guard
(and the way a plain dict becomes a typed model). pydantic errors become one `ConfigError` holding a
`Diagnostic` per problem, naming the block. Callers: the per-type modules (ami, vpc, subnets,
launch_template).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from reconciler.sdk import Address, ConfigError, Diagnostic, Mode

M = TypeVar("M", bound=BaseModel)


def block_context(address: Address) -> str:
    """`in data "aws_ami" "app"` / `in resource "aws_launch_template" "web"`."""
    kind = "data" if address.mode is Mode.DATA else "resource"
    return f'in {kind} "{address.type}" "{address.name}"'


def validate_config(model: type[M], config: Mapping[str, Any], *, address: Address) -> M:
    try:
        return model.model_validate(dict(config))
    except ValidationError as exc:
        diagnostics = []
        for err in exc.errors():
            path = ".".join(str(p) for p in err["loc"]) or address.type
            message = str(err["msg"]).removeprefix("Value error, ")
            summary = (
                f'Unsupported argument "{path}"'
                if err["type"] == "extra_forbidden"
                else f'Invalid value for "{path}"'
            )
            diagnostics.append(Diagnostic(summary=summary, detail=message, context=block_context(address)))
        raise ConfigError(diagnostics) from exc


def regex_or_none(value: str | None) -> str | None:
    """A `name_regex` argument: a regular expression Python can compile (ValueError naming it)."""
    if value is not None:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regular expression {value!r}: {exc}") from exc
    return value
