"""Moving state between backends: noticing a changed `backend` block, migrate and push checks.

The backend a stack last used is remembered in `.reconciler/backend.json` (type and settings,
mode 0600). A stack with no record used the default local file, if it has one. When the
configured backend stores the state somewhere else than the remembered one, every command that
opens the state refuses ("the backend changed from local (…) to s3 (…); run `reconciler state
migrate`") until `state migrate` has copied the state across and recorded the new backend.

The decisions are pure functions over plain data (`check_backend`, `decide_migration`,
`state_to_push`); `ensure_backend_unchanged`, `read_record` and `write_record` are the file edge.
Callers: `reconciler.cli.session.backend_for` (the check), `reconciler.cli.state` (migrate,
pull, push).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from reconciler.errors import StateError
from reconciler.state.files import atomic_write
from reconciler.state.model import State

RECORD_PATH = Path(".reconciler") / "backend.json"
DEFAULT_LOCAL_PATH = ".reconciler/state.json"

# The settings that say where the state is; the others (encrypt, lock_table, region, profile)
# change how it is reached, not which copy it is.
_LOCATION_SETTINGS = {"local": ("path",), "s3": ("bucket", "key", "endpoint_url")}
_DEFAULTS: dict[str, dict[str, Any]] = {"local": {"path": DEFAULT_LOCAL_PATH}, "s3": {}}


@dataclass(frozen=True)
class BackendRef:
    """A backend by its type and settings, as in the `backend "TYPE" { ... }` block."""

    type: str
    config: Mapping[str, Any] = field(default_factory=dict)

    def location(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        merged = {**_DEFAULTS.get(self.type, {}), **self.config}
        names = _LOCATION_SETTINGS.get(self.type, tuple(sorted(merged)))
        parts = []
        for name in names:
            value = merged.get(name)
            if value is None:
                continue
            text = os.path.normpath(str(value)) if (self.type, name) == ("local", "path") else str(value)
            parts.append((name, text))
        return self.type, tuple(parts)

    def describe(self) -> str:
        """For messages: `local (path .reconciler/state.json)`, `s3 (bucket b, key web.json)`."""
        settings = ", ".join(f"{name} {value}" for name, value in self.location()[1])
        return f"{self.type} ({settings})" if settings else self.type

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "config": dict(sorted(self.config.items()))}

    @classmethod
    def from_dict(cls, raw: Any, *, source: str) -> BackendRef:
        if (
            not isinstance(raw, dict)
            or not isinstance(raw.get("type"), str)
            or not isinstance(raw.get("config", {}), dict)
        ):
            raise StateError(f'{source} must be an object with "type" and "config"')
        return cls(type=raw["type"], config=dict(raw.get("config", {})))


LOCAL_DEFAULT = BackendRef("local", {})


class BackendCheck(Enum):
    SAME = "same"  # the state is where it was
    RECORD = "record"  # first use of this backend, or only its other settings changed: remember it
    CHANGED = "changed"  # the state would be looked for somewhere else: migrate first


def check_backend(
    *, recorded: BackendRef | None, current: BackendRef, legacy_local_state: bool
) -> tuple[BackendCheck, BackendRef | None]:
    """Compare the configured backend with the one last used; returns the verdict and that one.

    Without a record, the last backend was the default local file if it exists (stacks from before
    the record, or that never left the default), else there was none.
    """
    previous = recorded if recorded is not None else (LOCAL_DEFAULT if legacy_local_state else None)
    if previous is None:
        if current.location() == LOCAL_DEFAULT.location():
            return BackendCheck.SAME, None  # the default needs no record
        return BackendCheck.RECORD, None
    if previous.location() != current.location():
        return BackendCheck.CHANGED, previous
    if recorded is not None and recorded.to_dict() != current.to_dict():
        return BackendCheck.RECORD, previous
    return BackendCheck.SAME, previous


def changed_message(previous: BackendRef, current: BackendRef) -> str:
    return (
        f"the backend changed from {previous.describe()} to {current.describe()}; run "
        "`reconciler state migrate` to copy the state to the new backend (the old copy stays as a backup)"
    )


class MigrateDecision(Enum):
    COPY = "copy"
    ALREADY_THERE = "already there"  # the target holds this very state (a migrate run twice)


def decide_migration(*, source: State, target: State | None, force: bool) -> MigrateDecision:
    """Copy unless that would overwrite a state that is not an older copy of the same one.

    A target with no resources and no outputs, or with the same lineage and an older serial, is
    overwritten; anything else needs `force`.
    """
    if target is None:
        return MigrateDecision.COPY
    if target.lineage == source.lineage and target.serial == source.serial:
        return MigrateDecision.ALREADY_THERE
    if force or not (target.resources or target.outputs):
        return MigrateDecision.COPY
    if target.lineage == source.lineage and target.serial < source.serial:
        return MigrateDecision.COPY
    if target.lineage == source.lineage:
        why = f"a newer serial ({target.serial} > {source.serial}) of the same lineage"
    else:
        why = f"another lineage ({target.lineage}) with {len(target.resources)} resource(s)"
    raise StateError(
        f"the new backend already holds a state: {why}; refusing to overwrite it. Check the backend "
        "settings, or run `reconciler state migrate --force` to replace it"
    )


def state_to_push(*, current: State | None, pushed: State, force: bool) -> State:
    """The state `state push` writes: `pushed` if it continues `current`, else a StateError.

    It must have the same lineage and a newer serial. With `force` it is written anyway, its
    serial raised above the current one so that every plan made against the old state is stale.
    """
    if current is None:
        return pushed
    if force:
        out = pushed.copy()
        out.serial = max(pushed.serial, current.serial + 1)
        return out
    if pushed.lineage != current.lineage:
        raise StateError(
            f"cannot push: the file has lineage {pushed.lineage}, but the current state has lineage "
            f"{current.lineage} (a different state); use --force to replace it anyway"
        )
    if pushed.serial <= current.serial:
        raise StateError(
            f"cannot push: the file has serial {pushed.serial}, but the current state already has "
            f"serial {current.serial}; pull the current state and edit that, or use --force"
        )
    return pushed


# -- the file edge -------------------------------------------------------------------------------


def read_record(stack_dir: Path) -> BackendRef | None:
    path = stack_dir / RECORD_PATH
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateError(f"cannot read {RECORD_PATH}: {exc.strerror or exc}") from exc
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StateError(f"{RECORD_PATH} is not valid JSON (line {exc.lineno}): {exc.msg}") from exc
    return BackendRef.from_dict(raw, source=str(RECORD_PATH))


def write_record(stack_dir: Path, ref: BackendRef) -> None:
    path = stack_dir / RECORD_PATH
    data = (json.dumps(ref.to_dict(), indent=2, sort_keys=True) + "\n").encode("utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, data)
    except OSError as exc:
        raise StateError(f"cannot record the backend in {RECORD_PATH}: {exc}") from exc


def previous_backend(stack_dir: Path) -> BackendRef | None:
    """The backend last used: the record, else the default local file if it exists."""
    recorded = read_record(stack_dir)
    if recorded is not None:
        return recorded
    return LOCAL_DEFAULT if (stack_dir / DEFAULT_LOCAL_PATH).exists() else None


def ensure_backend_unchanged(*, stack_dir: Path, current: BackendRef) -> None:
    """Refuse (StateError) when the state moved backends without `state migrate`; else remember it."""
    recorded = read_record(stack_dir)
    verdict, previous = check_backend(
        recorded=recorded,
        current=current,
        legacy_local_state=(stack_dir / DEFAULT_LOCAL_PATH).exists(),
    )
    if verdict is BackendCheck.CHANGED and previous is not None:
        raise StateError(changed_message(previous, current))
    if verdict is BackendCheck.RECORD:
        write_record(stack_dir, current)
