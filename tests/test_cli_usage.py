"""Usage errors: every bad command line is refused before anything is read, locked or called,
with the usage line and a message naming the option, and exit code 1 (never argparse's 2, which a
pipeline running `plan --detailed-exitcode` would read as "changes pending")."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.cli.common import port, positive_int, seconds

STACK = 'resource "aws_launch_template" "web" {\n  name     = "web"\n  image_id = "ami-1"\n}\n'

# argv after --chdir DIR → text the error must contain
BAD = {
    ("plan", "--parallelism", "0"): "argument --parallelism: must be at least 1, got 0",
    ("plan", "--parallelism", "-3"): "argument --parallelism: must be at least 1, got -3",
    ("plan", "--parallelism", "two"): "argument --parallelism: expected a whole number of at least 1",
    ("apply", "--auto-approve", "--parallelism", "0"): "argument --parallelism: must be at least 1",
    ("destroy", "--parallelism", "0"): "argument --parallelism: must be at least 1",
    ("plan", "--lock-timeout", "-5"): "argument --lock-timeout: must not be negative, got -5",
    ("apply", "--lock-timeout", "nan"): "argument --lock-timeout: expected a finite number of seconds",
    ("apply", "--lock-timeout", "inf"): "argument --lock-timeout: expected a finite number of seconds",
    ("plan", "--lock-timeout", "soon"): 'a duration such as "30s" or "2m", got \'soon\'',
    ("state", "rm", "--lock-timeout", "-1", "aws_launch_template.web"): "--lock-timeout: must not be",
    ("state", "migrate", "--lock-timeout", "-1"): "--lock-timeout: must not be negative",
    ("state", "push", "x.json", "--lock-timeout", "-1"): "--lock-timeout: must not be negative",
    ("state", "recover", "--parallelism", "0"): "argument --parallelism: must be at least 1",
    ("import", "aws_launch_template.web", "lt-1", "--lock-timeout", "-2"): "--lock-timeout: must not be",
    ("rollout", "status", "--parallelism", "0"): "argument --parallelism: must be at least 1",
    ("rollout", "rollback", "aws_fleet.web", "--lock-timeout", "-1"): "--lock-timeout: must not be",
    ("sandbox", "start", "--port", "0"): "argument --port: expected a port number from 1 to 65535, got 0",
    ("sandbox", "start", "--port", "70000"): "expected a port number from 1 to 65535, got 70000",
    ("plan", "--bogus"): "unrecognized arguments: --bogus",
    ("bogus",): "argument COMMAND: invalid choice: 'bogus'",
    (): "the following arguments are required: COMMAND",
    ("state",): "the following arguments are required: SUBCOMMAND",
    ("plan", "--format", "yaml"): "argument --format: invalid choice: 'yaml'",
}


@pytest.mark.parametrize("argv", sorted(BAD), ids=lambda a: " ".join(a) or "(nothing)")
def test_a_bad_command_line_exits_1_with_usage_and_reason(argv, tmp_path: Path, capsys) -> None:
    (tmp_path / "main.hcl").write_text(STACK)
    code = main(["--chdir", str(tmp_path), *argv])
    captured = capsys.readouterr()
    assert code == 1
    assert BAD[argv] in captured.err
    assert captured.err.startswith("usage: reconciler") and "--help' for the options." in captured.err
    assert "Traceback" not in captured.err and captured.out == ""
    assert not (tmp_path / ".reconciler").exists()  # nothing was locked, read or written


def test_help_and_version_exit_0(capsys) -> None:
    assert main(["--version"]) == 0
    assert "reconciler" in capsys.readouterr().out
    assert main(["plan", "--help"]) == 0
    assert "--parallelism N" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("text", "expected"), [("0", 0.0), ("2.5", 2.5), (" 10 ", 10.0), ("30s", 30.0), ("2m", 120.0)]
)
def test_lock_timeouts_in_seconds_or_as_durations(text: str, expected: float) -> None:
    assert seconds(text) == expected


@pytest.mark.parametrize("text", ["-0.5", "nan", "-inf", "1e400", "", "5 minutes", "-5s"])
def test_lock_timeouts_must_be_finite_and_not_negative(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        seconds(text)


def test_parallelism_and_port_bounds() -> None:
    assert positive_int("1") == 1 and positive_int("64") == 64
    assert port("1") == 1 and port("65535") == 65535
    for bad in ("0", "-1", "1.5", ""):
        with pytest.raises(argparse.ArgumentTypeError):
            positive_int(bad)
    for bad in ("0", "65536", "http"):
        with pytest.raises(argparse.ArgumentTypeError):
            port(bad)


@pytest.mark.parametrize("argv", [("state", "show", "x..y"), ("plan", "--target", "x..y")])
def test_a_bad_address_is_a_designed_error(argv, tmp_path: Path, capsys) -> None:
    """An address is checked once the command runs: an AddressError, which is a ReconcilerError
    like every error a user sees, printed as one line with exit code 1."""
    (tmp_path / "main.hcl").write_text(STACK)
    code = main(["--chdir", str(tmp_path), *argv])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.err.strip() == (
        'Error: "x..y" is not a resource address (expected TYPE.NAME or TYPE.NAME[KEY])'
    )
    assert captured.out == ""
