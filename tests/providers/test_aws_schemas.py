"""The AWS provider's static surface: schemas, registry wiring, and the launch-data mapping (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.address import Address, Mode
from reconciler.errors import ConfigError
from reconciler.sdk import Provider, registry
from reconciler_aws import SCHEMAS
from reconciler_aws.launch_template_data import (
    LaunchTemplateArgs,
    config_fields,
    launch_data_differs,
    observed_fields,
    to_launch_data,
)
from reconciler_aws.provider import AwsProvider
from reconciler_aws.settings import AwsSettings
from reconciler_aws.validation import validate_config


def test_schemas_are_keyed_by_mode_and_type() -> None:
    assert set(SCHEMAS) == {
        (Mode.DATA, "aws_ami"),
        (Mode.DATA, "aws_vpc"),
        (Mode.DATA, "aws_subnets"),
        (Mode.MANAGED, "aws_launch_template"),
        (Mode.MANAGED, "aws_target_group"),
        (Mode.MANAGED, "aws_fleet"),
        (Mode.MANAGED, "aws_cloudwatch_metric_alarm"),
        (Mode.MANAGED, "aws_ami_launch_permissions"),
        (Mode.MANAGED, "aws_ami_copy"),
        (Mode.MANAGED, "aws_ami_retention"),
    }
    lt = SCHEMAS[(Mode.MANAGED, "aws_launch_template")]
    assert lt.force_new == {"name"} and lt.sensitive == {"user_data", "latest_version_user_data"}
    versions = {"latest_version", "default_version", "latest_version_digest", "latest_version_user_data"}
    assert lt.computed == {"id", "arn"} | versions
    assert lt.computed_on_update == versions
    assert registry.all_schemas() == SCHEMAS


def test_registry_builds_an_aws_provider_without_calling_aws() -> None:
    provider: Provider = registry.make_provider(AwsSettings(region="us-east-1"))
    assert isinstance(provider, AwsProvider)
    assert provider.schemas() is SCHEMAS
    assert sum(provider.calls.values()) == 0


FULL: dict[str, Any] = {
    "name": "web",
    "description": "web servers",
    "image_id": "ami-1",
    "instance_type": "t3.micro",
    "key_name": "ops",
    "user_data": "#!/bin/sh\necho ✓\n",
    "security_group_ids": ["sg-b", "sg-a", "sg-b"],
    "iam_instance_profile": "web",
    "block_device_mapping": [
        {
            "device_name": "/dev/xvda",
            "volume_size": 8,
            "volume_type": "gp3",
            "encrypted": True,
            "iops": 3000,
            "throughput": 125,
        },
        {"device_name": "/dev/xvdb", "snapshot_id": "snap-1", "delete_on_termination": False},
    ],
    "metadata_options": {"http_tokens": "optional", "http_put_response_hop_limit": 1},
    "tags": {"Name": "web"},
}


@pytest.mark.parametrize("config", [FULL, {"name": "min", "image_id": "ami-1"}])
def test_launch_data_round_trips_to_the_configs_own_shape(config: dict[str, Any]) -> None:
    args = LaunchTemplateArgs(**config)
    data = to_launch_data(args)
    observed = observed_fields(data, name=args.name, description=args.description, tags=args.tags)
    assert observed == config_fields(args)
    assert not launch_data_differs(observed, config_fields(args))
    assert observed["user_data"] == config.get("user_data")  # as text: the engine marks and digests it


def test_aws_extras_do_not_count_as_differences() -> None:
    args = LaunchTemplateArgs(name="web", image_id="ami-1", metadata_options={})
    data = to_launch_data(args)
    data["MetadataOptions"] |= {"HttpProtocolIpv6": "disabled", "InstanceMetadataTags": "disabled"}
    data["TagSpecifications"] = [{"ResourceType": "launch-template", "Tags": []}]  # moto echoes these
    observed = observed_fields(data, name="web", description=None, tags={})
    assert not launch_data_differs(observed | {"id": "lt-1", "default_version": 3}, config_fields(args))


@pytest.mark.parametrize(
    ("change", "differs"),
    [
        ({"image_id": "ami-2"}, True),
        ({"user_data": "other"}, True),
        ({"description": "new"}, True),
        ({"security_group_ids": ["sg-a", "sg-b"]}, False),  # same set
        ({"tags": {"Name": "other"}}, False),  # tags are not launch data
    ],
)
def test_what_makes_a_new_version(change: dict[str, Any], differs: bool) -> None:
    before = config_fields(LaunchTemplateArgs(**FULL))
    after = config_fields(LaunchTemplateArgs(**(FULL | change)))
    assert launch_data_differs(before, after) is differs


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"metadata_options": {"http_tokens": "maybe"}}, "metadata_options.http_tokens"),
        ({"block_device_mapping": [{"volume_size": 8}]}, "block_device_mapping.0.device_name"),
        ({"name": "a b"}, "name"),
        ({"instance_typo": "t3.micro"}, "instance_typo"),
    ],
)
def test_invalid_launch_template_arguments(change: dict[str, Any], path: str) -> None:
    with pytest.raises(ConfigError) as info:
        validate_config(LaunchTemplateArgs, FULL | change, address=Address("aws_launch_template", "web"))
    assert path in info.value.diagnostics[0].summary
    assert info.value.diagnostics[0].context == 'in resource "aws_launch_template" "web"'


def test_schemas_import_without_botocore() -> None:
    """`validate` reads schemas with no cloud, so importing them must not pull in boto3/botocore."""
    import subprocess
    import sys

    code = "import sys, reconciler_aws; print('botocore' in sys.modules or 'boto3' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
