"""Every example passes as written (issue 14): each example holding a stack has a README.md with
one ```sh block, and that block, run by bash from a copy of the example's directory, exits 0
against a sandbox that the block itself starts, on a free port (SANDBOX_PORT, as the READMEs
say), with no AWS variable of the test's own environment and no manual step. The commands are
parsed out of the README, so this checks the README itself."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SH_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)
BIN = Path(sys.executable).parent  # the reconciler console script of this environment


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def readme_commands(example: str) -> str:
    blocks = SH_BLOCK.findall((EXAMPLES / example / "README.md").read_text())
    assert len(blocks) == 1, f"examples/{example}/README.md should hold exactly one ```sh block"
    return str(blocks[0])


def clean_env(port: int) -> dict[str, str]:
    """The user's shell as the README assumes it: reconciler on PATH, nothing pointing at AWS."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RECONCILER_VAR_"))}
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        SANDBOX_PORT=str(port),
        NO_COLOR="1",
        RECONCILER_ROLLOUT_POLL="0.2",  # health polls every 0.2 s instead of 2 s: same steps, sooner
    )
    return env


def test_every_example_has_a_readme_and_every_stack_one_block_of_commands() -> None:
    examples = sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir())
    assert all((EXAMPLES / name / "README.md").is_file() for name in examples), examples
    # the examples that hold a stack run as written below; examples/policy holds a Rego policy
    # for conftest/opa, evaluated on real plans by tests/render/test_policy_tools.py
    stacks = sorted(name for name in examples if any((EXAMPLES / name).rglob("*.hcl")))
    assert stacks == ["canary", "ci", "multi-region", "quickstart", "rolling"]
    for example in stacks:
        assert "reconciler" in readme_commands(example) or "run.sh" in readme_commands(example)


@pytest.mark.slow
@pytest.mark.parametrize("example", ["canary", "ci", "multi-region", "quickstart", "rolling"])
def test_readme_commands_pass_as_written(example: str, tmp_path: Path) -> None:
    here = tmp_path / example
    shutil.copytree(EXAMPLES / example, here, ignore=shutil.ignore_patterns(".reconciler", "plan.json"))
    port = free_port()
    env = clean_env(port)
    script = "set -euo pipefail\n" + readme_commands(example)
    try:
        done = subprocess.run(
            ["bash", "-c", script], cwd=here, env=env, capture_output=True, text=True, timeout=600
        )
    finally:  # a failed run may leave its sandbox behind
        subprocess.run(
            [str(BIN / "reconciler"), "sandbox", "stop"], cwd=here, env=env, capture_output=True, timeout=60
        )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    assert "Traceback" not in output
    assert f"127.0.0.1:{port}" in output  # the sandbox ran on the port the README's SANDBOX_PORT names
    if example in ("canary", "rolling"):
        assert "Rollout complete: rolled out app-1.1.0" in output, output[-4000:]
        assert "rolled back" not in output.lower(), output[-4000:]
