"""What every command group of the CLI shares: exit codes, the run's context, the parser class,
the value types of numeric options and the argument helpers.

Every usage error (an unknown option or command, a missing argument, a number out of range) is a
`reconciler.errors.UsageError`, which `cli.main` prints with the usage line and answers with exit
code 1, the product's one error code: argparse's own exit code 2 would read as "changes pending"
to a pipeline running `plan --detailed-exitcode`. Numbers are checked here, before anything is
loaded or locked: `--parallelism` is a whole number of at least 1, `--lock-timeout` a finite
number of seconds of at least 0 (or a duration such as "30s" or "2m"), `--port` a TCP port from
1 to 65535. Imports only the standard library and reconciler.errors: `reconciler --help` loads no
engine module. Callers: reconciler.cli and its command group modules.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeAlias

from reconciler.errors import UsageError

if TYPE_CHECKING:
    from rich.console import Console

    from reconciler.address import Address

MAX_PORT = 65535

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


class ExitCode(IntEnum):
    """The exit codes of `reconciler`, the one definition."""

    OK = 0
    ERROR = 1  # an error: nothing more was changed after it
    CHANGES = 2  # `plan --detailed-exitcode`: changes are pending


def console(*, stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


@dataclass
class Context:
    """One run of a command: the stack directory and the consoles (made when first used, so
    parsing alone imports no rendering library)."""

    directory: Path
    _out: Console | None = field(default=None, repr=False)
    _err: Console | None = field(default=None, repr=False)

    @property
    def out(self) -> Console:
        if self._out is None:
            self._out = console()
        return self._out

    @property
    def err(self) -> Console:
        if self._err is None:
            self._err = console(stderr=True)
        return self._err


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


# ---- argument helpers ---------------------------------------------------------------------------


VAR_HELP = "set a variable (like terraform -var)"
VAR_FILE_HELP = "read variables from an HCL or JSON file (like terraform -var-file)"


def add_variables(
    p: argparse.ArgumentParser, *, var_help: str = VAR_HELP, file_help: str | None = VAR_FILE_HELP
) -> None:
    p.add_argument("--var", action="append", default=[], metavar="NAME=VALUE", help=var_help)
    p.add_argument("--var-file", action="append", default=[], type=Path, metavar="FILE", help=file_help)


def add_lock_timeout(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--lock-timeout",
        type=seconds,
        default=0.0,
        metavar="SECONDS",
        help='wait this long for the state lock, in seconds or as "30s", "2m" (default: fail at once)',
    )


def add_parallelism(p: argparse.ArgumentParser, *, what: str = "operations") -> None:
    p.add_argument(
        "--parallelism",
        type=positive_int,
        default=10,
        metavar="N",
        help=f"concurrent {what}, at least 1 (default 10)",
    )


def add_common(p: argparse.ArgumentParser, *, variables: bool = True, lock: bool = True) -> None:
    """--var, --var-file, --lock-timeout and --parallelism, as plan and apply take them."""
    if variables:
        add_variables(p)
    if lock:
        add_lock_timeout(p)
    add_parallelism(p)


def parse_addresses(texts: Sequence[str]) -> tuple[Address, ...]:
    from reconciler.address import Address

    return tuple(Address.parse(t) for t in texts)


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, sort_keys=True) + "\n")
