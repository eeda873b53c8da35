"""A bake between waves survives an interrupted apply (applying.rollouts with applying.bakes).

Given waves a (wave 1) and b (wave 2) with a 10-minute bake: the bake is recorded in state in the
same write as wave 1's last progress and cleared when it ends; an apply stopped during the bake
leaves it recorded and starts no later wave; the next apply (its plan made by planning.waves from
that state) finishes only the rest of the bake before wave 2 starts, and an alarm during the
resumed bake (a wave alarm, or the baked fleet's own) turns wave 1 back and starts no later wave,
as an alarm during any bake does; a recorded bake that is over is just cleared. Runs on FakeFleet
on a fake clock, state through a real StateWriter on a local file (tests/applying/test_rollouts).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from reconciler.applying.rollout_jobs import NotStarted
from reconciler.config.model import WavesSettings
from reconciler.planning.waves import plan_waves
from reconciler.rollout.bake import read_marker
from reconciler.rollout.progress import Phase
from reconciler.rollout.waves import WavePlan, WaveRules, WavesHaltedError
from reconciler.sdk import AlarmState
from reconciler.state import State
from reconciler.state.local import LocalBackend
from tests.applying.test_rollouts import World, addr, on_new_image, plan_of
from tests.rollout.builders import NEW

RULES = WaveRules(bake_s=600, alarms=("site",))
SETTINGS = WavesSettings(bake_s=600, alarms=("site",))  # the stack's waves block
NAMES = {"a": 1, "b": 2}


class SpyBackend(LocalBackend):
    """A local state file that also keeps every state it was given, as JSON."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.writes: list[dict[str, Any]] = []

    def write(self, state: State, *, text: str | None = None) -> None:
        self.writes.append(state.to_dict())
        super().write(state)


def world_of(tmp_path: Path, strategy: str = "blue_green") -> World:
    world = World(tmp_path, [plan_of("a", strategy, alarms=["a-own"]), plan_of("b")], waves=NAMES)
    world.backend = world.writer._backend = SpyBackend(tmp_path / "state.json")  # type: ignore[assignment]
    return world


def phase_in(write: dict[str, Any], name: str) -> str | None:
    record = write["resources"][addr(name)]["rollout"]
    return record["progress"]["phase"] if record else None


def interrupted_in_bake(world: World) -> None:
    """Run both waves; the apply stops (another step failed, say) once the bake is recorded."""
    stop = threading.Event()

    def sleep(seconds: float) -> None:
        if world.writer.bake() is not None:
            stop.set()
        world.clock.sleep(seconds)

    results = world.run_all(world.coordinator(rules=RULES, stop=stop, sleep=sleep))
    assert results[addr("a")][1] is None and isinstance(results[addr("b")], NotStarted)


def next_plan(world: World) -> WavePlan:
    """The waves of the next plan: only b still rolls out."""
    b = [c for c, _ in world.changes if str(c.address) == addr("b")]
    state, now = world.writer.snapshot(), world.clock.now
    waves = plan_waves(b, settings=SETTINGS, graph={}, state=state, now=now)
    assert waves is not None
    return waves


def resume(world: World, waves: WavePlan) -> tuple[dict[str, Any], Any]:
    coordinator = world.coordinator(
        only="b", rules=waves.rules, hold=waves.hold, providers={"aws": world.provider}
    )
    return world.run_all(coordinator), coordinator


@pytest.mark.parametrize("strategy", ["rolling", "blue_green"])
def test_a_bake_is_recorded_with_the_waves_last_progress_and_cleared_when_it_ends(
    tmp_path: Path, strategy: str
) -> None:
    world = world_of(tmp_path, strategy)
    results = world.run_all(world.coordinator(rules=RULES))
    assert all(r[1] is None for r in results.values())
    writes: list[dict[str, Any]] = world.backend.writes  # type: ignore[attr-defined]
    # recorded in the very write that completed wave 1 (a kill between two writes would skip
    # it), kept in every write until one clears it, which wave 2 follows
    done = next(i for i, w in enumerate(writes) if phase_in(w, "a") == "complete")
    cleared = next(i for i, w in enumerate(writes) if i > done and "bake" not in w)
    assert all("bake" in w for w in writes[done:cleared])
    assert all(phase_in(w, "b") is None for w in writes[:cleared + 1])
    marker = read_marker(writes[done]["bake"])
    assert marker is not None
    assert (marker.wave, marker.bake_s, marker.alarms, marker.ends_at - marker.started_at) == (
        1,
        600,
        ("site",),
        600,
    )
    assert [(f.address, f.launch_template_version, f.image_id, f.alarms) for f in marker.fleets] == [
        (addr("a"), 8, NEW.image_id, ("a-own",))
    ]
    assert world.writer.bake() is None and "bake" not in writes[-1]  # cleared when it ended
    assert world.progress(addr("b")).started_at >= marker.ends_at  # type: ignore[operator]


