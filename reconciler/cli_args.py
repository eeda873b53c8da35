"""Command-line argument checking: the parser class and the value types of numeric options.

Every usage error (an unknown option or command, a missing argument, a number out of range) is a
`reconciler.errors.UsageError`, which `cli.main` prints with the usage line and answers with exit code 1, the
product's one error code: argparse's own exit code 2 would read as "changes pending" to a pipeline
running `plan --detailed-exitcode`. Numbers are checked here, before anything is loaded or locked:
`--parallelism` is a whole number of at least 1, `--lock-timeout` a finite number of seconds of at
least 0 (or a duration such as "30s" or "2m"), `--port` a TCP port from 1 to 65535.
Callers: cli (build_parser, main) and the command modules that add their own subcommands.
"""

from __future__ import annotations

import argparse
import math
from typing import NoReturn

from reconciler.errors import UsageError

MAX_PORT = 65535


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors raise UsageError instead of exiting with code 2.

    Subparsers inherit the class (argparse creates them with the parent's type).
    """

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, usage=self.format_usage(), prog=self.prog)


def positive_int(text: str) -> int:
    """A whole number of at least 1 (`--parallelism`)."""
    try:
        value = int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def seconds(text: str) -> float:
    """A finite, non-negative number of seconds ("2.5"), or a duration ("30s", "2m", "1h30m")."""
    from reconciler.sdk.rollout_block import parse_duration

    stripped = text.strip()
    try:
        value = float(stripped)
    except ValueError:
        try:
            return float(parse_duration(stripped))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f'expected a number of seconds of at least 0 or a duration such as "30s" or "2m", '
                f"got {text!r}"
            ) from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number of seconds, got {text!r}")
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text}")
    return value


def port(text: str) -> int:
    """A TCP port, 1 to 65535."""
    try:
        value = int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a port number from 1 to {MAX_PORT}, got {text!r}"
        ) from None
    if not 1 <= value <= MAX_PORT:
        raise argparse.ArgumentTypeError(f"expected a port number from 1 to {MAX_PORT}, got {value}")
    return value
