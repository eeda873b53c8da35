"""checkov and terraform-compliance, run as teams run them in CI, for the policy-tool tests.

checkov cannot live in reconciler's venv: every checkov 3 pins boto3 exactly and its
bc-python-hcl2 installs the import name `hcl2` over reconciler's python-hcl2. So `checkov()` builds
it a venv of its own, once per machine, in a cache directory keyed by the digest of
.ci/checkov-constraints.txt (`$XDG_CACHE_HOME/reconciler/checkov-<digest>`, else ~/.cache/...;
`RECONCILER_CHECKOV_VENV` names another directory): `python -m venv`, then
`pip install -c .ci/checkov-constraints.txt checkov==<pinned>`, then a `ready` marker; a later run
finds the marker and reuses it (an interrupted build is started again). A file lock keeps two test
runs from building it at once. terraform-compliance installs with the dev extra and runs from it.
Used by test_policy_tools.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock

ROOT = Path(__file__).resolve().parents[2]
CONSTRAINTS = ROOT / ".ci" / "checkov-constraints.txt"


def pinned_checkov() -> str:
    for line in CONSTRAINTS.read_text().splitlines():
        if line.startswith("checkov=="):
            return line.split("==", 1)[1].strip()
    raise AssertionError(f"{CONSTRAINTS} pins no checkov version")


def _venv_dir() -> Path:
    named = os.environ.get("RECONCILER_CHECKOV_VENV")
    if named:
        return Path(named)
    digest = hashlib.sha256(CONSTRAINTS.read_bytes() + sys.version.encode()).hexdigest()[:12]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "reconciler" / f"checkov-{digest}"


def checkov_executable() -> Path:
    """The checkov of the pinned version, building its venv first when this machine has none."""
    venv = _venv_dir()
    exe, ready = venv / "bin" / "checkov", venv / "ready"
    version = pinned_checkov()
    if ready.exists() and ready.read_text().strip() == version and exe.exists():
        return exe
    venv.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(venv) + ".lock"):
        if ready.exists() and ready.read_text().strip() == version and exe.exists():
            return exe
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
        subprocess.run(
            [
                str(venv / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "-q",
                "-c",
                str(CONSTRAINTS),
                f"checkov=={version}",
            ],
            check=True,
            timeout=1500,
        )
        ready.write_text(version + "\n")
    return exe


@dataclass
class CheckovRun:
    """One checkov run over a directory of plans: results by file name."""

    code: int
    summary: dict[str, Any]
    passed: dict[str, list[tuple[str, str]]]  # file name → (check id, resource address)
    failed: dict[str, list[tuple[str, str]]]

    def resources(self, name: str) -> set[str]:
        """Every resource checkov checked in that file (passed or failed at least one check)."""
        return {
            r for _, r in self.passed.get(name, []) + self.failed.get(name, []) if not r.startswith("aws.")
        }


def run_checkov(directory: Path, *, extra: tuple[str, ...] = ()) -> CheckovRun:
    """checkov over every plan in `directory` at once (one start-up, ~7 s, for all of them)."""
    exe = checkov_executable()
    result = subprocess.run(
        [
            str(exe),
            "-d",
            str(directory),
            "--framework",
            "terraform_plan",
            "--skip-download",
            "-o",
            "json",
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert result.returncode in (0, 1), f"checkov exited {result.returncode}\n{result.stderr[-3000:]}"
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    passed: dict[str, list[tuple[str, str]]] = {}
    failed: dict[str, list[tuple[str, str]]] = {}
    summary: dict[str, Any] = {}
    for part in reports:
        for key, value in part.get("summary", {}).items():
            summary[key] = summary.get(key, 0) + value if isinstance(value, int) else value
        for kind, into in (("passed_checks", passed), ("failed_checks", failed)):
            for check in part.get("results", {}).get(kind, []):
                name = Path(check["file_path"]).name
                into.setdefault(name, []).append((check["check_id"], check["resource"]))
    return CheckovRun(result.returncode, summary, passed, failed)


def run_terraform_compliance(plan: Path, features: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "terraform-compliance"
    return subprocess.run(
        [str(exe), "-f", str(features), "-p", str(plan), "--no-ansi"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
