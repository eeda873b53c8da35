"""State commands: `state list|show|rm|pull|push|migrate|recover`, `force-unlock LOCK_ID` and
`import ADDR ID`.

The checks are pure functions elsewhere (state.migrate for migrate and push, applying.recovery
for recover and import); these handlers read, lock, write and print. Callers: reconciler.cli
(GROUPS).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.cli.common import (
    Context,
    ExitCode,
    Subparsers,
    add_lock_timeout,
    add_parallelism,
    add_variables,
)

if TYPE_CHECKING:
    from rich.console import Console

    from reconciler.applying.recovery import Recovery
    from reconciler.config import Stack
    from reconciler.state import Backend
    from reconciler.state.migrate import BackendRef


def register(sub: Subparsers) -> None:
    p = sub.add_parser("state", help="inspect and edit state (terraform state)")
    ss = p.add_subparsers(dest="state_command", required=True, metavar="SUBCOMMAND")
    s = ss.add_parser("list", help="list resources in state")
    s.set_defaults(run=state_list)
    s = ss.add_parser("show", help="show one resource")
    s.add_argument("address", metavar="ADDR", help="a resource address in state")
    s.set_defaults(run=state_show)
    s = ss.add_parser("rm", help="forget a resource without touching the cloud")
    s.add_argument("address", nargs="+", metavar="ADDR", help="resource addresses in state")
    add_lock_timeout(s)
    s.set_defaults(run=state_rm)
    s = ss.add_parser("pull", help="print the current state as JSON (terraform state pull)")
    s.set_defaults(run=pull)
    s = ss.add_parser("push", help="replace the state with FILE (terraform state push)")
    s.add_argument("file", type=Path, metavar="FILE", help="a state file, as `state pull` prints one")
    s.add_argument(
        "--force", action="store_true", help="write it even if its lineage or serial does not follow on"
    )
    add_lock_timeout(s)
    s.set_defaults(run=push)
    s = ss.add_parser(
        "migrate", help="copy the state to the backend now configured (terraform init -migrate-state)"
    )
    s.add_argument("--force", action="store_true", help="overwrite a state the new backend already holds")
    add_lock_timeout(s)
    s.set_defaults(run=migrate)
    s = ss.add_parser(
        "recover", help="rebuild a lost or damaged state from this stack's ownership tags in the cloud"
    )
    s.add_argument("--force", action="store_true", help="replace a state that is not empty or cannot be read")
    s.add_argument("--dry-run", action="store_true", help="show what would be recorded; write nothing")
    _recovery_options(s)
    s.set_defaults(run=recover)

    p = sub.add_parser(
        "force-unlock", help="release a state lock left behind by a run that died (terraform force-unlock)"
    )
    p.add_argument("lock_id", metavar="LOCK_ID", help="the lock id named in the 'state is locked' message")
    p.set_defaults(run=force_unlock)

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
    _recovery_options(p)
    p.set_defaults(run=import_command)


def _recovery_options(p: argparse.ArgumentParser) -> None:
    add_variables(p)
    add_lock_timeout(p)
    add_parallelism(p, what="reads")


# ---- list, show, rm -------------------------------------------------------------------------------


def state_list(args: argparse.Namespace, ctx: Context) -> ExitCode:
    from reconciler.address import Address
    from reconciler.cli.session import read_state, state_only

    loaded, backend = state_only(ctx.directory)
    st = read_state(backend, loaded.stack)
    for text in sorted(st.resources, key=lambda t: Address.parse(t).sort_key()):
        sys.stdout.write(text + "\n")
    return ExitCode.OK


def state_show(args: argparse.Namespace, ctx: Context) -> ExitCode:
    from rich.text import Text

    from reconciler.address import Address
    from reconciler.cli.session import read_state, state_only
    from reconciler.errors import StateError
    from reconciler.render.human import fmt_value

    key = str(Address.parse(args.address))
    loaded, backend = state_only(ctx.directory)
    st = read_state(backend, loaded.stack)
    if key not in st.resources:
        raise StateError(f"{key} is not in the state (see `reconciler state list`)")
    rs = st.resources[key]
    ctx.out.print(Text(f"# {key}  (id {rs.id})", style="bold"))
    for k, v in sorted(rs.attributes.items()):
        ctx.out.print(Text(f"    {k} = {fmt_value(v)}"))
    return ExitCode.OK


def state_rm(args: argparse.Namespace, ctx: Context) -> ExitCode:
    from reconciler.address import Address
    from reconciler.cli.session import read_state, state_only
    from reconciler.errors import StateError
    from reconciler.state import StateWriter

    loaded, backend = state_only(ctx.directory)
    with backend.lock(command="reconciler state rm", timeout=args.lock_timeout):
        st = read_state(backend, loaded.stack)
        writer = StateWriter(backend, st)
        for text in args.address:
            key = str(Address.parse(text))
            if key not in st.resources:
                raise StateError(f"{key} is not in the state (see `reconciler state list`)")
            writer.remove_resource(key)
            ctx.out.print(f"Removed {key} (the cloud object was not touched)")
    return ExitCode.OK


# ---- team state: pull, push, migrate, force-unlock ------------------------------------------------


def _configured(stack: Stack) -> tuple[BackendRef, Backend]:
    """The backend in the configuration, without the "backend changed" check."""
    from reconciler.sdk.registry import open_backend
    from reconciler.state.migrate import BackendRef

    ref = BackendRef(stack.settings.backend_type, dict(stack.settings.backend))
    backend = open_backend(ref.type, ref.config, stack_dir=stack.directory, stack=stack.settings.name)
    return ref, backend


def force_unlock(args: argparse.Namespace, ctx: Context) -> ExitCode:
    from reconciler.config import load_stack

    _, backend = _configured(load_stack(ctx.directory))
    backend.force_unlock(args.lock_id)
    ctx.out.print(f"Lock {args.lock_id} on {backend.describe()} released.", markup=False)
    return ExitCode.OK


def migrate(args: argparse.Namespace, ctx: Context) -> ExitCode:
    from reconciler.config import load_stack
    from reconciler.sdk.registry import open_backend
    from reconciler.state.migrate import MigrateDecision, decide_migration, previous_backend, write_record

    out = ctx.out
    stack = load_stack(ctx.directory)
    name = stack.settings.name
    current, new = _configured(stack)
    previous = previous_backend(stack.directory)
    if previous is None or previous.location() == current.location():
        write_record(stack.directory, current)
        out.print(f"The backend is unchanged ({current.describe()}); nothing to migrate.", markup=False)
        return ExitCode.OK
    old = open_backend(previous.type, previous.config, stack_dir=stack.directory, stack=name)
    command = "reconciler state migrate"
    with (
        old.lock(command=command, timeout=args.lock_timeout),
        new.lock(command=command, timeout=args.lock_timeout),
    ):
        source = old.read()
        if source is None:
            write_record(stack.directory, current)
            out.print(
                f"No state in {old.describe()}; {new.describe()} is now this stack's backend.", markup=False
            )
            return ExitCode.OK
        source.check_stack(name, source=old.describe())
        decision = decide_migration(source=source, target=new.read(), force=args.force)
        if decision is MigrateDecision.COPY:
            new.write(source)
        write_record(stack.directory, current)
    verb = "Copied" if decision is MigrateDecision.COPY else "Already copied:"
    out.print(
        f"{verb} state (lineage {source.lineage}, serial {source.serial}, "
        f"{len(source.resources)} resource(s)) from {old.describe()} to {new.describe()}.",
        markup=False,
    )
    out.print(f"The old copy stays in {old.describe()} as a backup.", markup=False)
    return ExitCode.OK


def pull(args: argparse.Namespace, ctx: Context) -> ExitCode:
    from reconciler.cli.session import backend_for
    from reconciler.config import load_stack

    stack = load_stack(ctx.directory)
    backend = backend_for(stack)
    state = backend.read()
    if state is None:
        sys.stderr.write(f"No state in {backend.describe()}.\n")
        return ExitCode.OK
    state.check_stack(stack.settings.name, source=backend.describe())
    sys.stdout.write(state.to_json())
    return ExitCode.OK


def push(args: argparse.Namespace, ctx: Context) -> ExitCode:
    from reconciler.cli.session import backend_for
    from reconciler.config import load_stack
    from reconciler.errors import StateError
    from reconciler.state import State
    from reconciler.state.migrate import state_to_push

    file: Path = args.file
    stack = load_stack(ctx.directory)
    path = file if file.is_absolute() or file.exists() else ctx.directory / file
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise StateError(f"cannot read {file}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise StateError(
            f"state file {file} is not a state (not UTF-8 text: {exc.reason} at byte {exc.start})"
        ) from None
    pushed = State.from_json(text, source=f"state file {file}", expected_stack=stack.settings.name)
    backend = backend_for(stack)
    with backend.lock(command="reconciler state push", timeout=args.lock_timeout):
        written = state_to_push(current=backend.read(), pushed=pushed, force=args.force)
        backend.write(written)
    ctx.out.print(
        f"Pushed state (lineage {written.lineage}, serial {written.serial}) to {backend.describe()}.",
        markup=False,
    )
    return ExitCode.OK


# ---- recover, import ------------------------------------------------------------------------------


def recover(args: argparse.Namespace, ctx: Context) -> ExitCode:
    from reconciler.applying.recovery import recover as rebuild
    from reconciler.cli.session import backend_for, load_from, providers_for

    loaded = load_from(args, ctx.directory)
    backend = backend_for(loaded.stack)
    result = rebuild(
        loaded=loaded,
        backend=backend,
        providers=providers_for(loaded.stack, loaded.variables),
        force=args.force,
        dry_run=args.dry_run,
        lock_timeout=args.lock_timeout,
        parallelism=args.parallelism,
    )
    _print_recovery(result, ctx.out, where=backend.describe())
    return ExitCode.OK


def _print_recovery(result: Recovery, out: Console, *, where: str) -> None:
    from rich.text import Text

    from reconciler.address import Address

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


def import_command(args: argparse.Namespace, ctx: Context) -> ExitCode:
    from rich.text import Text

    from reconciler.address import Address
    from reconciler.applying.recovery import import_object
    from reconciler.cli.session import backend_for, load_from, providers_for

    loaded = load_from(args, ctx.directory)
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
    ctx.out.print(
        Text(f"{address}: imported {args.id} (id {record.id}) and tagged it for this stack.", style="bold")
    )
    ctx.out.print("Import successful! Run `reconciler plan` to see how it differs from the configuration.")
    return ExitCode.OK
