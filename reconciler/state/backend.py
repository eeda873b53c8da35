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
from typing import Protocol, runtime_checkable

from reconciler.errors import LockHolder
from reconciler.state.model import State


@runtime_checkable
class Backend(Protocol):
    """A state store with a lock.

    - `read()` gives the stored state, or None when there is none yet.
    - `write(state, text=None)` stores exactly what it is given (the caller manages `serial`);
      `text`, when given, is `state.to_json()` as the caller already made it (state.encoding).
    - `lock(command=..., timeout=...)` holds the lock for the `with` block and yields the holder
      record; when someone else holds it, it raises `LockError` naming them at once (timeout 0)
      or after waiting up to `timeout` seconds.
    - `force_unlock(lock_id)` removes a lock left behind by a run that died.
    - `describe()` says where the state is, for messages ("local state .reconciler/state.json").
    """

    def read(self) -> State | None: ...

    def write(self, state: State, *, text: str | None = None) -> None: ...

    def lock(
        self, *, command: str, timeout: float = 0.0
    ) -> contextlib.AbstractContextManager[LockHolder]: ...

    def force_unlock(self, lock_id: str) -> None: ...

    def describe(self) -> str: ...


def read_or_new(backend: Backend, *, stack: str) -> State:
    """The stored state of `stack`, or a new empty one; StateError when it is another stack's."""
    state = backend.read()
    if state is None:
        return State.new(stack)
    state.check_stack(stack, source=backend.describe())
    return state


