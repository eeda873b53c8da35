"""The rollout executor: runs plans through FleetOps, gated on health, recorded, resumable, rolled back.

Specified against `FakeFleet` (tests/rollout/fake_fleet.py), an in-memory cloud on a fake clock:
these tests are about sequencing and idempotency; the AWS FleetOps is tested against moto.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from reconciler.errors import CloudError, CloudErrorKind, RollbackUnavailable
from reconciler.rollout.executor import RolloutEvent, RolloutOutcome, rollback_completed, run_rollout
from reconciler.rollout.model import RolloutPlan, StepKind
from reconciler.rollout.progress import Phase, RolloutProgress
from reconciler.sdk.fleet import AlarmState
from tests.rollout.builders import NEW, OLD, plan_for
from tests.rollout.fake_fleet import Crash, FakeClock, FakeFleet

BLUE = "web-g0007"
GREEN = "web-g0008"
OLD_IDS = ["i-00", "i-01", "i-02", "i-03"]
STRATEGIES: dict[str, dict[str, Any]] = {
    "rolling": {"strategy": "rolling", "max_surge": 1, "max_unavailable": 0, "pause": "1m"},
    "blue_green": {"strategy": "blue_green"},
    "canary": {"strategy": "canary", "steps": [25, 50, 100], "pause": "1m"},
}


def make_plan(strategy: str, *, min_size: int = 4, max_size: int = 4, **config: Any) -> RolloutPlan:
    settings = {**STRATEGIES[strategy], "alarms": ["web-5xx"], **config}
    return plan_for(4, fleet_kw={"min_size": min_size, "max_size": max_size}, **settings)


def make_fleet(plan: RolloutPlan) -> FakeFleet:
    fleet = FakeFleet(
        clock=FakeClock(),
        versions={7: (OLD.image_id, "t3.micro"), 8: (NEW.image_id, "t3.micro")},
        target_groups=plan.target_group_arns,
    )
    fleet.add_group(
        BLUE,
        version=7,
        desired=plan.desired,
        min_size=plan.min_size,
        max_size=plan.max_size,
        instance_ids=OLD_IDS,
        tags={"reconciler:stack": "web-prod", "aws:autoscaling:x": "no"},
    )
    return fleet


class Recorder:
    """The caller's `record`: keeps a JSON round-trip of each progress; can crash after storing one."""

    def __init__(self, crash_after: int | None = None) -> None:
        self.records: list[RolloutProgress] = []
        self.crash_after = crash_after

    def __call__(self, progress: RolloutProgress) -> None:
        self.records.append(RolloutProgress.from_dict(progress.to_dict()))
        if self.crash_after is not None and len(self.records) >= self.crash_after:
            raise Crash(f"killed after record {len(self.records)}")

    @property
    def last(self) -> RolloutProgress:
        return self.records[-1]


def run(
    plan: RolloutPlan,
    fleet: FakeFleet,
    *,
    progress: RolloutProgress | None = None,
    record: Callable[[RolloutProgress], None] | None = None,
    **kw: Any,
) -> RolloutOutcome:
    return run_rollout(
        plan=plan,
        ops=fleet,
        progress=progress,
        record=record or Recorder(),
        clock=fleet.clock,
        sleep=fleet.clock.sleep,
        poll_s=5,
        **kw,
    )


def assert_all_on(fleet: FakeFleet, image_id: str, *, count: int = 4) -> None:
    """`count` live instances, all on `image_id`, all serving; nothing else registered."""
    live = fleet.live()
    assert sorted({i.image_id for i in live}) == [image_id]
    assert len(live) == count
    assert {i.id for i in fleet.serving()} == {i.id for i in live}
    assert {i.id for i in fleet.registered()} == {i.id for i in live}


def groups_on(fleet: FakeFleet, version: int) -> list[str]:
    return [g.name for g in fleet.groups.values() if g.version == version]


def serving_groups(fleet: FakeFleet) -> list[str]:
    return sorted({i.group for i in fleet.serving()})


def index_of(plan: RolloutPlan, kind: StepKind, nth: int = 0) -> int:
    return [i for i, s in enumerate(plan.steps) if s.kind is kind][nth]


