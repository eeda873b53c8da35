"""`plan`, `apply` (with or without a saved plan) and `destroy`.

`plan` loads the stack, reads the state under the lock, plans, and prints the plan in the chosen
format; with `--out` it saves the plan file (planning.planfile) and renderers get the plan as
saved, so no secret reaches them. `apply` plans, asks, and carries the plan out with live
progress; `apply PLAN_FILE` reads the cloud again only to fingerprint it, refuses a stale plan with
the reasons (planning.staleness) and otherwise applies exactly the saved plan without asking.
Callers: reconciler.cli (GROUPS).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.cli.common import Context, ExitCode, Subparsers, add_common, parse_addresses, positive_int
from reconciler.render import FORMATS

if TYPE_CHECKING:
    from collections.abc import Mapping

    from rich.console import Console

    from reconciler.cli.collector import CollectorPaused
    from reconciler.config import Loaded, Stack
    from reconciler.planning.model import Plan
    from reconciler.planning.planner import PlanOptions
    from reconciler.sdk import Provider
    from reconciler.state import Backend, State, StateWriter


def register(sub: Subparsers) -> None:
    p = sub.add_parser("plan", help="read the cloud, diff, print the plan (terraform plan)")
    add_common(p)
    p.add_argument("--detailed-exitcode", action="store_true", help="exit 2 when changes are pending")
    _add_target_replace(p)
    p.add_argument("--refresh-only", action="store_true", help="only show changes made outside reconciler")
    p.add_argument("--destroy", action="store_true", help="plan the deletion of everything in state")
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="FILE",
        help="save the plan for `apply FILE` (terraform -out)",
    )
    p.add_argument(
        "--format",
        choices=tuple(FORMATS),
        default="human",
        help="how to print the plan: human (default), json (Terraform's plan JSON, one line, for policy "
        "tools), markdown (a PR comment)",
    )
    p.add_argument("--pretty", action="store_true", help="with --format json: indented, for people")
    p.set_defaults(run=plan)

    p = sub.add_parser("apply", help="plan, confirm, apply; or apply a saved plan (terraform apply)")
    p.add_argument(
        "plan_file",
        nargs="?",
        type=Path,
        default=None,
        metavar="PLAN_FILE",
        help="apply exactly this saved plan (from plan --out), without asking; refused if stale",
    )
    add_common(p)
    p.add_argument("--auto-approve", action="store_true", help="do not ask for confirmation")
    _add_target_replace(p)
    p.add_argument("--refresh-only", action="store_true", help="take changes made outside into state only")
    p.add_argument(
        "--max-rollouts",
        type=positive_int,
        default=None,
        metavar="N",
        help="fleets of a wave rolled out at once, at least 1 (default: every fleet of the wave)",
    )
    p.set_defaults(run=apply)

    p = sub.add_parser("destroy", help="delete everything in the stack's state (terraform destroy)")
    add_common(p)
    p.add_argument("--auto-approve", action="store_true", help="do not ask for confirmation")
    p.set_defaults(run=destroy)


def _add_target_replace(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="ADDR",
        help="limit to ADDR and what it depends on (repeatable)",
    )
    p.add_argument(
        "--replace",
        action="append",
        default=[],
        metavar="ADDR",
        help="replace ADDR even if nothing changed (repeatable)",
    )


def plan(args: argparse.Namespace, ctx: Context) -> ExitCode:
    return _plan_or_apply(args, ctx, command="plan")


def apply(args: argparse.Namespace, ctx: Context) -> ExitCode:
    if args.plan_file is not None:
        return _apply_saved(args, ctx)
    return _plan_or_apply(args, ctx, command="apply")


def destroy(args: argparse.Namespace, ctx: Context) -> ExitCode:
    return _plan_or_apply(args, ctx, command="destroy")


def _plan_or_apply(args: argparse.Namespace, ctx: Context, *, command: str) -> ExitCode:
    from reconciler.cli.collector import CollectorPaused

    with CollectorPaused() as collector:
        return _plan_then_apply(args, ctx, command=command, collector=collector)


def _plan_then_apply(
    args: argparse.Namespace, ctx: Context, *, command: str, collector: CollectorPaused
) -> ExitCode:
    """Load, plan and print with the collector paused; resumed before anything is applied."""
    from reconciler.cli.display import confirm, warn
    from reconciler.cli.session import backend_for, load_from, providers_for, read_state
    from reconciler.planning.planner import PlanOptions, make_plan
    from reconciler.render.human import render_plan
    from reconciler.state import StateWriter

    loaded = load_from(args, ctx.directory)
    stack = loaded.stack
    destroying = command == "destroy" or getattr(args, "destroy", False)
    options = PlanOptions(
        targets=parse_addresses(getattr(args, "target", [])),
        replace=parse_addresses(getattr(args, "replace", [])),
        refresh_only=getattr(args, "refresh_only", False),
        destroy=destroying,
        parallelism=args.parallelism,
    )
    backend = backend_for(stack)
    with backend.lock(command=f"reconciler {command}", timeout=args.lock_timeout):
        state = read_state(backend, stack)
        providers = providers_for(stack, loaded.variables)
        made = make_plan(
            stack=stack, variables=loaded.variables, state=state, providers=providers, options=options
        )
        if command == "plan":
            return _finish_plan(
                args, made, loaded=loaded, options=options, ctx=ctx, state=state, backend=backend
            )
        render_plan(made, ctx.out)
        warn(made, ctx.err)
        collector.resume()  # what follows writes the cloud, and a rollout may run for hours
        if not made.has_changes:
            from reconciler.applying.checks import record_refresh

            if record_refresh(made, StateWriter(backend, state)):
                ctx.out.print("State updated with what the refresh saw.")
            return ExitCode.OK
        question = (
            "Do you want to destroy all resources in this stack?"
            if destroying
            else "Do you want to perform these actions?"
        )
        if not args.auto_approve and not confirm(ctx.out, question):
            ctx.out.print("Apply cancelled.")
            return ExitCode.ERROR
        _run_apply(
            made,
            loaded=loaded,
            writer=StateWriter(backend, state),
            providers=providers,
            args=args,
            out=ctx.out,
        )
    return ExitCode.OK


def _run_apply(
    plan: Plan,
    *,
    loaded: Loaded,
    writer: StateWriter,
    providers: Mapping[str, Provider],
    args: argparse.Namespace,
    out: Console,
) -> None:
    """Carry out a plan with live progress, then say what was done and print the outputs."""
    from rich.text import Text

    from reconciler.applying.executor import apply_plan
    from reconciler.cli.display import print_outputs
    from reconciler.render.progress import ApplyProgress

    out.print()
    with ApplyProgress(out) as progress:
        apply_plan(
            plan=plan,
            stack=loaded.stack,
            variables=loaded.variables,
            writer=writer,
            providers=providers,
            parallelism=args.parallelism,
            emit=progress.line,
            on_rollout=progress.rollout,
            max_rollouts=getattr(args, "max_rollouts", None),
        )
    out.print()
    out.print(Text(_complete_line(plan), style="bold green"))
    print_outputs(writer.snapshot().outputs, out)


def _complete_line(plan: Plan) -> str:
    from reconciler.planning.summary import summarize

    if plan.refresh_only:
        n = len(plan.takeable_drift)
        return (
            f"Apply complete! {n} change{'' if n == 1 else 's'} made outside reconciler "
            "taken into state."
        )
    counts = summarize(plan)
    word = "Destroy" if plan.destroy else "Apply"
    text = (
        f"{word} complete! Resources: {counts.add} added, {counts.change} changed, {counts.destroy} destroyed"
    )
    if counts.rollouts:
        fleets = f"{counts.rollouts} fleet{'s' if counts.rollouts != 1 else ''}"
        text += f", {fleets} rolled out ({counts.instances} instances replaced)"
    return text + "."


# ---- saved plans ----------------------------------------------------------------------------------


def _finish_plan(
    args: argparse.Namespace,
    made: Plan,
    *,
    loaded: Loaded,
    options: PlanOptions,
    ctx: Context,
    state: State,
    backend: Backend,
) -> ExitCode:
    """After `plan`: save it when --out was given, and print it in the chosen format."""
    from reconciler.cli.display import render, resolve, warn
    from reconciler.errors import ReconcilerError
    from reconciler.planning.planfile import (
        config_digest,
        new_salt,
        plan_file_dict,
        plan_file_from_dict,
        write_plan_file,
    )
    from reconciler.planning.saved import sensitive_variables
    from reconciler.render.tfplan.configuration import configuration_document

    fmt = args.format or "human"
    if args.pretty and fmt != "json":
        raise ReconcilerError("--pretty indents the JSON plan: use it with --format json")
    target: Path | None = args.out
    shown = made
    if target is not None or fmt != "human":
        if target is not None and state.serial == 0 and _holds_digests(made, loaded.stack):
            _keep_key(state, backend, made)
        made.configuration = configuration_document(loaded.stack)
        salt = new_salt()
        config = config_digest(loaded.stack, loaded.variables, salt=salt, key=state.digest_key)
        made.config_digest = config.value
        doc = plan_file_dict(
            made,
            config=config,
            salt=salt,
            replace=[str(a) for a in options.replace],
            sensitive_variables=sensitive_variables(loaded.stack),
        )
        if target is not None:
            write_plan_file(resolve(ctx.directory, target), doc)
        if fmt != "human":  # renderers get the plan as saved: no secret, whatever they print
            shown = plan_file_from_dict(doc).plan
    render(shown, fmt, ctx.out, plan_file=None if target is None else str(target), pretty=args.pretty)
    warn(made, ctx.err)
    if target is not None:
        note = ctx.out if fmt == "human" else ctx.err
        note.print(f"\nSaved the plan to: {target}\n\nTo perform exactly these actions, run:")
        note.print(f"  reconciler apply {target}")
    return ExitCode.CHANGES if args.detailed_exitcode and made.has_changes else ExitCode.OK


def _holds_digests(plan: Plan, stack: Stack) -> bool:
    import json

    from reconciler.planning.planfile import ConfigDigest, plan_file_dict
    from reconciler.planning.saved import sensitive_variables

    return bool(sensitive_variables(stack)) or '"__sensitive__"' in json.dumps(
        plan_file_dict(plan, config=ConfigDigest({}, {}), salt=""), default=str
    )


def _keep_key(state: State, backend: Backend, plan: Plan) -> None:
    """A plan saved against no state holds digests under a key only this state will hold: write
    the empty state now (lineage and key, serial 1; nothing else), so `apply PLAN_FILE` can check
    them, and the plan records that state."""
    state.serial += 1
    backend.write(state)
    plan.serial = state.serial


def _apply_saved(args: argparse.Namespace, ctx: Context) -> ExitCode:
    """`apply PLAN_FILE`: apply exactly the saved plan, or refuse it as stale (exit 1)."""
    import os

    from reconciler.cli.display import resolve
    from reconciler.cli.session import backend_for, providers_for, read_state
    from reconciler.config import Loaded, load_stack
    from reconciler.errors import PlanFileError, ReconcilerError, StalePlanError
    from reconciler.planning.planfile import config_digest, load_plan
    from reconciler.planning.saved import current_fingerprints, saved_variables
    from reconciler.planning.staleness import stale_reasons
    from reconciler.render.human import summary_line
    from reconciler.state import StateWriter

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
    saved = load_plan(resolve(ctx.directory, args.plan_file))
    stack = load_stack(ctx.directory)
    if stack.settings.name != saved.plan.stack:
        raise PlanFileError(
            f'{shown} was made for stack "{saved.plan.stack}", not for this stack "{stack.settings.name}"'
        )
    if not saved.plan.has_changes:
        ctx.out.print(f"The saved plan {shown} has no changes: nothing to apply.")
        return ExitCode.OK
    variables = saved_variables(
        saved, stack=stack, cli_vars=args.var, var_files=args.var_file, environ=os.environ
    )
    loaded = Loaded(stack=stack, variables=variables)
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
        ctx.out.print(f"Applying the saved plan {shown}: {summary_line(saved.plan)}")
        _run_apply(
            saved.plan,
            loaded=loaded,
            writer=StateWriter(backend, state),
            providers=providers,
            args=args,
            out=ctx.out,
        )
    return ExitCode.OK
