"""Helpers for scenario tests: write a stack, run the CLI in-process, inspect the cloud."""

from __future__ import annotations

import textwrap
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
