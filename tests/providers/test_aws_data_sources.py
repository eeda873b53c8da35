"""aws_ami, aws_vpc and aws_subnets read from a real moto server over HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.address import Address, Mode
from reconciler.errors import CloudError, CloudErrorKind, ConfigError
from reconciler.sdk import ReadDataRequest
from reconciler_aws.provider import AwsProvider
from tests.conftest import register_ami


def read(provider: AwsProvider, type_name: str, config: dict[str, Any]) -> Any:
    address = Address(type_name, "this", mode=Mode.DATA)
    return provider.read_data(ReadDataRequest(address=address, type_name=type_name, config=config))


def test_ami_by_glob_name_and_tags(provider: AwsProvider, boto: Any) -> None:
    want = register_ami(boto, name="app-1.0.0", tags={"App": "web", "Channel": "stable"})
    register_ami(boto, name="app-1.0.1", tags={"App": "web", "Channel": "beta"})
    register_ami(boto, name="db-1.0.0", tags={"App": "web", "Channel": "stable"})
    result = read(provider, "aws_ami", {"name": "app-*", "tags": {"App": "web", "Channel": "stable"}})
    attrs = result.attributes
    assert attrs["id"] == want
    assert attrs["name"] == "app-1.0.0"
    assert attrs["tags"] == {"App": "web", "Channel": "stable"}
    assert attrs["candidates"] == 1
    assert attrs["owner_id"] == "123456789012"
    assert attrs["public"] is False
    assert attrs["block_device_mappings"][0]["device_name"]
    assert result.fingerprint == want
    assert result.explanation == "the only image named app-* tagged App=web, Channel=stable"
    assert provider.calls["DescribeImages"] == 1


def test_ami_version_tag_and_specifier(provider: AwsProvider, boto: Any) -> None:
    register_ami(boto, name="app-1.4.2", version="1.4.2")
    want = register_ami(boto, name="app-1.5.0", version="1.5.0")
    register_ami(boto, name="app-2.0.0", version="2.0.0")
    register_ami(boto, name="app-untagged")
    result = read(
        provider,
        "aws_ami",
        {"name": "app-*", "most_recent": True, "version_tag": "Version", "version": ">=1.4,<2"},
    )
    assert result.attributes["id"] == want
    assert result.attributes["version"] == "1.5.0"
    assert result.attributes["candidates"] == 2
    assert result.explanation == "newest of 2 images named app-* with Version in >=1.4,<2"


def test_ami_most_recent_without_version_is_stable(provider: AwsProvider, boto: Any) -> None:
    ids = [register_ami(boto, name=f"app-{i}") for i in range(3)]
    first = read(provider, "aws_ami", {"name": "app-*", "most_recent": True}).attributes["id"]
    again = read(provider, "aws_ami", {"name": "app-*", "most_recent": True}).attributes["id"]
    assert first in ids and first == again


def test_ami_architecture_is_a_server_side_filter(provider: AwsProvider, boto: Any, ec2: Any) -> None:
    # the sandbox's RegisterImage keeps Architecture (moto alone drops it: sandbox_images)
    register_ami(boto, name="app-arm", architecture="arm64")
    want = register_ami(boto, name="app-intel", architecture="x86_64")
    result = read(provider, "aws_ami", {"name": "app-*", "architecture": "x86_64"})
    assert result.attributes["id"] == want
    assert result.attributes["architecture"] == "x86_64"


def test_ami_no_match_is_a_permanent_cloud_error(provider: AwsProvider, boto: Any) -> None:
    for version in ("1.3.0", "2.0.0", "2.1.0"):
        register_ami(boto, name=f"app-{version}", version=version, tags={"App": "web"})
    with pytest.raises(CloudError) as info:
        read(
            provider,
            "aws_ami",
            {
                "name": "app-*",
                "tags": {"App": "web"},
                "version_tag": "Version",
                "version": ">=1.4,<2",
                "most_recent": True,
            },
        )
    err = info.value
    assert err.kind is CloudErrorKind.PERMANENT
    assert err.call == "DescribeImages"
    assert err.address == "data.aws_ami.this"
    assert err.message == (
        "no AMI matches: owners=[self], name=app-*, tags={App=web}, version >=1.4,<2 "
        "(3 images matched the filters, none in the version range)"
    )


def test_ami_several_without_most_recent(provider: AwsProvider, boto: Any) -> None:
    a = register_ami(boto, name="app-a")
    b = register_ami(boto, name="app-b")
    with pytest.raises(CloudError) as info:
        read(provider, "aws_ami", {"name": "app-*"})
    assert info.value.code == "AmbiguousImage"
    assert a in info.value.message and b in info.value.message
    assert "most_recent" in info.value.message


def test_ami_invalid_specifier_fails_before_any_call(provider: AwsProvider) -> None:
    with pytest.raises(ConfigError) as info:
        read(provider, "aws_ami", {"version_tag": "Version", "version": "~>1.4"})
    assert "invalid version constraint '~>1.4'" in info.value.diagnostics[0].detail
    assert sum(provider.calls.values()) == 0


def test_default_vpc_and_its_subnets(provider: AwsProvider, ec2: Any) -> None:
    vpc = read(provider, "aws_vpc", {"default": True})
    expected = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
    assert vpc.attributes == {
        "id": expected["VpcId"],
        "cidr_block": expected["CidrBlock"],
        "is_default": True,
        "tags": {},
    }
    assert vpc.fingerprint == expected["VpcId"]

    subnets = read(provider, "aws_subnets", {"vpc_id": vpc.attributes["id"]})
    ids = subnets.attributes["ids"]
    assert ids == sorted(ids) and len(ids) >= 2
    assert set(subnets.attributes["availability_zones"]) == set(ids)
    assert all(az.startswith("us-east-1") for az in subnets.attributes["availability_zones"].values())
    assert subnets.attributes["vpc_id"] == vpc.attributes["id"]

    one_zone = read(
        provider, "aws_subnets", {"vpc_id": vpc.attributes["id"], "availability_zones": ["us-east-1a"]}
    )
    assert len(one_zone.attributes["ids"]) == 1
    assert one_zone.attributes["availability_zones"] == {one_zone.attributes["ids"][0]: "us-east-1a"}


def test_vpc_by_tags_and_ambiguity(provider: AwsProvider, ec2: Any) -> None:
    made = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    ec2.create_tags(Resources=[made], Tags=[{"Key": "Name", "Value": "apps"}])
    vpc = read(provider, "aws_vpc", {"tags": {"Name": "apps"}})
    assert vpc.attributes["id"] == made
    assert vpc.attributes["is_default"] is False
    assert vpc.attributes["tags"] == {"Name": "apps"}
    assert read(provider, "aws_vpc", {"cidr_block": "10.1.0.0/16"}).attributes["id"] == made

    with pytest.raises(CloudError) as info:
        read(provider, "aws_vpc", {})
    assert info.value.code == "AmbiguousVpc" and "2 VPCs match" in info.value.message
    with pytest.raises(CloudError) as none:
        read(provider, "aws_vpc", {"tags": {"Name": "nope"}})
    assert none.value.message == "no VPC matches tags={Name=nope}"


def test_subnets_none_is_an_empty_list(provider: AwsProvider) -> None:
    result = read(provider, "aws_subnets", {"tags": {"Tier": "none"}})
    assert result.attributes["ids"] == []
