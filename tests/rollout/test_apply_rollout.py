"""Applying a planned rollout (applying.one_fleet.roll_out): after any outcome, state says what the
cloud is. A fleet that cannot be read back after a complete rollout is recorded from what the
rollout made, never left naming the old group; a fleet read back after transient failures is
recorded as read; keep_previous = "0s" deletes the old group within the apply.

Runs on FakeFleet (tests/rollout/fake_fleet.py) behind a minimal provider whose `refresh` is
scripted; state goes through a real StateWriter on a local file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from reconciler.address import Address
from reconciler.applying.one_fleet import roll_out
from reconciler.errors import CloudError, CloudErrorKind
from reconciler.planning.model import Action, ResourceChange
from reconciler.rollout.change import RolloutChange
from reconciler.rollout.model import RolloutPlan
from reconciler.rollout.progress import Phase, RolloutProgress
from reconciler.sdk import ObservedResource, Ownership, RefreshRequest
from reconciler.state import ResourceState, State, StateWriter
from reconciler.state.local import LocalBackend
from reconciler_aws.fleet_type import FLEET
from tests.rollout.test_executor import BLUE, GREEN, NEW, make_fleet, make_plan

ADDRESS = "aws_fleet.web"


class ScriptedProvider:
    """fleet_ops() is the fake fleet; refresh() raises the scripted errors, then reads it."""

    def __init__(self, fleet: Any, errors: list[CloudError]) -> None:
        self.fleet, self.errors = fleet, list(errors)
        self.reads = 0

    def fleet_ops(self) -> Any:
        return self.fleet

    def refresh(self, request: RefreshRequest) -> Mapping[str, ObservedResource | None]:
        self.reads += 1
        if self.errors:
            raise self.errors.pop(0)
        live = self.fleet.live(GREEN) or self.fleet.live(BLUE)
        group = GREEN if self.fleet.live(GREEN) else BLUE
        attributes = {"group_name": group, "instances": [{"id": i.id} for i in live]}
        return {"web": ObservedResource(id="web", attributes=attributes, ownership=Ownership("s", ADDRESS))}


def setup(tmp_path: Path, plan: RolloutPlan) -> tuple[ResourceChange, ResourceState, StateWriter]:
    current = ResourceState(
        address=ADDRESS,
        type="aws_fleet",
        provider="aws",
        id="web",
        attributes={
            "group_name": BLUE,
            "generation": 7,
            "launch_template_version": 7,
            "previous_groups": [],
            "instances": [{"id": "i-00"}],
            "desired_capacity": 4,
        },
    )
    state = State.new("s")
    state.resources[ADDRESS] = current
    writer = StateWriter(LocalBackend(tmp_path / "state.json"), state)
    change = ResourceChange(
        address=Address.parse(ADDRESS),
        action=Action.ROLLOUT,
        type_name="aws_fleet",
        rollout=RolloutChange(plan=plan),
    )
    return change, current, writer


def apply(
    plan: RolloutPlan, provider: ScriptedProvider, tmp_path: Path
) -> tuple[ObservedResource, Any, StateWriter]:
    change, current, writer = setup(tmp_path, plan)
    observed, failure = roll_out(
        change=change,
        config={"launch_template_version": plan.new.launch_template_version},
        current=current,
        provider=provider,  # type: ignore[arg-type]
        writer=writer,
        emit=lambda _a, _m: None,
        stack="s",
        fleet=FLEET,
    )
    return observed, failure, writer


@pytest.fixture(autouse=True)
def _no_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECONCILER_ROLLOUT_POLL", "0")


def transient() -> CloudError:
    return CloudError(
        call="DescribeAutoScalingGroups", message="Rate exceeded", kind=CloudErrorKind.RETRYABLE
    )


def test_a_fleet_read_back_after_transient_failures_is_recorded_as_read(tmp_path: Path) -> None:
    plan = make_plan("blue_green")
    provider = ScriptedProvider(make_fleet(plan), [transient(), transient()])
    observed, failure, _ = apply(plan, provider, tmp_path)
    assert failure is None and provider.reads == 3
    assert observed.attributes["group_name"] == GREEN


def test_a_complete_rollout_whose_fleet_cannot_be_read_back_is_recorded_from_what_it_made(
    tmp_path: Path,
) -> None:
    plan = make_plan("blue_green")
    provider = ScriptedProvider(make_fleet(plan), [transient()] * 10)
    observed, failure, writer = apply(plan, provider, tmp_path)
    assert failure is not None
    assert "the rollout completed" in str(failure) and "reading the fleet back failed" in str(failure)
    recorded = writer.snapshot().resources[ADDRESS]
    progress = RolloutProgress.from_dict(recorded.rollout["progress"])  # type: ignore[index]
    assert progress.phase is Phase.COMPLETE
    attributes = observed.attributes  # what the executor records for the resource
    assert attributes["group_name"] == GREEN and attributes["generation"] == 8
    assert attributes["launch_template_version"] == NEW.launch_template_version
    assert attributes["previous_groups"] == [BLUE]  # kept 1h for rollback
    serving = sorted(i.id for i in provider.fleet.live(GREEN))
    assert [i["id"] for i in attributes["instances"]] == serving and len(serving) == 4
    assert all(i["image_id"] == NEW.image_id for i in attributes["instances"])


def test_keep_previous_0s_deletes_the_old_group_within_the_apply(tmp_path: Path) -> None:
    plan = make_plan("blue_green", keep_previous="0s")
    fleet = make_fleet(plan)
    observed, failure, _ = apply(plan, ScriptedProvider(fleet, []), tmp_path)
    assert failure is None
    assert BLUE not in fleet.groups and observed.attributes["group_name"] == GREEN
