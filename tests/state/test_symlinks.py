"""A state file that is a symbolic link stays a link: its target is written atomically (temporary
file in the target's directory, fsync, rename over the target), and the backup, lock and lock
record live beside the target. A link whose target directory is missing, or a link loop, is
refused naming the link, and nothing is created or changed."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from reconciler.errors import LockError, StateError
from reconciler.state import LocalBackend, ResourceState, State
from reconciler.state.files import atomic_write

BASE = State.new("web")


def state_with(serial: int) -> State:
    state = BASE.copy()
    state.serial = serial
    address = f"aws_launch_template.t{serial}"
    state.resources[address] = ResourceState(
        address=address, type="aws_launch_template", provider="aws", id=f"lt-{serial}"
    )
    return state


def linked(tmp_path: Path, target: str) -> tuple[LocalBackend, Path]:
    """A stack whose .reconciler/state.json is a relative link to `target` (under tmp_path)."""
    stack = tmp_path / "stack"
    (stack / ".reconciler").mkdir(parents=True)
    link = stack / ".reconciler" / "state.json"
    link.symlink_to(os.path.relpath(tmp_path / target, link.parent))
    return LocalBackend(stack_dir=stack, stack="web"), link


def test_writes_go_to_the_target_and_the_link_stays(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    backend, link = linked(tmp_path, "shared/prod.json")
    target = tmp_path / "shared" / "prod.json"
    backend.write(state_with(1))  # the target does not exist yet: created
    assert link.is_symlink() and target.is_file()
    backend.write(state_with(2))
    assert link.is_symlink() and os.readlink(link) == "../../shared/prod.json"
    assert State.from_json(target.read_text()) == state_with(2) == backend.read()
    assert State.from_json((tmp_path / "shared" / "prod.json.backup").read_text()) == state_with(1)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in (tmp_path / "shared").iterdir()) == ["prod.json", "prod.json.backup"]
    assert sorted(p.name for p in link.parent.iterdir()) == ["state.json"]  # no temp file, no backup here


def test_a_chain_of_links_is_followed_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "real.json").write_text(state_with(1).to_json())
    (tmp_path / "a" / "hop.json").symlink_to("../b/real.json")
    backend, link = linked(tmp_path, "a/hop.json")
    backend.write(state_with(2))
    assert link.is_symlink() and (tmp_path / "a" / "hop.json").is_symlink()
    assert backend.read() == state_with(2)
    assert backend.backup_path.resolve() == (tmp_path / "b" / "real.json.backup").resolve()
    assert backend.backup_path.exists()


def test_two_links_to_one_state_share_its_lock(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    first, _ = linked(tmp_path / "one", "../shared/prod.json")
    second, _ = linked(tmp_path / "two", "../shared/prod.json")
    with (
        first.lock(command="apply"),
        pytest.raises(LockError, match="state is locked by"),
        second.lock(command="apply", timeout=0),
    ):
        pass
    assert first.lock_path.resolve() == (tmp_path / "shared" / "prod.json.lock").resolve()


def test_a_link_into_a_missing_directory_is_refused_and_nothing_is_created(tmp_path: Path) -> None:
    backend, link = linked(tmp_path, "unmounted/prod.json")
    with (
        pytest.raises(StateError, match=r"a link to .*unmounted/prod.json\), but .*unmounted does not exist"),
        backend.lock(command="apply"),
    ):
        pass
    with pytest.raises(StateError, match="is it mounted"):
        backend.write(state_with(1))
    assert not (tmp_path / "unmounted").exists() and link.is_symlink()
    assert backend.read() is None  # nothing there to read either


def test_a_link_loop_is_refused_naming_the_link(tmp_path: Path) -> None:
    backend, link = linked(tmp_path, "stack/.reconciler/state.json")  # points at itself
    with pytest.raises(StateError, match=r"state file \.reconciler/state\.json: Too many levels"):
        backend.read()
    with pytest.raises(StateError, match=r"cannot use local state \.reconciler/state\.json"):
        backend.write(state_with(1))
    assert link.is_symlink() and sorted(p.name for p in link.parent.iterdir()) == ["state.json"]


def test_atomic_write_keeps_any_link(tmp_path: Path) -> None:
    (tmp_path / "real.txt").write_text("old")
    (tmp_path / "link.txt").symlink_to("real.txt")
    atomic_write(tmp_path / "link.txt", b"new")
    assert (tmp_path / "link.txt").is_symlink() and (tmp_path / "real.txt").read_text() == "new"
