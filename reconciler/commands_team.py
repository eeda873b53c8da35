"""Team-state commands: `force-unlock LOCK_ID`, `state migrate`, `state pull`, `state push FILE`.

A CLI plugin (see `reconciler.cli.PLUGINS`): `add_parsers` adds the subcommands, `dispatch` runs
them and returns None for commands that are not its own. The checks are pure functions in
`reconciler.state.migrate`; this module only reads, locks and writes. Callers: cli.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from reconciler.cli_args import seconds
from reconciler.config import Stack, load_stack
from reconciler.errors import StateError
from reconciler.sdk.registry import open_backend
from reconciler.session import backend_for
from reconciler.state import Backend, State
from reconciler.state.migrate import (
    BackendRef,
    MigrateDecision,
    decide_migration,
    previous_backend,
    state_to_push,
    write_record,
)

EXIT_OK = 0


def _lock_timeout(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--lock-timeout",
        type=seconds,
        default=0.0,
        metavar="SECONDS",
        help='wait this long for the state lock, in seconds or as "30s", "2m" (default: fail at once)',
    )


def add_parsers(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    *,
    state_group: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    p = sub.add_parser(
        "force-unlock", help="release a state lock left behind by a run that died (terraform force-unlock)"
    )
    p.add_argument("lock_id", metavar="LOCK_ID", help="the lock id named in the 'state is locked' message")

    s = state_group.add_parser(
        "migrate",
        help="copy the state to the backend now configured (terraform init -migrate-state)",
    )
    s.add_argument("--force", action="store_true", help="overwrite a state the new backend already holds")
    _lock_timeout(s)
    state_group.add_parser("pull", help="print the current state as JSON (terraform state pull)")
    s = state_group.add_parser("push", help="replace the state with FILE (terraform state push)")
    s.add_argument("file", type=Path, metavar="FILE")
    s.add_argument(
        "--force", action="store_true", help="write it even if its lineage or serial does not follow on"
    )
    _lock_timeout(s)


def dispatch(args: argparse.Namespace, directory: Path, console: Console) -> int | None:
    if args.command == "force-unlock":
        return force_unlock(directory, lock_id=args.lock_id, out=console)
    if args.command != "state":
        return None
    if args.state_command == "migrate":
        return migrate(directory, force=args.force, lock_timeout=args.lock_timeout, out=console)
    if args.state_command == "pull":
        return pull(directory)
    if args.state_command == "push":
        return push(directory, file=args.file, force=args.force, lock_timeout=args.lock_timeout, out=console)
    return None


def _configured(stack: Stack) -> tuple[BackendRef, Backend]:
    """The backend in the configuration, without the "backend changed" check."""
    ref = BackendRef(stack.settings.backend_type, dict(stack.settings.backend))
    backend = open_backend(ref.type, ref.config, stack_dir=stack.directory, stack=stack.settings.name)
    return ref, backend


def force_unlock(directory: Path, *, lock_id: str, out: Console) -> int:
    stack = load_stack(directory)
    _, backend = _configured(stack)
    backend.force_unlock(lock_id)
    out.print(f"Lock {lock_id} on {backend.describe()} released.", markup=False)
    return EXIT_OK


def migrate(directory: Path, *, force: bool, lock_timeout: float, out: Console) -> int:
    stack = load_stack(directory)
    name = stack.settings.name
    current, new = _configured(stack)
    previous = previous_backend(stack.directory)
    if previous is None or previous.location() == current.location():
        write_record(stack.directory, current)
        out.print(f"The backend is unchanged ({current.describe()}); nothing to migrate.", markup=False)
        return EXIT_OK
    old = open_backend(previous.type, previous.config, stack_dir=stack.directory, stack=name)
    command = "reconciler state migrate"
    with (
        old.lock(command=command, timeout=lock_timeout),
        new.lock(command=command, timeout=lock_timeout),
    ):
        source = old.read()
        if source is None:
            write_record(stack.directory, current)
            out.print(
                f"No state in {old.describe()}; {new.describe()} is now this stack's backend.", markup=False
            )
            return EXIT_OK
        source.check_stack(name, source=old.describe())
        decision = decide_migration(source=source, target=new.read(), force=force)
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
    return EXIT_OK


def pull(directory: Path) -> int:
    stack = load_stack(directory)
    backend = backend_for(stack)
    state = backend.read()
    if state is None:
        sys.stderr.write(f"No state in {backend.describe()}.\n")
        return EXIT_OK
    state.check_stack(stack.settings.name, source=backend.describe())
    sys.stdout.write(state.to_json())
    return EXIT_OK


def push(directory: Path, *, file: Path, force: bool, lock_timeout: float, out: Console) -> int:
    stack = load_stack(directory)
    path = file if file.is_absolute() or file.exists() else directory / file
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
    with backend.lock(command="reconciler state push", timeout=lock_timeout):
        written = state_to_push(current=backend.read(), pushed=pushed, force=force)
        backend.write(written)
    out.print(
        f"Pushed state (lineage {written.lineage}, serial {written.serial}) to {backend.describe()}.",
        markup=False,
    )
    return EXIT_OK
