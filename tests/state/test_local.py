"""Local backend: where the file lives, atomic 0600 writes with a backup, and damaged-file messages."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from reconciler.errors import StateError
from reconciler.sdk.registry import open_backend
from reconciler.state import Backend, LocalBackend, ResourceState, State


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def with_resource(state: State, name: str) -> State:
    address = f"aws_launch_template.{name}"
    state.resources[address] = ResourceState(
        address=address, type="aws_launch_template", provider="aws", id=f"lt-{name}"
    )
    return state


@pytest.fixture
def backend(tmp_path: Path) -> LocalBackend:
    return LocalBackend(stack_dir=tmp_path, stack="web")


def test_default_path_is_in_the_stack_dir(tmp_path: Path, backend: LocalBackend) -> None:
    assert backend.path == tmp_path / ".reconciler" / "state.json"
    assert backend.describe() == "local state .reconciler/state.json"
    assert isinstance(backend, Backend)


@pytest.mark.parametrize(
    ("config", "expected", "shown"),
    [
        ({}, ".reconciler/state.json", ".reconciler/state.json"),
        ({"path": "state/prod.json"}, "state/prod.json", "state/prod.json"),
        ({"path": "/abs/prod.json"}, "/abs/prod.json", "/abs/prod.json"),
    ],
)
def test_open_backend_local_paths(tmp_path: Path, config: dict[str, str], expected: str, shown: str) -> None:
    made = open_backend("local", config, stack_dir=tmp_path)
    assert isinstance(made, LocalBackend)
    assert made.path == tmp_path / expected  # an absolute `expected` wins over tmp_path
    assert made.describe() == f"local state {shown}"


@pytest.mark.parametrize(
    ("kind", "config", "message"),
    [
        ("s4", {}, 'unknown backend type "s4"; supported: "local"'),
        ("local", {"bucket": "b"}, "has no setting 'bucket'"),
        ("local", {"path": ""}, "path must be a non-empty string"),
        ("local", {"path": 3}, "path must be a non-empty string"),
    ],
)
def test_open_backend_refuses_bad_settings(
    tmp_path: Path, kind: str, config: dict[str, object], message: str
) -> None:
    with pytest.raises(StateError, match=message):
        open_backend(kind, config, stack_dir=tmp_path)


def test_read_without_a_file_is_none(backend: LocalBackend) -> None:
    assert backend.read() is None


def test_write_then_read_round_trips(backend: LocalBackend) -> None:
    state = with_resource(State.new("web"), "a")
    backend.write(state)
    assert backend.read() == state
    assert json.loads(backend.path.read_text()) == state.to_dict()


def test_files_are_private(backend: LocalBackend) -> None:
    backend.write(State.new("web"))
    backend.write(State.new("web"))
    assert mode(backend.path) == 0o600
    assert mode(backend.backup_path) == 0o600


def test_wider_existing_files_become_private_on_write(backend: LocalBackend) -> None:
    backend.write(State.new("web"))
    backend.write(State.new("web"))
    os.chmod(backend.path, 0o644)
    os.chmod(backend.backup_path, 0o644)
    backend.write(State.new("web"))
    assert mode(backend.path) == 0o600
    assert mode(backend.backup_path) == 0o600


def test_backup_holds_the_previous_copy(backend: LocalBackend) -> None:
    first = State.new("web")
    backend.write(first)
    assert not backend.backup_path.exists()
    second = with_resource(first.copy(), "b")
    second.serial = 1
    backend.write(second)
    assert State.from_json(backend.backup_path.read_text()) == first
    assert backend.read() == second


def test_crash_before_rename_keeps_previous_state_and_leaves_no_temp_files(
    backend: LocalBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = State.new("web")
    backend.write(first)
    before = backend.path.read_bytes()

    def crash(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    second = with_resource(first.copy(), "b")
    second.serial = 1
    with pytest.raises(StateError, match=r"could not write local state \.reconciler/state\.json"):
        backend.write(second)
    monkeypatch.undo()

    assert backend.path.read_bytes() == before
    assert sorted(p.name for p in backend.path.parent.iterdir()) == ["state.json"]


def test_damaged_json_names_the_file_and_line(backend: LocalBackend) -> None:
    backend.path.parent.mkdir(parents=True)
    backend.path.write_text('{\n  "format_version": 1,\n  "lineage": oops\n}')
    with pytest.raises(StateError) as err:
        backend.read()
    assert str(err.value).startswith("state file .reconciler/state.json is not valid JSON (line 3)")


def test_damaged_json_points_at_the_backup_when_there_is_one(backend: LocalBackend) -> None:
    backend.write(State.new("web"))
    backend.write(State.new("web"))
    backend.path.write_bytes(b"\xff\xfe garbage")
    with pytest.raises(StateError, match=r"previous copy is in \.reconciler/state\.json\.backup"):
        backend.read()


def test_missing_field_names_the_file(backend: LocalBackend) -> None:
    backend.path.parent.mkdir(parents=True)
    backend.path.write_text(json.dumps({"format_version": 1, "serial": 0, "stack": "web"}))
    with pytest.raises(StateError, match=r"^state file \.reconciler/state\.json: missing lineage$"):
        backend.read()


def test_state_of_another_stack_is_refused(tmp_path: Path) -> None:
    LocalBackend(stack_dir=tmp_path).write(State.new("web-staging"))
    with pytest.raises(StateError) as err:
        open_backend("local", {}, stack_dir=tmp_path, stack="web-prod").read()
    assert "web-staging" in str(err.value) and "web-prod" in str(err.value)


def test_newer_format_version_is_refused(backend: LocalBackend) -> None:
    raw = State.new("web").to_dict()
    raw["format_version"] = 99
    backend.path.parent.mkdir(parents=True)
    backend.path.write_text(json.dumps(raw))
    with pytest.raises(StateError, match="format_version 99, but this reconciler supports up to 2"):
        backend.read()