# -- a rollout that goes well ----------------------------------------------------------------------


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_each_strategy_ends_with_the_whole_fleet_on_the_new_image(strategy: str) -> None:
    plan = make_plan(strategy)
    fleet = make_fleet(plan)
    outcome = run(plan, fleet)
    assert outcome.phase is Phase.COMPLETE, outcome.message
    assert_all_on(fleet, NEW.image_id)
    assert not set(OLD_IDS) & {i.id for i in fleet.live()}
    assert outcome.replaced == 4
    assert (outcome.failed_step, outcome.restored) == (None, "")
    # no instance ever stopped serving before enough new ones served
    assert min(s.serving for s in fleet.history) >= 4
    if strategy == "rolling":
        assert outcome.new_group == ""
        assert groups_on(fleet, 8) == [BLUE]
        assert max(sum(s.live.values()) for s in fleet.history) <= 5  # desired + surge
        g = fleet.groups[BLUE]
        assert (g.desired, g.min_size, g.max_size) == (4, 4, 4)  # limits widened, then restored
        assert "4 of 4 instances replaced" in outcome.message
    else:
        assert outcome.new_group == GREEN
        assert groups_on(fleet, 8) == [GREEN]
        blue = fleet.groups[BLUE]  # kept, empty and detached, for a fast rollback
        assert (blue.desired, blue.min_size, blue.target_groups) == (0, 0, [])
        green = fleet.groups[GREEN]
        assert (green.desired, green.min_size, green.max_size) == (4, 4, 4)
        assert green.tags == {"reconciler:stack": "web-prod"}  # the live group's, minus aws:*
        assert f"{GREEN} serving 4 instances; {BLUE} kept 1h for rollback" in outcome.message
    if strategy == "canary":  # 1 + 4, 2 + 3, then 4 + 2 before the old group retires
        assert max(sum(s.live.values()) for s in fleet.history) == 6


@pytest.mark.parametrize(
    ("surge", "unavailable", "most_live", "least_serving"),
    [(1, 0, 5, 4), (0, 1, 4, 3), (2, 1, 6, 3), ("50%", 0, 6, 4)],
)
def test_rolling_stays_within_surge_and_unavailable(
    surge: int | str, unavailable: int, most_live: int, least_serving: int
) -> None:
    plan = make_plan("rolling", max_surge=surge, max_unavailable=unavailable)
    fleet = make_fleet(plan)
    assert run(plan, fleet).phase is Phase.COMPLETE
    assert_all_on(fleet, NEW.image_id)
    assert max(sum(s.live.values()) for s in fleet.history) == most_live
    assert min(s.serving for s in fleet.history) == least_serving
    g = fleet.groups[BLUE]
    assert (g.desired, g.min_size, g.max_size) == (4, 4, 4)


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_record_follows_every_step(strategy: str) -> None:
    plan = make_plan(strategy)
    recorder = Recorder()
    run(plan, make_fleet(plan), record=recorder)
    assert [p.step_index for p in recorder.records] == list(range(len(plan.steps) + 1))
    assert [p.phase for p in recorder.records] == [Phase.IN_PROGRESS] * len(plan.steps) + [Phase.COMPLETE]
    assert recorder.last.finished_at is not None


def test_events_tell_a_display_where_the_rollout_stands() -> None:
    plan = make_plan("blue_green")
    events: list[RolloutEvent] = []
    run(plan, make_fleet(plan), emit=events.append)
    assert {e.description for e in events} >= {s.description for s in plan.steps}
    assert all(e.fleet == "web" and 1 <= e.step <= e.total == len(plan.outline()) for e in events)
    waits = [e for e in events if e.description == plan.steps[2].description and e.detail]
    assert waits[-1].detail == "4/4 healthy"
    last = events[-1]
    assert (last.phase, last.new, last.old, last.healthy) == (Phase.COMPLETE, 4, 0, 4)
    assert last.description.startswith("rolled out app-1.5.0 to web")


def test_waiting_for_health_polls_on_the_injected_clock() -> None:
    plan = make_plan("blue_green", health_timeout="1m")
    fleet = make_fleet(plan)
    fleet.unhealthy_images.add(NEW.image_id)
    fleet.hook("alarm_states", fleet.unhealthy_images.clear, nth=2)  # healthy from the 3rd poll
    assert run(plan, fleet).phase is Phase.COMPLETE
    assert fleet.clock.slept and set(fleet.clock.slept) == {5}


