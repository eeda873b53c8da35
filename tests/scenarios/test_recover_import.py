"""Scenario (issue 4, recovery and import): a stack with an AMI lookup, launch templates (one with
for_each and user data), a target group and a fleet with a rollout block, applied to the moto
server through the CLI.

Given the state file is deleted (or damaged), `state recover` rebuilds it from the ownership tags
and `plan --detailed-exitcode` gives 0. Objects tagged for the stack that the configuration no
longer declares come back as deletions. `import ADDR ID` adopts hand-made objects, refuses another
stack's, and the next plan shows only real differences from the configuration.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import register_ami
from tests.scenarios.harness import Cli, write_stack

STACK = {
    "main.hcl": """
        reconciler {
          stack = "recover-test"
        }

        provider "aws" {
          region       = "us-east-1"
          default_tags = { Team = "web" }
        }

        locals {
          workers = { batch = "t3.small", queue = "t3.micro" }
        }

        data "aws_ami" "app" {
          name        = "app-*"
          most_recent = true
        }

        data "aws_vpc" "default" {
          default = true
        }

        resource "aws_launch_template" "web" {
          name          = "web"
          image_id      = data.aws_ami.app.id
          instance_type = "t3.micro"
          user_data     = "TOKEN=s3cr3t"
          tags          = { Name = "web" }
          metadata_options {
            http_tokens = "required"
          }
        }

        resource "aws_launch_template" "worker" {
          for_each      = local.workers
          name          = "worker-${each.key}"
          image_id      = data.aws_ami.app.id
          instance_type = each.value
        }

        resource "aws_target_group" "web" {
          name                 = "web"
          port                 = 80
          protocol             = "HTTP"
          vpc_id               = data.aws_vpc.default.id
          deregistration_delay = 5
          health_check {
            path = "/healthz"
          }
        }

        resource "aws_fleet" "web" {
          name               = "web"
          launch_template    = aws_launch_template.web.id
          min_size           = 1
          max_size           = 4
          desired_capacity   = 2
          availability_zones = ["us-east-1a", "us-east-1b"]
          target_group_arns  = [aws_target_group.web.arn]
          health_check_type  = "ELB"
          tags               = { Service = "web" }

          rollout {
            strategy      = "blue_green"
            keep_previous = "1h"
          }
        }

        output "ami" {
          value = data.aws_ami.app.name
        }

        output "fleet_group" {
          value = aws_fleet.web.group_name
        }
    """,
}

ADDRESSES = [
    "aws_fleet.web",
    "aws_launch_template.web",
    'aws_launch_template.worker["batch"]',
    'aws_launch_template.worker["queue"]',
    "aws_target_group.web",
]


@pytest.fixture
def stack(tmp_path: Path, aws_env: str, boto: Any, capsys: pytest.CaptureFixture[str]) -> Cli:
    register_ami(boto, name="app-1.0.0", version="1.0.0")
    return Cli(write_stack(tmp_path / "stack", STACK), capsys)


@pytest.fixture
def applied(stack: Cli) -> Cli:
    result = stack("apply", "--auto-approve")
    assert result.code == 0, result.text
    assert stack("plan", "--detailed-exitcode").code == 0
    return stack


def state_path(cli: Cli) -> Path:
    return cli.dir / ".reconciler" / "state.json"


def read_state(cli: Cli) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(state_path(cli).read_text())
    return data


def delete_state(cli: Cli) -> None:
    for path in (cli.dir / ".reconciler").glob("state.json*"):
        path.unlink()


def edit(cli: Cli, old: str, new: str) -> None:
    main = cli.dir / "main.hcl"
    text = main.read_text()
    assert old in text
    main.write_text(text.replace(old, new))


# --- recover -----------------------------------------------------------------------------------


def digests_masked(value: Any) -> Any:
    """`value` with each keyed digest of a sensitive value replaced by one placeholder."""
    if isinstance(value, dict):
        if list(value) == ["__sensitive__"]:
            return "(digest)"
        return {k: digests_masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [digests_masked(v) for v in value]
    return value


def test_deleted_state_is_recovered_and_the_plan_shows_no_changes(applied: Cli) -> None:
    before = read_state(applied)
    delete_state(applied)
    assert applied("state", "list").out == ""

    recovered = applied("state", "recover")
    assert recovered.code == 0, recovered.text
    assert 'Found 5 objects tagged for stack "recover-test"' in recovered.out
    assert "not in the configuration" not in recovered.out
    assert "State recovered: 5 resource(s), 2 data source(s), 2 output(s)" in recovered.out

    plan = applied("plan", "--detailed-exitcode")
    assert plan.code == 0, plan.text
    assert "No changes." in plan.out and "Changed outside reconciler" not in plan.out

    after = read_state(applied)
    assert applied("state", "list").out.split("\n")[:-1] == ADDRESSES
    assert after["lineage"] != before["lineage"]  # a new lineage: its own key, its own digests
    for address in ADDRESSES:  # the same records apply had written, rollout block included
        assert digests_masked(after["resources"][address]["attributes"]) == digests_masked(
            before["resources"][address]["attributes"]
        ), address
        assert after["resources"][address]["id"] == before["resources"][address]["id"]
        assert after["resources"][address]["dependencies"] == before["resources"][address]["dependencies"]
    assert after["resources"]["aws_fleet.web"]["attributes"]["rollout"]["strategy"] == "blue_green"
    assert digests_masked(after["outputs"]) == digests_masked(before["outputs"])
    assert after["data"] == before["data"]
    assert "s3cr3t" not in state_path(applied).read_text()

    assert applied("apply", "--auto-approve").code == 0  # and the recovered state works for apply


def test_recover_refuses_a_state_that_is_not_empty_unless_forced(applied: Cli) -> None:
    before = state_path(applied).read_text()
    refused = applied("state", "recover")
    assert refused.code == 1
    assert "already records 5 resource(s)" in refused.err and "--force" in refused.err
    assert state_path(applied).read_text() == before

    forced = applied("state", "recover", "--force")
    assert forced.code == 0, forced.text
    old, new = json.loads(before), read_state(applied)
    assert new["lineage"] == old["lineage"] and new["serial"] == old["serial"] + 1
    assert applied("plan", "--detailed-exitcode").code == 0


def test_damaged_state_is_replaced_only_with_force(applied: Cli) -> None:
    state_path(applied).write_text('{"format_version": 1, "lineage": ')
    refused = applied("state", "recover")
    assert refused.code == 1 and "not valid JSON" in refused.err and "--force" in refused.err
    assert applied("state", "recover", "--force").code == 0
    assert applied("plan", "--detailed-exitcode").code == 0


def test_dry_run_writes_nothing(applied: Cli) -> None:
    delete_state(applied)
    dry = applied("state", "recover", "--dry-run")
    assert dry.code == 0, dry.text
    assert "aws_fleet.web" in dry.out and "nothing was written" in dry.out
    assert not state_path(applied).exists()


def test_tagged_objects_missing_from_the_configuration_come_back_as_deletions(
    applied: Cli, boto: Any
) -> None:
    ec2 = boto("ec2")
    ec2.create_launch_template(  # another stack's object and an untagged one are never recorded
        LaunchTemplateName="theirs",
        LaunchTemplateData={"ImageId": "ami-12345678"},
        TagSpecifications=[
            {
                "ResourceType": "launch-template",
                "Tags": [
                    {"Key": "reconciler:stack", "Value": "other"},
                    {"Key": "reconciler:address", "Value": "aws_launch_template.web"},
                ],
            }
        ],
    )
    ec2.create_launch_template(LaunchTemplateName="loose", LaunchTemplateData={"ImageId": "ami-12345678"})
    delete_state(applied)
    edit(applied, 'workers = { batch = "t3.small", queue = "t3.micro" }', 'workers = { batch = "t3.small" }')

    recovered = applied("state", "recover")
    assert recovered.code == 0, recovered.text
    queue = next(line for line in recovered.out.splitlines() if 'worker["queue"]' in line)
    assert "not in the configuration: the next plan deletes it" in queue

    plan = applied("plan", "--detailed-exitcode")
    assert plan.code == 2, plan.text
    assert '- aws_launch_template.worker["queue"]' in plan.out
    assert "Plan: 0 to add, 0 to change, 1 to destroy." in plan.out
    assert applied("apply", "--auto-approve").code == 0
    names = {t["LaunchTemplateName"] for t in ec2.describe_launch_templates()["LaunchTemplates"]}
    assert names == {"web", "worker-batch", "theirs", "loose"}
    assert applied("plan", "--detailed-exitcode").code == 0


def test_recover_is_refused_while_the_lock_is_held(applied: Cli) -> None:
    import filelock

    lock = filelock.FileLock(str(state_path(applied)) + ".lock")
    with lock.acquire(timeout=1):
        result = applied("state", "recover", "--force")
    assert result.code == 1 and "lock" in result.err.lower()


# --- import ------------------------------------------------------------------------------------


def hand_made(boto: Any, *, max_size: int = 4) -> dict[str, str]:
    """A template, target group and auto-scaling group made by hand the way the stack describes
    them, except the group's max_size; returns their ids."""
    ec2, elbv2, asg = boto("ec2"), boto("elbv2"), boto("autoscaling")
    image = ec2.describe_images(Owners=["self"])["Images"][0]["ImageId"]
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    lt = ec2.create_launch_template(
        LaunchTemplateName="web", LaunchTemplateData={"ImageId": image, "InstanceType": "t3.micro"}
    )["LaunchTemplate"]["LaunchTemplateId"]
    tg = elbv2.create_target_group(
        Name="web",
        Protocol="HTTP",
        Port=80,
        VpcId=vpc,
        HealthCheckPath="/healthz",
        Matcher={"HttpCode": "200"},
    )["TargetGroups"][0]["TargetGroupArn"]
    asg.create_auto_scaling_group(
        AutoScalingGroupName="web-prod-asg",
        LaunchTemplate={"LaunchTemplateId": lt, "Version": "1"},
        MinSize=1,
        MaxSize=max_size,
        DesiredCapacity=2,
        AvailabilityZones=["us-east-1a", "us-east-1b"],
        TargetGroupARNs=[tg],
        HealthCheckType="ELB",
        HealthCheckGracePeriod=300,
        Tags=[{"Key": "Service", "Value": "web", "PropagateAtLaunch": True}],
    )
    return {"lt": lt, "tg": tg}


