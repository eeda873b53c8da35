"""aws_fleet against a real moto server: create, pin, observe, refresh in batch, update, adopt, delete."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from reconciler.address import Address
from reconciler.errors import ConfigError, OwnershipError
from reconciler.sdk import OWNER_ADDRESS_TAG, OWNER_STACK_TAG, ChangeRequest, DeleteRequest, RefreshRequest
from reconciler_aws.fleet_model import FleetArgs, config_fields
from reconciler_aws.provider import AwsProvider
from reconciler_aws.validation import validate_config
from tests.conftest import register_ami

TYPE = "aws_fleet"
STACK = "web-prod"
COMPUTED = {"id", "arn", "group_name", "generation", "instances", "previous_groups"}


@pytest.fixture
def asg(boto: Any) -> Any:
    return boto("autoscaling")


def make_template(boto: Any) -> dict[str, str]:
    """A launch template whose default version 1 runs image `v1`; version 2 (latest) runs `v2`."""
    ec2 = boto("ec2")
    v1 = register_ami(boto, name="app-1.0", version="1.0")
    v2 = register_ami(boto, name="app-1.1", version="1.1")
    lt = ec2.create_launch_template(
        LaunchTemplateName="web", LaunchTemplateData={"ImageId": v1, "InstanceType": "t3.micro"}
    )["LaunchTemplate"]["LaunchTemplateId"]
    ec2.create_launch_template_version(
        LaunchTemplateId=lt, LaunchTemplateData={"ImageId": v2, "InstanceType": "t3.micro"}
    )
    return {"id": lt, "v1": v1, "v2": v2}


@pytest.fixture
def template(boto: Any) -> dict[str, str]:
    return make_template(boto)


def config(lt: str, name: str = "web", **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": name,
        "launch_template": lt,
        "min_size": 2,
        "max_size": 4,
        "availability_zones": ["us-east-1b", "us-east-1a"],
        "health_check_grace_period": "2m",
        "tags": {"Service": name},
        "rollout": {"strategy": "blue_green", "alarms": ["web-5xx"]},
    }
    return {**base, **overrides}


def address(name: str = "web") -> Address:
    return Address(TYPE, name)


def create(provider: AwsProvider, cfg: dict[str, Any], *, stack: str = STACK) -> Any:
    name = cfg["name"]
    return provider.create(ChangeRequest(address=address(name), type_name=TYPE, config=cfg, stack=stack))


def update(provider: AwsProvider, cfg: dict[str, Any], *, stack: str = STACK) -> Any:
    return provider.update(
        ChangeRequest(address=address(cfg["name"]), type_name=TYPE, config=cfg, stack=stack, id=cfg["name"])
    )


def refresh(provider: AwsProvider, names: list[str], *, stack: str = STACK) -> Any:
    return provider.refresh(RefreshRequest(type_name=TYPE, ids={n: address(n) for n in names}, stack=stack))


def delete(provider: AwsProvider, name: str = "web", *, stack: str = STACK) -> None:
    provider.delete(DeleteRequest(address=address(name), type_name=TYPE, id=name, stack=stack))


def group(asg: Any, name: str) -> dict[str, Any]:
    rows = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"]
    assert rows, f"no group {name}"
    return dict(rows[0])


def all_groups(asg: Any) -> list[str]:
    return sorted(g["AutoScalingGroupName"] for g in asg.describe_auto_scaling_groups()["AutoScalingGroups"])


def expected(cfg: dict[str, Any], *, version: int = 1) -> dict[str, Any]:
    return config_fields(FleetArgs(**cfg)) | {"launch_template_version": version}


def test_create_pins_the_default_version_and_propagates_tags(
    provider: AwsProvider, asg: Any, ec2: Any, template: dict[str, str]
) -> None:
    observed = create(provider, config(template["id"]))
    attrs = observed.attributes
    assert observed.id == "web" and attrs["group_name"] == "web-g0001" and attrs["generation"] == 1
    created = group(asg, "web-g0001")
    assert created["LaunchTemplate"]["Version"] == "1"  # the default, numbered: not $Latest (2)
    assert attrs["arn"] == created["AutoScalingGroupARN"]
    assert created["HealthCheckGracePeriod"] == 120
    tags = {t["Key"]: (t["Value"], t["PropagateAtLaunch"]) for t in created["Tags"]}
    assert tags == {
        "Service": ("web", True),
        "Team": ("web", True),
        OWNER_STACK_TAG: (STACK, True),
        OWNER_ADDRESS_TAG: ("aws_fleet.web", True),
        "reconciler:fleet": ("web", True),
        "reconciler:generation": ("1", True),
    }
    assert [(i["image_id"], i["lifecycle_state"], i["health_status"]) for i in attrs["instances"]] == [
        (template["v1"], "InService", "Healthy")
    ] * 2
    assert [i["id"] for i in attrs["instances"]] == sorted(i["id"] for i in attrs["instances"])
    reservations = ec2.describe_instances(InstanceIds=[i["id"] for i in attrs["instances"]])["Reservations"]
    for instance in (i for r in reservations for i in r["Instances"]):
        instance_tags = {t["Key"]: t["Value"] for t in instance["Tags"]}
        assert instance_tags["Service"] == "web" and instance_tags[OWNER_STACK_TAG] == STACK


def test_an_explicit_version_is_pinned(provider: AwsProvider, asg: Any, template: dict[str, str]) -> None:
    observed = create(provider, config(template["id"], launch_template_version=2))
    assert group(asg, "web-g0001")["LaunchTemplate"]["Version"] == "2"
    assert {i["image_id"] for i in observed.attributes["instances"]} == {template["v2"]}


def test_refresh_observes_the_config_without_rollout(provider: AwsProvider, template: dict[str, str]) -> None:
    cfg = config(template["id"], desired_capacity=3)
    created = create(provider, cfg)
    observed = refresh(provider, ["web"])["web"]
    attrs = observed.attributes
    assert "rollout" not in attrs
    assert {k: v for k, v in attrs.items() if k not in COMPUTED} == expected(cfg)
    assert attrs["availability_zones"] == ["us-east-1a", "us-east-1b"]
    assert attrs["previous_groups"] == [] and len(attrs["instances"]) == 3
    assert attrs == created.attributes
    assert observed.fingerprint == created.fingerprint and observed.fingerprint.startswith("web-g0001:v1:")
    assert observed.ownership.stack == STACK and observed.ownership.address == "aws_fleet.web"


def test_refresh_costs_the_same_calls_for_3_and_30_fleets(
    provider: AwsProvider, template: dict[str, str]
) -> None:
    def measure(count: int) -> Counter[str]:
        names = [f"f{i:02d}" for i in range(count)]
        for name in names:
            if name not in created:
                create(provider, config(template["id"], name=name, min_size=1, desired_capacity=1))
                created.add(name)
        before = Counter(provider.calls)
        result = refresh(provider, names)
        assert all(result[n] is not None and len(result[n].attributes["instances"]) == 1 for n in names)
        return provider.calls - before

    created: set[str] = set()
    small, large = measure(3), measure(30)
    assert small == large == Counter({"DescribeAutoScalingGroups": 1, "DescribeInstances": 1})


def test_refresh_reads_ec2_only_for_members_whose_image_state_has_not_recorded(
    provider: AwsProvider, asg: Any, template: dict[str, str]
) -> None:
    """An instance's image never changes for its id: what state recorded is not read again."""
    created = create(provider, config(template["id"]))
    known = {"web": created.attributes}
    request = RefreshRequest(type_name=TYPE, ids={"web": address()}, stack=STACK, known=known)
    before = Counter(provider.calls)
    unchanged = provider.refresh(request)["web"]
    assert provider.calls - before == Counter({"DescribeAutoScalingGroups": 1})
    assert unchanged.attributes == created.attributes

    asg.set_desired_capacity(AutoScalingGroupName="web-g0001", DesiredCapacity=3)  # one new member
    before = Counter(provider.calls)
    grown = provider.refresh(request)["web"].attributes
    assert provider.calls - before == Counter({"DescribeAutoScalingGroups": 1, "DescribeInstances": 1})
    assert len(grown["instances"]) == 3
    assert {i["image_id"] for i in grown["instances"]} == {template["v1"]}


