"""One step numbering (issue 14): every view counts a rollout in the plan's numbered lines, and
phases read as words; a requested rollback is previewed in the lines it then runs."""

from __future__ import annotations

import pytest

from reconciler.rollout.model import Phase, RolloutProgress
from reconciler.rollout.numbering import phase_words, position, stage_count
from reconciler.rollout.progress import advance, begin_rollback, rollback_steps, start
from reconciler.rollout.rollback_preview import rollback_preview
from reconciler.sdk.rollout_block import StrategyName
from tests.rollout.builders import plan_for


@pytest.mark.parametrize("strategy", list(StrategyName))
def test_every_step_counts_as_the_plan_line_it_belongs_to(strategy: StrategyName) -> None:
    plan = plan_for(4, strategy=strategy, max_surge=1, pause="1m")
    lines = plan.outline()
    assert stage_count(plan.steps) == len(lines)
    numbers = [position(plan.steps, i).number for i in range(len(plan.steps))]
    assert numbers[0] == 1 and numbers[-1] == len(lines)
    assert sorted(set(numbers)) == list(range(1, len(lines) + 1))
    assert numbers == sorted(numbers)  # the run never goes back a line
    assert all(position(plan.steps, i).total == len(lines) for i in range(len(plan.steps)))
    assert str(position(plan.steps, len(plan.steps))) == f"{len(lines)}/{len(lines)}"  # past the end


def test_blue_green_has_three_lines_however_many_steps() -> None:
    plan = plan_for(12, strategy="blue_green")
    assert len(plan.steps) > 3
    assert [str(position(plan.steps, i)) for i in (0, 2, len(plan.steps) - 1)] == ["1/3", "2/3", "3/3"]


def test_phases_read_as_words() -> None:
    assert [phase_words(p) for p in Phase] == [
        "not started",
        "in progress",
        "rolling back",
        "complete",
        "rolled back",
        "failed",
    ]


def test_a_requested_rollback_is_previewed_in_the_lines_it_runs() -> None:
    plan = plan_for(4, strategy="blue_green")
    progress = start(plan, now=0.0)
    while progress.phase is Phase.IN_PROGRESS:
        progress = advance(plan, progress, now=1.0)
    preview = rollback_preview(plan, progress, address="aws_fleet.web")
    assert preview.headline.startswith(
        "aws_fleet.web: roll back the blue/green rollout of app-1.5.0 (complete)"
    )
    undo = rollback_steps(plan, begin_rollback(progress, failure="requested", now=2.0))
    assert len(preview.lines) == stage_count(undo) == 2
    assert preview.lines[0].startswith("scale web-g0007 to 4")


def test_nothing_to_roll_back_asks_nothing() -> None:
    plan = plan_for(4, strategy="canary")
    preview = rollback_preview(plan, RolloutProgress(phase=Phase.ROLLED_BACK), address="aws_fleet.web")
    assert not preview.has_work
    assert preview.headline == "aws_fleet.web: nothing to roll back (rollout rolled back)"
