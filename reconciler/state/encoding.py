"""The state's JSON text, with each resource and data source encoded once until it changes.

`State.to_json` serializes everything (concealing every sensitive value, then the pure-Python
indenting JSON encoder) on every write; during an apply the `StateWriter` writes after every step,
so a stack of 1,000 fleets spent most of its first apply re-encoding 3,000 unchanged entries.
`FragmentCache.text(state)` returns exactly the bytes of `state.to_json()` (same keys, order,
indentation; tests compare them after random edits) but keeps each resource's and data source's
encoded text until `touch` says that entry changed. Only the owner of the `State` can know what
changed: the writer touches every address it sets, removes or records rollout progress for, before
it changes it; everything else (header, outputs, the bake) is encoded on every write. Callers:
state.writer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from reconciler.errors import StateError
from reconciler.state.model import State

# The sections of the state whose entries are cached, and how one entry becomes JSON-safe.
_SECTIONS: dict[str, Callable[[State, str], Any]] = {
    "resources": lambda state, address: state.resources[address].to_dict(state.digest_key),
    "data": lambda state, address: state.data_dict(address),
}
_INDENT = 2
_DEPTH = 2  # an entry's value sits at depth 2: top level → section → address


def _dumps(value: Any) -> str:
    return json.dumps(value, indent=_INDENT, sort_keys=True, ensure_ascii=False, allow_nan=False)


class FragmentCache:
    """Encoded entries of one writer's state, by section and address (not thread-safe: the
    writer calls it under its lock)."""

    def __init__(self) -> None:
        self._entries: dict[str, dict[str, tuple[object, str]]] = {name: {} for name in _SECTIONS}

    def touch(self, section: str, address: str) -> None:
        """The entry at `address` changes (or goes): encode it again at the next write."""
        self._entries[section].pop(address, None)

    def text(self, state: State) -> str:
        """`state.to_json()`, encoding again only the entries touched since the last call."""
        try:
            header = state.to_dict(sections=False)
            placeholders = {name: f"\x00{name}\x00" for name in _SECTIONS}
            header.update(placeholders)
            text = _dumps(header)
            for name, placeholder in placeholders.items():
                quoted = json.dumps(placeholder, ensure_ascii=False)
                text = text.replace(quoted, self._section(state, name), 1)
            return text + "\n"
        except (TypeError, ValueError) as exc:
            raise StateError(f"state of stack {state.stack!r} cannot be written as JSON: {exc}") from exc

    def _section(self, state: State, name: str) -> str:
        holder: Mapping[str, object] = getattr(state, name)
        if not holder:
            return "{}"
        entries = self._entries[name]
        for gone in set(entries) - set(holder):
            del entries[gone]
        pad = " " * (_INDENT * _DEPTH)
        lines = []
        for address in sorted(holder):
            current = holder[address]
            cached = entries.get(address)
            if cached is None or cached[0] is not current:  # replaced without a touch: encode it
                fragment = _dumps(_SECTIONS[name](state, address)).replace("\n", "\n" + pad)
                cached = entries[address] = (current, fragment)
            lines.append(f"{pad}{json.dumps(address, ensure_ascii=False)}: {cached[1]}")
        return "{\n" + ",\n".join(lines) + "\n" + " " * _INDENT + "}"
