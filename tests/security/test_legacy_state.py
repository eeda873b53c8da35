"""State written by an older reconciler (format 1: plain `sha256:` digests, sensitive outputs in
clear, no key) still plans clean, and its next write keeps only keyed digests (issue 8)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import register_ami
from tests.scenarios.harness import Cli, write_stack

SECRET = "legacy-s3cr3t-token"
STACK = {
    "main.hcl": """
        provider "aws" {
          region = "us-east-1"
        }

        variable "token" {
          type      = string
          sensitive = true
        }

        variable "instance_type" {
          type    = string
          default = "t3.micro"
        }

        data "aws_ami" "app" {
          name = "app-*"
        }

        resource "aws_launch_template" "web" {
          name          = "web"
          image_id      = data.aws_ami.app.id
          instance_type = var.instance_type
          user_data     = "TOKEN=${var.token}"
        }

        output "token" {
          value     = var.token
          sensitive = true
        }
    """
}


def as_written_by_format_1(path: Path) -> None:
    """What the older version wrote for the same stack."""
    state = json.loads(path.read_text())
    state["format_version"] = 1
    del state["digest_key"]
    attributes = state["resources"]["aws_launch_template.web"]["attributes"]
    attributes["user_data"] = "sha256:" + hashlib.sha256(f"TOKEN={SECRET}".encode()).hexdigest()
    for newer in ("latest_version_digest", "latest_version_user_data"):  # format 1 had neither
        attributes.pop(newer, None)
    state["outputs"]["token"]["value"] = SECRET
    path.write_text(json.dumps(state))


def test_older_state_plans_clean_and_is_rewritten_with_keyed_digests_only(
    tmp_path: Path,
    aws_env: str,
    boto: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RECONCILER_VAR_token", SECRET)
    register_ami(boto, name="app-1.0.0", version="1.0.0")
    cli = Cli(write_stack(tmp_path / "stack", STACK), capsys)
    assert cli("apply", "--auto-approve").code == 0
    path = tmp_path / "stack" / ".reconciler" / "state.json"
    as_written_by_format_1(path)

    plan = cli("plan", "--detailed-exitcode")
    assert plan.code == 0, plan.text  # the old digest matches what the cloud holds: no change
    assert "Changed outside reconciler" not in plan.out and SECRET not in plan.text
    assert "token = (sensitive)" in cli("output").out

    applied = cli("apply", "--auto-approve", "--var", "instance_type=t3.small")
    assert applied.code == 0, applied.text
    text = path.read_text()
    state = json.loads(text)
    assert state["format_version"] == 2 and len(state["digest_key"]) == 64
    assert SECRET not in text and "sha256:" not in text.replace("hmac-sha256:", "")
    assert list(state["outputs"]["token"]["value"]) == ["__sensitive__"]
    user_data = state["resources"]["aws_launch_template.web"]["attributes"]["user_data"]
    assert user_data["__sensitive__"].startswith("hmac-sha256:")
    assert cli("plan", "--detailed-exitcode", "--var", "instance_type=t3.small").code == 0
