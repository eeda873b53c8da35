"""The generic hooks behind typed resource previews (issue 11): a type's hazards become the plan's
warnings, a provider's preview fills payload/lines/note and turns a NOOP with pending work into an
UPDATE, and `after_rollouts` types wait for every rolling fleet at apply."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from reconciler.address import Address, Mode
from reconciler.applying.phases import after_rollouts
from reconciler.planning.model import Action, Plan, ResourceChange
from reconciler.planning.previews import add_previews
from reconciler.sdk import ChangePreview, PreviewRequest, ResourceSchema


class Args(BaseModel):
    name: str = ""


def schema(**kw: Any) -> ResourceSchema:
    return ResourceSchema(type_name="x_thing", mode=Mode.MANAGED, model=Args, **kw)


class FakePreviewer:
    """A provider that answers previews only (the engine's side is under test, not a cloud)."""

    def __init__(self) -> None:
        self.requests: list[PreviewRequest] = []

    def preview(self, request: PreviewRequest) -> ChangePreview:
        self.requests.append(request)
        return ChangePreview(payload={"n": 2}, lines=("- two things",), note="2 to go", pending=True)


def change(action: Action, name: str = "a", type_name: str = "x_thing") -> ResourceChange:
    return ResourceChange(
        address=Address.parse(f"{type_name}.{name}"),
        action=action,
        type_name=type_name,
        before={"name": name},
        after={"name": name, "id": "x"},
    )


def test_preview_fills_the_change_and_pending_work_is_an_update() -> None:
    plan = Plan(stack="s", changes=[change(Action.NOOP)])
    provider = FakePreviewer()
    schemas: Mapping[tuple[Mode, str], ResourceSchema] = {(Mode.MANAGED, "x_thing"): schema(previewed=True)}
    add_previews(plan, schemas=schemas, providers={"x": provider})  # type: ignore[dict-item]
    (c,) = plan.changes
    assert (c.action, c.payload, c.lines, c.note) == (Action.UPDATE, {"n": 2}, ["- two things"], "2 to go")
    assert provider.requests[0].config == {"name": "a"}  # arguments only
    assert [o.address for o in provider.requests[0].related.objects()] == ["x_thing.a"]


def test_hazards_become_plan_warnings_for_changes_only() -> None:
    def hazards(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[str]:
        return [f"{after['name']} is dangerous"]

    plan = Plan(stack="s", changes=[change(Action.CREATE, "a"), change(Action.NOOP, "b")])
    add_previews(plan, schemas={(Mode.MANAGED, "x_thing"): schema(hazards=hazards)}, providers={})
    assert plan.hazards == ["a is dangerous"]


def test_after_rollouts_types_wait_for_every_rolling_block() -> None:
    plan = Plan(
        stack="s",
        changes=[change(Action.ROLLOUT, "web", "y_fleet"), change(Action.UPDATE, "prune")],
    )
    graph: dict[str, set[str]] = {"y_fleet.web": set(), "x_thing.prune": set()}
    after_rollouts(graph, plan, {(Mode.MANAGED, "x_thing"): schema(after_rollouts=True)})
    assert graph == {"y_fleet.web": set(), "x_thing.prune": {"y_fleet.web"}}


def test_a_rollout_planned_on_an_unknown_image_is_given_the_image_at_apply() -> None:
    from reconciler.rollout.model import RolloutStep, StepKind
    from reconciler.rollout.resolve import with_new_release
    from reconciler.sdk import UNKNOWN_IMAGE, Release
    from tests.render import fleet_rollout

    plan = fleet_rollout().plan
    unknown = Release(UNKNOWN_IMAGE, UNKNOWN_IMAGE, "", "t3.micro", 2)
    plan.new = unknown
    plan.steps = [
        RolloutStep(kind=StepKind.WAIT_HEALTHY, image_id=UNKNOWN_IMAGE),
        RolloutStep(kind=StepKind.PAUSE),
    ]
    known = Release("ami-new", "app-1.1.0", "1.1.0", "t3.micro", 2)
    resolved = with_new_release(plan, known)
    assert resolved.new.image_id == "ami-new"
    assert [s.image_id for s in resolved.steps] == ["ami-new", ""]
    assert with_new_release(resolved, Release("ami-other", "x", "", "t3.micro", 2)) is resolved  # known stays