def test_a_plan_with_nothing_to_replace_only_points_the_group_at_the_new_version() -> None:
    plan = plan_for(4, fleet_kw={"on_new": 4})
    fleet = make_fleet(plan)
    fleet.groups[BLUE].version = 7
    outcome = run(plan, fleet)
    assert outcome.phase is Phase.COMPLETE
    assert fleet.groups[BLUE].version == 8
    assert [c.name for c in fleet.mutations()] == ["set_launch_template_version"]


def test_a_drain_that_outlasts_its_timeout_does_not_stop_the_rollout() -> None:
    plan = make_plan("rolling")
    fleet = make_fleet(plan)
    fleet.drains_time_out = True
    events: list[RolloutEvent] = []
    assert run(plan, fleet, emit=events.append).phase is Phase.COMPLETE
    assert any("still draining after 5m" in e.detail for e in events)


def test_a_retryable_cloud_error_is_retried() -> None:
    plan = make_plan("blue_green")
    fleet = make_fleet(plan)

    def throttle() -> None:
        raise CloudError(
            call="AttachLoadBalancerTargetGroups", message="Rate exceeded", kind=CloudErrorKind.RETRYABLE
        )

    fleet.hook("attach_target_groups", throttle, before=True)
    assert run(plan, fleet).phase is Phase.COMPLETE
    assert sum(c.name == "attach_target_groups" for c in fleet.calls) == 2


def test_a_paused_rollout_resumed_later_only_waits_out_the_rest_of_the_pause() -> None:
    plan = make_plan("canary", alarms=[])
    pause = index_of(plan, StepKind.PAUSE)
    fleet = make_fleet(plan)
    recorder = Recorder(crash_after=pause + 1)  # the record that makes the PAUSE the next step
    with pytest.raises(Crash):
        run(plan, fleet, record=recorder)
    fleet.clock.now += 40  # the restart took 40 s
    outcome = run(plan, fleet, progress=recorder.last)
    assert outcome.phase is Phase.COMPLETE
    assert fleet.clock.slept[0] == 20


# -- failures and rollback -------------------------------------------------------------------------


def assert_rolled_back(fleet: FakeFleet, outcome: RolloutOutcome) -> None:
    assert outcome.phase is Phase.ROLLED_BACK, outcome.message
    assert_all_on(fleet, OLD.image_id)
    assert groups_on(fleet, 8) == []
    assert list(fleet.groups) == [BLUE]
    g = fleet.groups[BLUE]
    assert (g.desired, g.min_size, g.max_size, g.version) == (4, 4, 4, 7)
    assert outcome.replaced == 0


def plan_line(plan: RolloutPlan, index: int) -> str:
    """ "2/3": the numbered line of the plan's outline that step `index` belongs to."""
    stages = sorted({s.stage for s in plan.steps})
    assert len(stages) == len(plan.outline())
    return f"{stages.index(plan.steps[index].stage) + 1}/{len(stages)}"


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_an_unhealthy_new_instance_rolls_the_fleet_back(strategy: str) -> None:
    plan = make_plan(strategy)
    fleet = make_fleet(plan)
    fleet.unhealthy_images.add(NEW.image_id)
    recorder = Recorder()
    outcome = run(plan, fleet, record=recorder)
    assert_rolled_back(fleet, outcome)
    gate = index_of(plan, StepKind.WAIT_HEALTHY)
    assert outcome.failed_step == gate + 1
    assert outcome.message.startswith(f"health gate failed at step {plan_line(plan, gate)}: 0/")
    assert "is unhealthy in web" in outcome.message
    assert "(not healthy within 10m)" in outcome.message
    if strategy == "rolling":
        assert outcome.restored == f"{BLUE} back on launch template version 7 at 4 instances (app-1.4.2)"
    else:
        assert outcome.restored == f"{BLUE} restored at 4 instances (app-1.4.2), {GREEN} deleted"
    assert outcome.message.endswith(f"; rolled back: {outcome.restored}")
    rollback = [p for p in recorder.records if p.phase is not Phase.IN_PROGRESS]
    assert [p.rollback_index for p in rollback] == list(range(len(rollback)))
    assert {p.step_index for p in rollback} == {gate}
    assert recorder.last.phase is Phase.ROLLED_BACK


