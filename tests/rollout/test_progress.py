"""Resuming and undoing a rollout: next_step, advance, rollback_steps, cleanup of the old group."""

from __future__ import annotations

import json

import pytest

from reconciler.rollout.model import RolloutPlan, RolloutStep, StepKind
from reconciler.rollout.progress import (
    Phase,
    RolloutProgress,
    advance,
    begin_rollback,
    cleanup_due,
    cleanup_steps,
    fail,
    next_step,
    rollback_steps,
    start,
)
from reconciler.sdk.rollout_block import Strategy
from tests.rollout.builders import NEW, OLD, plan_for

K = StepKind


def at(index: int, phase: Phase = Phase.IN_PROGRESS) -> RolloutProgress:
    return RolloutProgress(phase=phase, step_index=index, blue_group="web-g0007")


def kinds(steps: list[RolloutStep]) -> list[StepKind]:
    return [s.kind for s in steps]


def index_of(plan: RolloutPlan, kind: StepKind, nth: int = 0) -> int:
    return [i for i, s in enumerate(plan.steps) if s.kind is kind][nth]


@pytest.mark.parametrize("strategy", list(Strategy))
def test_next_step_follows_the_plan(strategy: Strategy) -> None:
    plan = plan_for(4, strategy=strategy, max_surge=1, pause="1m")
    assert next_step(plan, at(0, Phase.PENDING)) is plan.steps[0]
    for index, step in enumerate(plan.steps):
        assert next_step(plan, at(index)) is step
    assert next_step(plan, at(len(plan.steps))) is None
    for phase in (Phase.COMPLETE, Phase.ROLLED_BACK, Phase.FAILED):
        assert next_step(plan, at(1, phase)) is None


@pytest.mark.parametrize("strategy", list(Strategy))
def test_advance_walks_to_complete_and_records_replaced(strategy: Strategy) -> None:
    plan = plan_for(4, strategy=strategy, max_surge=1)
    progress = start(plan, now=100.0)
    assert (progress.phase, progress.green_group, progress.blue_group) == (
        Phase.IN_PROGRESS,
        plan.green_group,
        "web-g0007",
    )
    seen = []
    while (step := next_step(plan, progress)) is not None:
        seen.append(step)
        progress = advance(plan, progress, now=101.0)
        # what the executor writes to state after every step reads back the same
        assert RolloutProgress.from_dict(json.loads(json.dumps(progress.to_dict()))) == progress
    assert seen == plan.steps
    assert (progress.phase, progress.started_at, progress.finished_at) == (Phase.COMPLETE, 100.0, 101.0)
    terminated = [i for s in plan.steps if s.kind is K.TERMINATE for i in s.instance_ids]
    assert progress.replaced == terminated
    with pytest.raises(ValueError, match="no step"):
        advance(plan, progress, now=102.0)


def test_start_of_a_plan_with_nothing_to_replace_is_complete() -> None:
    plan = plan_for(4, fleet_kw={"on_new": 4})
    progress = start(plan, now=5.0)
    assert progress.phase is Phase.COMPLETE
    assert next_step(plan, progress) is None


def test_rollback_walk_ends_rolled_back() -> None:
    plan = plan_for(12, strategy="blue_green")
    progress = begin_rollback(at(index_of(plan, K.WAIT_HEALTHY)), failure="3/12 healthy after 10m", now=7.0)
    assert progress.phase is Phase.ROLLING_BACK
    undo = rollback_steps(plan, progress)
    walked = []
    while (step := next_step(plan, progress)) is not None:
        walked.append(step)
        progress = advance(plan, progress, now=8.0)
    assert walked == undo
    assert (progress.phase, progress.failure, progress.step_index) == (
        Phase.ROLLED_BACK,
        "3/12 healthy after 10m",
        index_of(plan, K.WAIT_HEALTHY),
    )


def test_fail_keeps_the_first_failure() -> None:
    progress = fail(
        begin_rollback(at(3), failure="alarm web-5xx in ALARM", now=1.0),
        failure="rollback timed out",
        now=2.0,
    )
    assert (progress.phase, progress.failure) == (Phase.FAILED, "alarm web-5xx in ALARM; rollback timed out")


