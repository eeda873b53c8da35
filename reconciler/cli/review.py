"""`show [PLAN_FILE]` and `output [NAME]`: read what a plan or the state holds; change nothing.

`show PLAN_FILE` renders a saved plan in any format; `show` alone prints the state (sensitive
outputs masked, the state's digest key withheld). `output NAME --reveal` evaluates a sensitive
output again from the configuration and the variables given (planning.reveal): its value is
never stored. Callers: reconciler.cli (GROUPS).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from reconciler.cli.common import Context, ExitCode, Subparsers, add_variables
from reconciler.render import FORMATS

SENSITIVE_OUTPUT = (
    'output "{name}" is sensitive: reconciler does not store its value (state keeps only a keyed '
    "digest, to notice a change). Its value is computed from the configuration and its sensitive "
    "inputs, which you hold: `reconciler output {name} --reveal` evaluates it again from them (give "
    "the variables as for plan), printing it to stdout only."
)


def register(sub: Subparsers) -> None:
    p = sub.add_parser("show", help="render a saved plan, or show the current state (terraform show)")
    p.add_argument(
        "plan_file",
        nargs="?",
        type=Path,
        default=None,
        metavar="PLAN_FILE",
        help="a plan saved with plan --out",
    )
    p.add_argument(
        "--format",
        choices=tuple(FORMATS),
        default=None,
        help="how to print a saved plan (as for plan --format); the state prints as human or json",
    )
    p.add_argument("--json", action="store_true", help="the same as --format json")
    p.add_argument("--pretty", action="store_true", help="with --format json: indented, for people")
    p.set_defaults(run=show)

    p = sub.add_parser("output", help="print outputs (terraform output)")
    p.add_argument("name", nargs="?", metavar="NAME", help="one output (default: all of them)")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.add_argument(
        "--reveal",
        action="store_true",
        help="a sensitive output (never stored): evaluate it again from the configuration and the "
        "variables given (as for plan) and print it",
    )
    add_variables(
        p, var_help="set a variable, with --reveal", file_help="read variables from FILE, with --reveal"
    )
    p.set_defaults(run=output)


def show(args: argparse.Namespace, ctx: Context) -> ExitCode:
    """`show PLAN_FILE [--format]` renders a saved plan; without a file, the current state."""
    from reconciler.errors import ReconcilerError

    fmt = args.format
    if args.plan_file is None:
        if fmt == "markdown":
            raise ReconcilerError("--format markdown renders a saved plan: give a PLAN_FILE")
        return _show_state(ctx, as_json=bool(args.json) or fmt == "json")
    from reconciler.cli.display import render, resolve
    from reconciler.planning.planfile import load_plan

    saved = load_plan(resolve(ctx.directory, args.plan_file))
    render(
        saved.plan,
        fmt or ("json" if args.json else "human"),
        ctx.out,
        plan_file=str(args.plan_file),
        pretty=args.pretty,
    )
    return ExitCode.OK


def _show_state(ctx: Context, *, as_json: bool) -> ExitCode:
    from rich.text import Text

    from reconciler.address import Address
    from reconciler.cli.display import print_outputs
    from reconciler.cli.session import read_state, state_only
    from reconciler.render.human import fmt_value

    loaded, backend = state_only(ctx.directory)
    state = read_state(backend, loaded.stack)
    if as_json:
        data = state.to_dict()
        data.pop("digest_key", None)  # state's own; `state pull` (a copy of the state) has it
        for o in data.get("outputs", {}).values():
            if o.get("sensitive"):
                o["value"] = "(sensitive)"
        sys.stdout.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
        return ExitCode.OK
    if not state.resources:
        ctx.out.print("The state is empty.")
        return ExitCode.OK
    for text, rs in sorted(state.resources.items(), key=lambda kv: Address.parse(kv[0]).sort_key()):
        ctx.out.print(Text(f"# {text}  (id {rs.id})", style="bold"))
        for k, v in sorted(rs.attributes.items()):
            ctx.out.print(Text(f"    {k} = {fmt_value(v)}"))
        ctx.out.print()
    print_outputs(state.outputs, ctx.out)
    return ExitCode.OK


def output(args: argparse.Namespace, ctx: Context) -> ExitCode:
    from reconciler.cli.session import read_state, state_only
    from reconciler.errors import StateError
    from reconciler.render.human import fmt_value

    if args.reveal:
        return _reveal(args, ctx)
    loaded, backend = state_only(ctx.directory)
    state = read_state(backend, loaded.stack)
    name = args.name
    if name is not None:
        if name not in state.outputs:
            known = ", ".join(sorted(state.outputs)) or "none"
            raise StateError(f'output "{name}" not found; known outputs: {known}')
        if state.outputs[name].sensitive:
            raise StateError(SENSITIVE_OUTPUT.format(name=name))
        value = state.outputs[name].value
        sys.stdout.write((json.dumps(value) if args.json or not isinstance(value, str) else value) + "\n")
        return ExitCode.OK
    if args.json:
        shown = {
            k: {"sensitive": True} if o.sensitive else {"value": o.value, "sensitive": False}
            for k, o in sorted(state.outputs.items())
        }
        sys.stdout.write(json.dumps(shown, indent=2) + "\n")
        return ExitCode.OK
    for k, o in sorted(state.outputs.items()):
        sys.stdout.write(f"{k} = {fmt_value(o.value, sensitive=o.sensitive)}\n")
    return ExitCode.OK


def _reveal(args: argparse.Namespace, ctx: Context) -> ExitCode:
    """`output NAME --reveal`: a sensitive output's value, evaluated again (never stored)."""
    from reconciler.cli.session import backend_for, load_from, read_state
    from reconciler.errors import ReconcilerError
    from reconciler.planning.reveal import reveal_output

    if args.name is None:
        raise ReconcilerError("--reveal needs the name of one output: `reconciler output NAME --reveal`")
    loaded = load_from(args, ctx.directory)
    backend = backend_for(loaded.stack)
    value = reveal_output(loaded=loaded, read_state=lambda: read_state(backend, loaded.stack), name=args.name)
    as_text = isinstance(value, str) and not args.json
    sys.stdout.write((value if as_text else json.dumps(value)) + "\n")
    return ExitCode.OK
