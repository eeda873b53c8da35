"""Input variable values: defaults < RECONCILER_VAR_<name> < --var-file files < --var (like Terraform).

Values are converted to each variable's declared type; a string given on the command line or in
the environment for a complex type (list, map, object, ...) is parsed as an HCL expression.
A `sensitive = true` variable's value comes back marked (values.Sensitive), its messages never
show it, and the run's secret registry remembers it. Every problem is reported at once in one
ConfigError. Callers: the CLI (plan, apply, ...).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler import sourcetext
from reconciler.config import var_validation
from reconciler.config.hclparse import encoding_diagnostic, parse_file
from reconciler.config.model import Stack, VariableBlock
from reconciler.config.types import TypeKind, convert
from reconciler.errors import ConfigError, Diagnostic, SourcePos
from reconciler.expressions import EvalContext, evaluate, parse_expression, suggest
from reconciler.expressions.coerce import ConversionError
from reconciler.expressions.limits import MAX_VALUE_DEPTH, json_too_deep, value_too_deep
from reconciler.sensitive import REGISTRY
from reconciler.values import UNKNOWN, mark

ENV_PREFIX = "RECONCILER_VAR_"


@dataclass(frozen=True)
class _Given:
    value: Any
    source: str  # for messages: "--var", "RECONCILER_VAR_x", "vars.json", "default"
    pos: SourcePos | None = None
    textual: bool = False  # a raw string from the command line or environment


def resolve_variables(
    stack: Stack,
    *,
    cli_vars: list[str] | None = None,
    var_files: list[Path] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Every declared variable's value; raises ConfigError listing every problem."""
    values, diags = collect_variables(stack, cli_vars=cli_vars, var_files=var_files, environ=environ)
    if diags:
        raise ConfigError(diags)
    return values


def collect_variables(
    stack: Stack,
    *,
    cli_vars: list[str] | None = None,
    var_files: list[Path] | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any], list[Diagnostic]]:
    """(every variable's value, UNKNOWN where it has a problem; the problems)."""
    diags: list[Diagnostic] = []
    given: dict[str, _Given] = {}
    for name, block in stack.variables.items():
        if block.default is not None:
            try:
                given[name] = _Given(
                    evaluate(block.default, EvalContext(base_dir=stack.directory)),
                    "default",
                    block.default.pos,
                )
            except ConfigError as exc:
                diags.extend(exc.diagnostics)
    for key, text in sorted((environ or {}).items()):
        if key.startswith(ENV_PREFIX) and key[len(ENV_PREFIX) :] in stack.variables:
            given[key[len(ENV_PREFIX) :]] = _Given(text, key, textual=True)
    for path in var_files or []:
        for name, from_file in _read_var_file(Path(path), diags).items():
            if name in stack.variables:
                given[name] = from_file
    for option in cli_vars or []:
        name, sep, text = option.partition("=")
        name = name.strip()
        if not sep or not name:
            diags.append(Diagnostic(f'Invalid --var option "{option}": expected NAME=VALUE'))
        elif name not in stack.variables:
            hint = suggest(name, stack.variables)
            diags.append(
                Diagnostic(
                    f'Value for undeclared variable "{name}"',
                    suggestion=hint,
                    detail=f'--var {name}=... was given, but no variable "{name}" is declared.',
                )
            )
        else:
            given[name] = _Given(text, f"--var {name}", textual=True)
    values: dict[str, Any] = {}
    for name, block in stack.variables.items():
        item = given.get(name)
        if item is None:
            diags.append(
                Diagnostic(
                    f'No value for required variable "{name}"',
                    block.pos,
                    detail=f"Set it with --var {name}=VALUE, a --var-file, or the environment variable "
                    f"{ENV_PREFIX}{name}.",
                )
            )
            continue
        if block.sensitive:
            REGISTRY.remember(item.value)
        try:
            value = _converted(block, item)
        except ConfigError as exc:
            diags.extend(exc.diagnostics)
            continue
        values[name] = mark(value) if block.sensitive and value is not None else value
    rule_diags, failed = var_validation.check(stack, values)
    diags.extend(rule_diags)
    for name in failed:
        values[name] = UNKNOWN  # its rule is reported; what it feeds must not fail again
    for name in stack.variables:
        values.setdefault(name, UNKNOWN)  # its problem is reported; later stages must not add more
    return values, diags


def _converted(block: VariableBlock, item: _Given) -> Any:
    spec = block.type
    value = item.value
    pos = item.pos or block.pos
    bad = sourcetext.undecodable_byte(value) if item.textual else None
    if bad is not None:
        raise ConfigError(
            [
                Diagnostic(
                    f'Invalid value for variable "{block.name}": it is not UTF-8 text',
                    detail=f"The value from {item.source} holds the byte 0x{bad:02x}, which is not UTF-8.",
                )
            ]
        )
    complex_type = spec.kind not in (TypeKind.STRING, TypeKind.NUMBER, TypeKind.BOOL, TypeKind.ANY)
    if item.textual and complex_type:
        expr = parse_expression(str(value), file=Path(f"<{item.source}>"))
        value = evaluate(expr, EvalContext())
    if value is None and not block.nullable:
        raise ConfigError(
            [
                Diagnostic(
                    f'Invalid value for variable "{block.name}": it must not be null',
                    pos,
                    detail=f"The value comes from {item.source}.",
                )
            ]
        )
    try:
        return convert(value, spec)
    except ConversionError as exc:
        raise ConfigError(
            [
                Diagnostic(
                    f'Invalid value for variable "{block.name}": {exc.masked() if block.sensitive else exc}',
                    pos,
                    detail=f"The variable's type is {spec}; the value comes from {item.source}.",
                )
            ]
        ) from None


def _read_var_file(path: Path, diags: list[Diagnostic]) -> dict[str, _Given]:
    try:
        text = sourcetext.read(path)
    except sourcetext.SourceEncodingError as exc:
        diags.append(encoding_diagnostic(exc))
        return {}
    except OSError as exc:
        diags.append(Diagnostic(f'Failed to read variables file "{path}"', detail=exc.strerror or str(exc)))
        return {}
    if path.suffix == ".json":
        too_deep = json_too_deep(text, MAX_VALUE_DEPTH + 1)  # the file's object holds the values
        if too_deep is not None:
            diags.append(value_too_deep(SourcePos(path, *too_deep), "in a JSON variables file"))
            return {}
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            diags.append(
                Diagnostic(
                    f"Invalid JSON in variables file: {exc.msg}", SourcePos(path, exc.lineno, exc.colno)
                )
            )
            return {}
        if not isinstance(data, dict):
            diags.append(Diagnostic("A JSON variables file must hold an object", SourcePos(path, 1)))
            return {}
        data = sourcetext.without_lone_surrogates(data)
        return {k: _Given(v, path.name, SourcePos(path, 1)) for k, v in data.items()}
    body, file_diags = parse_file(path, text)
    diags.extend(file_diags)
    if body is None:
        return {}
    for block in body.blocks:
        diags.append(
            Diagnostic(
                f'Unexpected block "{block.type}" in variables file',
                block.pos,
                detail="A variables file holds only NAME = VALUE lines.",
            )
        )
    out: dict[str, _Given] = {}
    for name, attr in body.attributes.items():
        try:
            out[name] = _Given(evaluate(attr.expr, EvalContext(base_dir=path.parent)), path.name, attr.pos)
        except ConfigError as exc:
            diags.extend(exc.diagnostics)
    return out
