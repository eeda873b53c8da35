"""Saved plan files: a Plan survives the round trip through JSON exactly (UNKNOWN, addresses,
enums, typed rollouts and cleanups, labels, keyed digests of sensitive values), and no secret gets
in (sensitive arguments, diffs, outputs, variables): what the planner did not conceal is redacted."""

from __future__ import annotations

import json
import stat
import textwrap
from pathlib import Path
from typing import Any

import pytest

from reconciler.address import Address
from reconciler.config import load_stack
from reconciler.errors import PlanFileError
from reconciler.planning.model import (
    Action,
    ActionReason,
    AttributeDiff,
    DataRead,
    DriftEntry,
    OutputChange,
    Plan,
    ResourceChange,
)
from reconciler.planning.planfile import (
    ConfigDigest,
    config_digest,
    load_plan,
    plan_file_dict,
    plan_file_from_dict,
    referenced_files,
    variable_digest,
    write_plan_file,
)
from reconciler.rollout.change import CleanupChange, RolloutChange
from reconciler.rollout.progress import cleanup_steps
from reconciler.sdk import Label
from reconciler.sensitive import keyed_digest
from reconciler.values import UNKNOWN, Digest, mark, sensitive_digest
from tests.rollout.builders import plan_for

SECRET = "pa55word-very-secret"
KEY = "ab" * 32
CONFIG = ConfigDigest(files={"main.hcl": "sha256:aa"}, variables={"db_password": "sha256:bb"})


def sample_plan() -> Plan:
    template = ResourceChange(
        address=Address.parse('aws_launch_template.web["eu"]'),
        action=Action.UPDATE,
        type_name="aws_launch_template",
        reason=ActionReason.NONE,
        id="lt-1",
        before={"id": "lt-1", "image_id": "ami-1", "user_data": keyed_digest("old", KEY), "tags": {"A": "1"}},
        after={
            "id": "lt-1",
            "image_id": "ami-2",
            "user_data": keyed_digest("new", KEY),
            "tags": {"A": "1", "Token": keyed_digest(SECRET, KEY)},
            "latest": UNKNOWN,
        },
        diffs=[
            AttributeDiff(path="image_id", before="ami-1", after="ami-2"),
            AttributeDiff(path="user_data", before="plain-old", after="plain-new", sensitive=True),
            AttributeDiff(path="latest", before=1, after=UNKNOWN, unknown=True),
        ],
        sensitive_paths=["user_data"],
        depends_on=["data.aws_ami.app"],
        note="new version 2 (default)",
    )
    fleet = ResourceChange(
        address=Address.parse("aws_fleet.web[0]"),
        action=Action.ROLLOUT,
        type_name="aws_fleet",
        reason=ActionReason.ROLLOUT_BECAUSE_LAUNCH_TEMPLATE,
        id="web",
        before={"desired_capacity": 4},
        after={"desired_capacity": 4, "launch_template_version": 2},
        rollout=RolloutChange(plan=plan_for(4, strategy="canary"), update_after=True),
        create_before_destroy=True,
    )
    created = ResourceChange(
        address=Address.parse("aws_target_group.web"),
        action=Action.CREATE,
        type_name="aws_target_group",
        after={"name": "web", "arn": UNKNOWN, "health_check": [{"path": "/"}]},
    )
    return Plan(
        stack="web-prod",
        changes=[fleet, created, template],
        data=[
            DataRead(
                address=Address.parse("data.aws_ami.app"),
                type_name="aws_ami",
                attributes={"id": "ami-2", "name": "app-1.1.0", "tags": {"Version": "1.1.0"}},
                explanation="newest of 2",
                previous={"id": "ami-1"},
                fingerprint="ami-2",
            ),
            DataRead(
                address=Address.parse("data.aws_subnets.x"),
                type_name="aws_subnets",
                attributes={},
                deferred=True,
            ),
        ],
        outputs=[
            OutputChange(name="ami", before="ami-1", after="ami-2"),
            OutputChange(name="password", before=None, after=SECRET, sensitive=True),  # not concealed
            OutputChange(name="token", before=None, after=keyed_digest(SECRET, KEY), sensitive=True),
            OutputChange(name="later", before=None, after=UNKNOWN),
        ],
        drift=[
            DriftEntry(
                address=Address.parse("aws_fleet.web[0]"), kind="updated", after={"desired_capacity": 5}
            )
        ],
        lineage="lin-1",
        serial=7,
        variables={"instance_type": "t3.small", "db_password": mark(SECRET), "sizes": [1, 2]},
        fingerprints={"aws_fleet.web[0]": "web-g1:v1:abc", "data.aws_ami.app": "ami-2"},
        targets=["aws_fleet.web"],
    )