def test_refresh_reports_a_deleted_fleet_as_none(
    provider: AwsProvider, asg: Any, template: dict[str, str]
) -> None:
    create(provider, config(template["id"]))
    asg.delete_auto_scaling_group(AutoScalingGroupName="web-g0001", ForceDelete=True)
    assert refresh(provider, ["web"]) == {"web": None}


def test_update_changes_capacity_health_check_and_tags_in_place(
    provider: AwsProvider, asg: Any, template: dict[str, str]
) -> None:
    create(provider, config(template["id"]))
    cfg = config(
        template["id"], desired_capacity=3, max_size=5, health_check_grace_period=60, tags={"Tier": "front"}
    )
    observed = update(provider, cfg)
    attrs = observed.attributes
    assert attrs["group_name"] == "web-g0001" and len(attrs["instances"]) == 3
    assert {k: v for k, v in attrs.items() if k not in COMPUTED} == expected(cfg)
    tags = {t["Key"]: t["Value"] for t in group(asg, "web-g0001")["Tags"]}
    assert tags["Tier"] == "front" and "Service" not in tags and tags["reconciler:generation"] == "1"
    before = Counter(provider.calls)
    update(provider, cfg)  # converged: only reads
    made = provider.calls - before
    assert set(made) <= {"DescribeAutoScalingGroups", "DescribeInstances"}


