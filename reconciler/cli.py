"""The `reconciler` command: argument parsing → engine calls → renderers. No logic of its own.

Exit codes: 0 success; 1 error (nothing more was changed after it); 2 changes pending (plan with
--detailed-exitcode). Every ReconcilerError is printed as a designed message, never a traceback
(set RECONCILER_DEBUG=1 to see one for an unexpected error), and scrubbed of every secret the run
has seen (reconciler.sensitive.REGISTRY: a cloud error may quote an argument).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from reconciler import __version__
from reconciler.address import Address
from reconciler.cli_args import Parser, port, positive_int, seconds
from reconciler.errors import ApplyError, ConfigError, ReconcilerError, RolloutFailedError, UsageError
from reconciler.render.diagnostics import format_diagnostics
from reconciler.sensitive import REGISTRY

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2


def _console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def _add_common(p: argparse.ArgumentParser, *, variables: bool = True, lock: bool = True) -> None:
    if variables:
        p.add_argument(
            "--var",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="set a variable (like terraform -var)",
        )
        p.add_argument(
            "--var-file",
            action="append",
            default=[],
            type=Path,
            metavar="FILE",
            help="read variables from an HCL or JSON file (like terraform -var-file)",
        )
    if lock:
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
        help="concurrent operations, at least 1 (default 10)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="reconciler",
        description=(
            "Declarative reconciler for immutable EC2 fleets: reviewable plans and safe AMI rollouts."
        ),
    )
    parser.add_argument("--chdir", type=Path, default=None, help="the stack directory (default: .)")
    parser.add_argument("--version", action="version", version=f"reconciler {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("validate", help="parse and validate the stack; no cloud calls (terraform validate)")

    p = sub.add_parser("plan", help="read the cloud, diff, print the plan (terraform plan)")
    _add_common(p)
    p.add_argument("--detailed-exitcode", action="store_true", help="exit 2 when changes are pending")
    p.add_argument(
        "--target", action="append", default=[], metavar="ADDR", help="limit to ADDR and its dependencies"
    )
    p.add_argument("--replace", action="append", default=[], metavar="ADDR", help="force replacement of ADDR")
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
        choices=("human", "json", "markdown"),
        default="human",
        help="how to print the plan: human (default), json (a versioned document), markdown (a PR comment)",
    )

    p = sub.add_parser("apply", help="plan, confirm, apply; or apply a saved plan (terraform apply)")
    p.add_argument(
        "plan_file",
        nargs="?",
        type=Path,
        default=None,
        metavar="PLAN_FILE",
        help="apply exactly this saved plan (from plan --out), without asking; refused if stale",
    )
    _add_common(p)
    p.add_argument("--auto-approve", action="store_true", help="do not ask for confirmation")
    p.add_argument("--target", action="append", default=[], metavar="ADDR")
    p.add_argument("--replace", action="append", default=[], metavar="ADDR")
    p.add_argument("--refresh-only", action="store_true", help="take changes made outside into state only")
    p.add_argument(
        "--max-rollouts",
        type=positive_int,
        default=None,
        metavar="N",
        help="fleets of a wave rolled out at once, at least 1 (default: every fleet of the wave)",
    )

    p = sub.add_parser("destroy", help="delete everything in the stack's state (terraform destroy)")
    _add_common(p)
    p.add_argument("--auto-approve", action="store_true")

    p = sub.add_parser("show", help="render a saved plan, or show the current state (terraform show)")
    p.add_argument(
        "plan_file",
        nargs="?",
        type=Path,
        default=None,
        metavar="PLAN_FILE",
        help="a plan saved with plan --out",
    )
    p.add_argument("--format", choices=("human", "json", "markdown"), default=None)
    p.add_argument("--json", action="store_true", help="the same as --format json")

    p = sub.add_parser("output", help="print outputs (terraform output)")
    p.add_argument("name", nargs="?")
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--reveal",
        action="store_true",
        help="a sensitive output (never stored): evaluate it again from the configuration and the "
        "variables given (as for plan) and print it",
    )
    p.add_argument("--var", action="append", default=[], metavar="NAME=VALUE", help="with --reveal")
    p.add_argument("--var-file", action="append", default=[], type=Path, metavar="FILE", help="with --reveal")

    p = sub.add_parser("state", help="inspect and edit state (terraform state)")
    ss = p.add_subparsers(dest="state_command", required=True, metavar="SUBCOMMAND")
    state_group = ss
    ss.add_parser("list", help="list resources in state")
    s = ss.add_parser("show", help="show one resource")
    s.add_argument("address")
    s = ss.add_parser("rm", help="forget a resource without touching the cloud")
    s.add_argument("address", nargs="+")
    s.add_argument("--lock-timeout", type=seconds, default=0.0, metavar="SECONDS")

    p = sub.add_parser("rollout", help="see and steer fleet rollouts")
    ss = p.add_subparsers(dest="rollout_command", required=True, metavar="SUBCOMMAND")
    s = ss.add_parser("status", help="phase, step and instance counts of recorded rollouts")
    s.add_argument("address", nargs="?")
    _add_common(s, lock=False)
    s = ss.add_parser("rollback", help="undo a rollout (blue/green, canary: within keep_previous)")
    s.add_argument("address")
    _add_common(s)

    p = sub.add_parser("fmt", help="rewrite the stack's HCL files in canonical form (terraform fmt)")
    p.add_argument(
        "--check", action="store_true", help="only report files that are not formatted; exit 1 if any"
    )

    p = sub.add_parser("sandbox", help="a local AWS-compatible endpoint (moto) for trying reconciler")
    ss = p.add_subparsers(dest="sandbox_command", required=True, metavar="SUBCOMMAND")
    s = ss.add_parser("start", help="start the sandbox in the background")
    s.add_argument("--port", type=port, default=4566, help="TCP port on 127.0.0.1, 1-65535 (default 4566)")
    ss.add_parser("stop", help="stop it")
    ss.add_parser("status", help="is it running, and where")
    s = ss.add_parser("bake", help="register a new tagged AMI version, as a release pipeline would")
    s.add_argument("name")
    s.add_argument("version")
    s.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE")
    for module in _plugins():
        module.add_parsers(sub, state_group=state_group)
    return parser


# Command modules that add their own subcommands: each has add_parsers(sub, *, state_group) and
# dispatch(args, directory, console) -> int | None (None: not one of its commands).
PLUGINS = ("reconciler.commands_team", "reconciler.commands_recover", "reconciler.commands_review")


def _plugins() -> list[Any]:
    import importlib
    import importlib.util

    return [importlib.import_module(name) for name in PLUGINS if importlib.util.find_spec(name) is not None]


def main(argv: Sequence[str] | None = None) -> int:
    err = _console(stderr=True)
    REGISTRY.reset()  # the secrets this run sees; no message below shows one

    def say(text: str) -> None:
        err.print(REGISTRY.scrub(text), markup=False)

    try:
        args = build_parser().parse_args(argv)
    except UsageError as e:
        err.print(e.usage.rstrip(), markup=False)
        err.print(f"Error: {e.prog}: {e.message}", markup=False)
        err.print(f"Run '{e.prog} --help' for the options.", markup=False)
        return EXIT_ERROR
    except SystemExit as e:  # --help and --version print and stop
        return e.code if isinstance(e.code, int) else EXIT_OK
    directory = (args.chdir or Path.cwd()).resolve()
    try:
        return _dispatch(args, directory)
    except ConfigError as e:
        say(format_diagnostics(e.diagnostics, None))
        return EXIT_ERROR
    except ApplyError as e:
        for addr, failure in e.failures:
            text = str(failure)
            say(f"Error: {text}" if text.startswith(addr) else f"Error: {addr}: {text}")
        if all(isinstance(f, RolloutFailedError) for _, f in e.failures):
            say("Apply stopped. State records what happened; fix the cause, then plan and apply again.")
        else:
            say("Apply stopped. State records every step that finished; run apply again to continue.")
        return EXIT_ERROR
    except ReconcilerError as e:
        say(f"Error: {e}")
        return EXIT_ERROR
    except KeyboardInterrupt:
        say("Interrupted. State records every step that finished.")
        return EXIT_ERROR
    except Exception as e:
        if os.environ.get("RECONCILER_DEBUG"):
            raise
        say(f"Error: internal error: {type(e).__name__}: {e} (set RECONCILER_DEBUG=1 for details)")
        return EXIT_ERROR


def _dispatch(args: argparse.Namespace, directory: Path) -> int:
    from reconciler import commands, sandbox

    cmd = args.command
    for module in _plugins():
        handled = module.dispatch(args, directory, _console())
        if handled is not None:
            return int(handled)
    if cmd == "sandbox":
        return sandbox.run(args, directory, _console())
    if cmd == "fmt":
        return commands.fmt(directory, check=args.check, out=_console())
    if cmd == "validate":
        commands.load_from(args, directory)
        _console().print("Success! The configuration is valid.")
        return EXIT_OK
    if cmd in ("plan", "apply", "destroy"):
        return commands.plan_or_apply(args, directory, out=_console())
    if cmd == "show":
        from reconciler import commands_planfile

        return commands_planfile.show(args, directory, out=_console())
    if cmd == "output":
        if args.reveal:
            return commands.reveal(args, directory)
        return commands.output(directory, name=args.name, as_json=args.json)
    if cmd == "rollout":
        from reconciler import commands_rollout

        if args.rollout_command == "status":
            return commands_rollout.status(args, directory, out=_console())
        return commands_rollout.rollback(args, directory, out=_console())
    if cmd == "state":
        return commands.state(args, directory, out=_console())
    raise AssertionError(cmd)


def parse_addresses(texts: Sequence[str]) -> tuple[Address, ...]:
    return tuple(Address.parse(t) for t in texts)


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