def round_trip(plan: Plan, **kw: Any) -> tuple[dict[str, Any], Plan]:
    doc = plan_file_dict(plan, config=CONFIG, salt="s", sensitive_variables={"db_password"}, **kw)
    text = json.dumps(doc, allow_nan=False)
    return json.loads(text), plan_file_from_dict(json.loads(text)).plan


def test_changes_data_and_drift_survive_the_round_trip_exactly() -> None:
    plan = sample_plan()
    _, back = round_trip(plan)
    assert back.changes[0] == plan.changes[0]  # the typed rollout, enums, create_before_destroy
    assert back.changes[1] == plan.changes[1]  # UNKNOWN leaves
    assert back.changes[1].after is not None and back.changes[1].after["arn"] is UNKNOWN
    assert back.changes[2].address == Address("aws_launch_template", "web", "eu")
    assert back.changes[2].after == plan.changes[2].after
    assert back.changes[2].diffs[0] == plan.changes[2].diffs[0]
    assert back.changes[2].diffs[2].after is UNKNOWN
    assert back.data == plan.data and back.drift == plan.drift
    assert (back.lineage, back.serial, back.targets, back.fingerprints, back.stack) == (
        "lin-1",
        7,
        ["aws_fleet.web"],
        plan.fingerprints,
        "web-prod",
    )
    assert back.has_changes and back.count(Action.ROLLOUT) == 1


def test_a_cleanup_and_the_labels_survive_the_round_trip() -> None:
    rollout = plan_for(4, strategy="blue_green")
    plan = sample_plan()
    plan.changes.append(
        ResourceChange(
            address=Address.parse("aws_fleet.api"),
            action=Action.CLEANUP,
            type_name="aws_fleet",
            id="api",
            cleanup=CleanupChange(plan=rollout, steps=tuple(cleanup_steps(rollout))),
        )
    )
    plan.labels = {"ami-2": Label(id="ami-2", name="app-1.5.0", version="1.5.0", created="2026-11-22")}
    _, back = round_trip(plan)
    assert back.changes[-1] == plan.changes[-1]
    assert back.changes[-1].cleanup is not None and back.changes[-1].cleanup.groups == ("web-g0007",)
    assert back.labels == plan.labels


def test_no_secret_gets_into_the_file() -> None:
    doc, back = round_trip(sample_plan())
    text = json.dumps(doc)
    assert SECRET not in text and "plain-old" not in text and "plain-new" not in text
    for plain in (SECRET, "plain-old", "plain-new", "old", "new"):  # nor their plain digests
        assert (sensitive_digest(plain) or "").removeprefix("sha256:") not in text
    token = doc["changes"][2]["after"]["tags"]["Token"]
    assert token == {"__sensitive__": keyed_digest(SECRET, KEY).text}  # the planner's keyed digest
    diff = doc["changes"][2]["diffs"][1]  # a sensitive diff the planner left in clear: redacted
    assert diff["before"] == {"__redacted__": True} and diff["after"] == {"__redacted__": True}
    assert doc["variables"]["db_password"] == {"sensitive": True, "digest": "sha256:bb"}
    assert doc["variables"]["sizes"] == {"value": [1, 2]}
    password, token_output = back.outputs[1], back.outputs[2]
    assert password.sensitive and password.after is UNKNOWN and password.changed
    assert token_output.after == keyed_digest(SECRET, KEY) and isinstance(token_output.after, Digest)
    assert back.outputs[3].after is UNKNOWN
    assert back.variables["db_password"] == "sha256:bb" and back.variables["instance_type"] == "t3.small"


def test_a_sensitive_argument_that_is_not_concealed_is_redacted() -> None:
    plan = sample_plan()
    assert plan.changes[2].after is not None
    plan.changes[2].after["user_data"] = "#!/bin/sh plain text"
    plan.changes[2].after["marked"] = mark("marked but not concealed")
    doc, back = round_trip(plan)
    assert "plain text" not in json.dumps(doc) and "not concealed" not in json.dumps(doc)
    assert back.changes[2].after is not None
    assert back.changes[2].after["user_data"] is UNKNOWN and back.changes[2].after["marked"] is UNKNOWN


@pytest.mark.parametrize(
    ("where", "value", "redacted"),
    [
        ("tag equal to the secret", SECRET, True),
        ("tag holding the secret", f"prefix-{SECRET}-suffix", True),
        ("unrelated tag", "web", False),
    ],
)
def test_a_value_holding_a_sensitive_variable_is_redacted(where: str, value: str, redacted: bool) -> None:
    plan = sample_plan()
    assert plan.changes[1].after is not None
    plan.changes[1].after["tags"] = {"T": value}
    doc, back = round_trip(plan)
    assert SECRET not in json.dumps(doc), where
    assert back.changes[1].after is not None
    assert (back.changes[1].after["tags"]["T"] is UNKNOWN) is redacted, where