def test_update_pins_a_new_version_and_changes_target_groups(
    provider: AwsProvider, asg: Any, boto: Any, template: dict[str, str]
) -> None:
    vpc = boto("ec2").describe_vpcs()["Vpcs"][0]["VpcId"]
    elbv2 = boto("elbv2")
    tg = elbv2.create_target_group(Name="web", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]
    create(provider, config(template["id"]))
    observed = update(
        provider, config(template["id"], launch_template_version=2, target_group_arns=[tg["TargetGroupArn"]])
    )
    assert observed.attributes["launch_template_version"] == 2
    assert observed.attributes["target_group_arns"] == [tg["TargetGroupArn"]]
    assert group(asg, "web-g0001")["LaunchTemplate"]["Version"] == "2"
    observed = update(provider, config(template["id"], launch_template_version=2))
    assert observed.attributes["target_group_arns"] == []


def test_subnet_placement(provider: AwsProvider, ec2: Any, template: dict[str, str]) -> None:
    subnets = sorted(s["SubnetId"] for s in ec2.describe_subnets()["Subnets"])[:2]
    cfg = config(template["id"], availability_zones=[], subnet_ids=list(reversed(subnets)))
    observed = create(provider, cfg)
    assert observed.attributes["subnet_ids"] == subnets
    assert observed.attributes["availability_zones"] == []


def test_delete_removes_every_generation(provider: AwsProvider, asg: Any, template: dict[str, str]) -> None:
    create(provider, config(template["id"]))
    ops = provider.fleet_ops()
    ops.create_group(
        name="web-g0002",
        launch_template_id=template["id"],
        launch_template_version=2,
        desired=2,
        min_size=2,
        max_size=4,
        target_group_arns=[],
        like="web-g0001",
        tags={},
    )
    ops.set_capacity(group="web-g0001", desired=0, min_size=0)
    observed = refresh(provider, ["web"])["web"]
    assert observed.attributes["group_name"] == "web-g0002" and observed.attributes["generation"] == 2
    assert observed.attributes["previous_groups"] == ["web-g0001"]
    assert observed.attributes["launch_template_version"] == 2
    delete(provider)
    assert all_groups(asg) == []
    delete(provider)  # already gone: fine


def test_create_adopts_its_own_orphan_and_brings_capacity_to_config(
    provider: AwsProvider, asg: Any, template: dict[str, str]
) -> None:
    first = create(provider, config(template["id"]))
    before = Counter(provider.calls)
    again = create(provider, config(template["id"], desired_capacity=3))  # a crashed run's leftover
    assert "CreateAutoScalingGroup" not in provider.calls - before
    assert again.attributes["group_name"] == first.attributes["group_name"] == "web-g0001"
    assert again.attributes["desired_capacity"] == 3 and len(again.attributes["instances"]) == 3


def test_refuses_groups_it_does_not_own(provider: AwsProvider, asg: Any, template: dict[str, str]) -> None:
    asg.create_auto_scaling_group(
        AutoScalingGroupName="web-g0001",
        LaunchTemplate={"LaunchTemplateId": template["id"], "Version": "1"},
        MinSize=1,
        MaxSize=1,
        AvailabilityZones=["us-east-1a"],
    )
    with pytest.raises(OwnershipError, match="web-g0001"):
        create(provider, config(template["id"]))
    assert group(asg, "web-g0001")["MaxSize"] == 1  # not replaced
    create(provider, config(template["id"], name="api"))
    with pytest.raises(OwnershipError, match="'web-prod'"):
        create(provider, config(template["id"], name="api"), stack="other")
    with pytest.raises(OwnershipError):
        update(provider, config(template["id"], name="api"), stack="other")
    with pytest.raises(OwnershipError):
        delete(provider, "api", stack="other")
    assert "api-g0001" in all_groups(asg)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"availability_zones": []}, "exactly one of availability_zones and subnet_ids"),
        ({"subnet_ids": ["subnet-1"]}, "exactly one of availability_zones and subnet_ids"),
        ({"min_size": 5}, "max_size (4) must be at least min_size (5)"),
        ({"desired_capacity": 9}, "desired_capacity (9) must not exceed max_size (4)"),
        ({"desired_capacity": 1}, "desired_capacity (1) must be at least min_size (2)"),
        ({"health_check_grace_period": "2 minutes"}, "invalid duration"),
        ({"health_check_type": "ALB"}, "'EC2' or 'ELB'"),
        ({"rollout": {"strategy": "yolo"}}, "rolling"),
    ],
)
def test_invalid_arguments(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        validate_config(FleetArgs, config("lt-1") | change, address=address())
    assert message in info.value.diagnostics[0].detail


@pytest.mark.parametrize(
    ("change", "field", "value"),
    [
        ({}, "desired_capacity", 2),  # unset: min_size
        ({"health_check_grace_period": "1m30s"}, "health_check_grace_period", 90),
        ({"health_check_grace_period": 45}, "health_check_grace_period", 45),
        ({}, "health_check_grace_period", 120),
        ({"target_group_arns": ["b", "a", "b"]}, "target_group_arns", ["a", "b"]),
    ],
)
def test_arguments_are_normalised(change: dict[str, Any], field: str, value: Any) -> None:
    assert config_fields(FleetArgs(**(config("lt-1") | change)))[field] == value
