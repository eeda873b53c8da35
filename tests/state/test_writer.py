"""StateWriter: every change bumps serial by one and is written at once, also from many threads."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reconciler.errors import LockHolder, StateError
from reconciler.state import LocalBackend, OutputState, ResourceState, State, StateWriter


class RecordingBackend:
    """Keeps every written state as JSON text, to see exactly what each write stored."""

    def __init__(self) -> None:
        self.writes: list[State] = []

    def read(self) -> State | None:
        return self.writes[-1] if self.writes else None

    def write(self, state: State, *, text: str | None = None) -> None:
        full = state.to_json()
        assert text is None or text == full, "the writer's cached text differs from to_json()"
        self.writes.append(State.from_json(full))

    @contextlib.contextmanager
    def lock(self, *, command: str, timeout: float = 0.0) -> Iterator[LockHolder]:
        yield LockHolder(id="x", who="me", host="h", pid=1, command=command, created="now")

    def force_unlock(self, lock_id: str) -> None:
        pass

    def describe(self) -> str:
        return "memory"


def fleet(name: str = "web", rid: str = "web-g1") -> ResourceState:
    return ResourceState(address=f"aws_fleet.{name}", type="aws_fleet", provider="aws", id=rid)


Step = Callable[[StateWriter], None]

STEPS: list[tuple[str, Step, Callable[[State], object], object]] = [
    (
        "set_resource",
        lambda w: w.set_resource(fleet(rid="web-g2")),
        lambda s: s.resources["aws_fleet.web"].id,
        "web-g2",
    ),
    ("remove_resource", lambda w: w.remove_resource("aws_fleet.web"), lambda s: list(s.resources), []),
    (
        "remove_missing",
        lambda w: w.remove_resource("aws_fleet.nope"),
        lambda s: list(s.resources),
        ["aws_fleet.web"],
    ),
    (
        "set_data",
        lambda w: w.set_data("data.aws_ami.app", {"id": "ami-2"}),
        lambda s: s.data["data.aws_ami.app"],
        {"id": "ami-2"},
    ),
    (
        "set_outputs",
        lambda w: w.set_outputs({"ami": OutputState("ami-2")}),
        lambda s: s.outputs,
        {"ami": OutputState("ami-2")},
    ),
    (
        "set_rollout",
        lambda w: w.set_rollout("aws_fleet.web", {"step": 1}),
        lambda s: s.resources["aws_fleet.web"].rollout,
        {"step": 1},
    ),
    ("set_bake", lambda w: w.set_bake({"wave": 1}), lambda s: s.bake, {"wave": 1}),
]


@pytest.mark.parametrize(("name", "step", "read", "expected"), STEPS, ids=[s[0] for s in STEPS])
def test_each_call_changes_state_bumps_serial_and_writes(
    name: str, step: Step, read: Callable[[State], object], expected: object
) -> None:
    start = State.new("web")
    start.serial = 4
    start.resources["aws_fleet.web"] = fleet()
    backend = RecordingBackend()
    writer = StateWriter(backend, start)
    step(writer)
    assert [w.serial for w in backend.writes] == [5]
    assert read(backend.writes[0]) == expected
    assert writer.snapshot() == backend.writes[0]
    assert backend.writes[0].lineage == start.lineage


def test_serial_increments_on_every_call_and_rollout_can_be_cleared() -> None:
    backend = RecordingBackend()
    fresh = State.new("web")
    writer = StateWriter(backend, fresh)
    writer.set_resource(fleet())
    writer.set_rollout("aws_fleet.web", {"step": 1})
    writer.set_rollout("aws_fleet.web", {"step": 2})
    writer.set_rollout("aws_fleet.web", None)
    writer.remove_resource("aws_fleet.web")
    assert [w.serial for w in backend.writes] == [1, 2, 3, 4, 5]
    assert [w.resources.get("aws_fleet.web", fleet()).rollout for w in backend.writes] == [
        None,
        {"step": 1},
        {"step": 2},
        None,
        None,
    ]
    assert {w.lineage for w in backend.writes} == {fresh.lineage}
    assert writer.serial == 5


def test_rollout_for_a_resource_not_in_state_is_an_error() -> None:
    with pytest.raises(StateError, match=r"aws_fleet\.ghost is not in the state"):
        StateWriter(RecordingBackend(), State.new("web")).set_rollout("aws_fleet.ghost", {"step": 1})


def test_snapshot_and_caller_objects_are_not_shared() -> None:
    writer = StateWriter(RecordingBackend(), State.new("web"))
    rs = fleet()
    writer.set_resource(rs)
    rs.attributes["changed"] = True
    snap = writer.snapshot()
    snap.resources["aws_fleet.web"].id = "other"
    assert writer.snapshot().resources["aws_fleet.web"] == fleet()


def test_one_resource_data_source_or_the_outputs_are_read_as_copies() -> None:
    writer = StateWriter(RecordingBackend(), State.new("web"))
    writer.set_resource(fleet())
    writer.set_data("data.aws_ami.app", {"id": "ami-1"})
    writer.set_outputs({"url": OutputState(value="http://x")})
    got = writer.resource("aws_fleet.web")
    assert got == fleet() and writer.resource("aws_fleet.ghost") is None
    got.attributes["changed"] = True
    writer.data_of("data.aws_ami.app")["id"] = "ami-2"
    writer.outputs()["url"].value = "http://y"
    assert writer.resource("aws_fleet.web") == fleet()
    assert writer.data_of("data.aws_ami.app") == {"id": "ami-1"} and writer.data_of("data.x.y") is None
    assert writer.outputs() == {"url": OutputState(value="http://x")}


def test_concurrent_writers_through_the_local_file(tmp_path: Path) -> None:
    backend = LocalBackend(stack_dir=tmp_path, stack="web")
    writer = StateWriter(backend, State.new("web"))
    count = 20
    barrier = threading.Barrier(count + 1)
    done = threading.Event()
    unreadable: list[str] = []
    reads = 0

    def reader() -> None:
        nonlocal reads
        barrier.wait()
        while not done.is_set():
            try:
                text = backend.path.read_text()
            except FileNotFoundError:
                continue
            try:
                json.loads(text)
                reads += 1
            except json.JSONDecodeError as exc:
                unreadable.append(f"{exc}: {text[:80]!r}")

    def work(i: int) -> None:
        barrier.wait()
        writer.set_resource(fleet(name=f"f{i:02d}", rid=f"g-{i}"))

    workers = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    watcher = threading.Thread(target=reader)
    watcher.start()
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    done.set()
    watcher.join()

    assert unreadable == []
    on_disk = backend.read()
    assert on_disk is not None
    # group commit: changes that arrive during a write share the next one (one serial per write)
    assert 1 <= on_disk.serial == writer.serial <= count
    assert sorted(on_disk.resources) == [f"aws_fleet.f{i:02d}" for i in range(count)]
    assert on_disk == writer.snapshot()
    backup = State.from_json(backend.backup_path.read_text())
    assert backup.serial == on_disk.serial - 1
    assert sorted(p.name for p in backend.path.parent.iterdir()) == ["state.json", "state.json.backup"]


def test_each_writer_returns_only_once_its_change_is_on_disk(tmp_path: Path) -> None:
    """Group commit never acknowledges a change before a write that carries it finished."""
    backend = LocalBackend(tmp_path / "state.json")
    writer = StateWriter(backend, State.new("web"))
    count = 12
    barrier = threading.Barrier(count)
    missing: list[str] = []

    def work(i: int) -> None:
        barrier.wait()
        writer.set_resource(fleet(name=f"f{i:02d}", rid=f"g-{i}"))
        on_disk = backend.read()
        if on_disk is None or f"aws_fleet.f{i:02d}" not in on_disk.resources:
            missing.append(f"f{i:02d}")

    workers = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    assert missing == []


def test_many_rollouts_are_recorded_in_one_write(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path / "state.json")
    state = State.new("web")
    for i in range(3):
        state.resources[f"aws_fleet.f{i}"] = fleet(name=f"f{i}", rid=f"g-{i}")
    writer = StateWriter(backend, state)
    writer.record_rollouts({f"aws_fleet.f{i}": {"progress": {"phase": "in_progress"}} for i in range(3)})
    on_disk = backend.read()
    assert on_disk is not None and on_disk.serial == 1
    assert all(on_disk.resources[f"aws_fleet.f{i}"].rollout for i in range(3))


def test_a_bake_is_recorded_with_the_waves_last_progress_in_one_write_and_cleared_in_one() -> None:
    backend = RecordingBackend()
    state = State.new("web")
    state.resources["aws_fleet.web"] = fleet()
    writer = StateWriter(backend, state)
    writer.set_bake({"wave": 1, "fleets": ["aws_fleet.web"]}, rollouts={"aws_fleet.web": {"step": 9}})
    assert [w.serial for w in backend.writes] == [1]
    assert backend.writes[0].bake == {"wave": 1, "fleets": ["aws_fleet.web"]}
    assert backend.writes[0].resources["aws_fleet.web"].rollout == {"step": 9}
    copy_ = writer.bake()
    assert copy_ is not None
    copy_["wave"] = 2  # a copy: the writer's state is not changed by its reader
    assert writer.bake() == {"wave": 1, "fleets": ["aws_fleet.web"]}
    writer.set_bake(None)
    assert backend.writes[-1].bake is None and writer.bake() is None and len(backend.writes) == 2
    with pytest.raises(StateError, match=r"aws_fleet\.ghost is not in the state"):
        writer.set_bake({"wave": 1}, rollouts={"aws_fleet.ghost": {"step": 1}})
    assert writer.bake() is None  # nothing of a refused change was kept
