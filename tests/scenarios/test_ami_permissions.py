"""Scenario (issue 11): `aws_ami_launch_permissions` holds the whole permission set of a baked image
the stack did not create: the plan says which accounts are added and removed, apply leaves exactly
that set (and the snapshots shared with `share_snapshots`), `public = true` is refused at its line
without `allow_public`, with it every rendering carries the warning, and destroy makes the image
private again without deregistering it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import register_ami
from tests.scenarios.harness import Cli, write_stack

A, B, C = "111111111111", "222222222222", "333333333333"
ORG = "arn:aws:organizations::123456789012:organization/o-abcdef1234"


def stack_files(body: str) -> dict[str, str]:
    return {
        "main.hcl": """
            reconciler { stack = "perm-test" }
            provider "aws" { region = "us-east-1" }
            data "aws_ami" "app" {
              name        = "app-*"
              most_recent = true
            }
        """,
        "images.hcl": body,
    }


def permissions_block(accounts: list[str], *, extra: str = "") -> str:
    listed = ", ".join(f'"{a}"' for a in accounts)
    return f"""
        resource "aws_ami_launch_permissions" "app" {{
          image_id        = data.aws_ami.app.id
          account_ids     = [{listed}]
          share_snapshots = true
          {extra}
        }}
    """


def launch_permissions(ec2: Any, image_id: str) -> list[dict[str, str]]:
    rows = ec2.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")
    return sorted(rows["LaunchPermissions"], key=lambda r: sorted(r.items()))


def volume_permissions(ec2: Any, image_id: str) -> set[str]:
    image = ec2.describe_images(ImageIds=[image_id])["Images"][0]
    snap = image["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    rows = ec2.describe_snapshot_attribute(SnapshotId=snap, Attribute="createVolumePermission")
    return {r["UserId"] for r in rows["CreateVolumePermissions"] if "UserId" in r}


@pytest.fixture
def image(aws_env: str, boto: Any) -> str:
    return register_ami(boto, name="app-1.0.0", version="1.0.0")


def test_accounts_added_then_removed_are_planned_and_applied(
    tmp_path: Path, image: str, boto: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    ec2 = boto("ec2")
    ec2.modify_image_attribute(ImageId=image, LaunchPermission={"Add": [{"UserId": C}]})  # set by hand
    cli = Cli(write_stack(tmp_path / "s", stack_files(permissions_block([A, B]))), capsys)

    plan = cli("plan")
    assert plan.code == 0, plan.text
    assert f"+ 2 accounts ({A}, {B}), - 1 account ({C})" in plan.out  # authoritative: C goes
    assert cli("apply", "--auto-approve").code == 0
    assert launch_permissions(ec2, image) == [{"UserId": A}, {"UserId": B}]
    assert volume_permissions(ec2, image) == {A, B}
    tags = {t["Key"]: t["Value"] for t in ec2.describe_images(ImageIds=[image])["Images"][0]["Tags"]}
    assert tags["reconciler:launch-permissions"] == "perm-test/aws_ami_launch_permissions.app"

    write_stack(cli.dir, {"images.hcl": permissions_block([A], extra=f'organization_arns = ["{ORG}"]')})
    plan = cli("plan", "--detailed-exitcode")
    assert plan.code == 2, plan.text
    assert f"- 1 account ({B}), + 1 organization ({ORG})" in plan.out
    assert cli("apply", "--auto-approve").code == 0
    assert launch_permissions(ec2, image) == [{"OrganizationArn": ORG}, {"UserId": A}]
    assert volume_permissions(ec2, image) == {A}
    assert cli("plan", "--detailed-exitcode").code == 0

    assert cli("destroy", "--auto-approve").code == 0
    assert launch_permissions(ec2, image) == []
    assert volume_permissions(ec2, image) == set()
    assert ec2.describe_images(ImageIds=[image])["Images"][0]["State"] == "available"  # never deregistered


def test_public_needs_allow_public_and_then_warns_in_every_rendering(
    tmp_path: Path, image: str, boto: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    cli = Cli(write_stack(tmp_path / "s", stack_files(permissions_block([A], extra="public = true"))), capsys)
    refused = cli("plan")
    assert refused.code == 1
    assert "on images.hcl line 5" in refused.err and "allow_public = true" in refused.err, refused.err
    assert "Traceback" not in refused.text
    assert launch_permissions(boto("ec2"), image) == []

    write_stack(cli.dir, {"images.hcl": permissions_block([A], extra="allow_public = true\npublic = true")})
    human = cli("plan", "--out", "plan.json")
    assert human.code == 0, human.text
    warning = f"image {image} becomes PUBLIC"
    assert f"WARNING: {warning}" in human.out
    markdown = cli("show", "plan.json", "--format", "markdown")
    assert "> [!WARNING]" in markdown.out and warning in markdown.out
    document = json.loads(cli("show", "plan.json", "--format", "json").out)
    assert any(warning in w for w in document["reconciler"]["warnings"])
    assert cli("apply", "plan.json").code == 0
    assert {"Group": "all"} in launch_permissions(boto("ec2"), image)
    assert boto("ec2").describe_images(ImageIds=[image])["Images"][0]["Public"] is True


def test_bad_account_id_is_an_error_at_its_line(
    tmp_path: Path, image: str, capsys: pytest.CaptureFixture[str]
) -> None:
    cli = Cli(write_stack(tmp_path / "s", stack_files(permissions_block(["12345"]))), capsys)
    result = cli("validate")
    assert result.code == 1
    assert "on images.hcl line 3" in result.err and "12-digit" in result.err, result.err
