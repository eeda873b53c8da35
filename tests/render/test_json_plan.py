"""The JSON plan (issue 5, item 2): a documented, versioned document that validates against
docs/plan-json.schema.json, shows unknowns as null + after_unknown, never prints a secret (nor its
digest), and carries each fleet's rollout (strategy, old/new AMI, steps, replacements, rollback)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from reconciler.address import Address, Mode
from reconciler.planning.model import Action, AttributeDiff, OutputChange, Plan, ResourceChange
from reconciler.render.json_plan import FORMAT_VERSION, plan_document, summary_line
from reconciler.rollout.change import CleanupChange, RolloutChange
from reconciler.rollout.model import RolloutStep, StepKind
from reconciler.rollout.progress import Phase, RolloutProgress
from reconciler.values import UNKNOWN, sensitive_digest
from tests.render import DIGEST, NEW_AMI, OLD_AMI, SECRET, fleet_rollout, review_plan

DOCS = Path(__file__).resolve().parents[2] / "docs"
SCHEMA = json.loads((DOCS / "plan-json.schema.json").read_text())


def validate(document: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    validator = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def by_address(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["address"]: c for c in document["resource_changes"]}


def test_review_plan_validates_and_round_trips_through_json() -> None:
    document = plan_document(review_plan())
    validate(document)
    text = json.dumps(document, allow_nan=False)
    assert json.loads(text) == document
    assert document["format_version"] == FORMAT_VERSION
    actions = {c["address"]: c["action"] for c in document["resource_changes"]}
    assert actions == {
        "aws_target_group.api": "create",
        "aws_launch_template.web": "update",
        'aws_launch_template.worker["batch"]': "replace",
        "aws_target_group.old": "delete",
        "aws_fleet.web": "rollout",
        "aws_target_group.web": "no-op",
    }


def test_no_secret_and_no_digest_anywhere() -> None:
    plan = review_plan()
    text = json.dumps(plan_document(plan)) + summary_line(plan)
    assert SECRET not in text
    assert DIGEST not in text
    assert "sha256:" not in text  # no digest of any secret, whichever


@pytest.mark.parametrize(
    ("address", "side", "path", "expected"),
    [
        ("aws_launch_template.web", "before_sensitive", ["user_data"], True),
        ("aws_launch_template.web", "after_sensitive", ["user_data"], True),
        ('aws_launch_template.worker["batch"]', "after_sensitive", ["user_data"], True),
        ("aws_target_group.api", "after_sensitive", [], {}),
        ("aws_target_group.api", "before_sensitive", [], False),  # no before at all
        ("aws_target_group.old", "after_sensitive", [], False),
    ],
)
def test_sensitive_marks(address: str, side: str, path: list[str], expected: Any) -> None:
    change = by_address(plan_document(review_plan()))[address]
    node = change[side]
    for part in path:
        node = node[part]
    assert node == expected
    if path:
        value_side = "before" if side == "before_sensitive" else "after"
        assert change[value_side][path[0]] is None
        assert path[0] in change["sensitive_paths"]


@pytest.mark.parametrize(
    ("address", "after_unknown", "after_values"),
    [
        (
            "aws_target_group.api",
            {"arn": True, "id": True, "health_check": {"matcher": True}, "target_ids": [False, True]},
            {"arn": None, "id": None, "port": 8080, "target_ids": ["i-1", None]},
        ),
        ('aws_launch_template.worker["batch"]', {"id": True, "default_version": True}, {"id": None}),
        ("aws_launch_template.web", {}, {"default_version": 8}),
        ("aws_target_group.old", False, None),
    ],
)
def test_unknown_values_are_null_and_marked(
    address: str, after_unknown: Any, after_values: dict[str, Any] | None
) -> None:
    change = by_address(plan_document(review_plan()))[address]
    assert change["after_unknown"] == after_unknown
    if after_values is None:
        assert change["after"] is None
    else:
        for key, value in after_values.items():
            assert change["after"][key] == value


@pytest.mark.parametrize(
    ("address", "index", "mode", "reason"),
    [
        ("aws_target_group.api", None, "managed", None),
        ('aws_launch_template.worker["batch"]', "batch", "managed", "replace_because_cannot_update"),
        ("aws_target_group.old", None, "managed", "delete_because_no_resource_config"),
        ("aws_fleet.web", None, "managed", "rollout_because_launch_template_changed"),
    ],
)
def test_identity_fields(address: str, index: Any, mode: str, reason: str | None) -> None:
    change = by_address(plan_document(review_plan()))[address]
    assert (change["index"], change["mode"], change["action_reason"]) == (index, mode, reason)
    parsed = Address.parse(address)
    assert (change["type"], change["name"]) == (parsed.type, parsed.name)


def test_count_index_is_an_integer() -> None:
    plan = Plan(
        stack="s",
        changes=[
            ResourceChange(
                address=Address("aws_launch_template", "w", 3),
                action=Action.CREATE,
                type_name="aws_launch_template",
                after={"name": "w-3", "id": UNKNOWN},
            )
        ],
    )
    document = plan_document(plan)
    validate(document)
    assert document["resource_changes"][0]["index"] == 3
    assert document["resource_changes"][0]["address"] == "aws_launch_template.w[3]"


def test_changed_attributes_hide_secrets_and_unknowns() -> None:
    changes = by_address(plan_document(review_plan()))
    web = {d["path"]: d for d in changes["aws_launch_template.web"]["changed_attributes"]}
    assert web["image_id"] == {
        "path": "image_id",
        "before": OLD_AMI,
        "after": NEW_AMI,
        "after_unknown": False,
        "sensitive": False,
        "forces_replacement": False,
    }
    assert (web["user_data"]["before"], web["user_data"]["after"], web["user_data"]["sensitive"]) == (
        None,
        None,
        True,
    )
    worker = {d["path"]: d for d in changes['aws_launch_template.worker["batch"]']["changed_attributes"]}
    assert worker["name"]["forces_replacement"] is True
    assert (worker["id"]["after"], worker["id"]["after_unknown"]) == (None, True)
    assert changes['aws_launch_template.worker["batch"]']["replace_paths"] == ["name"]


def test_rollout_object() -> None:
    rollout = by_address(plan_document(review_plan()))["aws_fleet.web"]["rollout"]
    assert rollout["strategy"] == "blue_green"
    assert (rollout["group"], rollout["new_group"]) == ("web-g0007", "web-g0008")
    assert rollout["old"] == {
        "id": OLD_AMI,
        "name": "app-1.4.2",
        "version": "1.4.2",
        "creation_date": "2026-11-20T10:00:00.000Z",
        "instance_type": "t3.micro",
        "launch_template_version": 7,
    }
    assert rollout["new"]["id"] == NEW_AMI and rollout["new"]["name"] == "app-1.5.0"
    assert rollout["new"]["creation_date"] == "2026-11-22T10:00:00.000Z"
    assert rollout["instances_to_replace"] == 12 == len(rollout["instance_ids_to_replace"])
    assert [s["kind"] for s in rollout["steps"]][:3] == ["create_group", "attach", "wait_healthy"]
    assert all(s["description"] for s in rollout["steps"])
    assert rollout["stages"][0] == {
        "number": 1,
        "description": "create web-g0008 at 12, attach to target group web",
    }
    assert (rollout["min_duration_seconds"], rollout["max_duration_seconds"]) == (0, 900)
    assert rollout["health_gates"] == ["InService", "target healthy", "alarm web-5xx OK"]
    assert rollout["rollback"]["description"] == "web-g0007 on launch template version 7 (app-1.4.2)"
    assert rollout["rollback"]["image_id"] == OLD_AMI
    assert rollout["resume"] is None


def test_resumed_rollout_says_where_it_resumes() -> None:
    plan = fleet_rollout(instances=4).plan
    progress = RolloutProgress(phase=Phase.IN_PROGRESS, step_index=2)
    change = ResourceChange(
        address=Address("aws_fleet", "web"),
        action=Action.ROLLOUT,
        type_name="aws_fleet",
        rollout=RolloutChange(plan=plan, resume=progress),
    )
    document = plan_document(Plan(stack="s", changes=[change]))
    validate(document)
    assert document["resource_changes"][0]["rollout"]["resume"] == {"phase": "in_progress", "step": 3}


def test_cleanup_update_lists_the_groups() -> None:
    step = RolloutStep(StepKind.DELETE_GROUP, group="web-g0007", stage=1, description="delete web-g0007")
    change = ResourceChange(
        address=Address("aws_fleet", "web"),
        action=Action.CLEANUP,
        type_name="aws_fleet",
        cleanup=CleanupChange(plan=fleet_rollout(instances=4).plan, steps=(step,)),
    )
    document = plan_document(Plan(stack="s", changes=[change]))
    validate(document)
    got = document["resource_changes"][0]
    assert got["cleanup_groups"] == ["web-g0007"]
    assert got["rollout"] is None
    assert got["action"] == "update"  # document 1.0: the fleet is changed in place
    assert got["note"] == "delete web-g0007, kept 1h 0m 0s for rollback after the last rollout"


def test_data_sources_outputs_and_drift() -> None:
    document = plan_document(review_plan())
    ami = document["data_sources"][0]
    assert (ami["address"], ami["id"], ami["previous_id"], ami["changed"]) == (
        "data.aws_ami.app",
        NEW_AMI,
        OLD_AMI,
        True,
    )
    assert ami["explanation"] == "newest of 3 images named app-* with Version in >=1.4,<2"
    assert document["data_sources"][1]["changed"] is False
    outputs = document["output_changes"]
    assert outputs["db_password"] == {
        "action": "update",
        "before": None,
        "after": None,
        "after_unknown": False,
        "sensitive": True,
    }
    assert (outputs["api_arn"]["action"], outputs["api_arn"]["after_unknown"]) == ("create", True)
    assert outputs["stack"]["action"] == "no-op"
    drift = {d["address"]: d for d in document["resource_drift"]}
    assert drift["aws_fleet.web"]["after"]["user_data"] is None
    assert drift["aws_fleet.web"]["after_sensitive"] == {"user_data": True}
    assert drift["aws_target_group.gone"]["kind"] == "deleted"


@pytest.mark.parametrize(
    ("plan", "summary"),
    [
        (
            review_plan(),
            {"add": 2, "change": 1, "destroy": 2, "rollout": 1, "instances": 12, "has_changes": True},
        ),
        (
            Plan(stack="s"),
            {"add": 0, "change": 0, "destroy": 0, "rollout": 0, "instances": 0, "has_changes": False},
        ),
        (
            Plan(stack="s", outputs=[OutputChange("x", 1, 2)]),
            {"add": 0, "change": 0, "destroy": 0, "rollout": 0, "instances": 0, "has_changes": True},
        ),
    ],
)
def test_summary_line_is_one_line_of_json(plan: Plan, summary: dict[str, Any]) -> None:
    line = summary_line(plan)
    assert "\n" not in line and " " not in line
    assert json.loads(line) == summary == plan_document(plan)["summary"]


@pytest.mark.parametrize(
    ("plan", "mode"),
    [
        (Plan(stack="s"), "normal"),
        (Plan(stack="s", destroy=True), "destroy"),
        (Plan(stack="s", refresh_only=True), "refresh_only"),
    ],
)
def test_plan_mode_and_empty_plans_validate(plan: Plan, mode: str) -> None:
    document = plan_document(plan)
    validate(document)
    assert document["plan_mode"] == mode
    assert document["has_changes"] is False


def test_digests_are_hidden_even_where_no_path_says_sensitive() -> None:
    """A digest is a secret's fingerprint: wherever one turns up, it is hidden and marked."""
    change = ResourceChange(
        address=Address("aws_launch_template", "t"),
        action=Action.UPDATE,
        type_name="aws_launch_template",
        before={"nested": {"token": sensitive_digest("a")}, "list": [sensitive_digest("b"), "ok"]},
        after={"nested": {"token": sensitive_digest("c")}, "list": ["ok"]},
        diffs=[AttributeDiff("nested.token", sensitive_digest("a"), sensitive_digest("c"))],
    )
    document = plan_document(Plan(stack="s", changes=[change]))
    validate(document)
    rc = document["resource_changes"][0]
    assert rc["before"] == {"nested": {"token": None}, "list": [None, "ok"]}
    assert rc["before_sensitive"] == {"nested": {"token": True}, "list": [True, False]}
    assert rc["sensitive_paths"] == ["list.0", "nested.token"]
    assert rc["changed_attributes"][0]["sensitive"] is True
    assert "sha256:" not in json.dumps(document)


