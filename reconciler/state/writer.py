"""Incremental state persistence during apply: every resource step is written at once.

`StateWriter` owns the in-memory `State` of a run. The apply executor calls it from several worker
threads; each call changes the state and returns only once the change is on disk, so the file
always reflects every finished step and a crashed apply can resume. Writes are group-committed:
changes that arrive while a write is on disk are carried together by the next write (one `serial`
increment per write), so a hundred fleets finishing at once cost a few writes, not a hundred;
`record_rollouts` puts many fleets' progress into one change, `set_bake` the bake between
waves (with the wave's last progress). Callers: applying (executor, the
rollout coordinator), rollout (progress), cli (`state rm`, `import`).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from reconciler.errors import StateError
from reconciler.state.backend import Backend
from reconciler.state.encoding import FragmentCache
from reconciler.state.model import OutputState, ResourceState, State


class StateWriter:
    """Thread-safe write-through editor of one `State` (a brand-new state keeps its new lineage)."""

    def __init__(self, backend: Backend, state: State) -> None:
        self._backend = backend
        self._state = state
        self._lock = threading.Lock()  # guards the in-memory state
        self._io = threading.Lock()  # one write on disk at a time
        self._changes = 0  # changes made so far
        self._durable = 0  # changes written so far
        self._fragments = FragmentCache()  # each entry's JSON text until the entry changes

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

    def resource(self, address: str) -> ResourceState | None:
        """A copy of one resource as recorded now (None: not in state); costs only that resource,
        where `snapshot` copies the whole state."""
        with self._lock:
            found = self._state.resources.get(address)
            return copy.deepcopy(found) if found is not None else None

    def data_of(self, address: str) -> Any:
        """A copy of one data source's recorded attributes (None: not recorded)."""
        with self._lock:
            return copy.deepcopy(self._state.data.get(address))

    def bake(self) -> dict[str, Any] | None:
        """A copy of the bake between waves recorded now (None: none; rollout.bake reads it)."""
        with self._lock:
            return copy.deepcopy(self._state.bake)

    def outputs(self) -> dict[str, OutputState]:
        """A copy of the recorded outputs."""
        with self._lock:
            return copy.deepcopy(self._state.outputs)

    def set_resource(self, rs: ResourceState) -> None:
        """Record (create or replace) a resource after a successful step."""
        rs = copy.deepcopy(rs)
        self._change(lambda state: state.resources.__setitem__(rs.address, rs), resources=[rs.address])

    def set_resources(self, resources: Sequence[ResourceState]) -> None:
        """Record many resources in one change (one write)."""
        stored = [copy.deepcopy(rs) for rs in resources]

        def put(state: State) -> None:
            for rs in stored:
                state.resources[rs.address] = rs

        self._change(put, resources=[rs.address for rs in stored])

    def remove_resource(self, address: str) -> None:
        """Forget a resource (after a delete, or `state rm`); written even if it was not there."""
        self._change(lambda state: state.resources.pop(address, None), resources=[address])

    def set_data(self, address: str, attrs: Mapping[str, Any]) -> None:
        """Remember a data source's last resolved attributes (e.g. the AMI a plan was made with)."""
        stored = copy.deepcopy(dict(attrs))
        self._change(lambda state: state.data.__setitem__(address, stored), data=[address])

    def set_outputs(self, outputs: Mapping[str, OutputState]) -> None:
        """Replace all outputs."""
        stored = {name: copy.deepcopy(out) for name, out in outputs.items()}

        def put(state: State) -> None:
            state.outputs = stored

        self._change(put)

    def set_rollout(self, address: str, progress: Mapping[str, Any] | None) -> None:
        """Record a fleet rollout's progress after each step; None once it has finished."""
        self.record_rollouts({address: progress})

    def record_rollouts(self, progress: Mapping[str, Mapping[str, Any] | None]) -> None:
        """Record the progress of many fleets' rollouts in one change (one write)."""
        self._change(self._put_rollouts(progress), resources=list(progress))

    def set_bake(
        self,
        bake: Mapping[str, Any] | None,
        *,
        rollouts: Mapping[str, Mapping[str, Any] | None] | None = None,
    ) -> None:
        """Record the bake between waves in progress (None: clear it), together with the progress
        of the fleets in `rollouts`, in one change (one write)."""
        stored = copy.deepcopy(dict(bake)) if bake is not None else None
        put_rollouts = self._put_rollouts(rollouts or {})

        def put(state: State) -> None:
            put_rollouts(state)
            state.bake = stored

        self._change(put, resources=list(rollouts or {}))

    @staticmethod
    def _put_rollouts(progress: Mapping[str, Mapping[str, Any] | None]) -> Callable[[State], None]:
        values = {a: copy.deepcopy(dict(p)) if p is not None else None for a, p in progress.items()}

        def put(state: State) -> None:
            missing = [a for a in values if a not in state.resources]
            if missing:
                raise StateError(f"cannot record rollout progress: {missing[0]} is not in the state")
            for address, value in values.items():
                state.resources[address].rollout = value

        return put

    def _change(
        self,
        mutate: Callable[[State], object],
        *,
        resources: Sequence[str] = (),
        data: Sequence[str] = (),
    ) -> None:
        """Apply `mutate` to the state and return once it is on disk (group commit: a write
        carries every change made before it started). `resources` and `data`: the addresses
        `mutate` may change, encoded again at the next write (state.encoding)."""
        with self._lock:
            for address in resources:
                self._fragments.touch("resources", address)
            for address in data:
                self._fragments.touch("data", address)
            mutate(self._state)
            self._changes += 1
            mine = self._changes
        with self._io:
            if self._durable >= mine:
                return  # a write that started after our change carried it
            with self._lock:
                upto = self._changes
                self._state.serial += 1
                self._backend.write(self._state, text=self._fragments.text(self._state))
            self._durable = upto