IMPORT_STACK = {
    "main.hcl": """
        reconciler {
          stack = "import-test"
        }

        data "aws_ami" "app" {
          name        = "app-*"
          most_recent = true
        }

        data "aws_vpc" "default" {
          default = true
        }

        resource "aws_launch_template" "web" {
          name          = "web"
          image_id      = data.aws_ami.app.id
          instance_type = "t3.micro"
        }

        resource "aws_target_group" "web" {
          name     = "web"
          port     = 80
          protocol = "HTTP"
          vpc_id   = data.aws_vpc.default.id
          health_check {
            path = "/healthz"
          }
        }

        resource "aws_fleet" "web" {
          name               = "web"
          launch_template    = aws_launch_template.web.id
          min_size           = 1
          max_size           = 4
          desired_capacity   = 2
          availability_zones = ["us-east-1a", "us-east-1b"]
          target_group_arns  = [aws_target_group.web.arn]
          health_check_type  = "ELB"
          tags               = { Service = "web" }

          rollout {
            strategy = "rolling"
          }
        }
    """,
}


@pytest.fixture
def importing(tmp_path: Path, aws_env: str, boto: Any, capsys: pytest.CaptureFixture[str]) -> Cli:
    register_ami(boto, name="app-1.0.0", version="1.0.0")
    return Cli(write_stack(tmp_path / "import", IMPORT_STACK), capsys)