@pytest.mark.parametrize("strategy", ["rolling", "canary"])
def test_an_unhealthy_instance_in_a_later_batch_rolls_everything_back(strategy: str) -> None:
    plan = make_plan(strategy)
    fleet = make_fleet(plan)
    first_gate, second_gate = (index_of(plan, StepKind.WAIT_HEALTHY, n) for n in (0, 1))
    recorder = Recorder()

    def record(progress: RolloutProgress) -> None:
        recorder(progress)
        if progress.step_index == first_gate + 1:  # once the first gate passed, new ones go bad
            fleet.unhealthy_images.add(NEW.image_id)

    outcome = run(plan, fleet, record=record)
    assert_rolled_back(fleet, outcome)
    assert outcome.failed_step == second_gate + 1


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_an_alarm_in_alarm_during_a_step_rolls_the_fleet_back(strategy: str) -> None:
    plan = make_plan(strategy)
    fleet = make_fleet(plan)

    def fire() -> None:
        fleet.set_alarm("web-5xx", AlarmState.ALARM)

    if strategy == "canary":  # 30 s into the first pause
        fleet.set_alarm("web-5xx", AlarmState.OK)
        fleet.set_alarm("web-5xx", AlarmState.ALARM, at=fleet.clock() + 30)
        failing = index_of(plan, StepKind.PAUSE)
    elif strategy == "rolling":  # right after the second batch is launched
        fleet.hook("set_capacity", fire, nth=2)
        failing = index_of(plan, StepKind.WAIT_HEALTHY, 1)
    else:
        fleet.hook("attach_target_groups", fire)
        failing = index_of(plan, StepKind.WAIT_HEALTHY)
    outcome = run(plan, fleet)
    assert_rolled_back(fleet, outcome)  # rollback gates leave alarms out: it still fires
    assert outcome.failed_step == failing + 1
    assert f"health gate failed at step {plan_line(plan, failing)}: alarm web-5xx is in ALARM" in (
        outcome.message
    )


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_a_permanent_cloud_error_rolls_back(strategy: str) -> None:
    plan = make_plan(strategy)
    fleet = make_fleet(plan)

    def deny() -> None:
        raise CloudError(call="SetDesiredCapacity", message="Access denied", code="AccessDenied")

    fleet.hook("set_capacity", deny, nth=1 if strategy == "blue_green" else 2, before=True)
    outcome = run(plan, fleet)
    assert_rolled_back(fleet, outcome)
    assert "failed: SetDesiredCapacity failed (AccessDenied): Access denied" in outcome.message


def test_an_instance_drained_before_a_failure_serves_again_after_the_rollback() -> None:
    plan = make_plan("canary")
    fleet = make_fleet(plan)

    def deny() -> None:
        raise CloudError(call="TerminateInstanceInAutoScalingGroup", message="Access denied")

    fleet.hook("terminate_instance", deny, before=True)  # i-00 is drained, then this fails
    outcome = run(plan, fleet)
    assert_rolled_back(fleet, outcome)
    assert outcome.failed_step == index_of(plan, StepKind.TERMINATE) + 1
    assert sorted(i.id for i in fleet.serving()) == OLD_IDS


@pytest.mark.parametrize("via", ["argument", "plan"])
@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_without_auto_rollback_a_failure_stops_and_leaves_the_fleet_as_is(strategy: str, via: str) -> None:
    plan = make_plan(strategy, auto_rollback=via == "argument")
    fleet = make_fleet(plan)
    fleet.unhealthy_images.add(NEW.image_id)
    recorder = Recorder()
    overrides: dict[str, Any] = {"auto_rollback": False} if via == "argument" else {}
    outcome = run(plan, fleet, record=recorder, **overrides)
    assert outcome.phase is Phase.FAILED
    gate = index_of(plan, StepKind.WAIT_HEALTHY)
    assert outcome.failed_step == gate + 1
    assert recorder.last.phase is Phase.FAILED and recorder.last.step_index == gate
    last_call = fleet.mutations()[-1]
    assert last_call.name in ("attach_target_groups", "set_capacity")  # nothing after the gate
    assert {i.image_id for i in fleet.live()} == {OLD.image_id, NEW.image_id}
    assert "; left as is: web-g0007 at " in outcome.message
    # run again with the recorded FAILED progress: reported, not re-run
    before = len(fleet.mutations())
    assert run(plan, fleet, progress=recorder.last).phase is Phase.FAILED
    assert len(fleet.mutations()) == before


