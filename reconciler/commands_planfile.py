"""Saved plans and plan renderings: `plan --out/--format`, `apply PLAN_FILE`, `show [PLAN_FILE]`.

`apply PLAN_FILE` loads the stack, reads the state under the lock, reads the cloud again only to
fingerprint it (a planning pass whose plan is thrown away), refuses a stale plan with the reasons
(planning.staleness), and otherwise applies exactly the saved plan: its changes and the data-source
results it recorded, without asking. Split from commands.py to keep both short.
Callers: commands (plan, apply), cli (show).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.console import Console

from providers.base import Provider
from reconciler.address import Address
from reconciler.commands import EXIT_CHANGES, EXIT_OK, run_apply, show_state, warn
from reconciler.config import Stack, load_stack, resolve_variables
from reconciler.errors import ConfigError, OwnershipError, ReconcilerError
from reconciler.planning.model import Action, Plan
from reconciler.planning.planfile import (
    ConfigDigest,
    PlanFile,
    PlanFileError,
    config_digest,
    load_plan,
    new_salt,
    plan_file_dict,
    plan_file_from_dict,
    write_plan_file,
)
from reconciler.planning.planner import PlanOptions, make_plan
from reconciler.planning.staleness import StalePlanError, stale_reasons
from reconciler.render.human import render_plan, summary_line
from reconciler.session import Loaded, backend_for, providers_for, read_state
from reconciler.state import Backend, State, StateWriter

FORMATS = ("human", "json", "markdown")


def finish_plan(
    args: argparse.Namespace,
    plan: Plan,
    *,
    loaded: Loaded,
    options: PlanOptions,
    directory: Path,
    out: Console,
    state: State,
    backend: Backend,
) -> int:
    """After `plan`: save it when --out was given, and print it in the chosen format."""
    fmt = getattr(args, "format", None) or "human"
    if getattr(args, "pretty", False) and fmt != "json":
        raise ReconcilerError("--pretty indents the JSON plan: use it with --format json")
    target: Path | None = getattr(args, "out", None)
    doc: dict[str, Any] | None = None
    if target is not None or fmt != "human":
        if target is not None and state.serial == 0 and _holds_digests(plan, loaded.stack):
            keep_key(state, backend, plan)
        from reconciler.render.tfplan.configuration import configuration_document

        plan.configuration = configuration_document(loaded.stack)
        salt = new_salt()
        config = config_digest(loaded.stack, loaded.variables, salt=salt, key=state.digest_key)
        plan.config_digest = config.value
        doc = plan_file_dict(
            plan,
            config=config,
            salt=salt,
            replace=[str(a) for a in options.replace],
            sensitive_variables=sensitive_variables(loaded.stack),
        )
    if target is not None and doc is not None:
        write_plan_file(resolve(directory, target), doc)
    if fmt == "human" or doc is None:
        render_plan(plan, out)
    else:  # renderers get the plan as saved: no secret, whatever they print
        render(
            plan_file_from_dict(doc).plan,
            fmt,
            out,
            plan_file=None if target is None else str(target),
            pretty=getattr(args, "pretty", False),
        )
    warn(plan)
    if target is not None:
        note = out if fmt == "human" else Console(stderr=True, highlight=False, soft_wrap=True)
        note.print(f"\nSaved the plan to: {target}\n\nTo perform exactly these actions, run:")
        note.print(f"  reconciler apply {target}")
    return EXIT_CHANGES if args.detailed_exitcode and plan.has_changes else EXIT_OK


def _holds_digests(plan: Plan, stack: Stack) -> bool:
    return bool(sensitive_variables(stack)) or '"__sensitive__"' in json.dumps(
        plan_file_dict(plan, config=ConfigDigest({}, {}), salt=""), default=str
    )


def keep_key(state: State, backend: Backend, plan: Plan) -> None:
    """A plan saved against no state holds digests under a key only this state will hold: write
    the empty state now (lineage and key, serial 1; nothing else), so `apply PLAN_FILE` can check
    them, and the plan records that state."""
    state.serial += 1
    backend.write(state)
    plan.serial = state.serial


def render(
    plan: Plan, fmt: str, out: Console, *, plan_file: str | None = None, pretty: bool = False
) -> None:
    """Print a plan as human text, Terraform's plan JSON (docs/plan-json.md), or Markdown."""
    if pretty and fmt != "json":
        raise ReconcilerError("--pretty indents the JSON plan: use it with --format json")
    if fmt == "json":
        from reconciler.render.tfplan import render_json

        sys.stdout.write(render_json(plan, pretty=pretty))
    elif fmt == "markdown":
        try:
            from reconciler.render.markdown import render_markdown
        except ImportError:
            raise ReconcilerError("--format markdown is not available in this build") from None
        text = render_markdown(plan, plan_file=plan_file) if plan_file else render_markdown(plan)
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        render_plan(plan, out)


def plan_summary(plan: Plan) -> dict[str, Any]:
    """The machine-readable verdict: counts by action and the human summary line."""
    rollouts = [c for c in plan.changes if c.action is Action.ROLLOUT]
    return {
        "has_changes": plan.has_changes,
        "add": plan.count(Action.CREATE) + plan.count(Action.REPLACE),
        "change": plan.count(Action.UPDATE),
        "destroy": plan.count(Action.DELETE) + plan.count(Action.REPLACE),
        "replace": plan.count(Action.REPLACE),
        "rollout": len(rollouts),
        "instances_to_replace": sum(int((c.rollout or {}).get("instances_to_replace", 0)) for c in rollouts),
        "text": summary_line(plan),
    }