def test_an_apply_stopped_during_the_bake_leaves_it_recorded_and_starts_no_later_wave(
    tmp_path: Path,
) -> None:
    world = world_of(tmp_path)
    interrupted_in_bake(world)
    marker = read_marker(world.writer.bake())
    assert marker is not None and marker.ends_at > world.clock.now
    assert world.progress(addr("a")).phase is Phase.COMPLETE and on_new_image(world.cloud, "a")
    assert world.writer.snapshot().resources[addr("b")].rollout is None
    on_disk = LocalBackend(tmp_path / "state.json").read()
    assert on_disk is not None and on_disk.bake == world.writer.bake()


def test_the_next_apply_bakes_only_the_rest_before_the_held_wave_starts(tmp_path: Path) -> None:
    world = world_of(tmp_path)
    interrupted_in_bake(world)
    marker = read_marker(world.writer.bake())
    assert marker is not None
    world.clock.now += 200  # the operator looked around, then applied again
    waves = next_plan(world)
    assert waves.hold is not None and waves.hold.before == 2
    assert 0 < waves.hold.left_s < 600 - 200
    started = world.clock.now
    results, coordinator = resume(world, waves)
    assert results[addr("b")][1] is None and on_new_image(world.cloud, "b")
    b = world.progress(addr("b"))
    assert b.started_at is not None and b.started_at >= marker.ends_at  # not a moment before
    assert b.started_at - started < 600  # the rest of the bake, not a new one
    assert world.writer.bake() is None
    assert world.progress(addr("a")).phase is Phase.COMPLETE and on_new_image(world.cloud, "a")
    assert coordinator.halted_error() is None


@pytest.mark.parametrize("alarm", ["site", "a-own"], ids=["wave alarm", "the baked fleet's own alarm"])
def test_an_alarm_during_the_resumed_bake_turns_the_baked_wave_back_and_starts_no_later_wave(
    tmp_path: Path, alarm: str
) -> None:
    world = world_of(tmp_path)
    interrupted_in_bake(world)
    world.cloud.set_alarm(alarm, AlarmState.ALARM, at=world.clock.now + 5)
    refreshes = world.provider.refreshes
    results, coordinator = resume(world, next_plan(world))
    assert isinstance(results[addr("b")], NotStarted)
    assert world.writer.snapshot().resources[addr("b")].rollout is None  # never touched
    assert world.progress(addr("a")).phase is Phase.ROLLED_BACK
    assert "turned back with wave 1" in world.progress(addr("a")).failure
    assert not on_new_image(world.cloud, "a") and "a-g0008" not in world.cloud.groups
    assert world.writer.bake() is None  # cleared with the halt: the next plan shows wave 1 again
    assert world.provider.refreshes == refreshes + 1  # the turned-back fleet was read back
    assert world.writer.snapshot().resources[addr("a")].attributes["group_name"] == "a-g0007"
    error = coordinator.halted_error()
    assert isinstance(error, WavesHaltedError)
    lines = str(error).splitlines()
    assert lines[0] == f"rollout halted in wave 1 of 2: alarm {alarm} is in ALARM during the bake"
    assert [line.split()[:4] for line in lines[1:]] == [
        ["wave", "1", "rolled", "back"],
        ["wave", "2", "not", "started"],
    ]


def test_a_recorded_bake_that_is_over_when_apply_gets_there_is_just_cleared(tmp_path: Path) -> None:
    world = world_of(tmp_path)
    interrupted_in_bake(world)
    waves = next_plan(world)  # planned while it still held wave 2 back
    assert waves.hold is not None
    world.clock.now += 600  # applied later
    started = world.clock.now
    results, _ = resume(world, waves)
    assert results[addr("b")][1] is None
    assert world.progress(addr("b")).started_at == started  # no wait at all
    assert world.writer.bake() is None


def test_a_recorded_bake_the_plan_found_over_is_cleared(tmp_path: Path) -> None:
    world = world_of(tmp_path)
    interrupted_in_bake(world)
    world.clock.now += 601
    waves = next_plan(world)
    assert waves.hold is None
    results, _ = resume(world, waves)
    assert results[addr("b")][1] is None and world.writer.bake() is None
