"""Scenario (issue 5, saved plans): `plan --out plan.json`, then `apply plan.json` applies exactly
that plan, or refuses it as stale (exit 1, "stale" and the reason) when the world moved since:
a new AMI, a fleet resized by hand, a launch template's default version moved by hand, another
apply, an edited configuration, a different sensitive variable, or a plan made against an empty
state after something was applied. The file is 0600 and holds no secret.

Driven through the CLI in-process against the moto server.
"""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.conftest import register_ami
from tests.scenarios.harness import Cli, launch_templates, template_data, write_stack

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "hunter2-correct-horse"
USER_DATA_MARKER = "plain-user-data-only-in-the-template"

STACK = {
    "main.hcl": """
        reconciler {
          stack = "planfiles"
        }

        provider "aws" {
          region = "us-east-1"
        }

        variable "instance_type" {
          type    = string
          default = "t3.micro"
        }

        variable "db_password" {
          type      = string
          sensitive = true
        }

        data "aws_ami" "app" {
          name        = "app-*"
          most_recent = true
          version_tag = "Version"
        }

        resource "aws_launch_template" "web" {
          name          = "web"
          image_id      = data.aws_ami.app.id
          instance_type = var.instance_type
          user_data     = templatefile("cloud-init.sh.tpl", { password = var.db_password })
          tags          = { Name = "web" }
        }

        resource "aws_fleet" "web" {
          name               = "web"
          launch_template    = aws_launch_template.web.id
          min_size           = 0
          max_size           = 4
          desired_capacity   = 1
          availability_zones = ["us-east-1a"]
        }

        output "ami" {
          value = data.aws_ami.app.id
        }

        output "password" {
          value     = var.db_password
          sensitive = true
        }
    """,
    "cloud-init.sh.tpl": f"""
        #!/bin/sh
        echo {USER_DATA_MARKER}
        export DB_PASSWORD=${{password}}
    """,
}


@pytest.fixture(autouse=True)
def _fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECONCILER_ROLLOUT_POLL", "0.1")


@pytest.fixture
def cli(tmp_path: Path, aws_env: str, boto: Any, capsys: pytest.CaptureFixture[str], monkeypatch) -> Cli:
    monkeypatch.setenv("RECONCILER_VAR_db_password", PASSWORD)
    register_ami(boto, name="app-1.0.0", version="1.0.0")
    return Cli(write_stack(tmp_path / "stack", STACK), capsys)


def applied(cli: Cli) -> Cli:
    result = cli("apply", "--auto-approve")
    assert result.code == 0, result.text
    return cli


def saved_plan(cli: Cli, *extra: str) -> Path:
    result = cli("plan", "--out", "plan.json", *extra)
    assert result.code == 0, result.text
    assert "Saved the plan to: plan.json" in result.out and "reconciler apply plan.json" in result.out
    return cli.dir / "plan.json"


def assert_stale(cli: Cli, *reasons: str) -> None:
    result = cli("apply", "plan.json")
    assert result.code == 1, result.text
    assert "stale" in result.err and "nothing was applied" in result.err, result.err
    for reason in reasons:
        assert reason in result.err, f"{reason!r} not in\n{result.err}"
    assert "Traceback" not in result.text


# --- applying a saved plan ----------------------------------------------------------------


def test_a_saved_plan_on_an_empty_state_applies_and_leaves_the_next_plan_empty(cli: Cli, boto: Any) -> None:
    saved_plan(cli)
    assert launch_templates(boto) == {}  # planning changed nothing

    result = cli("apply", "plan.json")  # no confirmation prompt: the plan was reviewed
    assert result.code == 0, result.text
    assert "Apply complete! Resources: 2 added, 0 changed, 0 destroyed." in result.out
    assert sorted(launch_templates(boto)) == ["web"]

    again = cli("plan", "--detailed-exitcode")
    assert again.code == 0, again.text