def show(args: argparse.Namespace, directory: Path, *, out: Console) -> int:
    """`show PLAN_FILE [--format]` renders a saved plan; without a file, the current state."""
    fmt = getattr(args, "format", None)
    plan_file: Path | None = getattr(args, "plan_file", None)
    if plan_file is None:
        if fmt == "markdown":
            raise ReconcilerError("--format markdown renders a saved plan: give a PLAN_FILE")
        return show_state(directory, as_json=bool(args.json) or fmt == "json", out=out)
    saved = load_plan(resolve(directory, plan_file))
    render(
        saved.plan,
        fmt or ("json" if args.json else "human"),
        out,
        plan_file=str(plan_file),
        pretty=getattr(args, "pretty", False),
    )
    return EXIT_OK


def apply_saved(args: argparse.Namespace, directory: Path, *, out: Console) -> int:
    """`apply PLAN_FILE`: apply exactly the saved plan, or refuse it as stale (exit 1)."""
    for flag, given in (
        ("--target", args.target),
        ("--replace", args.replace),
        ("--refresh-only", args.refresh_only),
    ):
        if given:
            raise ReconcilerError(
                f"{flag} cannot be used with a saved plan: the plan file already says what to do; "
                "make a new plan with that option instead"
            )
    shown = str(args.plan_file)
    saved = load_plan(resolve(directory, args.plan_file))
    stack = load_stack(directory)
    if stack.settings.name != saved.plan.stack:
        raise PlanFileError(
            f'{shown} was made for stack "{saved.plan.stack}", not for this stack "{stack.settings.name}"'
        )
    if not saved.plan.has_changes:
        out.print(f"The saved plan {shown} has no changes: nothing to apply.")
        return EXIT_OK
    loaded = Loaded(stack=stack, variables=saved_variables(args, stack, saved))
    backend = backend_for(stack)
    with backend.lock(command=f"reconciler apply {shown}", timeout=args.lock_timeout):
        state = read_state(backend, stack)
        current = config_digest(stack, loaded.variables, salt=saved.salt, key=state.digest_key)
        providers = providers_for(stack, loaded.variables)
        fingerprints: Mapping[str, str] | None = None
        reasons: list[str] = []
        if current == saved.config:  # an edited configuration may not even plan; its reason suffices
            fingerprints, reasons = current_fingerprints(
                saved, loaded=loaded, state=state, providers=providers, parallelism=args.parallelism
            )
        reasons = (
            stale_reasons(
                plan_file=saved, state=state, config_digest=current, current_fingerprints=fingerprints
            )
            + reasons
        )
        if reasons:
            raise StalePlanError(shown, reasons)
        out.print(f"Applying the saved plan {shown}: {summary_line(saved.plan)}")
        run_apply(
            saved.plan,
            loaded=loaded,
            writer=StateWriter(backend, state),
            providers=providers,
            args=args,
            out=out,
        )
    return EXIT_OK


def current_fingerprints(
    saved: PlanFile,
    *,
    loaded: Loaded,
    state: State,
    providers: Mapping[str, Provider],
    parallelism: int,
) -> tuple[dict[str, str] | None, list[str]]:
    """Fingerprints of what the cloud holds now, from a planning pass with the saved options;
    its plan is thrown away (apply uses the saved one). A pass that fails is itself a reason."""
    plan = saved.plan
    options = PlanOptions(
        targets=tuple(Address.parse(t) for t in plan.targets),
        replace=tuple(Address.parse(r) for r in saved.replace),
        refresh_only=plan.refresh_only,
        destroy=plan.destroy,
        parallelism=parallelism,
    )
    try:
        fresh = make_plan(
            stack=loaded.stack, variables=loaded.variables, state=state, providers=providers, options=options
        )
    except (ConfigError, OwnershipError) as err:
        return None, [f"the cloud no longer plans as it did: {err}"]
    return fresh.fingerprints, []


def saved_variables(args: argparse.Namespace, stack: Stack, saved: PlanFile) -> dict[str, Any]:
    """The plan's variable values; sensitive ones (never saved) are given again, as for plan."""
    hidden = sensitive_variables(stack)
    for option in getattr(args, "var", []):
        name = option.partition("=")[0].strip()
        if name not in hidden:
            raise ReconcilerError(
                f"--var {name} cannot be set when applying a saved plan: the plan holds the values it "
                "was made with (only sensitive variables, which plan files never store, are given again)"
            )
    values = {
        n: v
        for n, v in saved.plan.variables.items()
        if n not in hidden and n not in saved.sensitive_variables
    }
    if hidden:
        only_sensitive = dataclasses.replace(stack, variables={n: stack.variables[n] for n in sorted(hidden)})
        values.update(
            resolve_variables(
                only_sensitive,
                cli_vars=list(getattr(args, "var", [])),
                var_files=list(getattr(args, "var_file", [])),
                environ=os.environ,
            )
        )
    return values


def sensitive_variables(stack: Stack) -> frozenset[str]:
    return frozenset(n for n, v in stack.variables.items() if v.sensitive)


def resolve(directory: Path, path: Path) -> Path:
    """Plan file paths are relative to the stack directory (--chdir), as in Terraform."""
    return path if path.is_absolute() else directory / path
