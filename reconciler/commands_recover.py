"""Recovery commands: `state recover` (rebuild state from ownership tags) and `import ADDR ID`.

A CLI plugin (see `reconciler.cli.PLUGINS`): `add_parsers` adds the subcommands, `dispatch` runs
them and returns None for commands that are not its own. The work is in `reconciler.recovery`;
this module loads the stack, builds the backend and providers, and prints the outcome.
Callers: cli.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.text import Text

from reconciler.address import Address
from reconciler.cli_args import positive_int, seconds
from reconciler.recovery import Recovery, import_object, recover
from reconciler.session import backend_for, load, providers_for

EXIT_OK = 0


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--var", action="append", default=[], metavar="NAME=VALUE", help="set a variable")
    p.add_argument(
        "--var-file", action="append", default=[], type=Path, metavar="FILE", help="read variables from FILE"
    )
    p.add_argument(
        "--lock-timeout",
        type=seconds,
        default=0.0,
        metavar="SECONDS",
        help='wait this long for the state lock, in seconds or as "30s", "2m" (default: fail at once)',
    )
    p.add_argument(
        "--parallelism",
        type=positive_int,
        default=10,
        metavar="N",
        help="concurrent reads, at least 1 (default 10)",
    )


def add_parsers(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    *,
    state_group: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    p = sub.add_parser(
        "import",
        help="adopt an existing launch template, target group or auto-scaling group (terraform import)",
    )
    p.add_argument("address", metavar="ADDR", help="a resource address the configuration declares")
    p.add_argument(
        "id",
        metavar="ID",
        help="launch template id or name, target group ARN or name, auto-scaling group name",
    )
    _common(p)
    s = state_group.add_parser(
        "recover", help="rebuild a lost or damaged state from this stack's ownership tags in the cloud"
    )
    s.add_argument("--force", action="store_true", help="replace a state that is not empty or cannot be read")
    s.add_argument("--dry-run", action="store_true", help="show what would be recorded; write nothing")
    _common(s)


def dispatch(args: argparse.Namespace, directory: Path, console: Console) -> int | None:
    if args.command == "import":
        return import_command(args, directory, out=console)
    if args.command == "state" and args.state_command == "recover":
        return recover_command(args, directory, out=console)
    return None


def recover_command(args: argparse.Namespace, directory: Path, *, out: Console) -> int:
    loaded = load(directory, cli_vars=args.var, var_files=args.var_file)
    backend = backend_for(loaded.stack)
    result = recover(
        loaded=loaded,
        backend=backend,
        providers=providers_for(loaded.stack, loaded.variables),
        force=args.force,
        dry_run=args.dry_run,
        lock_timeout=args.lock_timeout,
        parallelism=args.parallelism,
    )
    _print_recovery(result, out, where=backend.describe())
    return EXIT_OK


def _print_recovery(result: Recovery, out: Console, *, where: str) -> None:
    state = result.state
    n = len(state.resources)
    out.print(
        Text(f'Found {n} object{"s" if n != 1 else ""} tagged for stack "{state.stack}":', style="bold")
    )
    width = max((len(a) for a in state.resources), default=0)
    for text in sorted(state.resources, key=lambda t: Address.parse(t).sort_key()):
        rs = state.resources[text]
        line = Text(f"  {text.ljust(width)}  {rs.id}")
        if text not in result.configured:
            line.append("   not in the configuration: the next plan deletes it", style="red")
        out.print(line)
    for warning in result.warnings:
        out.print(Text(f"Warning: {warning}", style="yellow"))
    counts = f"{n} resource(s), {len(state.data)} data source(s), {len(state.outputs)} output(s)"
    if result.written:
        out.print(
            Text(f"\nState recovered: {counts} written to {where} (serial {state.serial}).", style="bold")
        )
        out.print("Run `reconciler plan` to compare it with the configuration.")
    else:
        out.print(
            Text(f"\nDry run: {counts} would be written to {where}; nothing was written.", style="bold")
        )


def import_command(args: argparse.Namespace, directory: Path, *, out: Console) -> int:
    loaded = load(directory, cli_vars=args.var, var_files=args.var_file)
    address = Address.parse(args.address)
    backend = backend_for(loaded.stack)
    record = import_object(
        loaded=loaded,
        backend=backend,
        providers=providers_for(loaded.stack, loaded.variables),
        address=address,
        cloud_id=args.id,
        lock_timeout=args.lock_timeout,
        parallelism=args.parallelism,
    )
    out.print(
        Text(f"{address}: imported {args.id} (id {record.id}) and tagged it for this stack.", style="bold")
    )
    out.print("Import successful! Run `reconciler plan` to see how it differs from the configuration.")
    return EXIT_OK
