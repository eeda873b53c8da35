"""Step decisions over one observation (rollout.machine): pure, no calls, a table per step kind.

A decision reads only the world it is given: a gate passes, waits, or fails (timeout, alarm);
a pause waits out its bake time and fails on an alarm; a drain deregisters once, then waits until
the world shows the targets gone (or its time is up); other steps become the writes still
missing (none when the world shows them done). A machine sends at most one step's writes per
world and chains every step the world shows done.
"""

from __future__ import annotations

from reconciler.rollout.machine import EffectKind, FleetMachine, StepClock, Verdict, decide_step
from reconciler.rollout.model import RolloutStep, StepKind
from reconciler.rollout.progress import Phase, start
from reconciler.sdk.fleet import AlarmState, FleetWorld, GroupInfo, GroupMember, LifecycleState, TargetHealth
from tests.rollout.builders import NEW, OLD
from tests.rollout.test_executor import BLUE, GREEN, make_plan

ARN = "arn:aws:elasticloadbalancing:us-east-1:123:targetgroup/web/1"


def member(
    iid: str, image: str = NEW.image_id, *, target: TargetHealth = TargetHealth.HEALTHY
) -> GroupMember:
    return GroupMember(
        iid, image, "t3.micro", LifecycleState.IN_SERVICE, "Healthy", target_health={ARN: target}
    )


def group(name: str, desired: int, version: int = 8) -> GroupInfo:
    return GroupInfo(name, desired, 0, 8, "lt-0123", version, (ARN,))


def world(
    members: dict[str, list[GroupMember]], alarms: dict[str, AlarmState] | None = None, **kw: object
) -> FleetWorld:
    groups = {g: group(g, len(ms), 8 if g == GREEN else 7) for g, ms in members.items()}
    health = {ARN: {m.instance_id: m.target_health[ARN] for ms in members.values() for m in ms}}
    return FleetWorld(
        groups=groups,
        members={g: tuple(ms) for g, ms in members.items()},
        alarms=alarms or {},
        target_health=health,
    )


def gate(count: int = 2, duration: int = 600) -> RolloutStep:
    return RolloutStep(
        StepKind.WAIT_HEALTHY,
        group=GREEN,
        count=count,
        image_id=NEW.image_id,
        alarms=["web-5xx"],
        duration_s=duration,
    )


def test_a_gate_passes_waits_or_fails_over_the_world() -> None:
    plan = make_plan("blue_green")
    ok = {"web-5xx": AlarmState.OK}
    cases = [
        (world({GREEN: [member("i-1"), member("i-2")]}, ok), 10, Verdict.DONE),
        (world({GREEN: [member("i-1")]}, ok), 10, Verdict.WAIT),
        (world({GREEN: [member("i-1")]}, ok), 600, Verdict.FAIL),  # not healthy within its timeout
        (world({GREEN: [member("i-1"), member("i-2")]}, {"web-5xx": AlarmState.ALARM}), 10, Verdict.FAIL),
        (world({GREEN: [member("i-1"), member("i-2")]}, {}), 10, Verdict.FAIL),  # the alarm does not exist
    ]
    for seen, elapsed, verdict in cases:
        decision = decide_step(
            gate(), plan=plan, world=seen, now=elapsed, at=StepClock(started=0, since=0), watch_alarms=True
        )
        assert decision.verdict is verdict, (elapsed, decision)
        assert decision.effects == ()


def test_a_pause_waits_out_its_bake_time_from_when_the_last_step_was_recorded() -> None:
    plan = make_plan("rolling")
    step = RolloutStep(StepKind.PAUSE, duration_s=60)
    at = StepClock(started=100, since=70)  # a resumed pause: 30 s were already baked
    quiet = world({BLUE: []}, {"web-5xx": AlarmState.OK})
    assert (
        decide_step(step, plan=plan, world=quiet, now=100, at=at, watch_alarms=True).verdict is Verdict.WAIT
    )
    assert (
        decide_step(step, plan=plan, world=quiet, now=130, at=at, watch_alarms=True).verdict is Verdict.DONE
    )
    loud = world({BLUE: []}, {"web-5xx": AlarmState.ALARM})
    fired = decide_step(
        step, plan=plan, world=loud, now=110, at=StepClock(started=100, since=100), watch_alarms=True
    )
    assert fired.verdict is Verdict.FAIL and "during the pause" in fired.detail
    rollback = decide_step(
        step, plan=plan, world=loud, now=170, at=StepClock(started=100, since=100), watch_alarms=False
    )
    assert rollback.verdict is Verdict.DONE  # a rollback's pause does not watch the alarms


