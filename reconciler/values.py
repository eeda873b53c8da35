"""Value helpers shared by evaluation, planning and rendering: the UNKNOWN sentinel and the
sensitivity marks.

UNKNOWN stands for a value known only after apply (an id of a resource not yet created). It is a
singleton, never None, and it survives copying and comparison.

`Sensitive(v)` is the mark a value carries when it comes from a secret (a `sensitive = true`
variable, a schema's sensitive argument, anything computed from either), like Terraform's marks:
the evaluator propagates it through every operation, and anything that prints a marked value gets
"(sensitive value)" (its repr and str never show what it holds). Marks may sit anywhere inside a
list or map (`{Name = "web", Token = Sensitive(...)}`); `unmark_deep` strips them and says where
they were, `mark_paths` puts them back. `Digest` is what is kept of a sensitive value once it
leaves the process (a keyed digest, see reconciler.sensitive): plans and state hold Digests, never
the value; evaluation treats one as a sensitive value it cannot see (a marked UNKNOWN).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
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


PLAIN = (str, int, float, bool, type(None))  # never marked, unknown, a Digest or nested


def contains_unknown(value: Any) -> bool:
    """True if UNKNOWN appears anywhere inside a nested list/dict value (marked or not)."""
    if isinstance(value, Sensitive):
        value = value.value
    if value is UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(not isinstance(v, PLAIN) and contains_unknown(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(not isinstance(v, PLAIN) and contains_unknown(v) for v in value)
    return False


def sensitive_digest(value: Any) -> str | None:
    """The plain digest older versions kept instead of a secret (`sha256:<hex>`); None stays None.

    Kept only to recognise state written by those versions (reconciler.sensitive.legacy_matches):
    a plain digest of a guessable secret is reversible, so nothing new is ever stored this way.
    """
    if value is None:
        return None
    if isinstance(value, str) and value.startswith(SENSITIVE_PREFIX):
        return value  # already a digest
    data = value if isinstance(value, bytes) else str(value).encode()
    return SENSITIVE_PREFIX + hashlib.sha256(data).hexdigest()


# ---- sensitivity marks ------------------------------------------------------------------------

SHOWN: Final = "(sensitive value)"

Path = tuple[str | int, ...]  # keys and indexes from the top of a value to one of its parts


class Sensitive:
    """A value computed from a secret. Never shows what it holds: repr/str are "(sensitive value)"."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return SHOWN

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sensitive) and bool(self.value == other.value)

    def __hash__(self) -> int:
        return hash(("sensitive", self.value))

    def __reduce__(self) -> tuple[Any, ...]:
        return (Sensitive, (self.value,))


@dataclass(frozen=True)
class Digest:
    """What is kept of a sensitive value outside the process: `hmac-sha256:<hex>`, keyed per state
    lineage (or `sha256:<hex>` in state written by older versions). Shown as "(sensitive value)"."""

    text: str

    def __repr__(self) -> str:
        return SHOWN

    __str__ = __repr__


def mark(value: Any) -> Any:
    """`value` marked sensitive (a mark on a marked value or a Digest adds nothing)."""
    return value if isinstance(value, Sensitive | Digest) else Sensitive(value)


def remark(value: Any, marked: bool) -> Any:
    return mark(value) if marked else value


def is_marked(value: Any) -> bool:
    """True for a marked value or a Digest (the top level only; see has_marks)."""
    return isinstance(value, Sensitive | Digest)


def unmark(value: Any) -> tuple[Any, bool]:
    """(the value without its top-level mark, whether it had one); a Digest is a marked UNKNOWN."""
    if isinstance(value, Sensitive):
        return value.value, True
    if isinstance(value, Digest):
        return UNKNOWN, True
    return value, False


def has_marks(value: Any) -> bool:
    """True if a mark or a Digest sits anywhere in `value`."""
    if isinstance(value, Sensitive | Digest):
        return True
    if isinstance(value, dict):
        return any(has_marks(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(has_marks(v) for v in value)
    return False


def unmark_deep(value: Any, prefix: Path = ()) -> tuple[Any, list[Path]]:
    """(`value` with every mark removed, the paths where marks were); Digests become UNKNOWN."""
    paths: list[Path] = []
    plain = _strip(value, prefix, paths)
    return plain, paths


def _strip(value: Any, path: Path, paths: list[Path]) -> Any:
    if isinstance(value, Sensitive | Digest):
        paths.append(path)
        inner, _ = unmark(value)
        return _strip(inner, path, [])
    if isinstance(value, dict):
        return {k: v if isinstance(v, PLAIN) else _strip(v, (*path, k), paths) for k, v in value.items()}
    if isinstance(value, list):
        items = [v if isinstance(v, PLAIN) else _strip(v, (*path, i), paths) for i, v in enumerate(value)]
        return items if type(value) is list else type(value)(items)  # a set stays a set (HclSet)
    if isinstance(value, tuple):
        return tuple(_strip(v, (*path, i), paths) for i, v in enumerate(value))
    return value


def mark_paths(value: Any, paths: list[Path]) -> Any:
    """`value` with a mark at each path (the empty path marks the whole); missing paths are
    ignored, so callers that reshape values mark a parent instead (see config.arguments)."""
    for path in paths:
        value = _mark_at(value, path)
    return value


def _mark_at(value: Any, path: Path) -> Any:
    if not path:
        return mark(value)
    inner, marked = unmark(value) if isinstance(value, Sensitive) else (value, False)
    head, rest = path[0], path[1:]
    if isinstance(inner, dict) and head in inner:
        out: Any = {**inner, head: _mark_at(inner[head], rest)}
    elif isinstance(inner, list) and isinstance(head, int) and 0 <= head < len(inner):
        out = [*inner[:head], _mark_at(inner[head], rest), *inner[head + 1 :]]
        out = out if type(inner) is list else type(inner)(out)
    else:
        return value
    return remark(out, marked)


def get_path(value: Any, path: Path, default: Any = UNKNOWN) -> Any:
    """The part of `value` at `path` (marks stripped on the way), or `default` if there is none."""
    for step in path:
        value, _ = unmark(value)
        if isinstance(value, dict) and step in value:
            value = value[step]
            continue
        if isinstance(value, list) and isinstance(step, int) and 0 <= step < len(value):
            value = value[step]
            continue
        return default
    return value


def marked_paths(value: Any) -> list[Path]:
    return unmark_deep(value)[1]


def dotted(path: Path) -> str:
    """`("tags", "Token")` → `tags.Token`, the form plans use for attribute paths."""
    return ".".join(str(p) for p in path)


def marked_leaves(value: Any) -> Iterator[Any]:
    """Every plain value held under a mark (not Digests, which hold nothing readable)."""
    if isinstance(value, Sensitive):
        yield from _leaves(unmark_deep(value.value)[0])
    elif isinstance(value, dict):
        for v in value.values():
            yield from marked_leaves(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from marked_leaves(v)


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _leaves(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _leaves(v)
    elif value is not None and value is not UNKNOWN:
        yield value
