"""Planning rollout waves (planning.waves) and how a plan shows and saves them.

Given ROLLOUT changes with waves, the plan groups them in ascending order with the stack's rules;
a stack without waves gets no wave plan (its plans read as before); a fleet that depends on a
fleet of a later wave is a ConfigError naming both. The human, Markdown and JSON renderings show
the waves in order with their contents, bake and halting rule; a saved plan keeps them. A bake an
interrupted apply left in state holds back the plan's next wave, and every rendering says so.
"""

from __future__ import annotations

import json

import pytest
from rich.console import Console

from reconciler.address import Address
from reconciler.config.model import WavesSettings
from reconciler.errors import ConfigError
from reconciler.planning.model import Action, Plan, ResourceChange
from reconciler.planning.waves import plan_waves
from reconciler.render.human import render_plan, summary_line
from reconciler.render.markdown import render_markdown
from reconciler.render.tfplan import plan_json
from reconciler.rollout.bake import BakedFleet, BakeMarker
from reconciler.rollout.change import RolloutChange
from reconciler.rollout.progress import Phase, RolloutProgress
from reconciler.rollout.record import RolloutRecord, record_json
from reconciler.rollout.waves import HALTING_RULE, WavePlan
from reconciler.state import ResourceState, State
from tests.applying.test_rollouts import plan_of
from tests.planning.test_planfile import round_trip, sample_plan


def rollout(name: str, wave: int) -> ResourceChange:
    return ResourceChange(
        address=Address.parse(f'aws_fleet.app["{name}"]'),
        action=Action.ROLLOUT,
        type_name="aws_fleet",
        id=name,
        rollout=RolloutChange(plan=plan_of(name), wave=wave),
    )


CHANGES = [rollout("a", 2), rollout("b", 1), rollout("c", 3), rollout("d", 1)]
SETTINGS = WavesSettings(bake_s=600, alarms=("site-5xx",))


def test_waves_are_planned_in_ascending_order_with_the_stacks_rules() -> None:
    waves = plan_waves(CHANGES, settings=SETTINGS, graph={})
    assert waves is not None
    assert [(w.number, w.fleets, w.instances) for w in waves.waves] == [
        (1, ('aws_fleet.app["b"]', 'aws_fleet.app["d"]'), 4),
        (2, ('aws_fleet.app["a"]',), 2),
        (3, ('aws_fleet.app["c"]',), 2),
    ]
    assert (waves.rules.bake_s, waves.rules.alarms) == (600, ("site-5xx",))


def test_a_stack_without_waves_gets_no_wave_plan() -> None:
    assert plan_waves([rollout("a", 1), rollout("b", 1)], settings=None, graph={}) is None
    assert plan_waves([rollout("a", 1)], settings=SETTINGS, graph={}) is not None


def test_a_fleet_depending_on_a_fleet_of_a_later_wave_is_refused() -> None:
    changes = [
        ResourceChange(
            address=Address.parse("aws_fleet.api"),
            action=Action.ROLLOUT,
            type_name="aws_fleet",
            rollout=RolloutChange(plan=plan_of("api"), wave=1),
        ),
        ResourceChange(
            address=Address.parse("aws_fleet.db"),
            action=Action.ROLLOUT,
            type_name="aws_fleet",
            rollout=RolloutChange(plan=plan_of("db"), wave=2),
        ),
    ]
    graph = {"aws_fleet.api": {"aws_launch_template.api"}, "aws_launch_template.api": {"aws_fleet.db"}}
    with pytest.raises(ConfigError) as err:
        plan_waves(changes, settings=None, graph=graph)
    assert "aws_fleet.api rolls out in wave 1 but depends on aws_fleet.db, which rolls out in wave 2" in str(
        err.value.diagnostics[0].summary
    )


def waves_plan() -> Plan:
    plan = Plan(stack="web", changes=list(CHANGES))
    plan.waves = plan_waves(plan.changes, settings=SETTINGS, graph={})
    return plan


def test_the_human_plan_shows_the_waves_in_order_with_bake_and_halting_rule() -> None:
    console = Console(record=True, width=200)
    plan = waves_plan()
    render_plan(plan, console)
    text = console.export_text()
    assert (
        "Waves: 3, in order; bake 10m after each but the last, watching alarm site-5xx and each fleet's own"
        in text
    )
    assert 'wave 1  2 fleets (4 instances)  aws_fleet.app["b"], aws_fleet.app["d"]' in text
    assert text.index("  wave 1 ") < text.index("  wave 2 ") < text.index("  wave 3 ")
    assert f"halting  {HALTING_RULE}" in text
    assert summary_line(plan).endswith("4 fleets to roll out (8 instances) in 3 waves.")


def test_json_and_markdown_carry_the_waves() -> None:
    plan = waves_plan()
    doc = json.loads(json.dumps(plan_json(plan)))["reconciler"]  # the JSON plan's extension key
    assert doc["waves"]["bake"] == "10m" and doc["waves"]["halting"] == HALTING_RULE
    assert [w["wave"] for w in doc["waves"]["waves"]] == [1, 2, 3]
    assert doc["resources"]['aws_fleet.app["c"]']["wave"] == 3
    markdown = render_markdown(plan)
    assert "### Rollout waves" in markdown
    assert '| 1 | `aws_fleet.app["b"]`, `aws_fleet.app["d"]` | 4 | bake 10m |' in markdown
    assert HALTING_RULE in markdown
    plain = Plan(stack="web", changes=[rollout("a", 1)])
    assert "waves" not in plan_json(plain)["reconciler"] and "Rollout waves" not in render_markdown(plain)