def test_a_saved_rollout_uses_the_image_it_recorded(cli: Cli, boto: Any) -> None:
    applied(cli)
    new = register_ami(boto, name="app-1.1.0", version="1.1.0")
    path = saved_plan(cli)
    recorded = {d["address"]: d["attributes"]["id"] for d in json.loads(path.read_text())["data"]}
    assert recorded == {"data.aws_ami.app": new}

    result = cli("apply", "plan.json")
    assert result.code == 0, result.text
    assert "1 fleet rolled out" in result.out
    assert template_data(boto, "web")["LaunchTemplateData"]["ImageId"] == new
    assert cli("plan", "--detailed-exitcode").code == 0


def test_a_plan_file_without_changes_applies_nothing(cli: Cli) -> None:
    applied(cli)
    state = cli.dir / ".reconciler" / "state.json"
    before = state.read_text()
    saved_plan(cli)

    result = cli("apply", "plan.json")
    assert result.code == 0, result.text
    assert "nothing to apply" in result.out
    assert state.read_text() == before


def test_a_saved_destroy_plan_destroys_everything(cli: Cli, boto: Any) -> None:
    applied(cli)
    saved_plan(cli, "--destroy")
    result = cli("apply", "plan.json")
    assert result.code == 0, result.text
    assert "Destroy complete! Resources: 0 added, 0 changed, 2 destroyed." in result.out
    assert launch_templates(boto) == {}


def test_a_saved_plan_cannot_be_applied_twice(cli: Cli) -> None:
    saved_plan(cli)
    assert cli("apply", "plan.json").code == 0
    assert_stale(cli, "the state changed since the plan was made (serial 1 → ")


# --- stale plans --------------------------------------------------------------------------


def test_a_new_image_makes_the_plan_stale(cli: Cli, boto: Any) -> None:
    applied(cli)
    old = template_data(boto, "web")["LaunchTemplateData"]["ImageId"]
    saved_plan(cli, "--var", "instance_type=t3.small")
    new = register_ami(boto, name="app-1.1.0", version="1.1.0")

    assert_stale(cli, f"data.aws_ami.app now resolves to a different image ({old} → {new})")
    assert template_data(boto, "web")["LaunchTemplateData"]["InstanceType"] == "t3.micro"


def test_a_fleet_resized_by_hand_makes_the_plan_stale(cli: Cli, boto: Any) -> None:
    applied(cli)
    saved_plan(cli, "--var", "instance_type=t3.small")
    group = boto("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"][0]
    boto("autoscaling").update_auto_scaling_group(
        AutoScalingGroupName=group["AutoScalingGroupName"], DesiredCapacity=2
    )

    assert_stale(cli, "aws_fleet.web changed in the cloud")
    assert launch_templates(boto)["web"]["LatestVersionNumber"] == 1


def test_a_launch_template_default_version_moved_by_hand_makes_the_plan_stale(cli: Cli, boto: Any) -> None:
    applied(cli)
    saved_plan(cli, "--var", "instance_type=t3.small")
    ec2 = boto("ec2")
    ec2.create_launch_template_version(
        LaunchTemplateName="web", SourceVersion="1", LaunchTemplateData={"InstanceType": "t3.nano"}
    )
    ec2.modify_launch_template(LaunchTemplateName="web", DefaultVersion="2")

    assert_stale(cli, "aws_launch_template.web changed in the cloud")
    assert launch_templates(boto)["web"]["LatestVersionNumber"] == 2


def test_another_apply_makes_the_plan_stale(cli: Cli, boto: Any) -> None:
    applied(cli)
    saved_plan(cli, "--var", "instance_type=t3.small")
    assert cli("apply", "--auto-approve", "--var", "instance_type=t3.large").code == 0

    assert_stale(cli, "the state changed since the plan was made (serial", "aws_launch_template.web changed")
    assert template_data(boto, "web")["LaunchTemplateData"]["InstanceType"] == "t3.large"


