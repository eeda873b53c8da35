"""A killed apply converges on the next run with no duplicates; a second run while one holds the
state lock fails at once naming the holder (or waits with --lock-timeout)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tests.conftest import register_ami
from tests.scenarios.harness import Cli, cli_env, kill_apply_when, launch_templates, write_stack

MANY = """
data "aws_ami" "app" {
  name        = "app-*"
  most_recent = true
}

resource "aws_launch_template" "t" {
  for_each      = toset([for i in range(40) : format("t%02d", i)])
  name          = "lt-${each.key}"
  image_id      = data.aws_ami.app.id
  instance_type = "t3.micro"
}
"""


def _env(endpoint: str) -> dict[str, str]:
    return cli_env(endpoint)


def _serial(state: Path) -> int:
    try:
        return int(json.loads(state.read_text())["serial"])
    except (OSError, ValueError, KeyError):
        return 0


def test_killed_apply_converges_without_duplicates(tmp_path: Path, aws_env: str, boto, capsys) -> None:
    register_ami(boto, name="app-1.0.0")
    stack = write_stack(tmp_path / "s", {"main.hcl": MANY})
    state = stack / ".reconciler" / "state.json"
    kill_apply_when(
        stack,
        lambda: _serial(state) >= 6,
        env=_env(aws_env),
        args=("--parallelism", "2"),
        timeout=60,
        poll=0.01,
    )
    recorded = len(json.loads(state.read_text())["resources"])
    assert 0 < recorded < 40, f"the kill should land mid-apply (state had {recorded} of 40)"

    cli = Cli(stack, capsys)
    again = cli("apply", "--auto-approve")
    assert again.code == 0, again.text
    templates = launch_templates(boto)
    assert sorted(templates) == [f"lt-t{i:02d}" for i in range(40)]
    assert len(json.loads(state.read_text())["resources"]) == 40
    assert cli("plan", "--detailed-exitcode").code == 0


HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from reconciler.state.local import LocalBackend
    backend = LocalBackend(stack_dir=Path(sys.argv[1]))
    with backend.lock(command="reconciler apply (test holder)"):
        print("locked", flush=True)
        time.sleep(float(sys.argv[2]))
""")


def test_second_apply_fails_at_once_naming_the_holder(tmp_path: Path, aws_env: str, boto, capsys) -> None:
    register_ami(boto, name="app-1.0.0")
    stack = write_stack(tmp_path / "s", {"main.hcl": MANY.replace("range(40)", "range(1)")})
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(stack), "30"], env=_env(aws_env), stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        result = Cli(stack, capsys)("apply", "--auto-approve")
        waited = time.monotonic() - started
        assert result.code == 1
        assert "locked" in result.err and f"pid {holder.pid}" in result.err
        assert "reconciler apply (test holder)" in result.err
        assert waited < 10  # fails at once rather than waiting (generous bound: no timing claim)
        assert launch_templates(boto) == {}
    finally:
        holder.kill()
        holder.wait()


def test_lock_timeout_waits_for_the_holder(tmp_path: Path, aws_env: str, boto, capsys) -> None:
    register_ami(boto, name="app-1.0.0")
    stack = write_stack(tmp_path / "s", {"main.hcl": MANY.replace("range(40)", "range(1)")})
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(stack), "1"], env=_env(aws_env), stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        result = Cli(stack, capsys)("apply", "--auto-approve", "--lock-timeout", "30")
        assert result.code == 0, result.text
        assert sorted(launch_templates(boto)) == ["lt-t00"]
    finally:
        holder.kill()
        holder.wait()
