"""find_owned and import_resource (issue 4: recovery and import) against a real moto server.

Given objects of this stack, of another stack and untagged ones, `find_owned` returns exactly this
stack's objects (by their live tags), each observed the same way `refresh` observes it and naming
the address it is tagged with, in a constant number of calls. `import_resource` adopts an object
by id or name, adds the ownership tags (and, for a fleet, the fleet and generation tags), and
refuses one that another stack owns without touching it.
"""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.address import Address
from reconciler.errors import CloudError, OwnershipError
from reconciler.sdk import (
    OWNER_ADDRESS_TAG,
    OWNER_STACK_TAG,
    ChangeRequest,
    ImportRequest,
    ObservedResource,
    RefreshRequest,
)
from reconciler_aws.provider import AwsProvider

STACK = "web-prod"
LT, TG, FLEET = "aws_launch_template", "aws_target_group", "aws_fleet"


def create(
    provider: AwsProvider, type_name: str, name: str, cfg: dict[str, Any], *, stack: str = STACK
) -> Any:
    return provider.create(
        ChangeRequest(address=Address(type_name, name), type_name=type_name, config=cfg, stack=stack)
    )


def by_address(found: list[ObservedResource]) -> dict[str | None, ObservedResource]:
    return {o.ownership.address: o for o in found}


def refreshed(provider: AwsProvider, type_name: str, found: list[ObservedResource]) -> dict[str, Any]:
    ids = {o.id: Address.parse(str(o.ownership.address)) for o in found}
    got = provider.refresh(RefreshRequest(type_name=type_name, ids=ids, stack=STACK))
    return {i: o.attributes if o else None for i, o in got.items()}


def lt_config(name: str) -> dict[str, Any]:
    return {"name": name, "image_id": "ami-11111111", "instance_type": "t3.micro", "tags": {"Name": name}}


def ec2_tags(ec2: Any, resource: str) -> dict[str, str]:
    rows = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [resource]}])["Tags"]
    return {t["Key"]: t["Value"] for t in rows}


# --- launch templates --------------------------------------------------------------------------


def test_templates_of_this_stack_are_found_by_their_live_tags(provider: AwsProvider, ec2: Any) -> None:
    create(provider, LT, "web", lt_config("web"))
    create(provider, LT, "api", lt_config("api"))
    create(provider, LT, "other", lt_config("other"), stack="someone-else")
    ec2.create_launch_template(LaunchTemplateName="loose", LaunchTemplateData={"ImageId": "ami-1"})
    untagged = create(provider, LT, "untagged", lt_config("untagged"))
    ec2.delete_tags(Resources=[untagged.id], Tags=[{"Key": OWNER_STACK_TAG}])  # tag removed by hand

    provider.calls.clear()
    found = provider.find_owned(LT, STACK)
    assert sorted(by_address(found)) == ["aws_launch_template.api", "aws_launch_template.web"]
    assert dict(provider.calls) == {  # constant: not one call per template
        "DescribeLaunchTemplates": 1,
        "DescribeLaunchTemplateVersions": 1,
    }
    web = by_address(found)["aws_launch_template.web"]
    assert web.ownership.stack == STACK
    assert web.attributes["tags"] == {"Name": "web"}  # ownership and default tags hidden as usual
    assert refreshed(provider, LT, found) == {o.id: o.attributes for o in found}


def test_a_stack_name_with_glob_characters_matches_only_itself(provider: AwsProvider) -> None:
    create(provider, LT, "web", lt_config("web"), stack="web-1")
    assert provider.find_owned(LT, "web-?") == []
    assert provider.find_owned(LT, "nothing-here") == []


def test_import_template_by_id_or_name_adds_ownership_tags(provider: AwsProvider, ec2: Any) -> None:
    tid = ec2.create_launch_template(
        LaunchTemplateName="legacy",
        LaunchTemplateData={"ImageId": "ami-22222222", "InstanceType": "t3.small"},
        TagSpecifications=[{"ResourceType": "launch-template", "Tags": [{"Key": "Name", "Value": "x"}]}],
    )["LaunchTemplate"]["LaunchTemplateId"]
    got = provider.import_resource(
        ImportRequest(address=Address(LT, "web"), type_name=LT, id="legacy", stack=STACK)
    )
    assert (
        got.id == tid and got.ownership.stack == STACK and got.ownership.address == "aws_launch_template.web"
    )
    assert got.attributes["image_id"] == "ami-22222222" and got.attributes["tags"] == {"Name": "x"}
    assert ec2_tags(ec2, tid) == {
        "Name": "x",
        OWNER_STACK_TAG: STACK,
        OWNER_ADDRESS_TAG: "aws_launch_template.web",
    }
    assert [o.id for o in provider.find_owned(LT, STACK)] == [tid]  # tagged after creation: still found
    again = provider.import_resource(
        ImportRequest(address=Address(LT, "web"), type_name=LT, id=tid, stack=STACK)
    )
    assert again.attributes == got.attributes


