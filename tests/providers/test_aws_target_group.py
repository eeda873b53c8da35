"""aws_target_group against a real moto server: create, adopt, retune, refresh in batch, delete, refuse."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from reconciler.address import Address
from reconciler.errors import ConfigError, OwnershipError
from reconciler.sdk import OWNER_ADDRESS_TAG, OWNER_STACK_TAG, ChangeRequest, DeleteRequest, RefreshRequest
from reconciler_aws.provider import AwsProvider
from reconciler_aws.target_group import TargetGroupArgs

TYPE = "aws_target_group"
STACK = "web-prod"


@pytest.fixture
def vpc_id(ec2: Any) -> str:
    return str(ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"])


@pytest.fixture
def elbv2(boto: Any) -> Any:
    return boto("elbv2")


def config(vpc_id: str, name: str = "web", **overrides: Any) -> dict[str, Any]:
    return {"name": name, "port": 80, "vpc_id": vpc_id, "tags": {"Name": name}, **overrides}


def address(name: str = "web") -> Address:
    return Address(TYPE, name)


def create(provider: AwsProvider, cfg: dict[str, Any], *, stack: str = STACK, name: str = "web") -> Any:
    return provider.create(ChangeRequest(address=address(name), type_name=TYPE, config=cfg, stack=stack))


def update(provider: AwsProvider, arn: str, cfg: dict[str, Any], *, stack: str = STACK) -> Any:
    return provider.update(ChangeRequest(address=address(), type_name=TYPE, config=cfg, stack=stack, id=arn))


def expected(cfg: dict[str, Any]) -> dict[str, Any]:
    return TargetGroupArgs(**cfg).model_dump(mode="json")


def aws_tags(elbv2: Any, arn: str) -> dict[str, str]:
    rows = elbv2.describe_tags(ResourceArns=[arn])["TagDescriptions"][0]["Tags"]
    return {t["Key"]: t["Value"] for t in rows}


def delay(elbv2: Any, arn: str) -> str:
    rows = elbv2.describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]
    return next(r["Value"] for r in rows if r["Key"] == "deregistration_delay.timeout_seconds")


def test_create_tags_ownership_and_observes_its_config(
    provider: AwsProvider, elbv2: Any, vpc_id: str
) -> None:
    cfg = config(vpc_id, deregistration_delay=30, health_check={"path": "/healthz"})
    observed = create(provider, cfg)
    arn = observed.id
    assert arn.startswith("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/")
    assert observed.attributes["arn"] == arn
    assert observed.attributes["arn_suffix"] == arn.split(":", 5)[-1]
    assert {k: observed.attributes[k] for k in expected(cfg)} == expected(cfg)
    assert observed.attributes["health_check"] == {
        "path": "/healthz",
        "port": "traffic-port",
        "protocol": "HTTP",
        "interval": 30,
        "timeout": 5,
        "healthy_threshold": 5,
        "unhealthy_threshold": 2,
        "matcher": "200",
    }
    assert aws_tags(elbv2, arn) == {
        "Name": "web",
        "Team": "web",
        OWNER_STACK_TAG: STACK,
        OWNER_ADDRESS_TAG: "aws_target_group.web",
    }
    assert delay(elbv2, arn) == "30"
    refreshed = provider.refresh(RefreshRequest(type_name=TYPE, ids={arn: address()}, stack=STACK))[arn]
    assert refreshed is not None and refreshed.attributes == observed.attributes
    assert refreshed.ownership.stack == STACK and refreshed.ownership.address == "aws_target_group.web"


def test_tcp_group_has_no_path_or_matcher(provider: AwsProvider, vpc_id: str) -> None:
    cfg = config(vpc_id, name="tcp", protocol="TCP", port=6379)
    observed = create(provider, cfg, name="tcp")
    assert observed.attributes["health_check"]["protocol"] == "TCP"
    assert observed.attributes["health_check"]["path"] is None
    assert {k: observed.attributes[k] for k in expected(cfg)} == expected(cfg)


def test_update_health_check_delay_and_tags_in_place(provider: AwsProvider, elbv2: Any, vpc_id: str) -> None:
    arn = create(provider, config(vpc_id)).id
    cfg = config(
        vpc_id,
        deregistration_delay=10,
        health_check={"path": "/ready", "interval": 10, "matcher": "200-299", "healthy_threshold": 2},
        tags={"Name": "web", "Tier": "front"},
    )
    observed = update(provider, arn, cfg)
    assert observed.id == arn
    assert {k: observed.attributes[k] for k in expected(cfg)} == expected(cfg)
    group = elbv2.describe_target_groups(TargetGroupArns=[arn])["TargetGroups"][0]
    assert (group["HealthCheckPath"], group["HealthCheckIntervalSeconds"], group["Matcher"]["HttpCode"]) == (
        "/ready",
        10,
        "200-299",
    )
    assert delay(elbv2, arn) == "10"
    assert aws_tags(elbv2, arn)["Tier"] == "front"
    calls_before = Counter(provider.calls)
    update(provider, arn, cfg)  # converged: nothing to change
    made = provider.calls - calls_before
    assert not {"ModifyTargetGroup", "ModifyTargetGroupAttributes", "AddTags", "RemoveTags"} & set(made)
    update(provider, arn, config(vpc_id, deregistration_delay=10, health_check=cfg["health_check"]))
    assert "Tier" not in aws_tags(elbv2, arn)


def test_refresh_reads_a_batch_and_reports_deleted_groups(
    provider: AwsProvider, elbv2: Any, vpc_id: str
) -> None:
    arns = [create(provider, config(vpc_id, name=f"web{i}"), name=f"web{i}").id for i in range(3)]
    elbv2.delete_target_group(TargetGroupArn=arns[1])
    ids = {arn: address(f"web{i}") for i, arn in enumerate(arns)}
    before = Counter(provider.calls)
    result = provider.refresh(RefreshRequest(type_name=TYPE, ids=ids, stack=STACK))
    made = provider.calls - before
    assert result[arns[1]] is None
    assert [result[a].attributes["name"] for a in (arns[0], arns[2])] == ["web0", "web2"]  # type: ignore[union-attr]
    assert made["DescribeTags"] == 1
    assert made["DescribeTargetGroupAttributes"] == 2  # one per group: ELBv2 has no batch form


def test_delete_removes_the_group_and_tolerates_it_gone(
    provider: AwsProvider, elbv2: Any, vpc_id: str
) -> None:
    arn = create(provider, config(vpc_id)).id
    request = DeleteRequest(address=address(), type_name=TYPE, id=arn, stack=STACK)
    provider.delete(request)
    assert elbv2.describe_target_groups()["TargetGroups"] == []
    provider.delete(request)  # already gone: fine


def test_create_adopts_its_own_orphan(provider: AwsProvider, elbv2: Any, vpc_id: str) -> None:
    first = create(provider, config(vpc_id))
    again = create(provider, config(vpc_id, deregistration_delay=60))  # a crashed run's leftover
    assert again.id == first.id and again.attributes["deregistration_delay"] == 60
    assert len(elbv2.describe_target_groups()["TargetGroups"]) == 1


def test_refuses_groups_it_does_not_own(provider: AwsProvider, elbv2: Any, vpc_id: str) -> None:
    foreign = elbv2.create_target_group(Name="web", Protocol="HTTP", Port=80, VpcId=vpc_id)["TargetGroups"][0]
    with pytest.raises(OwnershipError, match=r"not owned by aws_target_group\.web"):
        create(provider, config(vpc_id))
    arn = foreign["TargetGroupArn"]
    elbv2.add_tags(ResourceArns=[arn], Tags=[{"Key": OWNER_STACK_TAG, "Value": "other"}])
    with pytest.raises(OwnershipError, match="'other'"):
        update(provider, arn, config(vpc_id))
    with pytest.raises(OwnershipError):
        provider.delete(DeleteRequest(address=address(), type_name=TYPE, id=arn, stack=STACK))
    assert len(elbv2.describe_target_groups()["TargetGroups"]) == 1


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"protocol": "UDP"}, "protocol"),
        ({"target_type": "ip"}, "target_type"),
        ({"name": "bad_name"}, "name"),
        ({"health_check": {"interval": 1}}, "health_check.interval"),
        ({"health_check": {"interval": 5, "timeout": 5}}, "health_check"),  # ELBv2: timeout < interval
        ({"health_chek": {}}, "health_chek"),
    ],
)
def test_invalid_arguments(provider: AwsProvider, change: dict[str, Any], path: str) -> None:
    with pytest.raises(ConfigError) as info:
        create(provider, config("vpc-1") | change)
    assert path in info.value.diagnostics[0].summary
