"""The bake between waves as state records it (rollout.bake), and the pure decisions about it.

A marker round-trips through JSON with wall-clock UTC timestamps; a damaged one is a StateError
naming the state. `bake_hold` decides, from the recorded marker, the time, the waves of the plan's
ROLLOUTs and the baked fleets' rollout records, whether the bake still holds a wave back and which
one; `bake_wait` how long that wave still waits at apply time.
"""

from __future__ import annotations

import pytest

from reconciler.errors import StateError
from reconciler.rollout.bake import (
    BakedFleet,
    BakeHold,
    BakeMarker,
    RecordedRollout,
    bake_hold,
    bake_wait,
    read_marker,
)

T0 = 1_767_225_600.25  # 2026-01-01T00:00:00.25Z

MARKER = BakeMarker(
    wave=1,
    started_at=T0,
    ends_at=T0 + 600,
    bake_s=600,
    alarms=("site",),
    alarm_provider=None,
    fleets=(
        BakedFleet('aws_fleet.app["a"]', "aws", "aws_fleet", 8, "ami-new", alarms=("a-5xx",)),
        BakedFleet('aws_fleet.app["b"]', "aws", "aws_fleet", 3, "ami-new"),
    ),
)
ON_IT = {
    'aws_fleet.app["a"]': RecordedRollout(complete=True, launch_template_version=8, image_id="ami-new"),
    'aws_fleet.app["b"]': RecordedRollout(complete=True, launch_template_version=3, image_id="ami-new"),
}


def test_a_marker_is_stored_as_json_with_utc_timestamps_and_read_back_whole() -> None:
    raw = MARKER.to_dict()
    assert raw["started_at"] == "2026-01-01T00:00:00.250000Z"
    assert raw["ends_at"] == "2026-01-01T00:10:00.250000Z"
    assert raw["fleets"][0] == {
        "address": 'aws_fleet.app["a"]',
        "provider": "aws",
        "type": "aws_fleet",
        "launch_template_version": 8,
        "image_id": "ami-new",
        "alarms": ["a-5xx"],
    }
    assert read_marker(raw) == MARKER
    hold = BakeHold(marker=MARKER, before=2, left_s=460)
    assert BakeHold.from_dict(hold.to_dict()) == hold


@pytest.mark.parametrize("raw", [None, {}])
def test_no_marker_is_no_bake_in_progress(raw: dict[str, object] | None) -> None:
    assert read_marker(raw) is None


@pytest.mark.parametrize(
    "damage",
    [
        {"ends_at": 1767225600},  # a number, not a timestamp
        {"ends_at": "2026-01-01T00:10:00"},  # no time zone
        {"ends_at": "tomorrow"},
        {"fleets": None},
        {"wave": "one"},
    ],
)
def test_a_damaged_marker_is_a_state_error_naming_the_state(damage: dict[str, object]) -> None:
    with pytest.raises(StateError, match=r"state file s\.json: the bake between waves recorded in state"):
        read_marker(MARKER.to_dict() | damage, where="state file s.json")


@pytest.mark.parametrize(
    ("now", "planned", "recorded", "held"),
    [
        # the plan goes on after the baked wave: its first later wave waits for the rest
        (T0 + 140, [2, 3], ON_IT, (2, 460)),
        (T0 + 599.5, [3], ON_IT, (3, 1)),
        # the recorded end passed: nothing waits
        (T0 + 600, [2], ON_IT, None),
        (T0 + 9_999, [2], ON_IT, None),
        # nothing of a later wave is rolled out
        (T0 + 10, [], ON_IT, None),
        # the baked wave (or an earlier one) rolls again: it bakes again, the marker is superseded
        (T0 + 10, [1, 2], ON_IT, None),
        (T0 + 10, [0, 2], ON_IT, None),
        # a baked fleet rolled back, or rolled to something else, since: another rollout
        (
            T0 + 10,
            [2],
            ON_IT | {'aws_fleet.app["b"]': RecordedRollout(False, 3, "ami-new")},
            None,
        ),
        (
            T0 + 10,
            [2],
            ON_IT | {'aws_fleet.app["a"]': RecordedRollout(True, 9, "ami-newer")},
            None,
        ),
        # a baked fleet gone from state does not count; none left: nothing holds
        (T0 + 10, [2], {'aws_fleet.app["a"]': ON_IT['aws_fleet.app["a"]']}, (2, 590)),
        (T0 + 10, [2], {}, None),
    ],
)
def test_a_recorded_bake_holds_back_the_first_later_wave_of_the_plan(
    now: float,
    planned: list[int],
    recorded: dict[str, RecordedRollout],
    held: tuple[int, int] | None,
) -> None:
    hold = bake_hold(MARKER, now=now, planned=planned, recorded=recorded)
    assert (None if hold is None else (hold.before, hold.left_s)) == held
    assert hold is None or hold.marker == MARKER


def test_no_marker_holds_nothing() -> None:
    assert bake_hold(None, now=T0, planned=[2], recorded=ON_IT) is None


def test_the_held_wave_waits_until_the_recorded_end_and_no_other_wave_waits() -> None:
    hold = BakeHold(marker=MARKER, before=2, left_s=460)
    assert bake_wait(hold, wave=2, now=T0 + 200) == pytest.approx(400)
    assert bake_wait(hold, wave=3, now=T0 + 200) == 0
    assert bake_wait(hold, wave=2, now=T0 + 601) == 0  # over by the time apply got there
    assert bake_wait(None, wave=2, now=T0) == 0
