"""Where state lives: the `Backend` protocol every store implements, and `make_backend`.

A backend reads and writes a whole `State` and guards it with a lock that names its holder. Two
stores: the local file (`local.py`) and S3 (object with conditional writes, lock in DynamoDB or an
S3 lock object), which lives in `reconciler_aws.state_backend` and is imported lazily here, so the
engine never imports boto3 itself. Callers: cli (builds the backend from
the `reconciler { backend "..." {} }` block), applying (locks, then writes through `StateWriter`),
planning (reads the prior state).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from reconciler.errors import LockHolder, StateError
from reconciler.state.model import State


@runtime_checkable
class Backend(Protocol):
    """A state store with a lock.

    - `read()` gives the stored state, or None when there is none yet.
    - `write(state)` stores exactly what it is given (the caller manages `serial`).
    - `lock(command=..., timeout=...)` holds the lock for the `with` block and yields the holder
      record; when someone else holds it, it raises `LockError` naming them at once (timeout 0)
      or after waiting up to `timeout` seconds.
    - `force_unlock(lock_id)` removes a lock left behind by a run that died.
    - `describe()` says where the state is, for messages ("local state .reconciler/state.json").
    """

    def read(self) -> State | None: ...

    def write(self, state: State) -> None: ...

    def lock(
        self, *, command: str, timeout: float = 0.0
    ) -> contextlib.AbstractContextManager[LockHolder]: ...

    def force_unlock(self, lock_id: str) -> None: ...

    def describe(self) -> str: ...


BACKEND_TYPES = ("local", "s3")


def make_backend(
    backend_type: str, config: Mapping[str, Any], *, stack_dir: Path, stack: str | None = None
) -> Backend:
    """Build the backend named in the stack's `backend "TYPE" { ... }` block.

    `stack`, when given, makes `read()` refuse a state that belongs to another stack.
    """
    if backend_type == "local":
        from reconciler.state.local import LocalBackend

        unknown = sorted(set(config) - {"path"})
        if unknown:
            raise StateError(f'backend "local" has no setting {unknown[0]!r}; it takes only "path"')
        path = config.get("path", LocalBackend.DEFAULT_PATH)
        if not isinstance(path, str | Path) or not str(path):
            raise StateError(f'backend "local": path must be a non-empty string, not {path!r}')
        return LocalBackend(Path(path), stack_dir=stack_dir, stack=stack)
    if backend_type == "s3":
        from reconciler_aws.state_backend import S3Backend  # lazy: boto3 only when S3 is used

        return S3Backend.from_config(config, stack=stack)
    known = ", ".join(f'"{t}"' for t in BACKEND_TYPES)
    raise StateError(f'unknown backend type "{backend_type}"; supported: {known}')
