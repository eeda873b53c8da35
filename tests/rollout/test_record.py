"""The rollout record state keeps for a fleet: read back exactly, or refused as a StateError that
names the resource (never a traceback); no record, or half of one, is no rollout."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.errors import StateError
from reconciler.rollout.model import Phase, RolloutProgress
from reconciler.rollout.record import RolloutRecord, read_record, record_json
from tests.rollout.builders import plan_for

PLAN = plan_for(4, strategy="canary")


@pytest.mark.parametrize(
    ("phase", "unfinished"),
    [
        (Phase.PENDING, True),
        (Phase.IN_PROGRESS, True),
        (Phase.ROLLING_BACK, True),
        (Phase.COMPLETE, False),
        (Phase.ROLLED_BACK, False),
        (Phase.FAILED, False),
    ],
)
def test_a_record_reads_back_exactly(phase: Phase, unfinished: bool) -> None:
    record = RolloutRecord(PLAN, RolloutProgress(phase=phase, step_index=2, replaced=["i-1"]))
    again = read_record(record_json(record), where="aws_fleet.web")
    assert again == record
    assert again is not None and again.unfinished is unfinished


@pytest.mark.parametrize("raw", [None, {}, {"plan": PLAN.to_dict()}, {"progress": {"phase": "complete"}}])
def test_no_record_is_no_rollout(raw: dict[str, Any] | None) -> None:
    assert read_record(raw, where="aws_fleet.web") is None


@pytest.mark.parametrize(
    "raw",
    [
        {"plan": {"strategy": "canary"}, "progress": {}},
        {"plan": PLAN.to_dict(), "progress": {"phase": "sideways"}},
        {"plan": {**PLAN.to_dict(), "strategy": "big_bang"}, "progress": {}},
        {"plan": PLAN.to_dict(), "progress": "complete"},
    ],
)
def test_a_damaged_record_is_a_state_error_naming_the_resource(raw: dict[str, Any]) -> None:
    with pytest.raises(StateError, match=r"aws_fleet\.web: the rollout recorded in state cannot be read"):
        read_record(raw, where="aws_fleet.web")
