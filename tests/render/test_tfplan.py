"""`plan --format json` (issue 12): Terraform's plan JSON, format 1.2, one line like Terraform,
validated by docs/plan-json.schema.json; AWS types named and shaped as the AWS provider has them;
a fleet also pictured as its auto-scaling group; unknowns and secrets left out and flagged (a
secret never written, nor its digest); everything reconciler-only under the `reconciler` key."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from reconciler.address import Address, Mode
from reconciler.planning.model import (
    Action,
    ActionReason,
    AttributeDiff,
    DataRead,
    DriftEntry,
    DriftKind,
    OutputChange,
    Plan,
    ResourceChange,
)
from reconciler.render.tfplan import plan_json, render_json
from reconciler.rollout.change import CleanupChange, RolloutChange
from reconciler.rollout.model import RolloutStep, StepKind
from reconciler.rollout.progress import Phase, RolloutProgress
from reconciler.values import sensitive_digest
from tests.render import DIGEST, NEW_AMI, OLD_AMI, SECRET, fleet_rollout, review_plan

DOCS = Path(__file__).resolve().parents[2] / "docs"
SCHEMA = json.loads((DOCS / "plan-json.schema.json").read_text())
CONFIGURATION = {  # what plan time records for review_plan's stack (db_password is sensitive)
    "configuration": {
        "provider_config": {"aws": {"name": "aws", "full_name": "registry.terraform.io/hashicorp/aws"}},
        "root_module": {"variables": {"db_password": {"sensitive": True}}},
    },
    "checks": [],
}


def validate(document: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    errors = sorted(jsonschema.Draft202012Validator(SCHEMA).iter_errors(document), key=lambda e: e.json_path)
    assert not errors, "\n".join(f"{e.json_path}: {e.message}" for e in errors)


def document(plan: Plan | None = None) -> dict[str, Any]:
    if plan is None:
        plan = review_plan()
        plan.configuration = CONFIGURATION
    doc = plan_json(plan)
    validate(doc)
    return doc


def changes(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["address"]: c for c in doc["resource_changes"]}


def state_resources(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["address"]: r for r in values["root_module"].get("resources", [])}


def test_terraform_keys_in_terraform_order_and_one_line() -> None:
    plan = review_plan()
    plan.configuration = CONFIGURATION
    text = render_json(plan)
    assert text.endswith("\n") and text.count("\n") == 1
    doc = json.loads(text)
    assert list(doc) == [
        "format_version",
        "terraform_version",
        "variables",
        "planned_values",
        "resource_drift",
        "resource_changes",
        "output_changes",
        "prior_state",
        "configuration",
        "timestamp",
        "applyable",
        "complete",
        "errored",
        "reconciler",
    ]
    assert (doc["format_version"], doc["terraform_version"], doc["errored"]) == ("1.2", "1.11.4", False)
    assert doc["applyable"] is True and doc["complete"] is True
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", doc["timestamp"])
    assert (
        json.loads(render_json(plan, pretty=True)) == doc and render_json(plan, pretty=True).count("\n") > 50
    )


def test_actions_and_reasons_in_terraform_words() -> None:
    got = {a: (c["change"]["actions"], c.get("action_reason")) for a, c in changes(document()).items()}
    assert got == {
        "aws_fleet.web": (["update"], None),  # a rollout updates the fleet in place
        "aws_launch_template.web": (["update"], None),
        'aws_launch_template.worker["batch"]': (["delete", "create"], "replace_because_cannot_update"),
        "aws_target_group.api": (["create"], None),
        "aws_target_group.old": (["delete"], "delete_because_no_resource_config"),
        "aws_target_group.web": (["no-op"], None),
    }
    extension = document()["reconciler"]["resources"]
    assert extension["aws_fleet.web"]["action"] == "rollout"
    assert extension["aws_fleet.web"]["action_reason"] == "rollout_because_launch_template_changed"


def test_create_before_destroy_replaces_in_that_order_and_paths_are_arrays() -> None:
    plan = review_plan()
    batch = next(c for c in plan.changes if c.address.key == "batch")
    batch.create_before_destroy = True
    change = changes(document(plan))['aws_launch_template.worker["batch"]']
    assert change["change"]["actions"] == ["create", "delete"]
    assert change["change"]["replace_paths"] == [["name"]]


def test_deleting_a_for_each_or_count_instance_says_which() -> None:
    def deleted(key: str | int) -> dict[str, Any]:
        change = ResourceChange(
            address=Address("aws_launch_template", "w", key),
            action=Action.DELETE,
            type_name="aws_launch_template",
            reason=ActionReason.DELETE_BECAUSE_NO_INSTANCE,
            before={"name": "w"},
        )
        return changes(document(Plan(stack="s", changes=[change])))[str(change.address)]

    assert deleted("queue")["action_reason"] == "delete_because_each_key"
    assert deleted(3)["action_reason"] == "delete_because_count_index" and deleted(3)["index"] == 3


def test_launch_templates_have_the_aws_providers_names_and_shapes() -> None:
    plan = review_plan()
    web = next(c for c in plan.changes if str(c.address) == "aws_launch_template.web")
    assert web.after is not None
    web.after |= {"security_group_ids": ["sg-1"], "metadata_options": {"http_tokens": "required"}}
    web.after |= {"iam_instance_profile": "app", "latest_version_digest": "abc"}
    after = changes(document(plan))["aws_launch_template.web"]["change"]["after"]
    assert after["vpc_security_group_ids"] == ["sg-1"] and "security_group_ids" not in after
    assert after["metadata_options"] == [{"http_tokens": "required"}]
    assert after["iam_instance_profile"] == [{"name": "app"}]
    assert after["block_device_mappings"] == [
        {"device_name": "/dev/xvda", "ebs": [{"encrypted": "true", "volume_size": 8}]}
    ]
    assert "latest_version_digest" not in after and "block_device_mapping" not in after
    worker = changes(document(plan))['aws_launch_template.worker["batch"]']["change"]["after"]
    assert "metadata_options" not in worker  # the review plan's worker has no block at all


def test_target_groups_are_lb_target_groups_and_fleets_autoscaling_groups_in_planned_values() -> None:
    doc = document()
    assert changes(doc)["aws_target_group.api"]["type"] == "aws_lb_target_group"
    assert changes(doc)["aws_target_group.api"]["change"]["after"]["health_check"] == [
        {"enabled": True, "path": "/healthz"}
    ]
    assert changes(doc)["aws_fleet.web"]["type"] == "aws_fleet"  # its own arguments, rollout and all
    planned = state_resources(doc["planned_values"])
    assert planned["aws_fleet.web"]["type"] == "aws_autoscaling_group"
    assert planned["aws_fleet.web"]["schema_version"] == 1
    group = planned["aws_fleet.web"]["values"]
    assert group["desired_capacity"] == 12 and "instances" not in group
    assert "aws_target_group.old" not in planned  # deleted: not in the state after apply
    prior = state_resources(doc["prior_state"]["values"])
    assert prior["aws_target_group.old"]["type"] == "aws_lb_target_group"
    assert prior["data.aws_ami.app"]["values"]["image_id"] == NEW_AMI
    assert prior["data.aws_vpc.default"]["values"] == {"default": True, "id": "vpc-1"}


def test_unknowns_are_left_out_and_marked_as_terraform_does() -> None:
    api = changes(document())["aws_target_group.api"]["change"]
    assert "arn" not in api["after"] and "id" not in api["after"]
    assert api["after_unknown"]["arn"] is True and api["after_unknown"]["health_check"] == [{"matcher": True}]
    assert api["after"]["health_check"] == [{"enabled": True, "path": "/healthz"}]
    noop = changes(document())["aws_target_group.web"]["change"]
    assert noop["after_unknown"] == {} and noop["before_sensitive"] == {}
    gone = changes(document())["aws_target_group.old"]["change"]
    assert (gone["after"], gone["after_unknown"], gone["after_sensitive"]) == (None, {}, False)


def test_no_secret_nor_digest_anywhere_and_sensitive_places_flagged() -> None:
    plan = review_plan()
    plan.configuration = CONFIGURATION
    for text in (render_json(plan), render_json(plan, pretty=True)):
        assert SECRET not in text and DIGEST not in text and "sha256:" not in text
    doc = json.loads(render_json(plan))
    web = changes(doc)["aws_launch_template.web"]["change"]
    assert "user_data" not in web["before"] and "user_data" not in web["after"]
    assert web["before_sensitive"]["user_data"] is True and web["after_sensitive"]["user_data"] is True
    assert doc["variables"] == {"db_password": {}}
    assert doc["output_changes"]["db_password"] == {
        "actions": ["update"],
        "after_unknown": False,
        "before_sensitive": True,
        "after_sensitive": True,
    }
    assert state_resources(doc["planned_values"])["aws_launch_template.web"]["sensitive_values"]["user_data"]
    drift = {d["address"]: d for d in doc["resource_drift"]}
    assert drift["aws_fleet.web"]["change"]["after_sensitive"] == {"user_data": True}
    assert drift["aws_fleet.web"]["change"]["before"] == {"desired_capacity": 4, "name": "web"}


def test_digests_are_hidden_even_where_no_path_says_sensitive() -> None:
    change = ResourceChange(
        address=Address("aws_launch_template", "t"),
        action=Action.UPDATE,
        type_name="aws_launch_template",
        before={
            "tags": {"Token": sensitive_digest("a")},
            "security_group_ids": [sensitive_digest("b"), "sg"],
        },
        after={"tags": {"Token": sensitive_digest("c")}, "security_group_ids": ["sg"]},
        diffs=[AttributeDiff("tags.Token", sensitive_digest("a"), sensitive_digest("c"))],
    )
    doc = document(Plan(stack="s", changes=[change]))
    rc = changes(doc)["aws_launch_template.t"]["change"]
    assert rc["before"] == {"tags": {}, "vpc_security_group_ids": [None, "sg"]}
    assert rc["before_sensitive"] == {"tags": {"Token": True}, "vpc_security_group_ids": [True, False]}
    assert "sha256:" not in json.dumps(doc)


def test_outputs_in_terraform_shape() -> None:
    outputs = document()["output_changes"]
    assert outputs["fleet_ami"] == {
        "actions": ["update"],
        "before": "app-1.4.2",
        "after": "app-1.5.0",
        "after_unknown": False,
        "before_sensitive": False,
        "after_sensitive": False,
    }
    assert outputs["api_arn"]["actions"] == ["create"] and "after" not in outputs["api_arn"]
    assert outputs["api_arn"]["after_unknown"] is True and outputs["stack"]["actions"] == ["no-op"]
    planned = document()["planned_values"]["outputs"]
    assert planned["fleet_ami"] == {"sensitive": False, "type": "string", "value": "app-1.5.0"}
    assert planned["api_arn"] == {"sensitive": False} and planned["db_password"] == {"sensitive": True}


def test_go_escapes_html_characters_as_terraform_does() -> None:
    change = ResourceChange(
        address=Address("aws_target_group", "t"),
        action=Action.CREATE,
        type_name="aws_target_group",
        after={"name": "t", "tags": {"Note": "a<b>&c é"}},
    )
    text = render_json(Plan(stack="s", changes=[change]))
    assert "a\\u003cb\\u003e\\u0026c é" in text and "<" not in text
    assert json.loads(text)["resource_changes"][0]["change"]["after"]["tags"]["Note"] == "a<b>&c é"


def test_rollout_cleanup_ami_choices_and_drift_kinds_are_in_the_extension() -> None:
    ext = document()["reconciler"]
    rollout = ext["resources"]["aws_fleet.web"]["rollout"]
    assert rollout["strategy"] == "blue_green" and (rollout["group"], rollout["new_group"]) == (
        "web-g0007",
        "web-g0008",
    )
    assert rollout["old"]["id"] == OLD_AMI and rollout["new"]["name"] == "app-1.5.0"
    assert rollout["new"]["creation_date"] == "2026-11-22T10:00:00.000Z"
    assert rollout["instances_to_replace"] == 12 == len(rollout["instance_ids_to_replace"])
    assert rollout["rollback"]["description"] == "web-g0007 on launch template version 7 (app-1.4.2)"
    assert ext["summary"] == {
        "add": 2,
        "change": 1,
        "destroy": 2,
        "rollout": 1,
        "instances": 12,
        "has_changes": True,
    }
    ami = ext["data_sources"][0]
    assert (ami["id"], ami["previous_id"], ami["changed"]) == (NEW_AMI, OLD_AMI, True)
    assert ami["explanation"] == "newest of 3 images named app-* with Version in >=1.4,<2"
    assert {d["address"]: d["kind"] for d in ext["drift"]} == {
        "aws_fleet.web": "updated",
        "aws_target_group.gone": "deleted",
    }
    assert ext["fingerprints"] == {} and ext["prior_state"] == {
        "lineage": review_plan().lineage,
        "serial": 42,
    }


def test_resumed_rollout_and_kept_group_cleanup() -> None:
    plan = fleet_rollout(instances=4).plan
    resumed = ResourceChange(
        address=Address("aws_fleet", "web"),
        action=Action.ROLLOUT,
        type_name="aws_fleet",
        rollout=RolloutChange(plan=plan, resume=RolloutProgress(phase=Phase.IN_PROGRESS, step_index=2)),
    )
    step = RolloutStep(StepKind.DELETE_GROUP, group="api-g0007", stage=1, description="delete api-g0007")
    cleanup = ResourceChange(
        address=Address("aws_fleet", "api"),
        action=Action.CLEANUP,
        type_name="aws_fleet",
        cleanup=CleanupChange(plan=plan, steps=(step,)),
    )
    doc = document(Plan(stack="s", changes=[resumed, cleanup]))
    ext = doc["reconciler"]["resources"]
    # Terraform has no word for deleting a kept group: the fleet is changed in place.
    assert {c["address"]: c["change"]["actions"] for c in doc["resource_changes"]}["aws_fleet.api"] == [
        "update"
    ]
    assert ext["aws_fleet.web"]["rollout"]["resume"] == {"phase": "in_progress", "step": 3}
    assert ext["aws_fleet.api"]["cleanup_groups"] == ["api-g0007"] and ext["aws_fleet.api"]["rollout"] is None


@pytest.mark.parametrize(("strategy", "stages"), [("rolling", 5), ("blue_green", 3), ("canary", 3)])
def test_every_strategy_validates(strategy: str, stages: int) -> None:
    from tests.rollout.builders import plan_for

    rollout = RolloutChange(plan=plan_for(4, strategy=strategy, max_surge=1, steps=[25, 50, 100]))
    change = ResourceChange(
        address=Address("aws_fleet", "web"), action=Action.ROLLOUT, type_name="aws_fleet", rollout=rollout
    )
    got = document(Plan(stack="s", changes=[change]))["reconciler"]["resources"]["aws_fleet.web"]["rollout"]
    assert (got["strategy"], len(got["stages"]), got["new_group"] is None) == (
        strategy,
        stages,
        strategy == "rolling",
    )


@pytest.mark.parametrize(
    ("plan", "mode", "applyable", "complete"),
    [
        (Plan(stack="s"), "normal", False, True),
        (Plan(stack="s", destroy=True), "destroy", False, True),
        (Plan(stack="s", refresh_only=True), "refresh_only", False, True),
        (
            Plan(stack="s", targets=["aws_fleet.web"], outputs=[OutputChange("x", 1, 2)]),
            "normal",
            True,
            False,
        ),
    ],
)
def test_empty_keys_are_left_out_and_flags_say_what_the_plan_is(
    plan: Plan, mode: str, applyable: bool, complete: bool
) -> None:
    doc = document(plan)
    assert (doc["reconciler"]["plan_mode"], doc["applyable"], doc["complete"]) == (mode, applyable, complete)
    for key in (
        "resource_changes",
        "resource_drift",
        "relevant_attributes",
        "checks",
        "variables",
    ):
        assert key not in doc
    assert ("prior_state" in doc) == bool(plan.outputs)  # an output's value before the plan
    assert doc["planned_values"] == (
        {"outputs": {"x": {"sensitive": False, "type": "number", "value": 2}}, "root_module": {}}
        if plan.outputs
        else {"root_module": {}}
    )


def test_a_deferred_data_source_is_read_during_apply() -> None:
    read = DataRead(
        address=Address("aws_ami", "app", "eu", Mode.DATA), type_name="aws_ami", attributes={}, deferred=True
    )
    rc = document(Plan(stack="s", data=[read]))["resource_changes"][0]
    assert (rc["address"], rc["mode"], rc["index"], rc["action_reason"]) == (
        'data.aws_ami.app["eu"]',
        "data",
        "eu",
        "read_because_config_unknown",
    )
    assert rc["change"]["actions"] == ["read"] and rc["change"]["after_unknown"] is True


def test_ownership_drift_is_only_in_the_extension() -> None:
    entry = DriftEntry(
        address=Address("aws_fleet", "web"),
        kind=DriftKind.OWNERSHIP,
        diffs=[AttributeDiff("tags.reconciler:stack", "s", "other")],
    )
    doc = document(Plan(stack="s", drift=[entry]))
    assert "resource_drift" not in doc
    assert doc["reconciler"]["drift"][0]["kind"] == "ownership"


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


def test_every_field_of_the_schema_is_documented_and_no_object_is_closed() -> None:
    text = (DOCS / "plan-json.md").read_text()
    documented = set(re.findall(r"`([a-z_]+)`", text))
    missing = sorted(_schema_fields(SCHEMA) - documented)
    assert not missing, f"fields not documented in docs/plan-json.md: {missing}"
    assert '"additionalProperties": false' not in (DOCS / "plan-json.schema.json").read_text()
    assert set(document()) <= set(SCHEMA["properties"])


def test_unknown_image_in_a_rollout_is_null() -> None:
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
        green_group="web-g0002",
    )
    change = ResourceChange(
        address=Address("aws_fleet", "web"),
        action=Action.ROLLOUT,
        type_name="aws_fleet",
        rollout=RolloutChange(plan=plan),
    )
    new = document(Plan(stack="s", changes=[change]))["reconciler"]["resources"]["aws_fleet.web"]["rollout"][
        "new"
    ]
    assert (new["id"], new["name"], new["launch_template_version"]) == (None, None, None)
