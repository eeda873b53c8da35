"""Rollout expansion: batches, canary steps, blue/green lines, durations, serialisation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from reconciler.render.rollout_text import duration_text as duration_line
from reconciler.rollout.model import RolloutPlan, RolloutStep, StepKind
from reconciler.rollout.strategies.canary import canary_counts
from reconciler.sdk.rollout_block import Strategy
from reconciler_aws.fleet_names import group_name as green_group_name
from reconciler_aws.fleet_names import parse_generation
from tests.rollout.builders import NEW, OLD, plan_for


def capacity_trace(plan: RolloutPlan, group: str) -> list[int]:
    """The group's desired capacity after every step that sets it, starting from the plan's."""
    trace = [plan.desired]
    trace += [s.desired for s in plan.steps if s.group == group and s.desired is not None]
    return trace


def assert_drained_before_terminated(steps: list[RolloutStep]) -> None:
    drained: set[str] = set()
    for step in steps:
        if step.kind is StepKind.DRAIN:
            drained.update(step.instance_ids)
        if step.kind is StepKind.TERMINATE:
            assert set(step.instance_ids) <= drained, f"{step.instance_ids} terminated before draining"


# desired, surge, unavailable, batch sizes, summary
ROLLING = [
    (4, 1, 0, [1, 1, 1, 1], "4 instances: surge 1, replace 1 at a time, 4 batches"),
    (4, "25%", 0, [1, 1, 1, 1], "4 instances: surge 1, replace 1 at a time, 4 batches"),
    (10, "50%", 0, [5, 5], "10 instances: surge 5, replace 5 at a time, 2 batches"),
    (4, 0, 1, [1, 1, 1, 1], "4 instances: surge 0, 1 unavailable, replace 1 at a time, 4 batches"),
    (4, 0, 0, [1, 1, 1, 1], "4 instances: surge 1, replace 1 at a time, 4 batches"),
    (5, 2, 0, [2, 2, 1], "5 instances: surge 2, replace 2 at a time, 3 batches"),
    (4, 1, 1, [2, 2], "4 instances: surge 1, 1 unavailable, replace 2 at a time, 2 batches"),
    (3, 10, 0, [3], "3 instances: surge 10, replace 3 at a time, 1 batch"),
]


@pytest.mark.parametrize(("desired", "surge", "unavailable", "sizes", "summary"), ROLLING)
def test_rolling_batches(desired: int, surge: Any, unavailable: Any, sizes: list[int], summary: str) -> None:
    plan = plan_for(desired, max_surge=surge, max_unavailable=unavailable)
    assert plan.strategy is Strategy.ROLLING
    assert plan.summary == summary
    assert plan.green_group == ""
    assert [s.count for s in plan.steps if s.kind is StepKind.LAUNCH] == sizes
    assert plan.steps[0].kind is StepKind.SET_VERSION
    assert plan.steps[0].launch_template_version == NEW.launch_template_version
    trace = capacity_trace(plan, "web-g0007")
    assert max(trace) <= desired + plan.surge
    assert min(trace) >= desired - plan.unavailable
    assert trace[-1] == desired
    terminated = [i for s in plan.steps if s.kind is StepKind.TERMINATE for i in s.instance_ids]
    assert sorted(terminated) == sorted(plan.instances_to_replace)
    assert_drained_before_terminated(plan.steps)


def test_rolling_with_nothing_allowed_forces_surge_and_says_so() -> None:
    plan = plan_for(4, max_surge=0, max_unavailable=0)
    assert plan.surge == 1
    assert plan.notes == [
        "max_surge and max_unavailable both come to 0 for 4 instances; "
        "surge 1 is used so the rollout can progress"
    ]


def test_rolling_batch_lines() -> None:
    plan = plan_for(4, max_surge=1, pause="2m", alarms=["web-5xx"])
    assert plan.outline()[:2] == [
        "point web-g0007 at launch template version 8 (app-1.5.0)",
        "batch 1/4: launch 1 on app-1.5.0 (web-g0007 at 5), wait until 1/1 on app-1.5.0 healthy "
        "(InService, target healthy, alarm web-5xx OK), ≤ 10m, drain i-00 up to 300 s, "
        "terminate it (web-g0007 at 4), pause 2m",
    ]
    assert plan.outline()[-1].endswith("terminate it (web-g0007 at 4)")  # no pause after the last batch


def test_instances_already_on_new_release_are_not_replaced() -> None:
    plan = plan_for(4, fleet_kw={"on_new": 1}, max_surge=1)
    assert plan.instances_to_replace == ["i-01", "i-02", "i-03"]
    assert plan.summary == "4 instances: surge 1, replace 1 at a time, 3 batches"
    waits = [s.count for s in plan.steps if s.kind is StepKind.WAIT_HEALTHY]
    assert waits == [2, 3, 4]  # the instance already on app-1.5.0 counts from the start
    assert all(s.image_id == NEW.image_id for s in plan.steps if s.kind is StepKind.WAIT_HEALTHY)


def test_unhealthy_old_instances_go_first() -> None:
    plan = plan_for(4, fleet_kw={"unhealthy": ("i-02",)}, max_surge=1)
    assert plan.instances_to_replace[0] == "i-02"


def test_rolling_widens_limits_and_restores_them() -> None:
    plan = plan_for(4, fleet_kw={"min_size": 4, "max_size": 4}, max_surge=1, max_unavailable=1)
    launches = [s for s in plan.steps if s.kind is StepKind.LAUNCH]
    assert {s.max_size for s in launches} == {5}
    early = [s for s in plan.steps if s.kind is StepKind.TERMINATE and s.desired == 3]
    assert early and all(s.min_size == 3 for s in early)
    last = plan.steps[-1]
    assert (last.kind, last.desired, last.min_size, last.max_size) == (StepKind.SCALE, 4, 4, 4)
    assert plan.outline()[-1] == "scale web-g0007 to 4 (min 4, max 4)"


def test_no_target_groups_means_no_drain_and_no_target_gate() -> None:
    plan = plan_for(2, fleet_kw={"target_groups": ()}, max_surge=1)
    assert StepKind.DRAIN not in {s.kind for s in plan.steps}
    assert plan.health_gates == ["InService"]
    assert plan.min_duration_s == 0


@pytest.mark.parametrize(
    ("steps", "desired", "expected"),
    [
        ([10, 50, 100], 12, [(10, 2), (50, 6), (100, 12)]),
        ([25, 50, 75, 100], 10, [(25, 3), (50, 5), (75, 8), (100, 10)]),
        ([10, 20, 100], 4, [(10, 1), (100, 4)]),  # 10% and 20% of 4 are both 1 instance
        ([10, 50, 100], 1, [(10, 1)]),
        ([100], 6, [(100, 6)]),
    ],
)
def test_canary_counts(steps: list[int], desired: int, expected: list[tuple[int, int]]) -> None:
    assert canary_counts(steps, desired) == expected


def test_canary_steps() -> None:
    plan = plan_for(12, strategy="canary", pause="2m", alarms=["web-5xx"])
    assert plan.green_group == "web-g0008"
    assert plan.summary == "12 instances: web-g0007 → web-g0008 in 3 steps: 2 (10%), 6 (50%), 12 (100%)"
    green = [s.desired for s in plan.steps if s.group == "web-g0008" and s.desired is not None]
    blue = [s.desired for s in plan.steps if s.group == "web-g0007" and s.desired is not None]
    assert green == [2, 6, 12]
    assert blue == [10, 6, 0]
    waits = [s for s in plan.steps if s.kind is StepKind.WAIT_HEALTHY]
    assert [w.count for w in waits] == [2, 6, 12]
    assert all(w.alarms == ["web-5xx"] for w in waits)
    assert [s.kind for s in plan.steps].count(StepKind.PAUSE) == 2
    assert_drained_before_terminated(plan.steps)
    lines = plan.outline()
    assert lines[0].startswith("10% (2/12): create web-g0008 at 2, attach to target group web, wait until")
    assert lines[1].startswith("50% (6/12): launch 4 (web-g0008 at 6), wait until 6/6 healthy (InService")
    assert "drain 4 instances of web-g0007 up to 300 s, terminate them (web-g0007 at 6), pause 2m" in lines[1]
    assert lines[2].endswith("detach web-g0007, drain up to 300 s, scale to 0; keep it 1h for rollback")


def test_canary_restores_green_minimum() -> None:
    plan = plan_for(12, fleet_kw={"min_size": 4}, strategy="canary")
    create = plan.steps[0]
    assert (create.kind, create.desired, create.min_size) == (StepKind.CREATE_GROUP, 2, 2)
    restore = [s for s in plan.steps if s.kind is StepKind.SCALE and s.group == "web-g0008"]
    assert [(s.desired, s.min_size) for s in restore] == [(12, 4)]
    shrink = [s for s in plan.steps if s.kind is StepKind.TERMINATE]
    assert [s.min_size for s in shrink] == [None, None]  # 10 and 6 stay above min 4


def test_blue_green_lines_as_a_reviewer_sees_them() -> None:
    plan = plan_for(12, strategy="blue_green", alarms=["web-5xx"], pause="2m")
    assert plan.outline() == [
        "create web-g0008 at 12, attach to target group web",
        "wait until web-g0008 12/12 healthy (InService, target healthy, alarm web-5xx OK), ≤ 10m",
        "detach web-g0007, drain up to 300 s, scale to 0; keep it 1h for rollback",
    ]
    assert [s.kind for s in plan.steps] == [
        StepKind.CREATE_GROUP,
        StepKind.ATTACH,
        StepKind.WAIT_HEALTHY,
        StepKind.DETACH,
        StepKind.DRAIN,
        StepKind.SCALE,
        StepKind.KEEP_PREVIOUS,
    ]
    create = plan.steps[0]
    assert (create.launch_template_version, create.target_groups) == (8, ["web"])
    assert plan.replace_count == 12
    assert plan.health_gates == ["InService", "target healthy", "alarm web-5xx OK"]
    assert str(plan.rollback) == "web-g0007 on launch template version 7 (app-1.4.2)"
    assert (plan.min_duration_s, duration_line(plan)) == (0, "at most 15m 0s")  # no pause: nothing fixed
    assert plan.steps[3].description == "detach web-g0007"
    assert plan.steps[5].description == "scale web-g0007 to 0"


def test_blue_green_keeps_current_desired_and_notes_instances_already_new() -> None:
    plan = plan_for(6, fleet_kw={"on_new": 2}, strategy="blue_green")
    assert plan.steps[0].desired == 6
    assert plan.replace_count == 4
    assert plan.notes == ["2 of 6 already on app-1.5.0; they go with web-g0007"]


@pytest.mark.parametrize(
    ("desired", "config", "minimum", "maximum"),
    [
        # the lower bound is the fixed waits (pauses); drains and health gates add to the upper one
        (4, {"max_surge": 1, "pause": "2m"}, 3 * 120, 3 * 120 + 4 * 300 + 4 * 600),
        (4, {"max_surge": 1, "drain_timeout": "30s", "health_timeout": "5m"}, 0, 4 * 30 + 4 * 300),
        (12, {"strategy": "blue_green", "pause": "2m"}, 0, 300 + 600),
        (12, {"strategy": "canary", "pause": "2m"}, 2 * 120, 2 * 120 + 3 * 300 + 3 * 600),
        (12, {"strategy": "canary", "steps": [100], "keep_previous": "24h"}, 0, 900),
    ],
)
def test_durations(desired: int, config: dict[str, Any], minimum: int, maximum: int) -> None:
    plan = plan_for(desired, **config)
    assert (plan.min_duration_s, plan.max_duration_s) == (minimum, maximum)


@pytest.mark.parametrize("strategy", list(Strategy))
def test_nothing_to_replace(strategy: Strategy) -> None:
    plan = plan_for(4, fleet_kw={"on_new": 4}, strategy=strategy)
    assert plan.steps == []
    assert plan.is_noop
    assert plan.summary == "all 4 instances already on app-1.5.0"
    assert plan.green_group == ""
    assert plan.new == NEW and plan.old == OLD


@pytest.mark.parametrize(
    "config",
    [
        {"strategy": "rolling", "max_surge": 1, "pause": "1m"},
        {"strategy": "blue_green", "alarms": ["web-5xx"]},
        {"strategy": "canary", "steps": [25, 100]},
        {"strategy": "rolling", "max_surge": 0, "max_unavailable": 0},
    ],
)
def test_plan_round_trips_through_json(config: dict[str, Any]) -> None:
    plan = plan_for(8, **config)
    text = json.dumps(plan.to_dict())
    again = RolloutPlan.from_dict(json.loads(text))
    assert again == plan
    assert again.outline() == plan.outline()


@pytest.mark.parametrize(
    ("fleet_name", "generation", "group"),
    [("web", 8, "web-g0008"), ("web", 1, "web-g0001"), ("api-eu", 12345, "api-eu-g12345")],
)
def test_group_names(fleet_name: str, generation: int, group: str) -> None:
    assert green_group_name(fleet_name, generation) == group
    assert parse_generation(group, fleet_name) == generation


@pytest.mark.parametrize(("group", "generation"), [("web", 0), ("web-blue", None), ("webx-g0002", None)])
def test_parse_generation_of_other_names(group: str, generation: int | None) -> None:
    assert parse_generation(group, "web") == generation


@pytest.mark.parametrize("strategy", ["blue_green", "canary"])
def test_keep_previous_0s_says_the_old_group_is_deleted_once_the_rollout_is_complete(strategy: str) -> None:
    plan = plan_for(4, strategy=strategy, keep_previous="0s")
    assert plan.outline()[-1].endswith(
        "detach web-g0007, drain up to 300 s, scale to 0; delete it once the rollout is complete"
    )
