"""AwsFleetOps (the rollout's FleetOps protocol) against a real moto server.

Arranged like a blue/green rollout: a fleet `web` (group web-g0001, 2 instances on image v1) behind a
target group, and a green group web-g0002 created like it on launch template version 2.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from reconciler.errors import CloudError, OwnershipError
from reconciler.sdk import OWNER_STACK_TAG
from reconciler.sdk.fleet import AlarmState, FleetOps, GroupInfo, LifecycleState, TargetHealth
from reconciler_aws.fleet_ops import AwsFleetOps
from reconciler_aws.provider import AwsProvider
from tests.providers.test_aws_fleet import config, create, group, make_template

GONE = "i-0123456789abcdef0"


@pytest.fixture
def template(boto: Any) -> dict[str, str]:
    return make_template(boto)


@pytest.fixture
def asg(boto: Any) -> Any:
    return boto("autoscaling")


@pytest.fixture
def tg(boto: Any) -> str:
    vpc = boto("ec2").describe_vpcs()["Vpcs"][0]["VpcId"]
    created = boto("elbv2").create_target_group(Name="web", Protocol="HTTP", Port=80, VpcId=vpc)
    return str(created["TargetGroups"][0]["TargetGroupArn"])


@pytest.fixture
def blue(provider: AwsProvider, template: dict[str, str], tg: str) -> dict[str, Any]:
    cfg = config(
        template["id"],
        target_group_arns=[tg],
        health_check_type="ELB",
        subnet_ids=[],
        tags={"Service": "web"},
    )
    observed = create(provider, cfg)
    return dict(observed.attributes)


@pytest.fixture
def ops(provider: AwsProvider) -> AwsFleetOps:
    return provider.fleet_ops()


def green(ops: AwsFleetOps, template: dict[str, str], *, tgs: list[str], desired: int = 2) -> None:
    ops.create_group(
        name="web-g0002",
        launch_template_id=template["id"],
        launch_template_version=2,
        desired=desired,
        min_size=0,
        max_size=4,
        target_group_arns=tgs,
        like="web-g0001",
        tags={"Color": "green"},
    )


def test_provider_fleet_ops_is_a_fleet_ops_sharing_the_call_counter(provider: AwsProvider) -> None:
    ops: FleetOps = provider.fleet_ops()
    assert ops.describe_group("nope") is None
    assert provider.calls["DescribeAutoScalingGroups"] == 1


def test_create_group_like_the_live_one(
    ops: AwsFleetOps, provider: AwsProvider, asg: Any, blue: dict[str, Any], template: dict[str, str]
) -> None:
    green(ops, template, tgs=[])
    created = group(asg, "web-g0002")
    original = group(asg, "web-g0001")
    assert created["LaunchTemplate"]["Version"] == "2"
    assert sorted(created["AvailabilityZones"]) == sorted(original["AvailabilityZones"])
    assert (created["HealthCheckType"], created["HealthCheckGracePeriod"]) == ("ELB", 120)
    tags = {t["Key"]: t["Value"] for t in created["Tags"]}
    assert tags["reconciler:generation"] == "2" and tags["reconciler:fleet"] == "web"
    assert tags[OWNER_STACK_TAG] == "web-prod" and tags["Service"] == "web" and tags["Color"] == "green"
    info = ops.describe_group("web-g0002")
    assert info == GroupInfo(
        name="web-g0002",
        desired=2,
        min_size=0,
        max_size=4,
        launch_template_id=template["id"],
        launch_template_version=2,
        target_group_arns=(),
        tags=tags,
    )
    members = ops.members_and_health("web-g0002")
    assert [m.image_id for m in members] == [template["v2"]] * 2  # from EC2, not the group's report
    before = Counter(provider.calls)
    green(ops, template, tgs=[])  # an interrupted apply retries: no second group, no error
    assert "CreateAutoScalingGroup" not in provider.calls - before


def test_create_group_refuses_a_foreign_group_of_that_name(
    ops: AwsFleetOps, asg: Any, blue: dict[str, Any], template: dict[str, str]
) -> None:
    asg.create_auto_scaling_group(
        AutoScalingGroupName="web-g0002",
        LaunchTemplate={"LaunchTemplateId": template["id"], "Version": "1"},
        MinSize=0,
        MaxSize=1,
        AvailabilityZones=["us-east-1a"],
    )
    with pytest.raises(OwnershipError):
        green(ops, template, tgs=[])


def test_attached_groups_register_their_instances_and_health_is_per_target_group(
    ops: AwsFleetOps, blue: dict[str, Any], template: dict[str, str], tg: str
) -> None:
    blue_members = ops.members_and_health("web-g0001")
    assert [m.target_health for m in blue_members] == [{tg: TargetHealth.HEALTHY}] * 2
    assert all(
        m.lifecycle_state is LifecycleState.IN_SERVICE and m.instance_state == "running" for m in blue_members
    )
    assert all(m.launched_at is not None for m in blue_members)
    green(ops, template, tgs=[])
    assert all(m.target_health == {} for m in ops.members_and_health("web-g0002"))
    ops.attach_target_groups(group="web-g0002", target_group_arns=[tg])
    ops.attach_target_groups(group="web-g0002", target_group_arns=[tg])  # attached already: fine
    assert [m.target_health for m in ops.members_and_health("web-g0002")] == [{tg: TargetHealth.HEALTHY}] * 2
    ops.detach_target_groups(group="web-g0001", target_group_arns=[tg])
    ops.detach_target_groups(group="web-g0001", target_group_arns=[tg])  # detached already: fine
    assert ops.describe_group("web-g0001").target_group_arns == ()  # type: ignore[union-attr]
    ops.detach_target_groups(group="gone", target_group_arns=[tg])  # a group that is gone: fine


def test_instance_health_set_unhealthy_shows_in_members(
    ops: AwsFleetOps, asg: Any, blue: dict[str, Any]
) -> None:
    victim = blue["instances"][0]["id"]
    asg.set_instance_health(InstanceId=victim, HealthStatus="Unhealthy")
    health = {m.instance_id: m.health_status for m in ops.members_and_health("web-g0001")}
    assert health[victim] == "Unhealthy"
    assert list(health.values()).count("Healthy") == 1


def test_deregister_wait_drained_and_register_back(ops: AwsFleetOps, blue: dict[str, Any], tg: str) -> None:
    first, second = (i["id"] for i in blue["instances"])
    ops.deregister_instances(target_group_arns=[tg], instance_ids=[first, GONE])
    ops.deregister_instances(target_group_arns=[tg], instance_ids=[first])  # not registered: fine
    assert ops.wait_drained(target_group_arns=[tg], instance_ids=[first], timeout_s=30) is True
    health = {m.instance_id: m.target_health[tg] for m in ops.members_and_health("web-g0001")}
    assert health == {first: TargetHealth.UNUSED, second: TargetHealth.HEALTHY}
    ops.register_instances(target_group_arns=[tg], instance_ids=[first, GONE])  # the gone one is skipped
    health = {m.instance_id: m.target_health[tg] for m in ops.members_and_health("web-g0001")}
    assert health == {first: TargetHealth.HEALTHY, second: TargetHealth.HEALTHY}


def test_wait_drained_gives_up_after_the_timeout(
    provider: AwsProvider, blue: dict[str, Any], tg: str
) -> None:
    now = [0.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    ops = AwsFleetOps(provider.clients, poll_interval_s=10, sleep=sleep, clock=lambda: now[0])
    still_registered = blue["instances"][0]["id"]
    assert ops.wait_drained(target_group_arns=[tg], instance_ids=[still_registered], timeout_s=25) is False
    assert sleeps == [10, 10, 10]


def test_terminate_with_decrement_and_capacity(
    ops: AwsFleetOps, provider: AwsProvider, blue: dict[str, Any]
) -> None:
    victim = blue["instances"][0]["id"]
    ops.set_capacity(group="web-g0001", desired=2, min_size=1)
    ops.terminate_instance(victim, decrement=True)
    info = ops.describe_group("web-g0001")
    assert info is not None and (info.desired, info.min_size, info.max_size) == (1, 1, 4)
    assert [m.instance_id for m in ops.members_and_health("web-g0001")] == [blue["instances"][1]["id"]]
    before = Counter(provider.calls)
    ops.terminate_instance(victim, decrement=True)  # already out of the group: a no-op
    assert "TerminateInstanceInAutoScalingGroup" not in provider.calls - before
    ops.set_capacity(group="web-g0001", desired=3, max_size=5)
    info = ops.describe_group("web-g0001")
    assert info is not None and (info.desired, info.min_size, info.max_size) == (3, 1, 5)
    assert len(ops.members_and_health("web-g0001")) == 3


def test_set_launch_template_version_applies_to_new_instances(
    ops: AwsFleetOps, blue: dict[str, Any], template: dict[str, str]
) -> None:
    ops.set_launch_template_version(group="web-g0001", launch_template_id=template["id"], version=2)
    assert ops.describe_group("web-g0001").launch_template_version == 2  # type: ignore[union-attr]
    ops.set_capacity(group="web-g0001", desired=3)
    images = sorted(m.image_id for m in ops.members_and_health("web-g0001"))
    assert images == sorted([template["v1"], template["v1"], template["v2"]])


def test_delete_group_is_idempotent(ops: AwsFleetOps, blue: dict[str, Any], template: dict[str, str]) -> None:
    green(ops, template, tgs=[])
    ops.delete_group("web-g0002", force=True)
    ops.delete_group("web-g0002", force=True)
    assert ops.describe_group("web-g0002") is None
    with pytest.raises(CloudError, match="does not exist"):
        ops.members_and_health("web-g0002")


def test_alarm_states(ops: AwsFleetOps, boto: Any) -> None:
    cloudwatch = boto("cloudwatch")
    for name in ("web-5xx", "web-latency"):
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            MetricName="HTTPCode_Target_5XX_Count",
            Namespace="AWS/ApplicationELB",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanThreshold",
        )
    cloudwatch.set_alarm_state(AlarmName="web-5xx", StateValue="ALARM", StateReason="test")
    cloudwatch.set_alarm_state(AlarmName="web-latency", StateValue="OK", StateReason="test")
    assert ops.alarm_states(["web-5xx", "web-latency", "missing"]) == {
        "web-5xx": AlarmState.ALARM,
        "web-latency": AlarmState.OK,
        "missing": AlarmState.MISSING,
    }
    assert ops.alarm_states([]) == {}