# --- rolling -------------------------------------------------------------------------------


def test_rolling_rollback_before_anything_happened() -> None:
    plan = plan_for(4, max_surge=1)
    assert rollback_steps(plan, at(0, Phase.PENDING)) == []
    only = rollback_steps(plan, at(0))  # SET_VERSION was in flight
    assert kinds(only) == [K.SET_VERSION]
    assert only[0].launch_template_version == OLD.launch_template_version
    assert only[0].description == "point web-g0007 at launch template version 7 (app-1.4.2)"


def test_rolling_rollback_while_first_batch_is_unhealthy() -> None:
    plan = plan_for(4, max_surge=1)
    undo = rollback_steps(plan, at(index_of(plan, K.WAIT_HEALTHY)))
    assert kinds(undo) == [K.SET_VERSION, K.DRAIN, K.TERMINATE]
    drain, terminate = undo[1], undo[2]
    assert (drain.count, drain.image_id, drain.instance_ids) == (1, NEW.image_id, [])
    assert (terminate.count, terminate.desired) == (1, 4)


@pytest.mark.parametrize(
    ("surge", "unavailable", "completed_batches"),
    [(1, 0, 2), (1, 0, 4), (0, 1, 2), (2, 0, 1), (1, 1, 2)],
)
def test_rolling_rollback_reverts_replaced_instances_in_batches(
    surge: int, unavailable: int, completed_batches: int
) -> None:
    plan = plan_for(4, max_surge=surge, max_unavailable=unavailable, pause="1m")
    launches = [i for i, s in enumerate(plan.steps) if s.kind is K.LAUNCH]
    # stop during the pause after a batch (everything before it done), or after the last batch
    batch_ends = [i for i, s in enumerate(plan.steps) if s.kind is K.PAUSE] + [len(plan.steps)]
    index = batch_ends[completed_batches - 1]
    replaced = sum(plan.steps[i].count for i in launches[:completed_batches])
    phase = Phase.COMPLETE if index == len(plan.steps) else Phase.IN_PROGRESS
    undo = rollback_steps(plan, at(index, phase))
    assert undo[0].kind is K.SET_VERSION
    relaunched = [s for s in undo if s.kind is K.LAUNCH]
    assert sum(s.count for s in relaunched) == replaced
    assert all(s.image_id == OLD.image_id for s in relaunched)
    assert K.PAUSE not in kinds(undo)
    removed = [s for s in undo if s.kind is K.TERMINATE]
    assert sum(s.count for s in removed) == replaced
    assert all(s.image_id == NEW.image_id for s in removed)
    trace = [plan.desired] + [s.desired for s in undo if s.desired is not None]
    assert max(trace) <= plan.desired + plan.surge
    assert min(trace) >= plan.desired - plan.unavailable
    assert trace[-1] == plan.desired
    waits = [s.count for s in undo if s.kind is K.WAIT_HEALTHY]
    assert waits[-1] == plan.desired  # every instance back on the old release


def test_rolling_rollback_counts_a_launch_in_flight_as_launched() -> None:
    plan = plan_for(4, max_surge=1)
    undo = rollback_steps(plan, at(index_of(plan, K.LAUNCH, 2)))  # batches 1 and 2 done
    # the third new instance may exist: remove it first (back to 4), then revert the other two
    assert kinds(undo)[:3] == [K.SET_VERSION, K.DRAIN, K.TERMINATE]
    assert (undo[2].count, undo[2].desired) == (1, 4)
    assert sum(s.count for s in undo if s.kind is K.LAUNCH) == 2


def test_rolling_rollback_returns_drained_old_instances() -> None:
    plan = plan_for(4, max_surge=1, max_unavailable=1)
    late_drain = index_of(plan, K.DRAIN, 1)  # batch 1, after the launch: i-01 drained
    undo = rollback_steps(plan, at(late_drain + 1))  # its TERMINATE was in flight
    assert kinds(undo)[:2] == [K.SET_VERSION, K.ATTACH]
    assert undo[1].instance_ids == ["i-01"]
    assert undo[1].description == "return i-01 to target group web"
    excess = [s for s in undo if s.kind is K.TERMINATE and s.desired == 4 and s.instance_ids == []]
    assert excess[0].count == 1