def test_a_saved_plan_keeps_its_waves() -> None:
    plan = sample_plan()
    plan.changes.append(rollout("z", 2))
    plan.waves = plan_waves(plan.changes, settings=SETTINGS, graph={})
    _, back = round_trip(plan)
    assert isinstance(back.waves, WavePlan) and back.waves == plan.waves
    assert back.changes[-1].rollout is not None and back.changes[-1].rollout.wave == 2


# -- a bake an interrupted apply left in state ------------------------------------------------------

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def crashed_in_bake(*, baked: str = "b", complete: bool = True) -> State:
    """State as an apply killed during the bake after wave 1 leaves it: fleet `baked` rolled out
    completely (its record), the bake recorded at T0 for 10 minutes."""
    plan = plan_of(baked, alarms=[f"{baked}-5xx"])
    state = State.new("web")
    address = f'aws_fleet.app["{baked}"]'
    phase = Phase.COMPLETE if complete else Phase.ROLLED_BACK
    progress = RolloutProgress(phase=phase, step_index=len(plan.steps), started_at=T0 - 60, finished_at=T0)
    state.resources[address] = ResourceState(
        address=address,
        type="aws_fleet",
        provider="aws",
        id=baked,
        rollout=record_json(RolloutRecord(plan, progress)),
    )
    marker = BakeMarker(
        wave=1,
        started_at=T0,
        ends_at=T0 + 600,
        bake_s=600,
        alarms=("site-5xx",),
        alarm_provider=None,
        fleets=(BakedFleet(address, "aws", "aws_fleet", 8, plan.new.image_id, (f"{baked}-5xx",)),),
    )
    state.bake = marker.to_dict()
    return state


LATER = [rollout("a", 2), rollout("c", 3)]  # what the next plan still rolls out


def test_a_bake_left_in_state_holds_back_the_next_wave_of_the_plan() -> None:
    waves = plan_waves(LATER, settings=SETTINGS, graph={}, state=crashed_in_bake(), now=T0 + 140)
    assert waves is not None and waves.hold is not None
    assert (waves.hold.marker.wave, waves.hold.before, waves.hold.left_s) == (1, 2, 460)
    assert [w.number for w in waves.waves] == [2, 3]
    # the baked fleet was rolled back since: the marker belongs to a rollout that is over
    over = plan_waves(LATER, settings=SETTINGS, graph={}, state=crashed_in_bake(complete=False), now=T0)
    assert over is not None and over.hold is None
    none = plan_waves(LATER, settings=SETTINGS, graph={}, state=State.new("web"), now=T0)
    assert none is not None and none.hold is None


def test_the_recorded_bake_stands_when_the_stacks_waves_block_was_removed() -> None:
    waves = plan_waves([rollout("a", 2)], settings=None, graph={}, state=crashed_in_bake(), now=T0 + 1)
    assert waves is not None and waves.hold is not None and waves.hold.left_s == 599
    assert waves.rules.bake_s == 0  # nothing more bakes after it; what was recorded still does
    over = plan_waves([rollout("a", 2)], settings=None, graph={}, state=crashed_in_bake(), now=T0 + 600)
    assert over is None


def held_plan() -> Plan:
    plan = Plan(stack="web", changes=list(LATER))
    plan.waves = plan_waves(plan.changes, settings=SETTINGS, graph={}, state=crashed_in_bake(), now=T0 + 140)
    return plan


HELD = (
    "wave 1 bake in progress: 7m 40s left; wave 2 starts after it (an apply was interrupted during "
    "the bake; it ends 2026-01-01T00:10:00.000000Z, watching alarm site-5xx and each fleet's own)"
)


def test_every_rendering_says_the_bake_in_progress_and_a_saved_plan_keeps_it() -> None:
    plan = held_plan()
    console = Console(record=True, width=300)
    render_plan(plan, console)
    text = console.export_text()
    assert f"  {HELD}\n" in text
    assert text.index("Waves: 2") < text.index(HELD) < text.index("  wave 2 ")
    doc = json.loads(json.dumps(plan_json(plan)))["reconciler"]["waves"]["bake_in_progress"]
    assert (doc["before"], doc["left_s"]) == (2, 460)
    assert doc["marker"]["ends_at"] == "2026-01-01T00:10:00.000000Z"
    assert doc["marker"]["fleets"][0]["launch_template_version"] == 8
    markdown = render_markdown(plan)
    assert "\n_Wave 1 bake in progress: 7m 40s left; wave 2 starts after it" in markdown
    assert "alarm site-5xx and each fleet" in markdown
    saved = sample_plan()
    saved.changes.extend(LATER)
    saved.waves = held_plan().waves
    raw, back = round_trip(saved)
    assert back.waves == saved.waves and back.waves is not None and back.waves.hold is not None
    assert raw["format_version"] == 4  # a reader that did not know the hold would skip the bake
    assert json.loads(json.dumps(plan_json(waves_plan())))["reconciler"]["waves"]["bake_in_progress"] is None
