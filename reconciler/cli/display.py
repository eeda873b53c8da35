"""What more than one command group prints: a plan in the chosen format, the plan's warnings, the
outputs, and the answer to "do you want to …?".

Imported by handlers when they run (it loads the renderers' shared code), never for `--help`.
Callers: reconciler.cli.plan, reconciler.cli.review, reconciler.cli.rollout.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from rich.console import Console
from rich.text import Text

from reconciler.planning.model import Plan
from reconciler.render import renderer
from reconciler.render.human import fmt_value
from reconciler.state import OutputState


def render(plan: Plan, fmt: str, out: Console, *, plan_file: str | None = None, pretty: bool = False) -> None:
    """Print a plan in format `fmt` (one of reconciler.render.FORMATS); `pretty` indents JSON."""
    if pretty and fmt != "json":
        from reconciler.errors import ReconcilerError

        raise ReconcilerError("--pretty indents the JSON plan: use it with --format json")
    renderer(fmt)(plan, out=out, plan_file=plan_file, pretty=pretty)


def warn(plan: Plan, err: Console) -> None:
    """The plan's warnings (a sensitive value in tags), on stderr after the plan."""
    if plan.warnings:
        from reconciler.render.diagnostics import format_diagnostics

        err.print("\n" + format_diagnostics(plan.warnings).rstrip("\n"), markup=False)


def print_outputs(outputs: Mapping[str, OutputState], out: Console) -> None:
    if not outputs:
        return
    out.print("\nOutputs:\n")
    for name in sorted(outputs):
        o = outputs[name]
        out.print(Text(f"{name} = {fmt_value(o.value, sensitive=o.sensitive)}"))


def confirm(out: Console, question: str) -> bool:
    """Ask like Terraform: only the answer 'yes' goes ahead; end of input is a no."""
    out.print(f"\n{question} Only 'yes' will be accepted.")
    try:
        answer = input("  Enter a value: ")
    except EOFError:
        return False
    return answer.strip() == "yes"


def resolve(directory: Path, path: Path) -> Path:
    """Plan file paths are relative to the stack directory (--chdir), as in Terraform."""
    return path if path.is_absolute() else directory / path