def test_rolling_rollback_restores_widened_limits() -> None:
    plan = plan_for(4, fleet_kw={"max_size": 4}, max_surge=1)
    undo = rollback_steps(plan, at(len(plan.steps), Phase.COMPLETE))
    assert (undo[-1].kind, undo[-1].desired, undo[-1].max_size) == (K.SCALE, 4, 4)


# --- blue/green and canary -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("strategy", "stop_kind", "expected"),
    [
        ("blue_green", K.CREATE_GROUP, [K.DETACH, K.DRAIN, K.DELETE_GROUP]),
        ("blue_green", K.WAIT_HEALTHY, [K.DETACH, K.DRAIN, K.DELETE_GROUP]),
        (
            "blue_green",
            K.DETACH,
            [K.SCALE, K.ATTACH, K.WAIT_HEALTHY, K.DETACH, K.DRAIN, K.DELETE_GROUP],
        ),
        (
            "blue_green",
            K.KEEP_PREVIOUS,
            [K.SCALE, K.ATTACH, K.WAIT_HEALTHY, K.DETACH, K.DRAIN, K.DELETE_GROUP],
        ),
        ("canary", K.WAIT_HEALTHY, [K.DETACH, K.DRAIN, K.DELETE_GROUP]),
        (
            "canary",
            K.TERMINATE,
            [K.SCALE, K.ATTACH, K.WAIT_HEALTHY, K.DETACH, K.DRAIN, K.DELETE_GROUP],
        ),
    ],
)
def test_group_rollback(strategy: str, stop_kind: StepKind, expected: list[StepKind]) -> None:
    plan = plan_for(12, strategy=strategy, alarms=["web-5xx"])
    undo = rollback_steps(plan, at(index_of(plan, stop_kind)))
    assert kinds(undo) == expected
    for step in undo:
        if step.kind in (K.SCALE, K.ATTACH, K.WAIT_HEALTHY):
            assert step.group == "web-g0007"
        else:
            assert step.group == "web-g0008"
    if K.SCALE in expected:
        scale = undo[0]
        assert (scale.desired, scale.min_size, scale.max_size) == (12, plan.min_size, plan.max_size)
        wait = undo[2]
        assert (wait.count, wait.alarms) == (12, [])  # the alarm that failed the rollout is not a gate
    assert [s.description for s in undo[-3:]] == [
        "detach web-g0008",
        "drain web-g0008 up to 300 s",
        "delete web-g0008",
    ]


def test_group_rollback_of_a_finished_rollout() -> None:
    plan = plan_for(12, strategy="canary")
    undo = rollback_steps(plan, at(len(plan.steps), Phase.COMPLETE))
    assert [s.description for s in undo] == [
        "scale web-g0007 to 12 (min 0, max 100)",
        "attach web-g0007 to target group web",
        "wait until web-g0007 12/12 healthy (InService, target healthy), ≤ 10m",
        "detach web-g0008",
        "drain web-g0008 up to 300 s",
        "delete web-g0008",
    ]


@pytest.mark.parametrize(
    ("strategy", "finished_at", "now", "due"),
    [
        ("blue_green", 1000.0, 4599.0, False),
        ("blue_green", 1000.0, 4600.0, True),
        ("canary", 1000.0, 9999.0, True),
        ("blue_green", None, 9999.0, False),
        ("rolling", 1000.0, 9999.0, False),
    ],
)
def test_cleanup_of_the_kept_group(strategy: str, finished_at: float | None, now: float, due: bool) -> None:
    plan = plan_for(4, strategy=strategy, keep_previous="1h")
    progress = RolloutProgress(phase=Phase.COMPLETE, step_index=len(plan.steps), finished_at=finished_at)
    assert cleanup_due(plan, progress, now=now) is due
    expected = [] if strategy == "rolling" else ["delete web-g0007"]
    assert [s.description for s in cleanup_steps(plan)] == expected
