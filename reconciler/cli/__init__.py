"""The `reconciler` command: argument parsing → engine calls → renderers. No logic of its own.

One module per command group (`config`, `plan`, `review`, `state`, `rollout`, `ami`, `sandbox`),
each with `register(sub)`, which adds its parsers and names each command's handler with
`set_defaults(run=...)`; GROUPS lists them in `--help` order, the one registration mechanism.
Group modules import only the standard library, `cli.common` and `reconciler.errors` when they
are loaded; the engine is imported by the handler that runs, so `reconciler --help` loads no
planning, provider or cloud module.

Exit codes (cli.common.ExitCode): 0 success; 1 error (nothing more was changed after it); 2 changes
pending (plan with --detailed-exitcode). `report` is the one place an error becomes text and an exit
code: every ReconcilerError is printed as a designed message, never a traceback (set
RECONCILER_DEBUG=1 to see one for an unexpected error), and scrubbed of every secret the run has
seen (reconciler.sensitive.REGISTRY: a cloud error may quote an argument).
Callers: the `reconciler` script, `python -m reconciler`, tests.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

from reconciler import __version__
from reconciler.cli import ami, config, plan, review, rollout, sandbox, state
from reconciler.cli.common import Context, ExitCode, Parser, console
from reconciler.errors import ApplyError, ConfigError, ReconcilerError, RolloutFailedError, UsageError

__all__ = ["GROUPS", "build_parser", "main", "report"]

GROUPS = (config, plan, review, state, rollout, ami, sandbox)


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
    for group in GROUPS:
        group.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except UsageError as e:
        err = console(stderr=True)
        err.print(e.usage.rstrip(), markup=False)
        err.print(f"Error: {e.prog}: {e.message}", markup=False)
        err.print(f"Run '{e.prog} --help' for the options.", markup=False)
        return ExitCode.ERROR
    except SystemExit as e:  # --help and --version print and stop
        return e.code if isinstance(e.code, int) else ExitCode.OK
    from reconciler.sensitive import REGISTRY

    REGISTRY.reset()  # the secrets this run sees; no message below shows one
    ctx = Context(directory=(args.chdir or Path.cwd()).resolve())
    try:
        return int(args.run(args, ctx))
    except ReconcilerError as e:
        return report(e, ctx)
    except KeyboardInterrupt:
        _say(ctx, "Interrupted. State records every step that finished.")
        return ExitCode.ERROR
    except Exception as e:
        if os.environ.get("RECONCILER_DEBUG"):
            raise
        _say(ctx, f"Error: internal error: {type(e).__name__}: {e} (set RECONCILER_DEBUG=1 for details)")
        return ExitCode.ERROR


def _say(ctx: Context, text: str) -> None:
    from reconciler.sensitive import REGISTRY

    ctx.err.print(REGISTRY.scrub(text), markup=False)


def report(err: ReconcilerError, ctx: Context) -> ExitCode:
    """The one place an error becomes text (on stderr) and an exit code."""
    if isinstance(err, ConfigError):
        from reconciler.render.diagnostics import format_diagnostics

        _say(ctx, format_diagnostics(err.diagnostics, None))
    elif isinstance(err, ApplyError):
        for addr, failure in err.failures:
            text = str(failure)
            _say(ctx, f"Error: {text}" if text.startswith(addr) else f"Error: {addr}: {text}")
        if all(isinstance(f, RolloutFailedError) for _, f in err.failures):
            _say(ctx, "Apply stopped. State records what happened; fix the cause, then plan and apply again.")
        else:
            _say(ctx, "Apply stopped. State records every step that finished; run apply again to continue.")
    else:
        _say(ctx, f"Error: {err}")
    return ExitCode.ERROR
