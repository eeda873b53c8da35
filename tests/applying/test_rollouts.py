"""The rollout coordinator of an apply (applying.rollouts): every fleet driven together.

Given several fleets handed over at once, the coordinator reads the world once per poll for all
of them (calls do not grow with the fleets), records every fleet's progress in one state write
per poll, admits at most `max_rollouts` fleets at once, runs waves in ascending order and, under
waves rules, halts a wave that fails: its other fleets are turned back, later waves never start,
earlier waves stay. Runs on FakeFleet (tests/rollout/fake_fleet.py) on a fake clock; state goes
through a real StateWriter on a local file.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from reconciler.address import Address
from reconciler.applying.rollout_jobs import NotStarted
from reconciler.applying.rollouts import RolloutCoordinator
from reconciler.planning.model import Action, ResourceChange
from reconciler.rollout.change import RolloutChange
from reconciler.rollout.model import FleetSnapshot, InstanceInfo, RolloutPlan
from reconciler.rollout.plan import expand_rollout
from reconciler.rollout.progress import Phase, RolloutProgress
from reconciler.rollout.waves import WaveRules, WavesHaltedError, WaveStatus
from reconciler.sdk import AlarmState, ObservedResource, Ownership, RefreshRequest
from reconciler.sdk.rollout_block import RolloutConfig
from reconciler.state import ResourceState, State, StateWriter
from reconciler.state.local import LocalBackend
from reconciler_aws.fleet_type import FLEET
from tests.rollout.builders import NEW, OLD
from tests.rollout.fake_fleet import FakeClock, FakeFleet

CONFIGS: dict[str, dict[str, Any]] = {
    "rolling": {"strategy": "rolling", "max_surge": 1, "max_unavailable": 0, "drain_timeout": "0s"},
    "blue_green": {"strategy": "blue_green", "drain_timeout": "0s"},
}


def plan_of(name: str, strategy: str = "rolling", **config: Any) -> RolloutPlan:
    snapshot = FleetSnapshot(
        group_name=f"{name}-g0007",
        generation=7,
        desired=2,
        min_size=2,
        max_size=4,
        instances=[InstanceInfo(f"i-{name}-{n}", OLD.image_id, "t3.micro") for n in range(2)],
        target_group_names=[],
        launch_template_version=7,
        launch_template_id="lt-0123",
    )
    return expand_rollout(
        config=RolloutConfig(**{**CONFIGS[strategy], **config}),
        fleet=snapshot,
        old=OLD,
        new=NEW,
        fleet_name=name,
        green_group=f"{name}-g0008",
    )


class Provider:
    """fleet_ops() is the shared fake cloud; refresh() reads each fleet's serving group."""

    def __init__(self, cloud: FakeFleet) -> None:
        self.cloud = cloud
        self.refreshes = 0

    def fleet_ops(self) -> FakeFleet:
        return self.cloud

    def refresh(self, request: RefreshRequest) -> Mapping[str, ObservedResource | None]:
        self.refreshes += 1
        out: dict[str, ObservedResource | None] = {}
        for rid, address in request.ids.items():
            groups = sorted(g for g in self.cloud.groups if g.startswith(f"{rid}-g") and self.cloud.live(g))
            live = self.cloud.live(groups[-1]) if groups else []
            attributes = {
                "group_name": groups[-1] if groups else "",
                "instances": [{"id": i.id} for i in live],
            }
            out[rid] = ObservedResource(id=rid, attributes=attributes, ownership=Ownership("s", str(address)))
        return out


