"""examples/multi-region runs as its README says (issue 11): copied to a temporary directory and
pointed at the moto server, it applies on app 1.0.0 (a copy in eu-west-1, permissions in both
regions, a fleet in each), then a new bake shows pending changes, apply rolls both regions to
app 1.1.0 (eu-west-1 on a new copy) and the next plan is empty."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.conftest import register_ami
from tests.scenarios.harness import Cli

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "multi-region"


def running(ec2: Any) -> set[str]:
    reservations = ec2.describe_instances(Filters=[{"Name": "instance-state-name", "Values": ["running"]}])
    return {i["ImageId"] for r in reservations["Reservations"] for i in r["Instances"]}


@pytest.mark.slow
def test_multi_region_example_copies_shares_and_rolls_out_in_both_regions(
    tmp_path: Path,
    aws_env: str,
    boto: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stack = tmp_path / "multi-region"
    shutil.copytree(EXAMPLE, stack, ignore=shutil.ignore_patterns(".reconciler"))
    monkeypatch.setenv("RECONCILER_ROLLOUT_POLL", "0.05")
    monkeypatch.setenv("RECONCILER_IMAGE_POLL", "0.05")
    eu = boto3.client("ec2", region_name="eu-west-1", endpoint_url=aws_env)
    cli = Cli(stack, capsys)
    assert cli("fmt", "--check").code == 0

    v1 = register_ami(boto, name="app-1.0.0", version="1.0.0", tags={"App": "app"})  # sandbox bake
    applied = cli("apply", "--auto-approve")
    assert applied.code == 0, applied.text
    (copy1,) = eu.describe_images(Owners=["self"])["Images"]
    assert running(boto("ec2")) == {v1} and running(eu) == {copy1["ImageId"]}
    shared = eu.describe_image_attribute(ImageId=copy1["ImageId"], Attribute="launchPermission")
    assert shared["LaunchPermissions"] == [{"UserId": "111122223333"}]
    assert cli("plan", "--detailed-exitcode").code == 0

    v2 = register_ami(boto, name="app-1.1.0", version="1.1.0", tags={"App": "app"})
    plan = cli("plan", "--detailed-exitcode")
    assert plan.code == 2, plan.text
    assert "2 fleets to roll out" in plan.out, plan.out
    rolled = cli("apply", "--auto-approve")
    assert rolled.code == 0, rolled.text
    images = [i for i in eu.describe_images(Owners=["self"])["Images"] if i["State"] == "available"]
    (copy2,) = images
    assert copy2["Name"] == "app-1.1.0"
    assert running(boto("ec2")) == {v2} and running(eu) == {copy2["ImageId"]}
    shared = eu.describe_image_attribute(ImageId=copy2["ImageId"], Attribute="launchPermission")
    assert shared["LaunchPermissions"] == [{"UserId": "111122223333"}]
    again = cli("plan", "--detailed-exitcode")
    assert again.code == 0, again.text
