"""Helpers for scenario tests: write a stack, run the CLI in-process or as a process killed
mid-apply, inspect the cloud."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli import main


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


class Cli:
    def __init__(self, directory: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.dir = directory
        self.capsys = capsys

    def __call__(self, *args: str) -> Result:
        self.capsys.readouterr()
        code = main(["--chdir", str(self.dir), *args])
        captured = self.capsys.readouterr()
        return Result(code, captured.out, captured.err)


ROOT = Path(__file__).resolve().parents[2]


def cli_env(endpoint: str, **extra: str) -> dict[str, str]:
    """The environment of a CLI process against the moto server at `endpoint`."""
    return {
        **os.environ,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
        "AWS_DEFAULT_REGION": "us-east-1",
        "NO_COLOR": "1",
        "PYTHONPATH": str(ROOT),
        **extra,
    }


def kill_apply_when(
    stack: Path,
    ready: Callable[[], bool],
    *,
    env: Mapping[str, str],
    args: tuple[str, ...] = (),
    timeout: float = 90,
    poll: float = 0.05,
) -> None:
    """`reconciler apply --auto-approve ARGS` as its own process, SIGKILLed as soon as `ready()`
    holds (or once `timeout` passed; an apply that ended by itself is left as it ended). The
    caller asserts where the kill landed."""
    cmd = [sys.executable, "-m", "reconciler.cli", "--chdir", str(stack), "apply", "--auto-approve", *args]
    proc = subprocess.Popen(cmd, env=dict(env), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline and not ready():
        time.sleep(poll)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def write_stack(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(textwrap.dedent(text).lstrip())
    return directory


def launch_templates(boto: Any) -> dict[str, dict[str, Any]]:
    out = {}
    for lt in boto("ec2").describe_launch_templates(MaxResults=200)["LaunchTemplates"]:
        out[lt["LaunchTemplateName"]] = lt
    return out


def template_data(boto: Any, name: str, version: str = "$Default") -> dict[str, Any]:
    got = boto("ec2").describe_launch_template_versions(LaunchTemplateName=name, Versions=[version])
    data: dict[str, Any] = got["LaunchTemplateVersions"][0]
    return data
