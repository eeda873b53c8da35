"""State backends as plugins: `BackendPlugin`, and `LOCAL`, the local file backend's own.

A backend is named by the stack's `reconciler { backend "TYPE" { ... } }` block and registered
like a provider, under the entry-point group `reconciler.backends`:

    [project.entry-points."reconciler.backends"]
    local = "reconciler.sdk.backend:LOCAL"
    s3 = "reconciler_aws.plugin:S3_BACKEND"

`open(config, stack_dir=..., stack=...)` checks the block's settings (a StateError names the bad
one) and returns a `reconciler.state.Backend`; a backend's cloud SDK is imported only there.
Callers: sdk.registry (open_backend), provider packages (declare their backends).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from reconciler.errors import StateError
from reconciler.state.backend import Backend

__all__ = ["BACKEND_ENTRY_POINT_GROUP", "LOCAL", "Backend", "BackendOpener", "BackendPlugin"]

BACKEND_ENTRY_POINT_GROUP = "reconciler.backends"


class BackendOpener(Protocol):
    def __call__(self, config: Mapping[str, Any], *, stack_dir: Path, stack: str | None) -> Backend: ...


@dataclass(frozen=True)
class BackendPlugin:
    """A state store: its block label and how to open it from the block's settings."""

    name: str
    settings: tuple[str, ...]  # the arguments its block takes
    open: BackendOpener


def _open_local(config: Mapping[str, Any], *, stack_dir: Path, stack: str | None) -> Backend:
    from reconciler.state.local import LocalBackend

    unknown = sorted(set(config) - {"path"})
    if unknown:
        raise StateError(f'backend "local" has no setting {unknown[0]!r}; it takes only "path"')
    path = config.get("path", LocalBackend.DEFAULT_PATH)
    if not isinstance(path, str | Path) or not str(path):
        raise StateError(f'backend "local": path must be a non-empty string, not {path!r}')
    return LocalBackend(Path(path), stack_dir=stack_dir, stack=stack)


LOCAL = BackendPlugin(name="local", settings=("path",), open=_open_local)
