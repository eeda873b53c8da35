"""Crash-safe file writes: temporary file in the same directory, fsync, rename, fsync the directory.

A reader (or a run after a crash) sees either the old file or the new one, never a torn one, and no
temporary file is left behind when a step fails. Files are created with mode 0600. A path that is
a symbolic link stays a link: the write replaces the file the link points to (its final target,
which may not exist yet), with the temporary file in that file's directory. Callers: the local
state backend (state, backup, lock record), plan files, migration records.
"""

from __future__ import annotations

import contextlib
import errno
import os
import uuid
from pathlib import Path

PRIVATE_MODE = 0o600
_MAX_LINKS = 40  # as the kernel's own limit for resolving a path


def link_target(path: Path) -> Path:
    """`path`, or, when it is a symbolic link, the file at the end of its chain of links (which
    need not exist yet). OSError (ELOOP) for a loop."""
    seen = 0
    while path.is_symlink():
        seen += 1
        if seen > _MAX_LINKS:
            raise OSError(errno.ELOOP, "too many levels of symbolic links", str(path))
        target = Path(os.readlink(path))
        path = target if target.is_absolute() else path.parent / target
    return path


def temp_path_for(path: Path) -> Path:
    """A unique, hidden sibling of `path`; same directory so the rename is atomic."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")


def write_private_temp(path: Path, data: bytes) -> Path:
    """Write `data` to a new 0600 sibling of `path`, fsync it, and return its path."""
    tmp = temp_path_for(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(tmp, flags, PRIVATE_MODE)
    try:
        os.fchmod(fd, PRIVATE_MODE)  # the umask may not narrow it, but nothing may widen it either
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        remove_quietly(tmp)
        raise
    os.close(fd)
    return tmp


def atomic_write(path: Path, data: bytes) -> None:
    """Replace `path` (or the file its link points to) with `data` atomically; the file ends up
    0600. Raises OSError on failure."""
    path = link_target(path)
    tmp = write_private_temp(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        remove_quietly(tmp)
        raise
    fsync_dir(path.parent)


def fsync_dir(directory: Path) -> None:
    """Make a rename in `directory` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def remove_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