def test_import_refuses_another_stacks_template_and_a_missing_one(provider: AwsProvider, ec2: Any) -> None:
    theirs = create(provider, LT, "web", lt_config("web"), stack="someone-else")
    before = ec2_tags(ec2, theirs.id)
    with pytest.raises(OwnershipError, match="someone-else"):
        provider.import_resource(
            ImportRequest(address=Address(LT, "web"), type_name=LT, id=theirs.id, stack=STACK)
        )
    assert ec2_tags(ec2, theirs.id) == before
    with pytest.raises(CloudError, match="does not exist"):
        provider.import_resource(
            ImportRequest(address=Address(LT, "web"), type_name=LT, id="lt-0123456789abcdef0", stack=STACK)
        )


# --- target groups -----------------------------------------------------------------------------


@pytest.fixture
def vpc_id(ec2: Any) -> str:
    return str(ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"])


def tg_config(vpc_id: str, name: str) -> dict[str, Any]:
    return {"name": name, "port": 80, "vpc_id": vpc_id, "deregistration_delay": 5}


def elb_tags(elbv2: Any, arn: str) -> dict[str, str]:
    rows = elbv2.describe_tags(ResourceArns=[arn])["TagDescriptions"][0]["Tags"]
    return {t["Key"]: t["Value"] for t in rows}


def test_target_groups_of_this_stack_are_found(provider: AwsProvider, boto: Any, vpc_id: str) -> None:
    create(provider, TG, "web", tg_config(vpc_id, "web"))
    create(provider, TG, "api", tg_config(vpc_id, "api"))
    create(provider, TG, "other", tg_config(vpc_id, "other"), stack="someone-else")
    boto("elbv2").create_target_group(Name="loose", Protocol="HTTP", Port=80, VpcId=vpc_id)

    provider.calls.clear()
    found = provider.find_owned(TG, STACK)
    assert sorted(by_address(found)) == ["aws_target_group.api", "aws_target_group.web"]
    assert provider.calls["GetResources"] == 1 and provider.calls["DescribeTargetGroups"] == 1
    assert provider.calls["DescribeTags"] == 1
    assert by_address(found)["aws_target_group.web"].attributes["deregistration_delay"] == 5
    assert refreshed(provider, TG, found) == {o.id: o.attributes for o in found}


def test_import_target_group_by_name_then_refuses_it_for_another_stack(
    provider: AwsProvider, boto: Any, vpc_id: str
) -> None:
    elbv2 = boto("elbv2")
    arn = elbv2.create_target_group(Name="legacy", Protocol="HTTP", Port=8080, VpcId=vpc_id)["TargetGroups"][
        0
    ]["TargetGroupArn"]
    got = provider.import_resource(
        ImportRequest(address=Address(TG, "web"), type_name=TG, id="legacy", stack=STACK)
    )
    assert got.id == arn and got.attributes["port"] == 8080 and got.attributes["name"] == "legacy"
    assert elb_tags(elbv2, arn) == {OWNER_STACK_TAG: STACK, OWNER_ADDRESS_TAG: "aws_target_group.web"}
    assert [o.id for o in provider.find_owned(TG, STACK)] == [arn]
    with pytest.raises(OwnershipError, match=STACK):
        provider.import_resource(ImportRequest(address=Address(TG, "web"), type_name=TG, id=arn, stack="b"))
    assert elb_tags(elbv2, arn)[OWNER_STACK_TAG] == STACK


# --- fleets ------------------------------------------------------------------------------------


@pytest.fixture
def template_id(ec2: Any) -> str:
    return str(
        ec2.create_launch_template(
            LaunchTemplateName="base",
            LaunchTemplateData={"ImageId": "ami-33333333", "InstanceType": "t3.micro"},
        )["LaunchTemplate"]["LaunchTemplateId"]
    )


def fleet_config(template_id: str, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "launch_template": template_id,
        "min_size": 1,
        "max_size": 3,
        "availability_zones": ["us-east-1a"],
        "rollout": {"strategy": "rolling"},
    }


def asg_tags(asg: Any, name: str) -> dict[str, str]:
    rows = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]["Tags"]
    return {t["Key"]: t["Value"] for t in rows}


