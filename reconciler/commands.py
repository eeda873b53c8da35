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

from reconciler.address import Address
from reconciler.applying.executor import apply_plan
from reconciler.errors import ConfigError, Diagnostic, ReconcilerError, StateError
from reconciler.planning.model import Plan
from reconciler.planning.planner import PlanOptions, make_plan
from reconciler.planning.summary import summarize
from reconciler.render.human import fmt_value, render_plan
from reconciler.render.progress import ApplyProgress
from reconciler.sdk import Provider
from reconciler.session import Loaded, backend_for, load, providers_for, read_state
from reconciler.state import Backend, OutputState, StateWriter

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2

SENSITIVE_OUTPUT = (
    'output "{name}" is sensitive: reconciler does not store its value (state keeps only a keyed '
    "digest, to notice a change). Its value is computed from the configuration and its sensitive "
    "inputs, which you hold: `reconciler output {name} --reveal` evaluates it again from them (give "
    "the variables as for plan), printing it to stdout only."
)


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

            return finish_plan(
                args,
                plan,
                loaded=loaded,
                options=options,
                directory=directory,
                out=out,
                state=state,
                backend=backend,
            )
        render_plan(plan, out)
        warn(plan)
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


def warn(plan: Plan) -> None:
    """The plan's warnings (a sensitive value in tags), on stderr after the plan."""
    if plan.warnings:
        from reconciler.render.diagnostics import format_diagnostics

        err = Console(stderr=True, highlight=False, soft_wrap=True)
        err.print("\n" + format_diagnostics(plan.warnings).rstrip("\n"), markup=False)


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
            max_rollouts=getattr(args, "max_rollouts", None),
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
    counts = summarize(plan)
    word = "Destroy" if plan.destroy else "Apply"
    text = (
        f"{word} complete! Resources: {counts.add} added, {counts.change} changed, "
        f"{counts.destroy} destroyed"
    )
    if counts.rollouts:
        fleets = f"{counts.rollouts} fleet{'s' if counts.rollouts != 1 else ''}"
        text += f", {fleets} rolled out ({counts.instances} instances replaced)"
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
        data.pop("digest_key", None)  # state's own; `state pull` (a copy of the state) has it
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
            out.print(Text(f"    {k} = {fmt_value(v)}"))
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
        if state.outputs[name].sensitive:
            raise StateError(SENSITIVE_OUTPUT.format(name=name))
        value = state.outputs[name].value
        sys.stdout.write((json.dumps(value) if as_json or not isinstance(value, str) else value) + "\n")
        return EXIT_OK
    if as_json:
        shown = {
            k: {"sensitive": True} if o.sensitive else {"value": o.value, "sensitive": False}
            for k, o in sorted(state.outputs.items())
        }
        sys.stdout.write(json.dumps(shown, indent=2) + "\n")
        return EXIT_OK
    for k, o in sorted(state.outputs.items()):
        sys.stdout.write(f"{k} = {fmt_value(o.value, sensitive=o.sensitive)}\n")
    return EXIT_OK


def reveal(args: argparse.Namespace, directory: Path) -> int:
    """`output NAME --reveal`: a sensitive output's value, evaluated again (never stored)."""
    from reconciler.reveal import reveal_output

    if args.name is None:
        raise ReconcilerError("--reveal needs the name of one output: `reconciler output NAME --reveal`")
    value = reveal_output(directory, name=args.name, cli_vars=args.var, var_files=args.var_file)
    as_text = isinstance(value, str) and not args.json
    sys.stdout.write((value if as_text else json.dumps(value)) + "\n")
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
            out.print(Text(f"    {k} = {fmt_value(v)}"))
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
    from reconciler import sourcetext
    from reconciler.config import format_source
    from reconciler.config.hclparse import encoding_diagnostic, parse_file

    unformatted = []
    broken: list[Diagnostic] = []
    for path in sorted(directory.glob("*.hcl")):
        try:  # decoded from bytes: CRLF line endings stay as they are
            text = sourcetext.read(path, strip_bom=False)
        except sourcetext.SourceEncodingError as exc:
            broken.append(encoding_diagnostic(exc))  # a file that is not UTF-8 is left as it is
            continue
        bom = "\ufeff" if text.startswith("\ufeff") else ""
        body, syntax = parse_file(path, text.removeprefix(bom))
        if body is None:  # like terraform fmt: never reformat what does not parse
            broken.extend(syntax)
            continue
        new = bom + format_source(text.removeprefix(bom))
        if new != text:
            unformatted.append(path.name)
            if not check:
                path.write_bytes(new.encode("utf-8"))
    for name in unformatted:
        out.print(name)
    if broken:
        raise ConfigError(broken)
    if check and unformatted:
        raise ReconcilerError(f"{len(unformatted)} file(s) are not in canonical format; run `reconciler fmt`")
    return EXIT_OK
