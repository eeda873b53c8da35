"""`reconciler --help` loads the command line and nothing behind it.

The command groups import the engine inside their handlers, so asking for help (or the version)
imports no planning, provider, cloud, rendering or parsing library: the help stays fast however
large the engine grows. Checked in a fresh interpreter, by the modules it has loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys

ENGINE = tuple(
    f"reconciler.{p}"
    for p in ("planning", "applying", "rollout", "config", "graph", "expressions", "state", "sdk")
)
LIBRARIES = ("reconciler_aws", "boto3", "botocore", "rich", "pydantic", "hcl2", "lark", "deepdiff")

PROBE = """
import json, sys
from reconciler.cli import main
code = main({argv!r})
print(json.dumps({{"code": code, "modules": sorted(sys.modules)}}))
"""


def _loaded(argv: list[str]) -> tuple[int, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(argv=argv)], capture_output=True, text=True, check=True
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["code"], result["modules"]


def _heavy(modules: list[str]) -> list[str]:
    def heavy(name: str) -> bool:
        root = name.split(".")[0]
        return (
            name.startswith(ENGINE)
            or (name.startswith("reconciler.render.") and name != "reconciler.render")
            or root in LIBRARIES
        )

    return [m for m in modules if heavy(m)]


def test_help_imports_no_engine_module_nor_library() -> None:
    code, modules = _loaded(["--help"])
    assert code == 0
    assert "reconciler.cli.plan" in modules  # the probe saw the parser being built
    assert _heavy(modules) == []


def test_a_subcommand_help_imports_no_engine_module_either() -> None:
    code, modules = _loaded(["plan", "--help"])
    assert code == 0
    assert _heavy(modules) == []


def test_python_m_reconciler_prints_the_version() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "--version"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert done.stdout.startswith("reconciler ")