def test_a_plan_against_an_empty_state_is_refused_after_another_apply(cli: Cli, boto: Any) -> None:
    saved_plan(cli)
    # the plan holds keyed digests of the sensitive values: the empty state that holds the key
    # (and nothing else) was written with it, so the plan records serial 1 of that lineage
    state = json.loads((cli.dir / ".reconciler" / "state.json").read_text())
    assert state["serial"] == 1 and state["resources"] == {} and len(state["digest_key"]) == 64
    planned = json.loads((cli.dir / "plan.json").read_text())["state"]
    assert planned == {"lineage": state["lineage"], "serial": 1}
    applied(cli)

    assert_stale(cli, "the state changed since the plan was made (serial 1 → ")
    assert sorted(launch_templates(boto)) == ["web"]


def test_an_edited_configuration_makes_the_plan_stale(cli: Cli) -> None:
    applied(cli)
    saved_plan(cli, "--var", "instance_type=t3.small")
    main = cli.dir / "main.hcl"
    main.write_text(main.read_text().replace('{ Name = "web" }', '{ Name = "web2" }'))
    template = cli.dir / "cloud-init.sh.tpl"
    template.write_text(template.read_text() + "echo more\n")

    assert_stale(cli, "the configuration changed (cloud-init.sh.tpl, main.hcl)")


def test_a_different_sensitive_variable_makes_the_plan_stale(cli: Cli, monkeypatch) -> None:
    applied(cli)
    saved_plan(cli, "--var", "instance_type=t3.small")
    monkeypatch.setenv("RECONCILER_VAR_db_password", "another-password")

    assert_stale(cli, 'the value of variable "db_password" differs from the one the plan was made with')


def test_variables_come_from_the_plan_and_cannot_be_set_again(cli: Cli, boto: Any) -> None:
    applied(cli)
    saved_plan(cli, "--var", "instance_type=t3.small")

    refused = cli("apply", "plan.json", "--var", "instance_type=t3.large")
    assert refused.code == 1 and "--var instance_type cannot be set when applying a saved plan" in refused.err

    result = cli("apply", "plan.json")  # the sensitive one comes from the environment again
    assert result.code == 0, result.text
    assert template_data(boto, "web")["LaunchTemplateData"]["InstanceType"] == "t3.small"


# --- the file itself ----------------------------------------------------------------------


def test_the_plan_file_is_private_and_holds_no_secret(cli: Cli) -> None:
    path = saved_plan(cli)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert PASSWORD not in text and USER_DATA_MARKER not in text
    doc = json.loads(text)
    assert doc["kind"] == "reconciler-plan" and doc["format_version"] == 4 and doc["tool_version"]
    assert doc["variables"]["instance_type"] == {"value": "t3.micro"}
    assert doc["variables"]["db_password"]["sensitive"] is True
    assert doc["variables"]["db_password"]["digest"].startswith("hmac-sha256:")  # keyed, not salted
    assert hashlib.sha256(PASSWORD.encode()).hexdigest() not in text
    change = next(c for c in doc["changes"] if c["address"] == "aws_launch_template.web")
    assert change["after"]["user_data"]["__sensitive__"].startswith("hmac-sha256:")
    assert change["after"]["id"] == {"__unknown__": True}
    password = next(o for o in doc["outputs"] if o["name"] == "password")
    assert password["sensitive"] is True and set(password["after"]) == {"__sensitive__"}
    assert sorted(doc["config"]["files"]) == ["cloud-init.sh.tpl", "main.hcl"]
    assert doc["state"]["serial"] == 1 and doc["fingerprints"]["data.aws_ami.app"].startswith("ami-")
    key = json.loads((cli.dir / ".reconciler" / "state.json").read_text())["digest_key"]
    assert "digest_key" not in text and key not in text  # the key stays in state