def test_a_rollback_that_fails_ends_failed_with_both_messages() -> None:
    plan = make_plan("blue_green")
    fleet = make_fleet(plan)
    fleet.unhealthy_images.add(NEW.image_id)

    def deny() -> None:
        raise CloudError(call="DeleteAutoScalingGroup", message="Access denied", code="AccessDenied")

    fleet.hook("delete_group", deny, before=True)
    recorder = Recorder()
    outcome = run(plan, fleet, record=recorder)
    assert outcome.phase is Phase.FAILED
    assert outcome.message.startswith("health gate failed at step 2/3: ")  # the plan's line 2 of 3
    # the old group was never touched, so undoing is: detach, drain and delete the new one (one line)
    assert f"; rollback step 1/1 (delete {GREEN}) failed: DeleteAutoScalingGroup failed" in outcome.message
    assert outcome.message.endswith(f"left as is: {BLUE} at 4 (app-1.4.2), {GREEN} at 4 (app-1.5.0)")
    assert recorder.last.phase is Phase.FAILED
    # the old group serves again; the new one is detached and drained, only its deletion is left
    assert {i.id for i in fleet.serving()} == set(OLD_IDS)
    assert fleet.groups[GREEN].target_groups == []


@pytest.mark.parametrize(
    ("version", "tags"),
    [(7, {"reconciler:stack": "web-prod"}), (8, {"reconciler:stack": "other-stack"})],
    ids=["other_version", "other_stack"],
)
def test_a_foreign_group_by_the_green_name_is_neither_adopted_nor_deleted(
    version: int, tags: dict[str, str]
) -> None:
    plan = make_plan("blue_green")
    fleet = make_fleet(plan)
    fleet.add_group(GREEN, version=version, desired=1, min_size=0, max_size=1, tags=tags)
    outcome = run(plan, fleet)
    assert outcome.phase is Phase.FAILED
    assert (
        "it was not created by this rollout (version 8, owned like web-g0007); nothing was changed"
        in outcome.message
    )
    assert fleet.mutations() == []
    assert fleet.groups[GREEN].version == version


# -- resume ---------------------------------------------------------------------------------------


def complete_after_crash(plan: RolloutPlan, fleet: FakeFleet, recorder: Recorder) -> RolloutOutcome:
    with pytest.raises(Crash):
        run(plan, fleet, record=recorder)
    return run(plan, fleet, progress=recorder.last if recorder.records else None, record=Recorder())


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_resume_after_a_crash_after_each_record_completes_once(strategy: str) -> None:
    plan = make_plan(strategy)
    for k in range(1, len(plan.steps) + 2):
        fleet = make_fleet(plan)
        outcome = complete_after_crash(plan, fleet, Recorder(crash_after=k))
        assert outcome.phase is Phase.COMPLETE, (k, outcome.message)
        assert_all_on(fleet, NEW.image_id)
        assert sum(c.name == "create_group" for c in fleet.calls) == (0 if strategy == "rolling" else 1)
        assert groups_on(fleet, 8) == ([BLUE] if strategy == "rolling" else [GREEN])
        assert serving_groups(fleet) == ([BLUE] if strategy == "rolling" else [GREEN])


