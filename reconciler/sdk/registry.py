"""Which providers and state backends are installed, found through entry points.

Providers register under the entry-point group `reconciler.providers` (a `ProviderPlugin`),
backends under `reconciler.backends` (a `BackendPlugin`); see sdk.plugin and sdk.backend. The
lists are read once per process (`functools.cache`; warm them before starting threads). Nothing
here names a provider: an empty group means the distribution is not installed, which is said as
a designed error. Callers: config validation (static types, so `validate` needs no cloud),
planning and applying (types), the CLI's session (make_provider, open_backend), recovery.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from reconciler.address import Mode
from reconciler.errors import ReconcilerError, StateError
from reconciler.sdk import Provider, ProviderSettings, ResourceSchema
from reconciler.sdk.backend import BACKEND_ENTRY_POINT_GROUP, Backend, BackendPlugin
from reconciler.sdk.plugin import ENTRY_POINT_GROUP, ProviderPlugin

__all__ = ["all_schemas", "backends", "known_providers", "make_provider", "open_backend", "plugins"]

NOT_INSTALLED = "no reconciler provider is installed: install the project again (pip install -e .)"


def _load(group: str, kind: type[Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for point in sorted(entry_points(group=group), key=lambda p: p.name):
        plugin = point.load()
        if not isinstance(plugin, kind) or plugin.name != point.name:
            raise ReconcilerError(
                f"entry point {point.name} = {point.value} in group {group} is not a "
                f"{kind.__name__} named {point.name!r}"
            )
        found[point.name] = plugin
    return found


@functools.cache
def plugins() -> dict[str, ProviderPlugin]:
    """Every installed provider, by name."""
    found: dict[str, ProviderPlugin] = _load(ENTRY_POINT_GROUP, ProviderPlugin)
    if not found:
        raise ReconcilerError(NOT_INSTALLED)
    return found


def known_providers() -> tuple[str, ...]:
    return tuple(plugins())


def schemas_for(provider_name: str) -> Mapping[tuple[Mode, str], ResourceSchema]:
    plugin = plugins().get(provider_name)
    return plugin.types if plugin is not None else {}


@functools.cache
def _all_schemas() -> dict[tuple[Mode, str], ResourceSchema]:
    out: dict[tuple[Mode, str], ResourceSchema] = {}
    for plugin in plugins().values():
        out.update(plugin.types)
    return out


def all_schemas() -> dict[tuple[Mode, str], ResourceSchema]:
    """Every type of every installed provider, by (mode, type name)."""
    return _all_schemas()


def make_provider(settings: ProviderSettings) -> Provider:
    plugin = plugins().get(settings.name)
    if plugin is None:
        raise ReconcilerError(f'unknown provider "{settings.name}"; installed: {", ".join(plugins())}')
    return plugin.connect(settings)


@functools.cache
def backends() -> dict[str, BackendPlugin]:
    """Every installed state backend, by the label of its `backend "..." {}` block."""
    found: dict[str, BackendPlugin] = _load(BACKEND_ENTRY_POINT_GROUP, BackendPlugin)
    return found


def open_backend(
    backend_type: str, config: Mapping[str, Any], *, stack_dir: Path, stack: str | None = None
) -> Backend:
    """The backend named in the stack's `backend "TYPE" { ... }` block.

    `stack`, when given, makes `read()` refuse a state that belongs to another stack.
    """
    plugin = backends().get(backend_type)
    if plugin is None:
        known = ", ".join(f'"{t}"' for t in backends())
        raise StateError(f'unknown backend type "{backend_type}"; supported: {known}')
    return plugin.open(config, stack_dir=stack_dir, stack=stack)
