"""Every option and argument of every command says what it is for (issue 14): the test walks the
parser the CLI builds, every subcommand at every depth, and fails on an option or positional
argument without help text; and each subcommand's `--help` prints it."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest

from reconciler.cli import build_parser, main


def commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from commands(sub, (*path, name))


ALL = list(commands(build_parser()))


def test_the_walk_finds_every_command_group() -> None:
    found = {path for path, _ in ALL}
    for expected in [("plan",), ("apply",), ("rollout", "rollback"), ("sandbox", "env"), ("ami", "list")]:
        assert expected in found
    assert len(found) > 20


@pytest.mark.parametrize("path", [p for p, _ in ALL], ids=lambda p: " ".join(p) or "reconciler")
def test_every_option_and_argument_has_help(
    path: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    parser = dict(ALL)[path]
    missing = [
        "/".join(action.option_strings) or action.dest
        for action in parser._actions
        if not isinstance(action, argparse._HelpAction | argparse._SubParsersAction)
        and not (action.help and action.help.strip() and action.help is not argparse.SUPPRESS)
    ]
    assert missing == [], f"`reconciler {' '.join(path)}`: no help for {missing}"
    capsys.readouterr()
    assert main([*path, "--help"]) == 0
    shown = capsys.readouterr().out
    for action in parser._actions:
        if action.option_strings and action.help is not argparse.SUPPRESS:
            assert action.option_strings[-1] in shown
