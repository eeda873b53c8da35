"""Scenario (issue 11): `aws_ami_copy` copies a baked us-east-1 image to eu-west-1 (its provider
alias's region), encrypted, with the source's tags; apply waits while the copy is pending; a
data source in eu-west-1 finds the copy like any image; destroy deregisters it and deletes its
snapshot. With fleets in both regions, a new version replaces the copy and rolls out in both."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.conftest import register_ami
from tests.scenarios.harness import Cli, write_stack

PROVIDERS = """
reconciler { stack = "copy-test" }
provider "aws" { region = "us-east-1" }
provider "aws" {
  alias  = "eu"
  region = "eu-west-1"
}

data "aws_ami" "app" {
  name        = "app-*"
  most_recent = true
  version_tag = "Version"
}

resource "aws_ami_copy" "app_eu" {
  provider      = aws.eu
  source_ami_id = data.aws_ami.app.id
  source_region = "us-east-1"
  name          = data.aws_ami.app.name
  encrypted     = true
  kms_key_id    = "alias/aws/ebs"
  copy_tags     = true
  tags          = { Region = "eu" }
  lifecycle { create_before_destroy = true }
}
"""

FLEETS = """
resource "aws_launch_template" "us" {
  name          = "web-us"
  image_id      = data.aws_ami.app.id
  instance_type = "t3.micro"
}

resource "aws_launch_template" "eu" {
  provider      = aws.eu
  name          = "web-eu"
  image_id      = aws_ami_copy.app_eu.id
  instance_type = "t3.micro"
}

resource "aws_fleet" "us" {
  name               = "web-us"
  launch_template    = aws_launch_template.us.id
  min_size           = 1
  max_size           = 3
  desired_capacity   = 1
  availability_zones = ["us-east-1a"]
  rollout {
    strategy       = "rolling"
    health_timeout = "10s"
  }
}