def test_fleets_of_this_stack_are_found_with_their_groups(
    provider: AwsProvider, boto: Any, template_id: str
) -> None:
    create(provider, FLEET, "web", fleet_config(template_id, "web"))
    create(provider, FLEET, "api", fleet_config(template_id, "api"))
    create(provider, FLEET, "other", fleet_config(template_id, "other"), stack="someone-else")
    boto("autoscaling").create_auto_scaling_group(
        AutoScalingGroupName="loose",
        LaunchTemplate={"LaunchTemplateId": template_id, "Version": "1"},
        MinSize=0,
        MaxSize=1,
        AvailabilityZones=["us-east-1a"],
    )
    provider.calls.clear()
    found = provider.find_owned(FLEET, STACK)
    assert sorted(by_address(found)) == ["aws_fleet.api", "aws_fleet.web"]
    assert dict(provider.calls) == {"DescribeAutoScalingGroups": 1, "DescribeInstances": 1}
    web = by_address(found)["aws_fleet.web"]
    assert web.id == "web" and web.attributes["group_name"] == "web-g0001"
    assert "rollout" not in web.attributes  # config-only: the engine fills it from the configuration
    assert refreshed(provider, FLEET, found) == {o.id: o.attributes for o in found}


def test_import_a_hand_made_group_into_the_configured_fleet(
    provider: AwsProvider, boto: Any, template_id: str
) -> None:
    asg = boto("autoscaling")
    asg.create_auto_scaling_group(
        AutoScalingGroupName="legacy-asg",
        LaunchTemplate={"LaunchTemplateId": template_id, "Version": "1"},
        MinSize=1,
        MaxSize=2,
        DesiredCapacity=1,
        AvailabilityZones=["us-east-1a"],
        Tags=[{"Key": "Service", "Value": "web", "PropagateAtLaunch": True}],
    )
    request = ImportRequest(
        address=Address(FLEET, "web"),
        type_name=FLEET,
        id="legacy-asg",
        stack=STACK,
        config={"name": "web", "min_size": 1},
    )
    got = provider.import_resource(request)
    assert got.id == "web" and got.attributes["group_name"] == "legacy-asg"
    assert got.attributes["name"] == "web" and got.attributes["tags"] == {"Service": "web"}
    assert got.attributes["launch_template_version"] == 1 and len(got.attributes["instances"]) == 1
    assert asg_tags(asg, "legacy-asg") == {
        "Service": "web",
        OWNER_STACK_TAG: STACK,
        OWNER_ADDRESS_TAG: "aws_fleet.web",
        "reconciler:fleet": "web",
        "reconciler:generation": "0",
    }
    assert refreshed(provider, FLEET, [got]) == {"web": got.attributes}
    assert [o.id for o in provider.find_owned(FLEET, STACK)] == ["web"]
    with pytest.raises(OwnershipError, match=STACK):
        provider.import_resource(
            ImportRequest(
                address=Address(FLEET, "web"),
                type_name=FLEET,
                id="legacy-asg",
                stack="b",
                config=request.config,
            )
        )


def test_import_refuses_a_group_when_the_fleet_name_belongs_to_another_stack(
    provider: AwsProvider, boto: Any, template_id: str
) -> None:
    create(provider, FLEET, "web", fleet_config(template_id, "web"), stack="someone-else")
    boto("autoscaling").create_auto_scaling_group(
        AutoScalingGroupName="stray",
        LaunchTemplate={"LaunchTemplateId": template_id, "Version": "1"},
        MinSize=0,
        MaxSize=1,
        AvailabilityZones=["us-east-1a"],
    )
    request = ImportRequest(
        address=Address(FLEET, "web"), type_name=FLEET, id="stray", stack=STACK, config={"name": "web"}
    )
    with pytest.raises(OwnershipError, match="web-g0001"):
        provider.import_resource(request)
    assert OWNER_STACK_TAG not in asg_tags(boto("autoscaling"), "stray")
    missing = ImportRequest(
        address=Address(FLEET, "web"), type_name=FLEET, id="nope", stack=STACK, config={"name": "web"}
    )
    with pytest.raises(CloudError, match="does not exist"):
        provider.import_resource(missing)
