"""The pull-request workflow in examples/ci: valid GitHub Actions YAML, and its command sequence
(plan with a saved plan file, Markdown comment with checkov's findings as a section, apply of that
exact file after merge) passes against the moto server, every job from a fresh copy of the stack,
with state in S3. Its github-script steps cannot run here; they are read: a failed lookup stops
the script, and only this workflow's runs are searched for the plan artifact."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import register_ami
from tests.render.policy_tools import checkov_executable

ROOT = Path(__file__).resolve().parents[2]
CI = ROOT / "examples" / "ci"


def _workflow() -> dict[Any, Any]:
    doc: dict[Any, Any] = yaml.safe_load((CI / "workflow.yml").read_text())
    return doc


def _step(job: str, step_id: str) -> dict[str, Any]:
    steps = _workflow()["jobs"][job]["steps"]
    return next(s for s in steps if s.get("id") == step_id)


def test_workflow_is_a_valid_github_actions_definition() -> None:
    doc = _workflow()
    triggers = doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on` key as true
    assert set(triggers) == {"pull_request", "push"} and triggers["push"]["branches"] == ["main"]
    plan, apply = doc["jobs"]["plan"], doc["jobs"]["apply"]
    assert (
        plan["if"] == "github.event_name == 'pull_request'" and apply["if"] == "github.event_name == 'push'"
    )
    for job in (plan, apply):
        assert job["runs-on"] and all(("uses" in s) != ("run" in s) for s in job["steps"])
    uses = [s.get("uses", "") for s in plan["steps"]]
    assert any(u.startswith("actions/upload-artifact@") for u in uses)
    comment = next(s for s in plan["steps"] if s.get("uses", "").startswith("actions/github-script@"))
    assert (
        "<!-- reconciler-plan -->" in comment["with"]["script"]
        and "updateComment" in comment["with"]["script"]
    )
    assert any(s.get("uses", "").startswith("actions/download-artifact@") for s in apply["steps"])
    assert "apply plan.json" in _step("apply", "apply")["run"]
    assert "policy.md" in comment["with"]["script"]  # checkov's section joins the plan comment
    assert "--format json" in _step("plan", "render")["run"] and "checkov" in _step("plan", "policy")["run"]
    find = _step("apply", "find")["with"]["script"]
    assert "listWorkflowRunsForRepo" not in find and "workflow_id: current.workflow_id" in find
    failures = [m.start() for m in re.finditer(r"core\.setFailed\(", find)]
    assert failures and all(re.match(r"[^;]*;\s*return;", find[i:]) for i in failures), find


class Runner:
    """Runs a workflow step's shell script in a fresh copy of the repository, as a runner would."""

    def __init__(self, tmp: Path, endpoint: str) -> None:
        self.tmp, self.count = tmp, 0
        bin_dir = str(Path(sys.executable).parent)
        self.env = {
            **os.environ,
            "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
            "NO_COLOR": "1",
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "ci",
            "AWS_SECRET_ACCESS_KEY": "ci",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "RECONCILER_ROLLOUT_POLL": "0.1",
            "RUNNER_TEMP": str(tmp),
        }

    def fresh_clone(self) -> Path:
        self.count += 1
        clone = self.tmp / f"clone{self.count}"
        shutil.copytree(
            CI,
            clone,
            ignore=shutil.ignore_patterns(".reconciler", "plan.json", "plan.md", "*.tf.json", "policy.md"),
        )
        return clone

    def run(self, clone: Path, job: str, step_id: str) -> subprocess.CompletedProcess[str]:
        script = _step(job, step_id)["run"]
        return subprocess.run(
            ["bash", "-e", "-c", script],
            cwd=clone,
            env=self.env,
            text=True,
            capture_output=True,
            timeout=300,
            check=False,
        )


def _pull_request(runner: Runner, artifacts: Path, *, policy: bool = False) -> str:
    """The plan job's steps; with `policy`, checkov too (the checkov the tests built stands in
    for the install-checkov step). Returns the comment's Markdown."""
    clone = runner.fresh_clone()
    planned = runner.run(clone, "plan", "plan")
    assert planned.returncode == 0, planned.stdout + planned.stderr
    rendered = runner.run(clone, "plan", "render")
    assert rendered.returncode == 0, rendered.stderr
    if policy:
        runner.env["CHECKOV"] = str(checkov_executable())
        checked = runner.run(clone, "plan", "policy")
        assert checked.returncode == 0, checked.stdout + checked.stderr
    artifacts.mkdir(exist_ok=True)
    shutil.copy(clone / "infra" / "plan.json", artifacts / "plan.json")  # upload-artifact
    section = clone / "policy.md"
    return (clone / "plan.md").read_text() + ("\n" + section.read_text() if section.exists() else "")


def _merge(runner: Runner, artifacts: Path) -> subprocess.CompletedProcess[str]:
    clone = runner.fresh_clone()
    shutil.copy(artifacts / "plan.json", clone / "infra" / "plan.json")  # download-artifact
    return runner.run(clone, "apply", "apply")


@pytest.mark.timeout(1800)  # on a machine without checkov's venv, the first run builds it (~1 min)
def test_workflow_command_sequence_against_the_cloud(tmp_path: Path, aws_env: str, boto) -> None:
    boto("s3").create_bucket(Bucket="reconciler-ci-state")
    boto("dynamodb").create_table(
        TableName="reconciler-locks",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
    )
    register_ami(boto, name="app-1.0.0", version="1.0.0", tags={"Channel": "stable"})
    runner, artifacts = Runner(tmp_path, aws_env), tmp_path / "artifacts"

    comment = _pull_request(runner, artifacts, policy=True)  # the first pull request creates the stack
    assert comment.splitlines()[0].startswith("**Plan: 2 to add"), comment[:200]
    policy = comment[comment.index("### Policy checks (checkov)") :]
    # the example's template sets no metadata_options: IMDSv1 stays allowed, and checkov says so
    assert "on 2 resources" in policy and "| CKV_AWS_79 | `aws_launch_template.web` |" in policy, policy
    applied = _merge(runner, artifacts)
    assert applied.returncode == 0, applied.stdout + applied.stderr

    clone = runner.fresh_clone()  # a fresh clone with only the configuration: nothing to do
    check = subprocess.run(
        ["reconciler", "--chdir", str(clone / "infra"), "plan", "--detailed-exitcode"],
        env=runner.env,
        text=True,
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr

    register_ami(boto, name="app-1.1.0", version="1.1.0", tags={"Channel": "stable"})
    comment = _pull_request(runner, artifacts)  # a new AMI: the comment shows the rollout
    assert "roll out" in comment.splitlines()[0] and "app-1.1.0" in comment
    register_ami(boto, name="app-1.2.0", version="1.2.0", tags={"Channel": "stable"})  # the world moves
    stale = _merge(runner, artifacts)
    assert stale.returncode != 0 and "stale" in stale.stderr, stale.stdout + stale.stderr

    _pull_request(runner, artifacts)  # re-plan, review again, merge again
    applied = _merge(runner, artifacts)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    ec2 = boto("ec2")
    images = {i["ImageId"]: i["Name"] for i in ec2.describe_images(Owners=["self"])["Images"]}
    running = [
        images.get(i["ImageId"])
        for r in ec2.describe_instances(Filters=[{"Name": "instance-state-name", "Values": ["running"]}])[
            "Reservations"
        ]
        for i in r["Instances"]
    ]
    assert running == ["app-1.2.0", "app-1.2.0"]
