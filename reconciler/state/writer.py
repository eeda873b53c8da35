"""Incremental state persistence during apply: every resource step is written at once.

`StateWriter` owns the in-memory `State` of a run. The apply executor calls it from several worker
threads; each call changes the state, increments `serial` by one and writes the whole state through
the backend while holding a lock, so the file on disk always reflects every finished step and a
crashed apply can resume. Callers: applying (executor), rollout (progress), cli (`state rm`,
`import`).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping
from typing import Any

from reconciler.errors import StateError
from reconciler.state.backend import Backend
from reconciler.state.model import OutputState, ResourceState, State


class StateWriter:
    """Thread-safe write-through editor of one `State` (a brand-new state keeps its new lineage)."""

    def __init__(self, backend: Backend, state: State) -> None:
        self._backend = backend
        self._state = state
        self._lock = threading.Lock()

    @property
    def key(self) -> str:
        """The state lineage's digest key (reconciler.sensitive), for concealing what is recorded."""
        return self._state.digest_key

    @property
    def serial(self) -> int:
        with self._lock:
            return self._state.serial

    def snapshot(self) -> State:
        """A deep copy of the current state, safe to read while writers continue."""
        with self._lock:
            return self._state.copy()

    def set_resource(self, rs: ResourceState) -> None:
        """Record (create or replace) a resource after a successful step."""
        rs = copy.deepcopy(rs)
        with self._lock:
            self._state.resources[rs.address] = rs
            self._commit()

    def remove_resource(self, address: str) -> None:
        """Forget a resource (after a delete, or `state rm`); written even if it was not there."""
        with self._lock:
            self._state.resources.pop(address, None)
            self._commit()

    def set_data(self, address: str, attrs: Mapping[str, Any]) -> None:
        """Remember a data source's last resolved attributes (e.g. the AMI a plan was made with)."""
        stored = copy.deepcopy(dict(attrs))
        with self._lock:
            self._state.data[address] = stored
            self._commit()

    def set_outputs(self, outputs: Mapping[str, OutputState]) -> None:
        """Replace all outputs."""
        stored = {name: copy.deepcopy(out) for name, out in outputs.items()}
        with self._lock:
            self._state.outputs = stored
            self._commit()

    def set_rollout(self, address: str, progress: Mapping[str, Any] | None) -> None:
        """Record a fleet rollout's progress after each step; None once it has finished."""
        value = copy.deepcopy(dict(progress)) if progress is not None else None
        with self._lock:
            rs = self._state.resources.get(address)
            if rs is None:
                raise StateError(f"cannot record rollout progress: {address} is not in the state")
            rs.rollout = value
            self._commit()

    def _commit(self) -> None:
        # Called with self._lock held: one serial per change, written before the next change starts.
        self._state.serial += 1
        self._backend.write(self._state)
