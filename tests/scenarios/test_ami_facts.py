"""Scenario (issue 11): the aws_ami lookup exposes the image's facts and the plan's AMI line says
them (`ebs root 8 GiB, x86_64`); a lookup whose newest match is deprecated is a plan error unless
include_deprecated = true."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler_aws.ami_facts import facts
from tests.conftest import register_ami
from tests.scenarios.harness import Cli, write_stack

STACK = """
provider "aws" { region = "us-east-1" }
data "aws_ami" "app" {
  name        = "app-*"
  most_recent = true
  INCLUDE
}
output "root" { value = data.aws_ami.app.root_device_type }
"""


def test_plan_line_says_the_root_device_and_deprecated_images_are_refused(
    tmp_path: Path, aws_env: str, boto: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    image = register_ami(boto, name="app-1.0.0", version="1.0.0")
    cli = Cli(write_stack(tmp_path / "s", {"main.hcl": STACK.replace("INCLUDE", "")}), capsys)
    plan = cli("plan")
    assert plan.code == 0, plan.text
    assert f"app-1.0.0 ({image}, " in plan.out and ", ebs root 8 GiB, x86_64)" in plan.out, plan.out
    assert '+ root = "ebs"' in plan.out

    boto("ec2").enable_image_deprecation(ImageId=image, DeprecateAt="2026-01-01T00:00:00Z")
    refused = cli("plan")
    assert refused.code == 1 and "Traceback" not in refused.text
    assert f"app-1.0.0 ({image}) is deprecated since 2026-01-01T00:00:00.000Z" in refused.err, refused.err
    assert "include_deprecated = true" in refused.err

    write_stack(cli.dir, {"main.hcl": STACK.replace("INCLUDE", "include_deprecated = true")})
    assert cli("plan").code == 0


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        (
            {
                "root_device_type": "ebs",
                "root_device_name": "/dev/xvda",
                "architecture": "arm64",
                "block_device_mappings": [{"device_name": "/dev/xvda", "volume_size": 8, "encrypted": True}],
            },
            ("ebs root 8 GiB encrypted", "arm64"),
        ),
        ({"root_device_type": "instance-store", "architecture": "x86_64"}, ("instance-store root", "x86_64")),
        ({"root_device_type": "ebs"}, ("ebs root",)),
        ({}, ()),
    ],
)
def test_facts(attributes: dict[str, Any], expected: tuple[str, ...]) -> None:
    assert facts(attributes) == expected


def test_ami_list_says_root_snapshots_sharing_and_uses(
    tmp_path: Path, aws_env: str, boto: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    ec2 = boto("ec2")
    used = register_ami(boto, name="app-1.0.0", version="1.0.0")
    idle = register_ami(boto, name="app-1.1.0", version="1.1.0")
    ec2.modify_image_attribute(ImageId=idle, LaunchPermission={"Add": [{"UserId": "111111111111"}]})
    instance = ec2.run_instances(ImageId=used, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    cli = Cli(tmp_path, capsys)
    listed = cli("ami", "list", "app-*")
    assert listed.code == 0, listed.text
    assert "ebs root 8 GiB, x86_64" in listed.out and "snapshots: 1 snapshot, 8 GiB" in listed.out
    assert "launch: 1 account" in listed.out and "launch: private" in listed.out
    assert f"used by: instance {instance}" in listed.out and "used by: nothing" in listed.out
    document = json.loads(cli("ami", "list", "app-*", "--json").out)
    rows = {row["id"]: row for row in document["queries"][0]["images"]}
    assert f"used by: instance {instance}" in rows[used]["details"]
