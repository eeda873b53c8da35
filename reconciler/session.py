"""A run's setup: load and validate the stack, resolve variables, open the state backend and
build the providers. The CLI composes these; they hold no decisions of their own.

Callers: cli.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from providers.base import Provider, ProviderSettings
from providers.registry import make_provider
from reconciler.config import Stack, evaluate_body, load_stack, resolve_variables
from reconciler.errors import ConfigError, Diagnostic
from reconciler.expressions import EvalContext
from reconciler.graph.build import build_graph
from reconciler.planning.static import validate_statically
from reconciler.sensitive import reveal
from reconciler.state import Backend, State, make_backend

PROVIDER_ARGUMENTS = ("region", "profile", "endpoint_url", "default_tags", "alias")


@dataclass
class Loaded:
    stack: Stack
    variables: dict[str, Any]


def load(
    directory: Path,
    *,
    cli_vars: Sequence[str] = (),
    var_files: Sequence[Path] = (),
    environ: Mapping[str, str] | None = None,
) -> Loaded:
    """Parse, validate and resolve variables; raises ConfigError with every problem found."""
    stack = load_stack(directory)
    variables = resolve_variables(
        stack,
        cli_vars=list(cli_vars),
        var_files=list(var_files),
        environ=os.environ if environ is None else environ,
    )
    graph = build_graph(stack)  # reports cycles before anything talks to the cloud
    _check_provider_refs(stack)
    validate_statically(stack, variables, graph)
    return Loaded(stack=stack, variables=variables)


def _check_provider_refs(stack: Stack) -> None:
    diags = []
    for block in [*stack.data.values(), *stack.resources.values()]:
        key = block.provider_key
        if key != "aws" and key not in stack.providers:
            diags.append(
                Diagnostic(
                    summary=f'Provider configuration not present: "{key}"',
                    pos=block.pos,
                    detail=f'Add a provider "aws" block with alias = "{key.partition(".")[2]}".',
                )
            )
    if diags:
        raise ConfigError(diags)


def backend_for(stack: Stack) -> Backend:
    """The stack's configured backend; StateError if it moved since the last run (see state.migrate)."""
    from reconciler.state.migrate import BackendRef, ensure_backend_unchanged

    backend = make_backend(
        stack.settings.backend_type,
        stack.settings.backend,
        stack_dir=stack.directory,
        stack=stack.settings.name,
    )
    current = BackendRef(stack.settings.backend_type, dict(stack.settings.backend))
    ensure_backend_unchanged(stack_dir=stack.directory, current=current)
    return backend


def read_state(backend: Backend, stack: Stack) -> State:
    state = backend.read()
    if state is None:
        return State.new(stack.settings.name)
    state.check_stack(stack.settings.name, source=backend.describe())
    return state


def provider_settings(stack: Stack, variables: Mapping[str, Any]) -> dict[str, ProviderSettings]:
    """Evaluate every provider block (they may use variables, nothing else)."""
    ctx = EvalContext(variables=dict(variables), locals={}, data={}, resources={}, base_dir=stack.directory)
    out: dict[str, ProviderSettings] = {"aws": ProviderSettings()}
    diags: list[Diagnostic] = []
    for key, block in stack.providers.items():
        for name, attr in block.body.attributes.items():
            if name not in PROVIDER_ARGUMENTS:
                diags.append(
                    Diagnostic(
                        summary=f'Unsupported argument "{name}" in provider "{block.name}"', pos=attr.pos
                    )
                )
        if diags:
            continue
        values = reveal(evaluate_body(block.body, ctx), what=f'provider "{key}"')
        tags = values.get("default_tags") or {}
        out[key] = ProviderSettings(
            name=block.name,
            alias=block.alias,
            region=values.get("region"),
            profile=values.get("profile"),
            endpoint_url=values.get("endpoint_url"),
            default_tags={str(k): str(v) for k, v in dict(tags).items()},
        )
    if diags:
        raise ConfigError(diags)
    return out


def providers_for(stack: Stack, variables: Mapping[str, Any]) -> dict[str, Provider]:
    return {key: make_provider(s) for key, s in provider_settings(stack, variables).items()}