def test_a_drain_deregisters_once_then_waits_for_the_world_to_show_it() -> None:
    plan = make_plan("blue_green")
    step = RolloutStep(StepKind.DRAIN, group=BLUE, target_groups=["web"], duration_s=300)
    at = StepClock(started=0, since=0)
    old = [member("i-00", OLD.image_id), member("i-01", OLD.image_id)]
    first = decide_step(step, plan=plan, world=world({BLUE: old}), now=0, at=at, watch_alarms=True)
    assert first.verdict is Verdict.DO
    assert [(e.kind, e.args["instance_ids"]) for e in first.effects] == [
        (EffectKind.DEREGISTER_INSTANCES, ["i-00", "i-01"])
    ]
    draining = [member(m.instance_id, OLD.image_id, target=TargetHealth.DRAINING) for m in old]
    assert (
        decide_step(step, plan=plan, world=world({BLUE: draining}), now=10, at=at, watch_alarms=True).verdict
        is Verdict.WAIT
    )
    late = decide_step(step, plan=plan, world=world({BLUE: draining}), now=300, at=at, watch_alarms=True)
    assert late.verdict is Verdict.DONE and "still draining" in late.detail
    gone = [member(m.instance_id, OLD.image_id, target=TargetHealth.UNUSED) for m in old]
    assert (
        decide_step(step, plan=plan, world=world({BLUE: gone}), now=10, at=at, watch_alarms=True).verdict
        is Verdict.DONE
    )


def test_writes_the_world_shows_done_are_not_sent_again() -> None:
    plan = make_plan("blue_green")
    step = RolloutStep(StepKind.TERMINATE, group=BLUE, count=2, desired=0, min_size=0)
    at = StepClock(started=0, since=0)
    done = FleetWorld(groups={BLUE: group(BLUE, 0, 7)}, members={BLUE: ()})
    assert decide_step(step, plan=plan, world=done, now=0, at=at, watch_alarms=True).verdict is Verdict.DONE
    two = [member("i-00", OLD.image_id), member("i-01", OLD.image_id)]
    todo = decide_step(step, plan=plan, world=world({BLUE: two}), now=0, at=at, watch_alarms=True)
    assert todo.verdict is Verdict.DO
    assert [e.kind for e in todo.effects] == [EffectKind.TERMINATE_INSTANCE] * 2


def test_a_machine_sends_one_steps_writes_per_world_and_chains_steps_the_world_shows_done() -> None:
    plan = make_plan("blue_green")
    machine = FleetMachine(
        address="aws_fleet.web",
        provider="aws",
        wave=1,
        plan=plan,
        progress=start(plan, now=0),
        auto_rollback=True,
    )
    blue = [member(f"i-0{n}", OLD.image_id) for n in range(4)]
    first = machine.decide(world({BLUE: blue}, {"web-5xx": AlarmState.OK}), now=1)
    assert [e.kind for e in first] == [EffectKind.CREATE_GROUP]
    machine.sent(now=1, error=None)
    assert machine.progress.step_index == 1 and machine.dirty
    green = [member(f"i-n{n}") for n in range(4)]
    second = machine.decide(world({BLUE: blue, GREEN: green}, {"web-5xx": AlarmState.OK}), now=2)
    assert [e.kind for e in second] == [EffectKind.ATTACH_TARGET_GROUPS]
    machine.sent(now=2, error=None)
    # the gate passes on this world, so the machine goes straight on to the detach
    third = machine.decide(world({BLUE: blue, GREEN: green}, {"web-5xx": AlarmState.OK}), now=3)
    assert [e.kind for e in third] == [EffectKind.DETACH_TARGET_GROUPS]
    assert machine.progress.step_index == 3


def test_a_failed_gate_starts_the_rollback_on_the_same_world() -> None:
    plan = make_plan("blue_green")
    machine = FleetMachine(
        address="aws_fleet.web",
        provider="aws",
        wave=1,
        plan=plan,
        progress=start(plan, now=0),
        auto_rollback=True,
    )
    blue = [member(f"i-0{n}", OLD.image_id) for n in range(4)]
    machine.decide(world({BLUE: blue}), now=0)
    machine.sent(now=0, error=None)
    green = [member(f"i-n{n}") for n in range(4)]
    machine.decide(world({BLUE: blue, GREEN: green}), now=0)
    machine.sent(now=0, error=None)
    effects = machine.decide(world({BLUE: blue, GREEN: green}, {"web-5xx": AlarmState.ALARM}), now=5)
    assert machine.progress.phase is Phase.ROLLING_BACK
    assert (
        "health gate failed at step 2/3" in machine.progress.failure  # the plan's numbered line
        and "web-5xx" in machine.progress.failure
    )
    assert effects  # the first rollback step's writes
