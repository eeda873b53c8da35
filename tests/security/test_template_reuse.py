"""A launch template version left by an interrupted apply is reused only when it holds exactly the
wanted launch data, user data included, which the plan compares by keyed digest (issue 8).

The provider's `latest_version_digest` never covers user data (a hash of the secret, even inside
other data, could be tested against guesses by anyone with the state); the latest version's user
data is a sensitive attribute of its own, stored as a keyed digest and compared as one.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import register_ami
from tests.scenarios.harness import Cli, write_stack

SECRET = "reuse-secret-4711"

STACK = """
    variable "token" {
      type      = string
      sensitive = true
    }

    data "aws_ami" "app" {
      name        = "app-*"
      most_recent = true
      version_tag = "Version"
    }

    resource "aws_launch_template" "web" {
      name          = "web"
      image_id      = data.aws_ami.app.id
      instance_type = "t3.micro"
      user_data     = "TOKEN=${var.token}"
    }
"""


def _left_by_killed_apply(boto: Any, image: str, user_data: str) -> None:
    boto("ec2").create_launch_template_version(  # not made the default: the apply died first
        LaunchTemplateName="web",
        LaunchTemplateData={
            "ImageId": image,
            "InstanceType": "t3.micro",
            "UserData": base64.b64encode(user_data.encode()).decode(),
        },
    )


def _versions(boto: Any) -> tuple[int, int]:
    t = boto("ec2").describe_launch_templates(LaunchTemplateNames=["web"])["LaunchTemplates"][0]
    return int(t["DefaultVersionNumber"]), int(t["LatestVersionNumber"])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("left_user_data", "note", "versions"),
    [
        (f"TOKEN={SECRET}", "existing version 2 (the latest, same launch data) becomes the default", (2, 2)),
        ("TOKEN=something-else", "new version 3 (default)", (3, 3)),
    ],
)
def test_a_left_version_is_reused_only_with_the_same_user_data(
    aws_env: str,
    boto: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    left_user_data: str,
    note: str,
    versions: tuple[int, int],
) -> None:
    monkeypatch.setenv("RECONCILER_VAR_token", SECRET)
    register_ami(boto, name="app-1.0.0", version="1.0.0")
    cli = Cli(write_stack(tmp_path / "s", {"main.hcl": STACK}), capsys)
    assert cli("apply", "--auto-approve").code == 0
    new = register_ami(boto, name="app-1.1.0", version="1.1.0")
    _left_by_killed_apply(boto, new, left_user_data)

    plan = cli("plan", "--detailed-exitcode")
    assert plan.code == 2, plan.text
    assert note in plan.out
    applied = cli("apply", "--auto-approve")
    assert applied.code == 0, applied.text
    assert _versions(boto) == versions
    assert cli("plan", "--detailed-exitcode").code == 0

    state = (tmp_path / "s" / ".reconciler" / "state.json").read_text()
    attributes = json.loads(state)["resources"]["aws_launch_template.web"]["attributes"]
    assert attributes["latest_version_user_data"]["__sensitive__"].startswith("hmac-sha256:")
    assert SECRET not in state and SECRET not in plan.text + applied.text
