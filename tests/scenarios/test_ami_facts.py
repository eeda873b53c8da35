"""Scenario (issue 11): the aws_ami lookup exposes the image's facts and the plan's AMI line says
them (`ebs root 8 GiB, x86_64`); a lookup whose newest match is deprecated is a plan error unless
include_deprecated = true."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler_aws.ami import facts
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