def asg_tags(boto: Any, name: str) -> dict[str, str]:
    group = boto("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[name])[
        "AutoScalingGroups"
    ][0]
    return {t["Key"]: t["Value"] for t in group["Tags"]}


def test_import_adopts_hand_made_objects_and_the_plan_shows_only_real_differences(
    importing: Cli, boto: Any
) -> None:
    ids = hand_made(boto, max_size=3)  # the configuration says 4
    for address, cloud_id in (
        ("aws_launch_template.web", ids["lt"]),
        ("aws_target_group.web", "web"),
        ("aws_fleet.web", "web-prod-asg"),
    ):
        result = importing("import", address, cloud_id)
        assert result.code == 0, result.text
        assert "Import successful!" in result.out

    tags = asg_tags(boto, "web-prod-asg")
    assert tags["reconciler:stack"] == "import-test" and tags["reconciler:address"] == "aws_fleet.web"
    state = read_state(importing)
    fleet = state["resources"]["aws_fleet.web"]
    assert fleet["id"] == "web" and fleet["attributes"]["group_name"] == "web-prod-asg"
    assert fleet["attributes"]["rollout"]["strategy"] == "rolling"  # config-only: from the configuration
    assert sorted(fleet["dependencies"]) == ["aws_launch_template.web", "aws_target_group.web"]
    assert state["resources"]["aws_target_group.web"]["id"] == ids["tg"]

    plan = importing("plan", "--detailed-exitcode")
    assert plan.code == 2, plan.text
    assert "~ aws_fleet.web" in plan.out and "max_size  3 → 4" in plan.out
    assert "Plan: 0 to add, 1 to change, 0 to destroy." in plan.out
    assert "Changed outside reconciler" not in plan.out

    assert importing("apply", "--auto-approve").code == 0
    group = boto("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=["web-prod-asg"])
    assert group["AutoScalingGroups"][0]["MaxSize"] == 4
    assert importing("plan", "--detailed-exitcode").code == 0


def test_import_refuses_another_stacks_object_and_bad_addresses(importing: Cli, boto: Any) -> None:
    ids = hand_made(boto)
    boto("ec2").create_tags(Resources=[ids["lt"]], Tags=[{"Key": "reconciler:stack", "Value": "other"}])
    refused = importing("import", "aws_launch_template.web", ids["lt"])
    assert refused.code == 1 and "'other'" in refused.err and "Traceback" not in refused.text
    assert (
        not state_path(importing).exists() or "aws_launch_template.web" not in importing("state", "list").out
    )

    missing = importing("import", "aws_launch_template.nope", ids["lt"])
    assert missing.code == 1 and "not in the configuration" in missing.err
    gone = importing("import", "aws_target_group.web", "no-such-group")
    assert gone.code == 1 and "does not exist" in gone.err

    assert importing("import", "aws_target_group.web", ids["tg"]).code == 0
    twice = importing("import", "aws_target_group.web", ids["tg"])
    assert twice.code == 1 and "already in the state" in twice.err


# --- the pure decisions behind recovery -------------------------------------------------------------


def found(provider: str, type_name: str, cloud_id: str, address: str | None, **attrs: Any) -> Any:
    from reconciler.applying.recovery import Found
    from reconciler.sdk import ObservedResource, Ownership

    observed = ObservedResource(id=cloud_id, attributes=attrs, ownership=Ownership("s", address))
    return Found(provider, type_name, observed)


LT = "aws_launch_template"
ASSIGN_CASES = [
    # (objects found, configured block → provider) → (address: id recorded, number of warnings)
    (
        [found("aws", LT, "lt-1", "aws_launch_template.web")],
        {},
        {LT + ".web": "lt-1"},
        0,
    ),
    ([found("aws", LT, "lt-1", None)], {}, {}, 1),  # no address tag
    ([found("aws", LT, "lt-1", "not an address")], {}, {}, 1),
    ([found("aws", LT, "lt-1", "aws_fleet.web")], {}, {}, 1),  # tagged as another type
    (  # the same object seen through two provider blocks of one region
        [found("aws", LT, "lt-1", LT + ".web"), found("aws.b", LT, "lt-1", LT + ".web")],
        {LT + ".web": "aws.b"},
        {LT + ".web": "lt-1"},
        0,
    ),
    (  # two objects claim one address: the configured provider's wins, the other is reported
        [found("aws", LT, "lt-1", LT + ".web"), found("aws.b", LT, "lt-2", LT + ".web")],
        {LT + ".web": "aws.b"},
        {LT + ".web": "lt-2"},
        1,
    ),
]


@pytest.mark.parametrize(("objects", "preferred", "recorded", "warnings"), ASSIGN_CASES)
def test_assign(
    objects: list[Any], preferred: dict[str, str], recorded: dict[str, str], warnings: int
) -> None:
    from reconciler.applying.recovery import assign

    chosen, said = assign(objects, preferred=preferred)
    assert {a: f.observed.id for a, f in chosen.items()} == recorded
    assert len(said) == warnings, said


def test_inferred_dependencies_follow_ids_and_arns() -> None:
    from reconciler.applying.recovery import inferred_dependencies
    from reconciler.state import ResourceState

    resources = {
        "aws_launch_template.web": ResourceState(
            "aws_launch_template.web", LT, "aws", "lt-1", {"arn": "a:lt"}
        ),
        "aws_target_group.web": ResourceState("aws_target_group.web", "aws_target_group", "aws", "a:tg", {}),
        "aws_fleet.web": ResourceState(
            "aws_fleet.web",
            "aws_fleet",
            "aws",
            "web",
            {"launch_template": "lt-1", "target_group_arns": ["a:tg"]},
        ),
    }
    assert inferred_dependencies(resources) == {
        "aws_launch_template.web": [],
        "aws_target_group.web": [],
        "aws_fleet.web": ["aws_launch_template.web", "aws_target_group.web"],
    }