def test_the_plan_file_records_the_state_and_every_cloud_object_it_read(cli: Cli) -> None:
    applied(cli)
    doc = json.loads(saved_plan(cli, "--var", "instance_type=t3.small").read_text())
    state = json.loads((cli.dir / ".reconciler" / "state.json").read_text())
    assert doc["state"] == {"lineage": state["lineage"], "serial": state["serial"]}
    assert sorted(doc["fingerprints"]) == ["aws_fleet.web", "aws_launch_template.web", "data.aws_ami.app"]


def test_show_renders_a_saved_plan(cli: Cli) -> None:
    saved_plan(cli)
    result = cli("show", "plan.json")
    assert result.code == 0, result.text
    assert "+ aws_launch_template.web" in result.out and "+ aws_fleet.web" in result.out
    assert "Plan: 2 to add, 0 to change, 0 to destroy." in result.out
    assert PASSWORD not in result.text and USER_DATA_MARKER not in result.text


def test_show_and_apply_say_what_is_wrong_with_a_bad_plan_file(cli: Cli) -> None:
    (cli.dir / "notaplan.json").write_text('{"hello": 1}')
    for args in (("show", "notaplan.json"), ("apply", "notaplan.json"), ("apply", "missing.json")):
        result = cli(*args)
        assert result.code == 1, result.text
        assert "not a reconciler plan file" in result.err or "no plan file" in result.err, result.err


def test_plan_and_show_print_the_same_terraform_plan_json_on_one_line(cli: Cli) -> None:
    planned = cli("plan", "--out", "plan.json", "--format", "json")
    assert planned.code == 0, planned.text
    assert planned.out.endswith("\n") and planned.out.count("\n") == 1  # like terraform show -json
    doc = json.loads(planned.out)
    assert doc["format_version"] == "1.2" and doc["applyable"] is True
    assert doc["reconciler"]["summary"]["add"] == 2 and "Saved the plan to: plan.json" in planned.err
    shown = cli("show", "plan.json", "--format", "json")
    assert shown.code == 0, shown.text
    assert shown.out == planned.out  # the plan file keeps the configuration and the timestamp
    pretty = cli("show", "plan.json", "--format", "json", "--pretty")
    assert pretty.code == 0 and pretty.out.count("\n") > 100 and json.loads(pretty.out) == doc
    refused = cli("show", "plan.json", "--pretty")
    assert refused.code == 1 and "--pretty" in refused.err and "--format json" in refused.err
    assert PASSWORD not in planned.text + shown.text + pretty.text and USER_DATA_MARKER not in planned.text


def test_the_plan_file_matches_its_published_schema(cli: Cli, boto: Any) -> None:
    """docs/plan-file.schema.json describes what `plan --out` writes, for a create, a plan with
    a sensitive variable, and a rollout after a new image."""
    schema = json.loads((ROOT / "docs" / "plan-file.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    saved_plan(cli)
    created = json.loads((cli.dir / "plan.json").read_text())
    assert not list(validator.iter_errors(created)), [e.message for e in validator.iter_errors(created)]
    assert created["configuration"]["configuration"]["root_module"]["resources"]
    applied(cli)
    register_ami(boto, name="app-1.1.0", version="1.1.0")
    rollout = json.loads(saved_plan(cli).read_text())
    assert [c["action"] for c in rollout["changes"]].count("rollout") == 1
    assert not list(validator.iter_errors(rollout)), [e.message for e in validator.iter_errors(rollout)]
    wrong = {**rollout, "format_version": "1"}
    assert list(validator.iter_errors(wrong))  # the schema is not a formality


def test_show_renders_a_saved_plan_as_markdown(cli: Cli) -> None:
    pytest.importorskip("reconciler.render.markdown")
    saved_plan(cli)
    shown = cli("show", "plan.json", "--format", "markdown")
    assert shown.code == 0, shown.text
    assert "aws_fleet.web" in shown.out and PASSWORD not in shown.out and USER_DATA_MARKER not in shown.out
