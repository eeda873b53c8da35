"""Results of the fleets benchmark and their rendering: the Markdown table, the per-action
breakdowns, the JSON dump and the one-line description of the machine. Pure except
`environment_line` (asks `terraform version`). Callers: `benchmarks/fleets.py` (all of it),
`benchmarks/plan_scale.py` (`Measure`, `environment_line`).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = [
    "NOT_RUN",
    "PHASES",
    "RECONCILER",
    "TERRAFORM",
    "Measure",
    "ToolRun",
    "environment_line",
    "render_breakdowns",
    "render_table",
    "to_json",
]

PHASES: list[tuple[str, str]] = [
    ("first_apply", "first apply"),
    ("noop_plan", "no-change plan"),
    ("ami_plan", "plan after new AMI"),
    ("ami_apply", "apply of that plan"),
]
RECONCILER = "reconciler"
TERRAFORM = "Terraform"
NOT_RUN = ("not installed", "skipped")  # ToolRun.status of a tool that did not run at all


@dataclass
class Measure:
    seconds: float
    calls: Counter[str]
    exit_code: int | None  # None: timed out
    expected: int
    cpu_seconds: float  # user + sys (os.wait4: the process and the descendants it reaped)
    max_rss_mb: float  # peak RSS of the process or its largest reaped descendant (not a sum)

    @property
    def ok(self) -> bool:
        return self.exit_code == self.expected

    @property
    def total(self) -> int:
        return sum(self.calls.values())


@dataclass
class ToolRun:
    tool: str
    size: int
    measures: dict[str, Measure] = field(default_factory=dict)
    instances: tuple[int, int] | None = None  # (on the new AMI, running in total)
    status: str | None = None  # one of NOT_RUN, or why the run stopped early


def _cell(run: ToolRun, key: str) -> str:
    measure = run.measures.get(key)
    if measure is None:
        return run.status if run.status in NOT_RUN else "—"
    if not measure.ok:
        return "timed out" if measure.exit_code is None else f"failed (exit {measure.exit_code})"
    return f"{measure.seconds:.1f} s / {measure.total} calls"


def _per_phase(run: ToolRun, figure: Callable[[Measure], str]) -> str:
    """One figure per phase, in PHASES order, joined by ' · ' (— for a phase that did not run)."""
    if not run.measures:
        return run.status if run.status in NOT_RUN else "—"
    return " · ".join(figure(run.measures[k]) if k in run.measures else "—" for k, _ in PHASES)


def render_table(runs: list[ToolRun], sizes: list[int]) -> str:
    by = {(r.tool, r.size): r for r in runs}
    columns = [(tool, size) for size in sizes for tool in (RECONCILER, TERRAFORM)]
    head = "| phase | " + " | ".join(f"{tool} N={size}" for tool, size in columns) + " |"
    lines = [head, "|---|" + "---|" * len(columns)]
    for key, label in PHASES:
        lines.append(f"| {label} | " + " | ".join(_cell(by[c], key) for c in columns) + " |")
    cells = []
    for c in columns:
        run = by[c]
        if run.instances is not None:
            cells.append(f"{run.instances[0]} of {run.instances[1]}")
        else:
            cells.append(run.status if run.status in NOT_RUN else "—")
    lines.append("| instances on the new AMI after that apply | " + " | ".join(cells) + " |")
    for label, figure in (
        ("CPU seconds (user+sys) of the four phases above", lambda m: f"{m.cpu_seconds:.1f}"),
        ("peak memory (max RSS, MB) of the four phases above", lambda m: f"{m.max_rss_mb:.0f}"),
    ):
        lines.append(f"| {label} | " + " | ".join(_per_phase(by[c], figure) for c in columns) + " |")
    speed = []
    for tool, size in columns:
        ours, theirs = (
            by[(RECONCILER, size)].measures.get("noop_plan"),
            by[(TERRAFORM, size)].measures.get("noop_plan"),
        )
        if tool == RECONCILER and ours and theirs and ours.ok and theirs.ok:
            speed.append(f"×{theirs.seconds / ours.seconds:.1f} faster")
        else:
            speed.append("")
    lines.append("| no-change plan: Terraform time ÷ reconciler time | " + " | ".join(speed) + " |")
    return "\n".join(lines)


def render_breakdowns(runs: list[ToolRun], phase: str = "noop_plan") -> str:
    out = []
    for run in runs:
        measure = run.measures.get(phase)
        if measure is None:
            continue
        actions = ", ".join(
            f"{k} {v}" for k, v in sorted(measure.calls.items(), key=lambda kv: (-kv[1], kv[0]))
        )
        out.append(f"- {run.tool}, N={run.size}: {measure.total} calls — {actions or 'none'}")
    return "\n".join(out)


def environment_line(*, terraform: bool = True) -> str:
    """Versions and machine; Terraform's version too when `terraform` and it is on PATH."""
    from importlib.metadata import version

    parts = [f"Python {platform.python_version()}", f"moto {version('moto')}", f"boto3 {version('boto3')}"]
    if terraform and shutil.which("terraform"):
        try:
            info = json.loads(
                subprocess.run(
                    ["terraform", "version", "-json"],
                    capture_output=True,
                    timeout=30,
                    check=False,
                    env=dict(os.environ, CHECKPOINT_DISABLE="1"),
                ).stdout
            )
            parts.append(f"Terraform {info['terraform_version']}")
        except (ValueError, KeyError, OSError, subprocess.TimeoutExpired):
            pass
    parts.append(f"{os.cpu_count()} CPUs, {platform.system()} {platform.machine()}")
    return ", ".join(parts)


def to_json(runs: list[ToolRun]) -> str:
    """Every measurement: per tool and size, each phase's seconds, exit code, CPU seconds, peak RSS
    and calls by action."""
    return json.dumps([_run_json(r) for r in runs], indent=2) + "\n"


def _run_json(run: ToolRun) -> dict[str, object]:
    phases = {
        key: {
            "seconds": round(m.seconds, 3),
            "calls": m.total,
            "exit_code": m.exit_code,
            "cpu_seconds": round(m.cpu_seconds, 3),
            "max_rss_mb": round(m.max_rss_mb, 1),
            "by_action": dict(sorted(m.calls.items())),
        }
        for key, m in run.measures.items()
    }
    return {
        "tool": run.tool,
        "size": run.size,
        "status": run.status,
        "instances_on_new_ami": run.instances[0] if run.instances else None,
        "instances_running": run.instances[1] if run.instances else None,
        "phases": phases,
    }
