"""Identical image lookups in one run cost one DescribeImages and always agree."""

from __future__ import annotations

from reconciler.address import Address, Mode
from reconciler.sdk import ReadDataRequest
from reconciler_aws.provider import AwsProvider
from reconciler_aws.settings import AwsSettings
from tests.conftest import register_ami


def test_identical_lookups_share_one_call(aws_env, boto) -> None:
    register_ami(boto, name="app-1.0.0", version="1.0.0")
    provider = AwsProvider(AwsSettings(region="us-east-1"))
    config = {"name": "app-*", "most_recent": True, "version_tag": "Version"}
    ids = set()
    for i in range(20):
        res = provider.read_data(
            ReadDataRequest(Address("aws_ami", "app", f"f{i}", Mode.DATA), "aws_ami", config)
        )
        ids.add(res.attributes["id"])
    other = provider.read_data(
        ReadDataRequest(Address("aws_ami", "x", None, Mode.DATA), "aws_ami", {**config, "version": "<2"})
    )
    assert len(ids) == 1 and other.attributes["id"] in ids
    assert provider.calls["DescribeImages"] == 1  # the constraint differs, the query does not
