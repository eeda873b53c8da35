"""The local state backend: `.reconciler/state.json` (or the `backend "local"` path) on disk.

Writes are atomic (temporary file, fsync, rename, fsync of the directory), keep the previous copy
in `state.json.backup`, and leave every file at mode 0600. The lock is an OS file lock (fcntl
`flock` through `filelock`) on `state.json.lock`, so a run that crashes or is killed releases it
with its process; `state.json.lock.info` records who holds it (user, host, pid, command, time) so a
second run can say whom it is waiting for. Callers: `reconciler.sdk.backend.LOCAL` (opened by the CLI), tests.

A state path that is a symbolic link stays a link: the state is written (atomically, through a
temporary file in that directory) to the file the link points to, and the backup, lock and lock
record live beside that file, so two links to one state share one lock and one backup.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import filelock

from reconciler.errors import LockError, LockHolder, StateError
from reconciler.state.files import (
    PRIVATE_MODE,
    atomic_write,
    fsync_dir,
    link_target,
    remove_quietly,
    write_private_temp,
)
from reconciler.state.holder import holder_from_json, holder_json, new_holder
from reconciler.state.model import State

_HOLDER_WAIT = 1.0  # seconds to wait for a fresh holder to write its record before naming it unknown
_POLL = 0.05


class LocalBackend:
    """State in a local JSON file, locked with an OS file lock that names its holder."""

    DEFAULT_PATH = ".reconciler/state.json"

    def __init__(
        self, path: Path | str | None = None, *, stack_dir: Path | None = None, stack: str | None = None
    ) -> None:
        base = Path(stack_dir) if stack_dir is not None else Path.cwd()
        given = Path(path) if path is not None else Path(self.DEFAULT_PATH)
        self.path = given if given.is_absolute() else base / given
        self.stack = stack
        try:
            self._display = str(self.path.relative_to(base)) if stack_dir is not None else str(given)
        except ValueError:
            self._display = str(self.path)

    @property
    def file(self) -> Path:
        """The state file itself: `path`, or the file it links to (OSError for a link loop)."""
        return link_target(self.path)

    @property
    def backup_path(self) -> Path:
        return self._beside_file(".backup")

    @property
    def lock_path(self) -> Path:
        return self._beside_file(".lock")

    @property
    def lock_info_path(self) -> Path:
        return self._beside_file(".lock.info")

    def _check_link(self) -> None:
        """A link whose target directory is missing (an unmounted share?) is refused, not created."""
        if not self.path.is_symlink():
            return
        try:
            file = self.file
        except OSError as exc:
            raise StateError(f"cannot use {self.describe()}: {exc.strerror or exc}") from exc
        if not file.parent.is_dir():
            raise StateError(
                f"{self.describe()}, but {os.path.normpath(file.parent)} does not exist (is it mounted?); "
                "nothing was read or written. Create it, or point the link elsewhere."
            )

    def _beside_file(self, suffix: str) -> Path:
        try:
            file = self.file
        except OSError:
            file = self.path  # a link loop: reading or writing will say so
        return file.with_name(file.name + suffix)

    def describe(self) -> str:
        if self.path.is_symlink():
            try:
                return f"local state {self._display} (a link to {os.path.normpath(self.file)})"
            except OSError:
                return f"local state {self._display} (a symbolic link loop)"
        return f"local state {self._display}"

    # -- reading and writing ---------------------------------------------------------------------

    def read(self) -> State | None:
        source = f"state file {self._display}"
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateError(f"cannot read {source}: {exc.strerror or exc}") from exc
        try:
            raw_state = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise StateError(
                f"{source} is not valid JSON (not UTF-8 text): {exc}" + self._backup_hint()
            ) from exc
        except json.JSONDecodeError as exc:
            raise StateError(
                f"{source} is not valid JSON (line {exc.lineno}): {exc.msg}" + self._backup_hint()
            ) from exc
        return State.from_dict(raw_state, source=source, expected_stack=self.stack)

    def _backup_hint(self) -> str:
        if self.backup_path.exists():
            shown = f"{self._display}.backup" if not self.path.is_symlink() else str(self.backup_path)
            return f" (the previous copy is in {shown})"
        return ""

    def write(self, state: State, *, text: str | None = None) -> None:
        """Store `state` exactly as given (`text`: its `to_json()`, when the caller has it); the
        previous copy becomes `state.json.backup`."""
        data = (text if text is not None else state.to_json()).encode("utf-8")
        self._check_link()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            file = self.file  # a link stays a link: its target is replaced
            tmp = write_private_temp(file, data)
            try:
                try:
                    previous: bytes | None = file.read_bytes()
                except FileNotFoundError:
                    previous = None
                if previous is not None:
                    atomic_write(self.backup_path, previous)
                os.replace(tmp, file)
            except BaseException:
                remove_quietly(tmp)
                raise
            fsync_dir(file.parent)
        except OSError as exc:
            raise StateError(f"could not write {self.describe()}: {exc}") from exc

    # -- locking ---------------------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, *, command: str, timeout: float = 0.0) -> Iterator[LockHolder]:
        """Hold the state lock for the `with` block; LockError naming the holder if it is taken."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StateError(f"cannot create the directory of {self.describe()}: {exc}") from exc
        self._check_link()
        flock = filelock.FileLock(str(self.lock_path), mode=PRIVATE_MODE, thread_local=False)
        try:
            flock.acquire(timeout=max(timeout, 0.0))
        except filelock.Timeout:
            raise self._locked_error() from None
        except OSError as exc:
            raise StateError(f"cannot lock {self.describe()}: {exc}") from exc
        try:
            with contextlib.suppress(OSError):
                os.chmod(self.lock_path, PRIVATE_MODE)
            holder = new_holder(command)
            try:
                atomic_write(self.lock_info_path, holder_json(holder).encode("utf-8"))
            except OSError as exc:
                raise StateError(f"cannot record the lock holder of {self.describe()}: {exc}") from exc
            try:
                yield holder
            finally:
                current = self._read_holder()
                if current is not None and current.id == holder.id:
                    remove_quietly(self.lock_info_path)
        finally:
            flock.release()

    def _locked_error(self) -> LockError:
        holder = self._read_holder()
        deadline = time.monotonic() + _HOLDER_WAIT
        while holder is None and time.monotonic() < deadline:
            # The holder has the OS lock but has not written its record yet.
            time.sleep(_POLL)
            holder = self._read_holder()
        hint = "Another reconciler run is using this state; wait for it or retry with --lock-timeout"
        if holder is None:
            return LockError(f"state is locked by an unknown process (lock file {self.lock_path}). {hint}")
        return LockError(
            f"state is locked by {holder.describe()}; lock id {holder.id}. {hint}", holder=holder
        )

    def _read_holder(self) -> LockHolder | None:
        try:
            return holder_from_json(self.lock_info_path.read_text(encoding="utf-8"))
        except OSError:
            return None

    def force_unlock(self, lock_id: str) -> None:
        """Clear the record of a lock whose holder died; refuses while the holder still runs.

        A local lock is an OS lock, released when its process ends, so there is nothing to break:
        this only checks the id and removes the stale holder record.
        """
        holder = self._read_holder()
        if holder is None:
            raise StateError(f"{self.describe()} has no lock record; nothing to unlock")
        if holder.id != lock_id:
            raise StateError(
                f"lock id {lock_id} does not match the lock on {self.describe()} "
                f"(id {holder.id}, held by {holder.describe()})"
            )
        flock = filelock.FileLock(str(self.lock_path), mode=PRIVATE_MODE, thread_local=False)
        try:
            flock.acquire(timeout=0)
        except filelock.Timeout:
            raise LockError(
                f"cannot force-unlock {self.describe()}: it is held by {holder.describe()}, which is "
                "still running; stop that process (its lock is released when it ends)",
                holder=holder,
            ) from None
        try:
            remove_quietly(self.lock_info_path)
        finally:
            flock.release()