class World:
    def __init__(self, tmp_path: Path, plans: Sequence[RolloutPlan], waves: Mapping[str, int] | None = None):
        self.clock = FakeClock()
        self.cloud = FakeFleet(
            clock=self.clock,
            versions={7: (OLD.image_id, "t3.micro"), 8: (NEW.image_id, "t3.micro")},
            target_groups=[],
        )
        state = State.new("s")
        self.changes: list[tuple[ResourceChange, ResourceState]] = []
        for plan in plans:
            ids = [i.id for i in plan_instances(plan)]
            self.cloud.add_group(plan.group, version=7, desired=2, min_size=2, max_size=4, instance_ids=ids)
            address = f'aws_fleet.app["{plan.fleet_name}"]'
            current = ResourceState(
                address=address,
                type="aws_fleet",
                provider="aws",
                id=plan.fleet_name,
                attributes={"group_name": plan.group, "generation": 7, "launch_template_version": 7},
            )
            state.resources[address] = current
            wave = (waves or {}).get(plan.fleet_name, 1)
            change = ResourceChange(
                address=Address.parse(address),
                action=Action.ROLLOUT,
                type_name="aws_fleet",
                rollout=RolloutChange(plan=plan, wave=wave),
            )
            self.changes.append((change, current))
        self.backend = LocalBackend(tmp_path / "state.json")
        self.writer = StateWriter(self.backend, state)
        self.provider = Provider(self.cloud)
        self.events: list[tuple[str, Phase]] = []

    def coordinator(self, only: str | None = None, **kw: Any) -> RolloutCoordinator:
        """A coordinator of every fleet (`only`: of those fleets, by name) on the fake clock."""
        args: dict[str, Any] = {
            "waves": {str(c.address): c.rollout.wave for c, _ in self.changes if c.rollout},
            "writer": self.writer,
            "stack": "s",
            "emit": lambda _a, _m: None,
            "on_event": lambda a, e, _t: self.events.append((a, e.phase)),
            "poll_s": 1.0,
            "clock": self.clock,
            "sleep": self.clock.sleep,
        }
        if only is not None:
            args["waves"] = {a: w for a, w in args["waves"].items() if a.split('"')[1] in only}
        return RolloutCoordinator(**(args | kw))

    def run_all(self, coordinator: RolloutCoordinator) -> dict[str, Any]:
        """Hand every fleet of the coordinator over from its own thread, as the executor does;
        results by address."""
        results: dict[str, Any] = {}

        def one(change: ResourceChange, current: ResourceState) -> None:
            try:
                results[str(change.address)] = coordinator.run(
                    change=change,
                    current=current,
                    provider=self.provider,
                    fleet=FLEET,  # type: ignore[arg-type]
                    config={"launch_template_version": 8},
                )
            except Exception as err:
                results[str(change.address)] = err

        coordinator.start()
        pairs = [(c, cur) for c, cur in self.changes if str(c.address) in coordinator.expected]
        threads = [threading.Thread(target=one, args=pair) for pair in pairs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        coordinator.close()
        return results

    def progress(self, address: str) -> RolloutProgress:
        raw = self.writer.snapshot().resources[address].rollout
        assert raw is not None
        return RolloutProgress.from_dict(raw["progress"])


def plan_instances(plan: RolloutPlan) -> list[InstanceInfo]:
    return [InstanceInfo(f"i-{plan.fleet_name}-{n}", OLD.image_id, "t3.micro") for n in range(2)]


def addr(name: str) -> str:
    return f'aws_fleet.app["{name}"]'


def on_new_image(cloud: FakeFleet, name: str) -> bool:
    live = [i for i in cloud.live() if i.group.startswith(f"{name}-g")]
    return len(live) == 2 and all(i.image_id == NEW.image_id for i in live)


def reads(cloud: FakeFleet) -> list[str]:
    return [
        c.name
        for c in cloud.calls
        if c.name in ("observe", "describe_group", "members_and_health", "alarm_states")
    ]


@pytest.mark.parametrize("strategy", ["rolling", "blue_green"])
def test_calls_per_poll_do_not_grow_with_the_fleets(tmp_path: Path, strategy: str) -> None:
    one = World(tmp_path / "one", [plan_of("f0", strategy)])
    results = one.run_all(one.coordinator())
    assert results[addr("f0")][1] is None
    many = World(tmp_path / "many", [plan_of(f"f{n}", strategy) for n in range(8)])
    results = many.run_all(many.coordinator())
    assert all(r[1] is None for r in results.values()), results
    assert all(on_new_image(many.cloud, f"f{n}") for n in range(8))
    # every read of the world went through one batched observation per poll, as many for 8 as for 1
    assert set(reads(many.cloud)) == {"observe"}
    assert reads(many.cloud) == reads(one.cloud)
    assert many.provider.refreshes == one.provider.refreshes == 1  # one batched read-back


def test_every_fleets_progress_is_recorded_in_one_write_per_poll(tmp_path: Path) -> None:
    world = World(tmp_path, [plan_of(f"f{n}") for n in range(8)])
    world.run_all(world.coordinator())
    polls = len(reads(world.cloud))
    steps = sum(len(c.rollout.plan.steps) for c, _ in world.changes if c.rollout)
    assert world.writer.serial <= polls + 1 < steps
    for n in range(8):
        progress = world.progress(addr(f"f{n}"))
        assert progress.phase is Phase.COMPLETE and progress.step_index == len(
            world.changes[n][0].rollout.plan.steps
        )  # type: ignore[union-attr]


def test_max_rollouts_bounds_the_fleets_rolling_at_once(tmp_path: Path) -> None:
    world = World(tmp_path, [plan_of(f"f{n}") for n in range(5)])
    world.run_all(world.coordinator(max_rollouts=2))
    phases: dict[str, Phase] = {}
    most = 0
    for address, phase in world.events:
        phases[address] = phase
        most = max(most, sum(p is Phase.IN_PROGRESS for p in phases.values()))
    assert most == 2
    assert all(on_new_image(world.cloud, f"f{n}") for n in range(5))


def test_waves_run_in_ascending_order(tmp_path: Path) -> None:
    names = {"a": 2, "b": 1, "c": 3, "d": 1}
    world = World(tmp_path, [plan_of(n) for n in names], waves=names)
    results = world.run_all(world.coordinator())
    assert all(r[1] is None for r in results.values())
    progress = {n: world.progress(addr(n)) for n in names}
    for early in names:
        for late in names:
            if names[early] < names[late]:
                assert progress[late].started_at >= progress[early].finished_at  # type: ignore[operator]


def test_a_failed_wave_is_turned_back_and_no_later_wave_starts(tmp_path: Path) -> None:
    names = {"a": 1, "b": 1, "c": 2, "d": 2, "e": 3, "f": 3}
    plans = [
        plan_of(n, "blue_green" if n == "d" else "rolling", alarms=["w2"] if n == "c" else []) for n in names
    ]
    world = World(tmp_path, plans, waves=names)
    world.cloud.set_alarm("w2", AlarmState.ALARM)
    coordinator = world.coordinator(rules=WaveRules())
    results = world.run_all(coordinator)
    assert all(on_new_image(world.cloud, n) for n in "ab")  # earlier wave stays
    assert not any(on_new_image(world.cloud, n) for n in "cdef")
    assert world.progress(addr("c")).phase is Phase.ROLLED_BACK
    assert world.progress(addr("d")).phase is Phase.ROLLED_BACK  # turned back with it
    assert "turned back with wave 2" in world.progress(addr("d")).failure
    assert all(isinstance(results[addr(n)], NotStarted) for n in "ef")
    assert world.writer.snapshot().resources[addr("e")].rollout is None  # never touched
    assert "d-g0008" not in world.cloud.groups  # blue/green: the new group went away again
    error = coordinator.halted_error()
    assert isinstance(error, WavesHaltedError)
    lines = str(error).splitlines()
    assert lines[0].startswith('rollout halted in wave 2 of 3: aws_fleet.app["c"]: health gate failed')
    assert "alarm w2 is in ALARM" in lines[0]
    assert [line.split()[:4] for line in lines[1:]] == [
        ["wave", "1", "completed", "2"],
        ["wave", "2", "rolled", "back"],
        ["wave", "3", "not", "started"],
    ]
    assert [o.status for o in coordinator.outcomes] == [
        WaveStatus.COMPLETED,
        WaveStatus.ROLLED_BACK,
        WaveStatus.NOT_STARTED,
    ]


def test_a_wave_alarm_during_the_bake_turns_the_wave_back(tmp_path: Path) -> None:
    names = {"a": 1, "b": 2}
    world = World(tmp_path, [plan_of(n, "blue_green") for n in names], waves=names)
    world.cloud.set_alarm("site", AlarmState.ALARM, at=world.clock.now + 5)
    coordinator = world.coordinator(rules=WaveRules(bake_s=600, alarms=("site",)))
    results = world.run_all(coordinator)
    assert world.progress(addr("a")).phase is Phase.ROLLED_BACK
    assert not on_new_image(world.cloud, "a") and not on_new_image(world.cloud, "b")
    assert isinstance(results[addr("b")], NotStarted)
    assert "alarm site is in ALARM during the bake" in str(coordinator.halted_error())


def test_progress_is_told_once_per_change_of_state_not_per_poll(tmp_path: Path) -> None:
    world = World(tmp_path, [plan_of("f0", pause="1m")])
    world.run_all(world.coordinator())
    polls = len(reads(world.cloud))
    assert polls > 60  # a minute of pauses, polled every second
    assert len(world.events) < 20


def test_a_screenful_of_fleets_is_shown_one_row_per_wave() -> None:
    from rich.console import Console

    from reconciler.render.progress_waves import wave_table
    from reconciler.rollout.report import RolloutEvent

    def event(phase: Phase, wave: int, new: int, detail: str = "") -> RolloutEvent:
        return RolloutEvent(
            "f", 1, 4, "step", phase, new=new, old=2 - new, healthy=2, detail=detail, wave=wave
        )

    rows = {f"aws_fleet.app[{n}]": event(Phase.COMPLETE, 1, 2) for n in range(30)}
    rows |= {f"aws_fleet.app[{n}]": event(Phase.IN_PROGRESS, 2, 1, "1/2 healthy") for n in range(30, 50)}
    rows["aws_fleet.app[99]"] = event(Phase.ROLLING_BACK, 2, 1)
    console = Console(record=True, width=160)
    console.print(wave_table(rows))
    text = console.export_text().replace("│", " ")
    lines = [line.split() for line in text.splitlines() if line.strip()[:1].isdigit()]
    assert [line[:8] for line in lines] == [
        ["1", "30", "30", "0", "0", "60", "0", "60"],
        ["2", "21", "0", "20", "1", "21", "21", "42"],
    ]


def test_a_wave_alarm_already_firing_starts_nothing(tmp_path: Path) -> None:
    names = {"a": 1, "b": 1, "c": 2}
    world = World(tmp_path, [plan_of(n, "blue_green") for n in names], waves=names)
    world.cloud.set_alarm("site", AlarmState.ALARM)
    coordinator = world.coordinator(rules=WaveRules(bake_s=60, alarms=("site",)))
    results = world.run_all(coordinator)
    assert world.cloud.mutations() == []  # no group was created or changed
    assert sorted(world.cloud.groups) == ["a-g0007", "b-g0007", "c-g0007"]
    assert isinstance(results[addr("c")], NotStarted)
    assert "rollout halted in wave 1 of 2: alarm site is in ALARM" in str(coordinator.halted_error())
