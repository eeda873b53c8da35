"""What a faulted or killed run left in the cloud and in state, and how to run the real CLI.

Everything here reads the moto server directly (never through the fault proxy) with boto3, as an
operator would: `duplicates` counts objects that exist twice (a second launch template, identical
launch template versions, a group of the fleet that no rollout explains, running instances that
belong to no group, a second target group), `unfinished_rollouts` reads the state file. `run_cli`
runs `python -m reconciler.cli` in a subprocess (so a SIGKILL can land in it), `stack_files` writes
the fleet stack of the rollout scenarios with a strategy and a keep_previous.
Callers: tests/faults/, benchmarks/faults.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from tests.scenarios.rollout_checks import fleet_stack

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"


def cloud(endpoint: str) -> Callable[[str], Any]:
    """boto(service) → a client on `endpoint` (the moto server itself, not the proxy)."""

    def make(service: str) -> Any:
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    return make


def cli_env(endpoint: str, *, poll: str = "0.05") -> dict[str, str]:
    return {
        **os.environ,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "NO_COLOR": "1",
        "PYTHONPATH": str(ROOT),
        "RECONCILER_ROLLOUT_POLL": poll,
    }


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def start_cli(stack: Path, endpoint: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "reconciler.cli", "--chdir", str(stack), *args],
        env=cli_env(endpoint),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_cli(stack: Path, endpoint: str, *args: str, timeout: float = 240) -> Run:
    proc = start_cli(stack, endpoint, *args)
    out, err = proc.communicate(timeout=timeout)
    return Run(proc.returncode, out, err)


def stack_files(strategy: str, *, keep_previous: str = "1h", size: int = 4) -> dict[str, str]:
    """The rollout scenarios' fleet (4 instances behind a target group, alarm-gated) rolled out
    by `strategy`; `size` 2 makes a smaller fleet (min 1) for the slower suites."""
    text = fleet_stack(strategy)["main.hcl"].replace(
        'keep_previous  = "1h"', f'keep_previous  = "{keep_previous}"'
    )
    if size != 4:
        text = text.replace("min_size           = 2", "min_size           = 1")
        text = text.replace("desired_capacity   = 4", f"desired_capacity   = {size}")
    return {"main.hcl": text}


def write_stack(directory: Path, files: Mapping[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(textwrap.dedent(text).lstrip())
    return directory


@dataclass
class Duplicates:
    """Objects that exist more than they should; all zero after a run that did things once."""

    templates: int = 0  # launch templates beyond one per name
    identical_versions: int = 0  # versions of a template whose launch data equals an earlier one's
    stray_groups: list[str] = field(default_factory=list)  # groups of the fleet beyond those expected
    orphan_instances: int = 0  # running instances in no auto-scaling group
    target_groups: int = 0  # target groups beyond one per name

    @property
    def total(self) -> int:
        return (
            self.templates
            + self.identical_versions
            + len(self.stray_groups)
            + self.orphan_instances
            + self.target_groups
        )

    def __str__(self) -> str:
        parts = [
            f"templates {self.templates}",
            f"identical versions {self.identical_versions}",
            f"stray groups {','.join(self.stray_groups) or 0}",
            f"orphan instances {self.orphan_instances}",
            f"target groups {self.target_groups}",
        ]
        return ", ".join(parts)


def duplicates(boto: Callable[[str], Any], *, expected_groups: set[str]) -> Duplicates:
    ec2, asg, elbv2 = boto("ec2"), boto("autoscaling"), boto("elbv2")
    found = Duplicates()
    templates = ec2.describe_launch_templates(MaxResults=200)["LaunchTemplates"]
    names = Counter(t["LaunchTemplateName"] for t in templates)
    found.templates = sum(n - 1 for n in names.values())
    for template in templates:
        versions = ec2.describe_launch_template_versions(
            LaunchTemplateId=template["LaunchTemplateId"], MaxResults=200
        )["LaunchTemplateVersions"]
        contents = Counter(
            json.dumps(v.get("LaunchTemplateData"), sort_keys=True, default=str) for v in versions
        )
        found.identical_versions += sum(n - 1 for n in contents.values())
    groups = asg.describe_auto_scaling_groups()["AutoScalingGroups"]
    found.stray_groups = sorted(
        g["AutoScalingGroupName"] for g in groups if g["AutoScalingGroupName"] not in expected_groups
    )
    in_groups = {i["InstanceId"] for g in groups for i in g["Instances"]}
    running = [
        i["InstanceId"]
        for r in ec2.describe_instances(
            Filters=[{"Name": "instance-state-name", "Values": ["pending", "running"]}]
        )["Reservations"]
        for i in r["Instances"]
    ]
    found.orphan_instances = sum(1 for i in running if i not in in_groups)
    tgs = Counter(t["TargetGroupName"] for t in elbv2.describe_target_groups()["TargetGroups"])
    found.target_groups = sum(n - 1 for n in tgs.values())
    return found


def state_of(stack: Path) -> dict[str, Any]:
    path = stack / ".reconciler" / "state.json"
    data: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    return data


def unfinished_rollouts(stack: Path) -> list[str]:
    """Addresses whose recorded rollout is not complete (pending, in progress, rolling back)."""
    out = []
    for address, resource in (state_of(stack).get("resources") or {}).items():
        progress = ((resource.get("rollout") or {}).get("progress")) or {}
        if progress.get("phase") in ("pending", "in_progress", "rolling_back"):
            out.append(address)
    return out


def recorded_instances(stack: Path, address: str = "aws_fleet.web") -> set[str]:
    resource = (state_of(stack).get("resources") or {}).get(address) or {}
    return {str(i["id"]) for i in (resource.get("attributes") or {}).get("instances") or []}
