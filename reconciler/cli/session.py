"""A command's setup: load and validate the stack, resolve variables, open the state backend and
build the providers. The command groups compose these; they hold no decisions of their own.

Callers: the CLI's command group modules (imported when a command runs, never for --help).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from reconciler.config import Loaded, Stack, collect_variables, evaluate_body, read_stack
from reconciler.errors import ConfigError, Diagnostic, Severity, SourcePos
from reconciler.expressions import EvalContext
from reconciler.graph.build import build_graph
from reconciler.planning.names import provider_scopes
from reconciler.planning.static import validate_statically
from reconciler.sdk import Provider, ProviderSettings, registry
from reconciler.sdk.registry import make_provider, open_backend
from reconciler.sensitive import reveal
from reconciler.state import Backend, State, read_or_new


def load(
    directory: Path,
    *,
    cli_vars: Sequence[str] = (),
    var_files: Sequence[Path] = (),
    environ: Mapping[str, str] | None = None,
) -> Loaded:
    """Parse, validate and resolve variables; raises ConfigError with every problem found.

    Every stage runs even when an earlier one found problems (unless a file did not parse), and
    all their diagnostics come out together, sorted by file, line and column. A later stage's
    diagnostic on a line where an earlier stage already reported one is dropped: it follows from
    that problem (an undeclared name is reported once, not again when it is evaluated)."""
    stack, found, syntax_failed = read_stack(directory)
    stages: list[list[Diagnostic]] = [found]
    variables: dict[str, Any] = {}
    if not syntax_failed:
        variables, var_diags = collect_variables(
            stack,
            cli_vars=list(cli_vars),
            var_files=list(var_files),
            environ=os.environ if environ is None else environ,
        )
        stages.append(var_diags)
        stages.append(_caught(_check_provider_refs, stack))
        try:
            graph = build_graph(stack)  # reports cycles before anything talks to the cloud
        except ConfigError as exc:
            stages.append(exc.diagnostics)
        else:
            try:
                scopes = provider_scopes(provider_settings(stack, variables))
            except ConfigError:
                scopes = {}  # a provider block's own errors are reported when its provider is made
            stages.append(_caught(partial(validate_statically, scopes=scopes), stack, variables, graph))
    diags = merge_stages(stages)
    if any(d.severity is Severity.ERROR for d in diags):
        raise ConfigError(diags)
    return Loaded(stack=stack, variables=variables)


def load_from(args: argparse.Namespace, directory: Path) -> Loaded:
    """`load` with the command's --var and --var-file (none when it takes none)."""
    return load(directory, cli_vars=getattr(args, "var", []), var_files=getattr(args, "var_file", []))


def state_only(directory: Path) -> tuple[Loaded, Backend]:
    """The stack (without its variables) and its backend: for commands that read state only."""
    from reconciler.config import load_stack

    stack = load_stack(directory)
    return Loaded(stack=stack, variables={}), backend_for(stack)


def _caught(check: Any, *args: Any) -> list[Diagnostic]:
    try:
        check(*args)
    except ConfigError as exc:
        return exc.diagnostics
    return []


def merge_stages(stages: list[list[Diagnostic]]) -> list[Diagnostic]:
    """Every stage's diagnostics, minus duplicates and minus those on a line an earlier stage
    already reported, in (file, line, column) order."""
    out: list[Diagnostic] = []
    seen: set[tuple[str, SourcePos | None, str]] = set()
    reported_lines: set[tuple[Path, int]] = set()
    for stage in stages:
        lines: set[tuple[Path, int]] = set()
        for diag in stage:
            where = (diag.pos.file, diag.pos.line) if diag.pos is not None else None
            key = (diag.summary, diag.pos, diag.detail)
            if (where is not None and where in reported_lines) or key in seen:
                continue
            seen.add(key)
            out.append(diag)
            if where is not None:
                lines.add(where)
        reported_lines |= lines
    return sorted(out, key=_order)


def _order(diag: Diagnostic) -> tuple[str, int, int, str]:
    pos = diag.pos
    if pos is None:
        return ("", 0, 0, diag.summary)
    return (str(pos.file), pos.line, pos.column, diag.summary)


def _check_provider_refs(stack: Stack) -> None:
    known = registry.known_providers()  # each has a default configuration
    diags = []
    for block in [*stack.data.values(), *stack.resources.values()]:
        key = block.provider_key
        if key not in known and key not in stack.providers:
            name, _, alias = key.partition(".")
            diags.append(
                Diagnostic(
                    summary=f'Provider configuration not present: "{key}"',
                    pos=block.pos,
                    detail=f'Add a provider "{name}" block with alias = "{alias}".',
                )
            )
    if diags:
        raise ConfigError(diags)


def backend_for(stack: Stack) -> Backend:
    """The stack's configured backend; StateError if it moved since the last run (see state.migrate)."""
    from reconciler.state.migrate import BackendRef, ensure_backend_unchanged

    backend = open_backend(
        stack.settings.backend_type,
        stack.settings.backend,
        stack_dir=stack.directory,
        stack=stack.settings.name,
    )
    current = BackendRef(stack.settings.backend_type, dict(stack.settings.backend))
    ensure_backend_unchanged(stack_dir=stack.directory, current=current)
    return backend


def read_state(backend: Backend, stack: Stack) -> State:
    return read_or_new(backend, stack=stack.settings.name)


def provider_settings(stack: Stack, variables: Mapping[str, Any]) -> dict[str, ProviderSettings]:
    """Evaluate every provider block (they may use variables, nothing else)."""
    ctx = EvalContext(variables=dict(variables), locals={}, data={}, resources={}, base_dir=stack.directory)
    plugins = registry.plugins()
    out: dict[str, ProviderSettings] = {n: p.configure(alias=None, values={}) for n, p in plugins.items()}
    diags: list[Diagnostic] = []
    for key, block in stack.providers.items():
        plugin = plugins[block.name]
        for name, attr in block.body.attributes.items():
            if name != "alias" and name not in plugin.arguments:
                diags.append(
                    Diagnostic(
                        summary=f'Unsupported argument "{name}" in provider "{block.name}"', pos=attr.pos
                    )
                )
        if diags:
            continue
        values = reveal(evaluate_body(block.body, ctx), what=f'provider "{key}"')
        values.pop("alias", None)
        out[key] = plugin.configure(alias=block.alias, values=values)
    if diags:
        raise ConfigError(diags)
    return out


def providers_for(stack: Stack, variables: Mapping[str, Any]) -> dict[str, Provider]:
    return {key: make_provider(s) for key, s in provider_settings(stack, variables).items()}
