"""State: what reconciler remembers between runs, where it is stored, and how apply updates it.

`State`/`ResourceState`/`OutputState` are the model (`model.py`); `Backend` and `make_backend`
choose the store (`backend.py`; the local file in `local.py`); `StateWriter` persists every apply
step (`writer.py`). Callers: cli, planning (prior state), applying and rollout (progress).
"""

from reconciler.state.backend import BACKEND_TYPES, Backend, make_backend
from reconciler.state.local import LocalBackend
from reconciler.state.model import FORMAT_VERSION, OutputState, ResourceState, State
from reconciler.state.writer import StateWriter

__all__ = [
    "BACKEND_TYPES",
    "FORMAT_VERSION",
    "Backend",
    "LocalBackend",
    "OutputState",
    "ResourceState",
    "State",
    "StateWriter",
    "make_backend",
]
