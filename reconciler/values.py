"""Value helpers shared by evaluation, planning and rendering: the UNKNOWN sentinel and secrets.

UNKNOWN stands for a value known only after apply (an id of a resource not yet created). It is a
singleton, never None, and it survives copying and comparison. Sensitive values are stored and
compared as digests (`sensitive_digest`) so state files and plans never hold the secret itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any, Final


class _Unknown:
    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __copy__(self) -> _Unknown:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> _Unknown:
        return self

    def __reduce__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        raise TypeError("UNKNOWN has no truth value; check `is UNKNOWN` first")


UNKNOWN: Final = _Unknown()

SENSITIVE_PREFIX: Final = "sha256:"


def is_unknown(value: Any) -> bool:
    return value is UNKNOWN


def contains_unknown(value: Any) -> bool:
    """True if UNKNOWN appears anywhere inside a nested list/dict value."""
    if value is UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(contains_unknown(v) for v in value)
    return False


def unknown_paths(value: Any, prefix: str = "") -> Iterator[str]:
    """Dotted paths (`tags.Name`, `block_device_mapping.0.volume_size`) of every UNKNOWN leaf."""
    if value is UNKNOWN:
        yield prefix
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from unknown_paths(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield from unknown_paths(v, f"{prefix}.{i}" if prefix else str(i))


def sensitive_digest(value: Any) -> str | None:
    """The digest state and plans keep instead of a secret; None stays None."""
    if value is None:
        return None
    if isinstance(value, str) and value.startswith(SENSITIVE_PREFIX):
        return value  # already a digest
    data = value if isinstance(value, bytes) else str(value).encode()
    return SENSITIVE_PREFIX + hashlib.sha256(data).hexdigest()
