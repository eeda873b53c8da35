"""What each CLI command does, composed from session, planning, applying, state and render.

Kept apart from cli.py (which only parses arguments) so each command reads top to bottom.
Callers: cli.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path

from rich.console import Console
from rich.text import Text

from providers.base import Provider
from reconciler.address import Address
from reconciler.applying.executor import apply_plan
from reconciler.errors import ReconcilerError, StateError
from reconciler.planning.model import Action, Plan
from reconciler.planning.planner import PlanOptions, make_plan
from reconciler.render.human import fmt_value, render_plan
from reconciler.render.progress import ApplyProgress
from reconciler.session import Loaded, backend_for, load, providers_for, read_state
from reconciler.state import Backend, OutputState, StateWriter

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2


def load_from(args: argparse.Namespace, directory: Path) -> Loaded:
    return load(directory, cli_vars=getattr(args, "var", []), var_files=getattr(args, "var_file", []))


def plan_or_apply(args: argparse.Namespace, directory: Path, *, out: Console) -> int:
    from reconciler.cli import parse_addresses

    if args.command == "apply" and getattr(args, "plan_file", None) is not None:
        from reconciler.commands_planfile import apply_saved

        return apply_saved(args, directory, out=out)
    loaded = load_from(args, directory)
    stack = loaded.stack
    cmd = args.command
    destroy = cmd == "destroy" or getattr(args, "destroy", False)
    options = PlanOptions(
        targets=parse_addresses(getattr(args, "target", [])),
        replace=parse_addresses(getattr(args, "replace", [])),
        refresh_only=getattr(args, "refresh_only", False),
        destroy=destroy,
        parallelism=args.parallelism,
    )
    backend = backend_for(stack)
    with backend.lock(command=f"reconciler {cmd}", timeout=args.lock_timeout):
        state = read_state(backend, stack)
        providers = providers_for(stack, loaded.variables)
        plan = make_plan(
            stack=stack, variables=loaded.variables, state=state, providers=providers, options=options
        )
        if cmd == "plan":
            from reconciler.commands_planfile import finish_plan

            return finish_plan(args, plan, loaded=loaded, options=options, directory=directory, out=out)
        render_plan(plan, out)
        if not plan.has_changes:
            from reconciler.applying.checks import record_refresh

            if record_refresh(plan, StateWriter(backend, state)):
                out.print("State updated with what the refresh saw.")
            return EXIT_OK
        if not args.auto_approve and not _confirm(out, destroy=destroy):
            out.print("Apply cancelled.")
            return EXIT_ERROR
        run_apply(
            plan, loaded=loaded, writer=StateWriter(backend, state), providers=providers, args=args, out=out
        )
    return EXIT_OK


def run_apply(
    plan: Plan,
    *,
    loaded: Loaded,
    writer: StateWriter,
    providers: Mapping[str, Provider],
    args: argparse.Namespace,
    out: Console,
) -> None:
    """Carry out a plan with live progress, then say what was done and print the outputs."""
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
        )
    out.print()
    out.print(Text(_complete_line(plan), style="bold green"))
    _print_outputs(writer.snapshot().outputs, out)


def _confirm(out: Console, *, destroy: bool) -> bool:
    what = "destroy all resources in this stack" if destroy else "perform these actions"
    out.print(f"\nDo you want to {what}? Only 'yes' will be accepted.")
    try:
        answer = input("  Enter a value: ")
    except EOFError:
        return False
    return answer.strip() == "yes"


def _complete_line(plan: Plan) -> str:
    if plan.refresh_only:
        return (
            f"Apply complete! {len(plan.takeable_drift)} change(s) made outside reconciler taken into state."
        )
    added = plan.count(Action.CREATE) + plan.count(Action.REPLACE)
    changed = plan.count(Action.UPDATE)
    destroyed = plan.count(Action.DELETE) + plan.count(Action.REPLACE)
    word = "Destroy" if plan.destroy else "Apply"
    text = f"{word} complete! Resources: {added} added, {changed} changed, {destroyed} destroyed"
    rollouts = [c for c in plan.changes if c.action is Action.ROLLOUT]
    if rollouts:
        n = sum(int((c.rollout or {}).get("instances_to_replace", 0)) for c in rollouts)
        fleets = f"{len(rollouts)} fleet{'s' if len(rollouts) != 1 else ''}"
        text += f", {fleets} rolled out ({n} instances replaced)"
    return text + "."


def _print_outputs(outputs: Mapping[str, OutputState], out: Console) -> None:
    if not outputs:
        return
    out.print("\nOutputs:\n")
    for name in sorted(outputs):
        o = outputs[name]
        out.print(Text(f"{name} = {fmt_value(o.value, sensitive=o.sensitive)}"))


def _state_only(directory: Path) -> tuple[Loaded, Backend]:
    from reconciler.config import load_stack

    stack = load_stack(directory)
    backend = backend_for(stack)
    return Loaded(stack=stack, variables={}), backend


def show_state(directory: Path, *, as_json: bool, out: Console) -> int:
    loaded, backend = _state_only(directory)
    state = read_state(backend, loaded.stack)
    if as_json:
        data = state.to_dict()
        for o in data.get("outputs", {}).values():
            if o.get("sensitive"):
                o["value"] = "(sensitive)"
        sys.stdout.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
        return EXIT_OK
    if not state.resources:
        out.print("The state is empty.")
        return EXIT_OK
    for text, rs in sorted(state.resources.items(), key=lambda kv: Address.parse(kv[0]).sort_key()):
        out.print(Text(f"# {text}  (id {rs.id})", style="bold"))
        for k, v in sorted(rs.attributes.items()):
            out.print(Text(f"    {k} = {fmt_value(v, sensitive=str(v).startswith('sha256:'))}"))
        out.print()
    _print_outputs(state.outputs, out)
    return EXIT_OK


def output(directory: Path, *, name: str | None, as_json: bool) -> int:
    loaded, backend = _state_only(directory)
    state = read_state(backend, loaded.stack)
    if name is not None:
        if name not in state.outputs:
            raise StateError(
                f'output "{name}" not found; known outputs: {", ".join(sorted(state.outputs)) or "none"}'
            )
        value = state.outputs[name].value
        sys.stdout.write((json.dumps(value) if as_json or not isinstance(value, str) else value) + "\n")
        return EXIT_OK
    if as_json:
        sys.stdout.write(
            json.dumps(
                {k: {"value": o.value, "sensitive": o.sensitive} for k, o in sorted(state.outputs.items())},
                indent=2,
            )
            + "\n"
        )
        return EXIT_OK
    for k, o in sorted(state.outputs.items()):
        sys.stdout.write(f"{k} = {fmt_value(o.value, sensitive=o.sensitive)}\n")
    return EXIT_OK


def state(args: argparse.Namespace, directory: Path, *, out: Console) -> int:
    loaded, backend = _state_only(directory)
    if args.state_command == "list":
        st = read_state(backend, loaded.stack)
        for text in sorted(st.resources, key=lambda t: Address.parse(t).sort_key()):
            sys.stdout.write(text + "\n")
        return EXIT_OK
    if args.state_command == "show":
        st = read_state(backend, loaded.stack)
        key = str(Address.parse(args.address))
        if key not in st.resources:
            raise StateError(f"{key} is not in the state (see `reconciler state list`)")
        rs = st.resources[key]
        out.print(Text(f"# {key}  (id {rs.id})", style="bold"))
        for k, v in sorted(rs.attributes.items()):
            out.print(Text(f"    {k} = {fmt_value(v, sensitive=str(v).startswith('sha256:'))}"))
        return EXIT_OK
    # rm
    with backend.lock(command="reconciler state rm", timeout=args.lock_timeout):
        st = read_state(backend, loaded.stack)
        writer = StateWriter(backend, st)
        for text in args.address:
            key = str(Address.parse(text))
            if key not in st.resources:
                raise StateError(f"{key} is not in the state (see `reconciler state list`)")
            writer.remove_resource(key)
            out.print(f"Removed {key} (the cloud object was not touched)")
    return EXIT_OK


def fmt(directory: Path, *, check: bool, out: Console) -> int:
    from reconciler.config import format_source

    unformatted = []
    for path in sorted(directory.glob("*.hcl")):
        text = path.read_text()
        new = format_source(text)
        if new != text:
            unformatted.append(path.name)
            if not check:
                path.write_text(new)
    for name in unformatted:
        out.print(name)
    if check and unformatted:
        raise ReconcilerError(f"{len(unformatted)} file(s) are not in canonical format; run `reconciler fmt`")
    return EXIT_OK
