"""State: what reconciler remembers between runs, where it is stored, and how apply updates it.

`State`/`ResourceState`/`OutputState` are the model (`model.py`); `Backend` is what every store
offers (`backend.py`; the local file in `local.py`; stores are opened by reconciler.sdk.registry);
`StateWriter` persists every apply step (`writer.py`). Callers: cli, planning (prior state),
applying and rollout (progress).
"""

from reconciler.state.backend import Backend, read_or_new
from reconciler.state.local import LocalBackend
from reconciler.state.model import FORMAT_VERSION, OutputState, ResourceState, State
from reconciler.state.writer import StateWriter

__all__ = [
    "FORMAT_VERSION",
    "Backend",
    "LocalBackend",
    "OutputState",
    "ResourceState",
    "State",
    "StateWriter",
    "read_or_new",
]