def test_data_source_index_and_deferred_read() -> None:
    from reconciler.planning.model import DataRead

    read = DataRead(
        address=Address("aws_ami", "app", "eu", Mode.DATA),
        type_name="aws_ami",
        attributes={},
        deferred=True,
        explanation="read during apply: its arguments are known only then",
    )
    document = plan_document(Plan(stack="s", data=[read]))
    validate(document)
    assert document["data_sources"][0] | {"explanation": None} == {
        "address": 'data.aws_ami.app["eu"]',
        "mode": "data",
        "type": "aws_ami",
        "name": "app",
        "index": "eu",
        "id": None,
        "deferred": True,
        "explanation": None,
        "attributes": None,
        "previous_id": None,
        "previous_attributes": None,
        "changed": False,
    }


def _schema_fields(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                found.update(value)
            found |= _schema_fields(value)
    elif isinstance(node, list):
        for item in node:
            found |= _schema_fields(item)
    return found


def test_every_field_of_the_schema_is_documented() -> None:
    doc = (DOCS / "plan-json.md").read_text()
    documented = set(re.findall(r"`([a-z_]+)`", doc))
    missing = sorted(_schema_fields(SCHEMA) - documented)
    assert not missing, f"fields not documented in docs/plan-json.md: {missing}"
    produced = set(plan_document(review_plan())) | set(SCHEMA["properties"])
    assert produced == set(SCHEMA["properties"])


@pytest.mark.parametrize(("strategy", "stages"), [("rolling", 5), ("blue_green", 3), ("canary", 3)])
def test_every_strategy_validates(strategy: str, stages: int) -> None:
    from tests.rollout.builders import plan_for

    rollout = RolloutChange(plan=plan_for(4, strategy=strategy, max_surge=1, steps=[25, 50, 100]))
    change = ResourceChange(
        address=Address("aws_fleet", "web"), action=Action.ROLLOUT, type_name="aws_fleet", rollout=rollout
    )
    document = plan_document(Plan(stack="s", changes=[change]))
    validate(document)
    got = document["resource_changes"][0]["rollout"]
    assert got["strategy"] == strategy
    assert len(got["stages"]) == stages
    assert (got["new_group"] is None) == (strategy == "rolling")


def test_a_new_image_known_only_after_apply() -> None:
    from reconciler.rollout.model import Release
    from reconciler.rollout.plan import expand_rollout
    from reconciler.sdk.rollout_block import RolloutConfig
    from tests.rollout.builders import OLD, fleet

    unknown = Release("(known after apply)", "(known after apply)", "", "t3.micro", 0)
    plan = expand_rollout(
        config=RolloutConfig(),
        fleet=fleet(2),
        old=OLD,
        new=unknown,
        fleet_name="web",
        green_group="web-g0008",
    )
    change = ResourceChange(
        address=Address("aws_fleet", "web"),
        action=Action.ROLLOUT,
        type_name="aws_fleet",
        rollout=RolloutChange(plan=plan),
    )
    document = plan_document(Plan(stack="s", changes=[change]))
    validate(document)
    new = document["resource_changes"][0]["rollout"]["new"]
    assert (new["id"], new["name"], new["launch_template_version"]) == (None, None, None)