resource "aws_fleet" "eu" {
  provider           = aws.eu
  name               = "web-eu"
  launch_template    = aws_launch_template.eu.id
  min_size           = 1
  max_size           = 3
  desired_capacity   = 1
  availability_zones = ["eu-west-1a"]
  rollout {
    strategy       = "rolling"
    health_timeout = "10s"
  }
}
"""


def eu(aws_env: str, service: str = "ec2") -> Any:
    return boto3.client(service, region_name="eu-west-1", endpoint_url=aws_env)


def eu_images(aws_env: str) -> list[dict[str, Any]]:
    return list(eu(aws_env).describe_images(Owners=["self"])["Images"])


@pytest.fixture
def fast_copies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECONCILER_SANDBOX_COPY_SECONDS", "0.3")  # the emulator keeps copies pending
    monkeypatch.setenv("RECONCILER_IMAGE_POLL", "0.05")
    monkeypatch.setenv("RECONCILER_ROLLOUT_POLL", "0.05")


def test_copy_to_a_second_region_is_found_there_and_destroyed_with_its_snapshot(
    tmp_path: Path, aws_env: str, boto: Any, capsys: pytest.CaptureFixture[str], fast_copies: None
) -> None:
    source = register_ami(boto, name="app-1.0.0", version="1.0.0", tags={"App": "web"})
    cli = Cli(write_stack(tmp_path / "s", {"main.hcl": PROVIDERS}), capsys)
    plan = cli("plan")
    assert plan.code == 0, plan.text
    assert "+ aws_ami_copy.app_eu" in plan.out and "copy app-1.0.0 from us-east-1 to eu-west-1" in plan.out
    result = cli("apply", "--auto-approve")
    assert result.code == 0, result.text
    assert "copying app-1.0.0 from us-east-1 to eu-west-1: pending (0s)" in result.out  # waited

    (copy,) = eu_images(aws_env)
    assert copy["State"] == "available" and copy["Name"] == "app-1.0.0"
    tags = {t["Key"]: t["Value"] for t in copy["Tags"]}
    assert tags["Version"] == "1.0.0" and tags["App"] == "web" and tags["Region"] == "eu"  # copy_tags, tags
    assert tags["reconciler:stack"] == "copy-test" and tags["reconciler:address"] == "aws_ami_copy.app_eu"
    root = copy["BlockDeviceMappings"][0]["Ebs"]
    snapshot = eu(aws_env).describe_snapshots(SnapshotIds=[root["SnapshotId"]])["Snapshots"][0]
    assert snapshot["Encrypted"] is True and snapshot["VolumeSize"] == 8
    assert cli("plan", "--detailed-exitcode").code == 0  # converged

    write_stack(
        cli.dir,
        {
            "lookup.hcl": """
                data "aws_ami" "eu" {
                  provider = aws.eu
                  name     = "app-*"
                  tags     = { Version = "1.0.0" }
                }
                output "eu_image" { value = data.aws_ami.eu.id }
            """
        },
    )
    assert cli("apply", "--auto-approve").code == 0
    assert cli("output", "eu_image").out.strip().strip('"') == copy["ImageId"]

    (tmp_path / "s" / "lookup.hcl").unlink()
    assert cli("destroy", "--auto-approve").code == 0
    assert eu_images(aws_env) == []
    assert eu(aws_env).describe_snapshots(OwnerIds=["self"])["Snapshots"] == []
    assert boto("ec2").describe_images(ImageIds=[source])["Images"][0]["State"] == "available"


def test_missing_source_and_unknown_key_are_plan_errors(
    tmp_path: Path, aws_env: str, boto: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    register_ami(boto, name="app-1.0.0", version="1.0.0")
    stack = PROVIDERS.replace('kms_key_id    = "alias/aws/ebs"', 'kms_key_id    = "alias/nope"')
    cli = Cli(write_stack(tmp_path / "s", {"main.hcl": stack}), capsys)
    result = cli("plan")
    assert result.code == 1 and "Traceback" not in result.text
    assert "kms_key_id 'alias/nope' is not a key in eu-west-1" in result.err, result.err
    missing = 'source_ami_id = "ami-0123456789abcdef0"'
    stack = PROVIDERS.replace("source_ami_id = data.aws_ami.app.id", missing)
    write_stack(cli.dir, {"main.hcl": stack})
    result = cli("plan")
    assert result.code == 1
    assert "the source image ami-0123456789abcdef0 does not exist in us-east-1" in result.err, result.err
    assert eu_images(aws_env) == []


@pytest.mark.slow
def test_fleets_in_both_regions_roll_out_a_new_version_through_the_copy(
    tmp_path: Path, aws_env: str, boto: Any, capsys: pytest.CaptureFixture[str], fast_copies: None
) -> None:
    v1 = register_ami(boto, name="app-1.0.0", version="1.0.0")
    cli = Cli(write_stack(tmp_path / "s", {"main.hcl": PROVIDERS, "fleets.hcl": FLEETS}), capsys)
    result = cli("apply", "--auto-approve")
    assert result.code == 0, result.text
    (copy1,) = eu_images(aws_env)
    assert running_images(boto("ec2")) == {v1}
    assert running_images(eu(aws_env)) == {copy1["ImageId"]}

    v2 = register_ami(boto, name="app-1.1.0", version="1.1.0")
    plan = cli("plan")
    assert plan.code == 0, plan.text
    assert "aws_ami_copy.app_eu" in plan.out and "source_ami_id forces replacement" in plan.out
    assert "aws_fleet.us" in plan.out and "aws_fleet.eu" in plan.out
    assert "Plan: 1 to add, 2 to change, 1 to destroy, 2 fleets to roll out" in plan.out, plan.out
    result = cli("apply", "--auto-approve")
    assert result.code == 0, result.text
    (copy2,) = eu_images(aws_env)  # the old copy was deregistered after the new one was made
    assert copy2["Name"] == "app-1.1.0" and copy2["ImageId"] != copy1["ImageId"]
    assert running_images(boto("ec2")) == {v2}
    assert running_images(eu(aws_env)) == {copy2["ImageId"]}
    assert cli("plan", "--detailed-exitcode").code == 0


def running_images(ec2: Any) -> set[str]:
    reservations = ec2.describe_instances(
        Filters=[{"Name": "instance-state-name", "Values": ["pending", "running"]}]
    )["Reservations"]
    return {i["ImageId"] for r in reservations for i in r["Instances"]}
