"""aws_launch_template against a real moto server: create, adopt, version, retag, refresh, delete."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from reconciler.address import Address
from reconciler.errors import OwnershipError
from reconciler.planning.refresh import marked_observation
from reconciler.sdk import OWNER_ADDRESS_TAG, OWNER_STACK_TAG, ChangeRequest, DeleteRequest, RefreshRequest
from reconciler.values import mark
from reconciler_aws.launch_template import SCHEMA
from reconciler_aws.launch_template_data import LaunchTemplateArgs, config_fields
from reconciler_aws.provider import AwsProvider

TYPE = "aws_launch_template"
STACK = "web-prod"
SCRIPT = "#!/bin/sh\necho secret-token-123\n"


def config(name: str = "web", **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": name,
        "image_id": "ami-11111111",
        "instance_type": "t3.micro",
        "user_data": SCRIPT,
        "security_group_ids": ["sg-2", "sg-1"],
        "block_device_mapping": [
            {"device_name": "/dev/xvda", "volume_size": 8, "volume_type": "gp3", "encrypted": True}
        ],
        "metadata_options": {"http_tokens": "required"},
        "tags": {"Name": name},
    }
    return {**base, **overrides}


def address(name: str = "web") -> Address:
    return Address(TYPE, name)


def create(provider: AwsProvider, cfg: dict[str, Any], *, stack: str = STACK, name: str = "web") -> Any:
    return provider.create(ChangeRequest(address=address(name), type_name=TYPE, config=cfg, stack=stack))


def update(provider: AwsProvider, tid: str, cfg: dict[str, Any], *, stack: str = STACK) -> Any:
    return provider.update(ChangeRequest(address=address(), type_name=TYPE, config=cfg, stack=stack, id=tid))


def refresh(provider: AwsProvider, ids: dict[str, Address], *, stack: str = STACK) -> Any:
    return provider.refresh(RefreshRequest(type_name=TYPE, ids=ids, stack=stack))


def aws_tags(ec2: Any, tid: str) -> dict[str, str]:
    rows = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [tid]}])["Tags"]
    return {t["Key"]: t["Value"] for t in rows}


def test_create_tags_ownership_and_default_tags_and_observes_its_config(
    provider: AwsProvider, ec2: Any
) -> None:
    observed = create(provider, config())
    assert observed.id.startswith("lt-")
    assert aws_tags(ec2, observed.id) == {
        "Name": "web",
        "Team": "web",
        OWNER_STACK_TAG: STACK,
        OWNER_ADDRESS_TAG: "aws_launch_template.web",
    }
    assert observed.ownership.stack == STACK and observed.ownership.address == "aws_launch_template.web"
    attrs = observed.attributes
    assert attrs["default_version"] == 1 and attrs["latest_version"] == 1
    assert attrs["arn"] == f"arn:aws:ec2:us-east-1:123456789012:launch-template/{observed.id}"
    assert observed.fingerprint == f"{observed.id}:v1:1"
    expected = config_fields(LaunchTemplateArgs(**config()))
    assert {k: attrs[k] for k in expected} == expected
    assert attrs["tags"] == {"Name": "web"}  # no ownership, no default tags
    assert attrs["security_group_ids"] == ["sg-1", "sg-2"]
    assert attrs["metadata_options"] == {
        "http_tokens": "required",
        "http_endpoint": "enabled",
        "http_put_response_hop_limit": 2,
    }
    # what AWS stores is the same as what create reported
    assert refresh(provider, {observed.id: address()})[observed.id].attributes == attrs


def test_user_data_is_reported_as_text_and_marked_by_the_engine(provider: AwsProvider, ec2: Any) -> None:
    observed = create(provider, config())
    again = refresh(provider, {observed.id: address()})[observed.id]
    for attrs in (observed.attributes, again.attributes):  # the provider compares like with like
        assert attrs["user_data"] == SCRIPT
    # the schema names it sensitive: the engine marks it as it arrives, and keeps only digests
    assert SCHEMA.sensitive == {"user_data", "latest_version_user_data"}
    assert attrs["latest_version_user_data"] == SCRIPT  # kept only as a keyed digest too
    marked = marked_observation(again, SCHEMA.sensitive)
    assert marked is not None and "secret-token-123" not in repr(marked.attributes)
    assert marked.attributes["user_data"] == mark(SCRIPT)
    # AWS itself holds the base64 of the plain text
    version = ec2.describe_launch_template_versions(LaunchTemplateId=observed.id, Versions=["1"])
    assert (
        base64.b64decode(version["LaunchTemplateVersions"][0]["LaunchTemplateData"]["UserData"]).decode()
        == SCRIPT
    )


def test_update_makes_a_new_default_version(provider: AwsProvider, ec2: Any) -> None:
    tid = create(provider, config()).id
    observed = update(provider, tid, config(image_id="ami-22222222", user_data="#!/bin/sh\necho v2\n"))
    assert observed.attributes["default_version"] == 2 and observed.attributes["latest_version"] == 2
    assert observed.attributes["image_id"] == "ami-22222222"
    assert observed.attributes["user_data"] == "#!/bin/sh\necho v2\n"
    assert observed.fingerprint == f"{tid}:v2:2"
    lt = ec2.describe_launch_templates(LaunchTemplateIds=[tid])["LaunchTemplates"][0]
    assert (lt["DefaultVersionNumber"], lt["LatestVersionNumber"]) == (2, 2)
    assert refresh(provider, {tid: address()})[tid].attributes == observed.attributes


def test_tag_only_change_makes_no_version(provider: AwsProvider, ec2: Any) -> None:
    tid = create(provider, config()).id
    ec2.create_tags(Resources=[tid], Tags=[{"Key": "Stray", "Value": "x"}])
    before = dict(provider.calls)
    observed = update(provider, tid, config(tags={"Name": "web", "Env": "prod"}))
    assert observed.attributes["default_version"] == 1 and observed.attributes["latest_version"] == 1
    assert provider.calls["CreateLaunchTemplateVersion"] == before.get("CreateLaunchTemplateVersion", 0)
    assert aws_tags(ec2, tid) == {
        "Name": "web",
        "Env": "prod",
        "Team": "web",
        OWNER_STACK_TAG: STACK,
        OWNER_ADDRESS_TAG: "aws_launch_template.web",
    }
    assert observed.attributes["tags"] == {"Env": "prod", "Name": "web"}

    removed = update(provider, tid, config())  # and back: the Env tag goes away, still no version
    assert removed.attributes["latest_version"] == 1
    assert "Env" not in aws_tags(ec2, tid)
    assert refresh(provider, {tid: address()})[tid].attributes["tags"] == {"Name": "web"}


def test_update_without_changes_calls_no_writes(provider: AwsProvider) -> None:
    tid = create(provider, config()).id
    provider.calls.clear()
    update(provider, tid, config())
    assert set(provider.calls) == {
        "DescribeLaunchTemplates",
        "DescribeLaunchTemplateVersions",
    }


@pytest.mark.parametrize("count", [3, 25])
def test_refresh_costs_a_constant_number_of_calls(provider: AwsProvider, count: int) -> None:
    ids = {create(provider, config(f"web-{i}"), name=f"w{i}").id: address(f"w{i}") for i in range(count)}
    provider.calls.clear()
    observed = refresh(provider, ids)
    assert set(observed) == set(ids)
    assert all(o is not None and o.attributes["name"].startswith("web-") for o in observed.values())
    assert dict(provider.calls) == {
        "DescribeLaunchTemplates": 1,
        "DescribeLaunchTemplateVersions": 1,
    }


def test_refresh_takes_the_versions_state_recorded_while_their_numbers_stay(
    provider: AwsProvider, ec2: Any
) -> None:
    """Versions never change once made: same default and latest numbers, no version read."""
    tid = create(provider, config()).id
    read = refresh(provider, {tid: address()})[tid]
    known = {tid: read.attributes}
    ec2.create_tags(Resources=[tid], Tags=[{"Key": "Env", "Value": "prod"}])  # tags are read every time
    request = RefreshRequest(type_name=TYPE, ids={tid: address()}, stack=STACK, known=known)
    provider.calls.clear()
    again = provider.refresh(request)[tid]
    assert dict(provider.calls) == {"DescribeLaunchTemplates": 1}
    assert again.attributes == {**read.attributes, "tags": {"Env": "prod", "Name": "web"}}
    assert again.fingerprint == read.fingerprint and again.ownership == read.ownership

    ec2.create_launch_template_version(  # another writer makes version 2: it is read
        LaunchTemplateId=tid, LaunchTemplateData={"ImageId": "ami-22222222", "InstanceType": "t3.micro"}
    )
    provider.calls.clear()
    moved = provider.refresh(request)[tid]
    assert provider.calls["DescribeLaunchTemplateVersions"] == 2  # the default, and the latest apart
    assert moved.attributes["latest_version"] == 2 and moved.attributes["default_version"] == 1
    assert moved.attributes["latest_version_digest"] != read.attributes["latest_version_digest"]
    assert moved.attributes["image_id"] == "ami-11111111"


def test_refresh_of_a_deleted_id_is_none(provider: AwsProvider, ec2: Any) -> None:
    keep = create(provider, config("keep"), name="keep").id
    gone = create(provider, config("gone"), name="gone").id
    ec2.delete_launch_template(LaunchTemplateId=gone)
    observed = refresh(provider, {keep: address("keep"), gone: address("gone")})
    assert observed[gone] is None
    assert observed[keep] is not None and observed[keep].attributes["name"] == "keep"


def test_refresh_finds_a_template_without_the_stack_tag(provider: AwsProvider, ec2: Any) -> None:
    tid = ec2.create_launch_template(LaunchTemplateName="imported", LaunchTemplateData={"ImageId": "ami-1"})[
        "LaunchTemplate"
    ]["LaunchTemplateId"]
    observed = refresh(provider, {tid: address("imported")})[tid]
    assert observed is not None
    assert observed.ownership.stack is None
    assert observed.attributes["image_id"] == "ami-1" and observed.attributes["user_data"] is None


def orphan(ec2: Any, *, stack: str, addr: str, image_id: str = "ami-00000000") -> str:
    tags = [{"Key": OWNER_STACK_TAG, "Value": stack}, {"Key": OWNER_ADDRESS_TAG, "Value": addr}]
    return str(
        ec2.create_launch_template(
            LaunchTemplateName="web",
            LaunchTemplateData={"ImageId": image_id},
            TagSpecifications=[{"ResourceType": "launch-template", "Tags": tags}],
        )["LaunchTemplate"]["LaunchTemplateId"]
    )


def test_create_adopts_an_orphan_of_this_stack_and_address(provider: AwsProvider, ec2: Any) -> None:
    tid = orphan(ec2, stack=STACK, addr="aws_launch_template.web")
    observed = create(provider, config())
    assert observed.id == tid
    assert observed.attributes["default_version"] == 2  # its launch data brought to the config
    assert observed.attributes["image_id"] == "ami-11111111"
    assert aws_tags(ec2, tid)["Name"] == "web"
    assert provider.calls["CreateLaunchTemplate"] == 0


def test_create_refuses_a_same_name_template_of_another_stack(provider: AwsProvider, ec2: Any) -> None:
    tid = orphan(ec2, stack="other", addr="aws_launch_template.web")
    with pytest.raises(OwnershipError) as info:
        create(provider, config())
    assert (
        'launch template "web"' in str(info.value) and tid in str(info.value) and "'other'" in str(info.value)
    )


def test_update_and_delete_refuse_a_template_without_this_stacks_tag(provider: AwsProvider, ec2: Any) -> None:
    tid = ec2.create_launch_template(LaunchTemplateName="web", LaunchTemplateData={"ImageId": "ami-1"})[
        "LaunchTemplate"
    ]["LaunchTemplateId"]
    with pytest.raises(OwnershipError, match="refusing to update"):
        update(provider, tid, config())
    with pytest.raises(OwnershipError, match="refusing to delete"):
        provider.delete(DeleteRequest(address=address(), type_name=TYPE, id=tid, stack=STACK))
    assert (
        ec2.describe_launch_templates(LaunchTemplateIds=[tid])["LaunchTemplates"][0]["LatestVersionNumber"]
        == 1
    )


def test_delete_then_delete_again(provider: AwsProvider, ec2: Any) -> None:
    tid = create(provider, config()).id
    request = DeleteRequest(address=address(), type_name=TYPE, id=tid, stack=STACK)
    provider.delete(request)
    assert (
        ec2.describe_launch_templates(Filters=[{"Name": "launch-template-name", "Values": ["web"]}])[
            "LaunchTemplates"
        ]
        == []
    )
    provider.delete(request)  # already gone: fine
