"""The secrets scan (issue 8): no command prints a sensitive value and no file the tool writes
holds it, or its plain sha256.

One stack uses a sensitive variable everywhere a value can go (user_data through templatefile, a
for expression, flatten and join; tags, directly and through a local with a template directive; a
description through upper(); fleet tags; two sensitive outputs). Every command runs against the
moto server, twice over (the secret is then changed, so old values come back from state): plan in
every format, plan files and show, apply of a plan file and a direct apply (a rollout), state
list/show/pull, show, output, rollout status, a stale plan, state recover; and the errors that
would echo it: a sensitive number given the secret, an argument that fails validation, a validation
rule's message that quotes it, a cloud error quoting the argument. Every output and every file
under .reconciler/ (and the plan files) is searched for the secret, a value derived from it, the
rendered user data, its base64, and the plain sha256 of each: 0 hits (the JSON plan on one line and
`--pretty` included). Then the places that must say
(sensitive) do, and the cloud itself got the real values.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import register_ami
from tests.scenarios.harness import Cli, launch_templates, template_data
from tests.security.capture import SECRET_2, Run, all_needles, hits, run_capture, user_data


@pytest.mark.slow
def test_no_command_prints_and_no_file_holds_a_secret(
    tmp_path: Path,
    aws_env: str,
    boto: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RECONCILER_ROLLOUT_POLL", "0.1")
    register_ami(boto, name="app-1.0.0", version="1.0.0")
    captured = run_capture(tmp_path)

    assert hits(captured, all_needles()) == {}
    assert len(captured) >= 50
    _each_command_did_what_it_should(captured)
    _sensitive_values_are_shown_as_sensitive(captured)
    _errors_are_still_useful(captured)
    _files_hold_keyed_digests_only(captured, tmp_path)

    # the cloud got the values themselves: marks come off only at the provider boundary
    assert base64.b64decode(
        template_data(boto, "web")["LaunchTemplateData"]["UserData"]
    ).decode() == user_data(SECRET_2)
    template_id = launch_templates(boto)["web"]["LaunchTemplateId"]
    live = boto("ec2").describe_tags(Filters=[{"Name": "resource-id", "Values": [template_id]}])["Tags"]
    tags = {t["Key"]: t["Value"] for t in live}  # (moto's DescribeLaunchTemplates keeps creation tags)
    assert tags["Token"] == SECRET_2 and tags["Banner"] == f"token={SECRET_2}"

    # and the one way to see a sensitive output prints exactly it, on request
    cli = Cli(tmp_path / "stack", capsys)
    revealed = cli("output", "token", "--reveal", "--var", f"token={SECRET_2}")
    assert revealed.code == 0 and revealed.out == SECRET_2 + "\n", revealed.text
    env = cli("output", "env", "--reveal", "--json", "--var", f"token={SECRET_2}")
    assert json.loads(env.out) == ["MODE=prod", f"TOKEN={SECRET_2}"], env.text
    digest_only = cli("output", "template_id", "--reveal", "--var", f"token={SECRET_2}")
    assert digest_only.code == 0 and digest_only.out.startswith("lt-")


def _each_command_did_what_it_should(captured: dict[str, Run]) -> None:
    failing = {
        "output token (after create)",
        "output env (after create)",
        "output token (after rollout)",
        "output env (after rollout)",
        "apply plan1.json (stale)",
        "plan (a sensitive number given the secret)",
        "plan (an invalid argument)",
        "validate (an invalid argument)",
        "apply (cloud error quoting the argument)",
    }
    for name, run in captured.items():
        if name.startswith("file "):
            continue
        expected = 1 if name in failing else 0
        assert run.code == expected, f"{name}: exit {run.code}\n{run.out}"
    # an unchanged secret is no change, and nothing else is either
    assert "No changes." in captured["plan (no change)"].out
    assert "No changes." in captured["plan (after recover)"].out
    assert "State recovered" in captured["state recover"].out


def _sensitive_values_are_shown_as_sensitive(captured: dict[str, Run]) -> None:
    create = captured["plan (create)"].out
    for line in (
        "user_data    (sensitive)",
        "description  (sensitive)",
        'tags         { Banner = (sensitive), Name = "web", Token = (sensitive) }',
        'tags                       { Service = "web", Shout = (sensitive) }',
        "+ token = (sensitive)",
        "+ env = (sensitive)",
        "Warning: Sensitive value in tags",
        'on main.hcl line 32, in resource "aws_launch_template" "web"',
    ):
        assert line in create, f"{line!r} not in\n{create}"
    changed = captured["plan (secret changed)"].out
    for path in ("user_data", "description", "tags.Token", "tags.Banner", "tags.Shout"):
        assert re.search(rf"\n +{re.escape(path)} +\(sensitive value changed\)\n", changed), path
    assert "~ token = (sensitive) → (sensitive)" in changed

    doc = json.loads(captured["plan --format json (secret changed)"].stdout)  # warnings: on stderr
    assert (
        json.loads(captured["plan --format json --pretty (secret changed)"].stdout)["variables"]
        == doc["variables"]
    )
    template = next(c for c in doc["resource_changes"] if c["address"] == "aws_launch_template.web")
    after, marks = template["change"]["after"], template["change"]["after_sensitive"]
    assert "user_data" not in after and marks["user_data"] is True  # left out, flagged
    assert "description" not in after and marks["description"] is True
    assert after["tags"] == {"Name": "web"} and marks["tags"] == {"Banner": True, "Token": True}
    assert doc["variables"] == {"token": {}}
    assert (
        doc["output_changes"]["token"]["after_sensitive"] is True
        and "after" not in doc["output_changes"]["token"]
    )
    assert doc["planned_values"]["outputs"]["token"] == {"sensitive": True}
    markdown = captured["plan --format markdown (secret changed)"].out
    assert "~ user_data = (sensitive value changed)" in markdown
    assert "~ tags.Token = (sensitive value changed)" in markdown

    shown = captured["state show aws_launch_template.web (after rollout)"].out
    assert "user_data = (sensitive)" in shown and "Token = (sensitive)" in shown and 'Name = "web"' in shown
    assert "Shout = (sensitive)" in captured["state show aws_fleet.web (after rollout)"].out
    assert "token = (sensitive)" in captured["output (after rollout)"].out
    assert json.loads(captured["output --json (after rollout)"].out)["token"] == {"sensitive": True}
    refused = captured["output token (after rollout)"].out
    assert 'output "token" is sensitive' in refused and "output token --reveal" in refused
    assert "(sensitive)" in captured["show (after rollout)"].out


def _errors_are_still_useful(captured: dict[str, Run]) -> None:
    number = captured["plan (a sensitive number given the secret)"].out
    assert 'Invalid value for variable "port": a number is required, got (sensitive value)' in number
    invalid = captured["plan (an invalid argument)"].out
    assert 'Invalid value for attribute "name": String should match pattern' in invalid
    assert "on main.hcl line 16" in invalid and "The value is sensitive, so it is not shown" in invalid
    assert "The error message included a sensitive value, so it will not be displayed." in invalid
    cloud = captured["apply (cloud error quoting the argument)"].out
    assert "CreateTargetGroup failed for aws_target_group.web" in cloud
    assert "(ValidationError): The VPC ID '" in cloud and "(sensitive value)' is not found" in cloud


def _files_hold_keyed_digests_only(captured: dict[str, Run], root: Path) -> None:
    state = json.loads(captured["file stack/.reconciler/state.json"].out)
    key = state["digest_key"]
    token = state["outputs"]["token"]
    assert token["sensitive"] is True and list(token["value"]) == ["__sensitive__"]
    assert token["value"]["__sensitive__"].startswith("hmac-sha256:")
    for name in ("file stack/plan1.json", "file stack/plan2.json"):
        text = captured[name].out
        assert key not in text and "hmac-sha256:" in text, name
    for name in ("file stack/.reconciler/state.json", "file stack/.reconciler/state.json.backup"):
        assert "sha256:" not in captured[name].out.replace("hmac-sha256:", ""), name  # no plain digest
    assert (root / "stack" / ".reconciler" / "state.json").stat().st_mode & 0o077 == 0