@pytest.mark.parametrize("healthy", [True, False], ids=["completes", "rolls_back"])
@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_resume_after_a_crash_in_the_middle_of_any_step(strategy: str, healthy: bool) -> None:
    """Killed right after any cloud change, before it was recorded: the step runs again and the
    rollout (or its rollback) ends exactly as an uninterrupted one would."""
    plan = make_plan(strategy)
    clean = make_fleet(plan)
    if not healthy:
        clean.unhealthy_images.add(NEW.image_id)
    run(plan, clean)
    for n in range(1, len(clean.history) + 1):
        fleet = make_fleet(plan)
        if not healthy:
            fleet.unhealthy_images.add(NEW.image_id)
        fleet.crash_after = n
        recorder = Recorder()
        with pytest.raises(Crash):
            run(plan, fleet, record=recorder)
        outcome = run(plan, fleet, progress=recorder.last)
        if healthy:
            assert outcome.phase is Phase.COMPLETE, (n, outcome.message)
            assert_all_on(fleet, NEW.image_id)
            assert groups_on(fleet, 8) == ([BLUE] if strategy == "rolling" else [GREEN])
            assert serving_groups(fleet) == ([BLUE] if strategy == "rolling" else [GREEN])
        else:
            assert_rolled_back(fleet, outcome)
        assert sum(c.name == "create_group" for c in fleet.calls) == (0 if strategy == "rolling" else 1)
        assert max(sum(s.live.values()) for s in fleet.history) == max(
            sum(s.live.values()) for s in clean.history
        )


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_resume_during_a_rollback_finishes_the_rollback(strategy: str) -> None:
    plan = make_plan(strategy)
    probe = Recorder()
    probe_fleet = make_fleet(plan)
    probe_fleet.unhealthy_images.add(NEW.image_id)
    run(plan, probe_fleet, record=probe)
    first_rollback = next(i for i, p in enumerate(probe.records) if p.phase is Phase.ROLLING_BACK)
    for k in range(first_rollback + 1, len(probe.records)):
        fleet = make_fleet(plan)
        fleet.unhealthy_images.add(NEW.image_id)
        recorder = Recorder(crash_after=k)
        with pytest.raises(Crash):
            run(plan, fleet, record=recorder)
        assert recorder.last.phase is Phase.ROLLING_BACK
        outcome = run(plan, fleet, progress=recorder.last)
        assert_rolled_back(fleet, outcome)
        assert outcome.message.startswith("health gate failed at step ")


# -- rollback on request ---------------------------------------------------------------------------


def completed(strategy: str) -> tuple[RolloutPlan, FakeFleet, RolloutProgress]:
    plan = make_plan(strategy)
    fleet = make_fleet(plan)
    recorder = Recorder()
    assert run(plan, fleet, record=recorder).phase is Phase.COMPLETE
    return plan, fleet, recorder.last


def request_rollback(
    plan: RolloutPlan, fleet: FakeFleet, progress: RolloutProgress, **kw: Any
) -> RolloutOutcome:
    return rollback_completed(
        plan=plan, ops=fleet, progress=progress, clock=fleet.clock, sleep=fleet.clock.sleep, poll_s=5, **kw
    )


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_a_completed_rollout_is_rolled_back_on_request(strategy: str) -> None:
    plan, fleet, progress = completed(strategy)
    recorder = Recorder()
    outcome = request_rollback(plan, fleet, progress, record=recorder)
    assert_rolled_back(fleet, outcome)
    assert outcome.failed_step is None
    assert outcome.message.startswith("rollback requested; rolled back: ")
    if strategy == "rolling":
        assert "every instance was replaced again" in outcome.message
        assert max(sum(s.live.values()) for s in fleet.history) <= 5  # batch by batch, surge 1
    else:
        assert outcome.restored == f"{BLUE} restored at 4 instances (app-1.4.2), {GREEN} deleted"
    assert recorder.records[0].phase is Phase.ROLLING_BACK
    assert recorder.last.phase is Phase.ROLLED_BACK


def test_a_requested_rollback_needs_the_kept_group() -> None:
    plan, fleet, progress = completed("blue_green")
    fleet.delete_group(BLUE, force=True)
    with pytest.raises(RollbackUnavailable, match="web-g0007 no longer exists"):
        request_rollback(plan, fleet, progress, record=Recorder())


def test_a_failed_rollout_is_rolled_back_on_request() -> None:
    plan = make_plan("canary", auto_rollback=False)
    fleet = make_fleet(plan)
    fleet.unhealthy_images.add(NEW.image_id)
    recorder = Recorder()
    assert run(plan, fleet, record=recorder).phase is Phase.FAILED
    outcome = request_rollback(plan, fleet, recorder.last, record=Recorder())
    assert_rolled_back(fleet, outcome)
    assert outcome.message.startswith("health gate failed at step 1/3")  # canary's first step (25%)


@pytest.mark.parametrize("phase", [Phase.PENDING, Phase.ROLLED_BACK])
def test_nothing_to_roll_back(phase: Phase) -> None:
    plan = make_plan("blue_green")
    fleet = make_fleet(plan)
    record: Callable[[RolloutProgress], None] = Recorder()
    outcome = request_rollback(plan, fleet, RolloutProgress(phase=phase), record=record)
    assert outcome.phase is phase and "nothing to roll back" in outcome.message
    assert fleet.mutations() == []