def test_a_short_secret_is_redacted_only_where_it_is_the_whole_value() -> None:
    plan = sample_plan()
    plan.variables["db_password"] = "ab"
    assert plan.changes[1].after is not None
    plan.changes[1].after["tags"] = {"whole": "ab", "inside": "table"}
    _, back = round_trip(plan)
    assert back.changes[1].after is not None
    assert back.changes[1].after["tags"] == {"whole": UNKNOWN, "inside": "table"}


def test_options_and_versions_are_recorded() -> None:
    doc = plan_file_dict(sample_plan(), config=CONFIG, salt="s", replace=["aws_fleet.web[0]"])
    assert doc["kind"] == "reconciler-plan" and doc["format_version"] == 4 and doc["tool_version"]
    assert doc["options"] == {
        "targets": ["aws_fleet.web"],
        "replace": ["aws_fleet.web[0]"],
        "refresh_only": False,
        "destroy": False,
    }
    assert doc["config"] == {"digest": CONFIG.value, "files": CONFIG.files, "variables": CONFIG.variables}
    loaded = plan_file_from_dict(doc)
    assert loaded.replace == ["aws_fleet.web[0]"] and loaded.config == CONFIG and loaded.salt == "s"


def test_the_file_is_written_0600_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    write_plan_file(path, plan_file_dict(sample_plan(), config=CONFIG, salt="s"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_plan(path).plan.changes == plan_file_from_dict(json.loads(path.read_text())).plan.changes


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no plan file at"),
        ("not json", "invalid JSON"),
        ('{"format_version": 1}', "not a reconciler plan file"),
        ('{"kind": "reconciler-plan", "format_version": 99}', "newer than this reconciler"),
        ('{"kind": "reconciler-plan", "format_version": 1}', "made by an older reconciler"),
        ('{"kind": "reconciler-plan", "format_version": 2}', "made by an older reconciler"),
        ('{"kind": "reconciler-plan", "format_version": 3}', "made by an older reconciler"),
        ('{"kind": "reconciler-plan", "format_version": 4}', "damaged"),
    ],
)
def test_bad_plan_files_are_refused_with_a_reason(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "plan.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(PlanFileError, match=message):
        load_plan(path)


STACK_HCL = """
variable "name" {
  type    = string
  default = "web"
}

locals {
  script = file("scripts/boot.sh")
}

data "aws_ami" "app" {
  name = "app-*"
}

resource "aws_launch_template" "web" {
  name      = var.name
  image_id  = data.aws_ami.app.id
  user_data = templatefile("${"init"}.tpl", { name = var.name })
  tags      = { S = local.script, D = file("dynamic-${var.name}.txt") }
}
"""


def stack_in(tmp_path: Path) -> Any:
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "boot.sh").write_text("echo boot\n")
    (tmp_path / "init.tpl").write_text("hello ${name}\n")
    (tmp_path / "main.hcl").write_text(textwrap.dedent(STACK_HCL))
    return load_stack(tmp_path)


def test_the_config_digest_covers_hcl_files_files_they_read_and_variables(tmp_path: Path) -> None:
    stack = stack_in(tmp_path)
    assert referenced_files(stack) == {tmp_path / "scripts" / "boot.sh", tmp_path / "init.tpl"}
    first = config_digest(stack, {"name": "web"}, salt="s", key=KEY)
    assert sorted(first.files) == ["init.tpl", "main.hcl", "scripts/boot.sh"]
    assert first.variables == {"name": variable_digest("web", salt="s", key=KEY)}
    assert config_digest(stack, {"name": "web"}, salt="s", key=KEY) == first

    (tmp_path / "scripts" / "boot.sh").write_text("echo changed\n")
    second = config_digest(stack, {"name": "web"}, salt="s", key=KEY)
    assert second.files["scripts/boot.sh"] != first.files["scripts/boot.sh"]
    assert second.value != first.value
    assert config_digest(stack, {"name": "api"}, salt="s", key=KEY).variables != first.variables


def test_variable_digests_are_salted_and_sensitive_ones_keyed() -> None:
    assert variable_digest("x", salt="a", key=KEY) != variable_digest("x", salt="b", key=KEY)
    assert variable_digest("x", salt="a", key=KEY).startswith("sha256:")
    ordered = variable_digest({"a": 2, "b": 1}, salt="a", key=KEY)
    assert variable_digest({"b": 1, "a": 2}, salt="a", key=KEY) == ordered
    secret = variable_digest(mark(SECRET), salt="a", key=KEY)
    assert secret == keyed_digest(SECRET, KEY).text and secret.startswith("hmac-sha256:")
    assert secret == variable_digest(mark(SECRET), salt="b", key=KEY)  # the key, not the public salt
    assert secret != variable_digest(mark(SECRET), salt="a", key="cd" * 32)
