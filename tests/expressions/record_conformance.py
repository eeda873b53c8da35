"""Record Terraform's value for every expression of the conformance table (not run by CI).

Terraform is not a dependency of reconciler or of its tests: this script was run once, by hand,
with Terraform 1.11.4, and its output is kept as `fixtures/terraform_conformance.json`, which
`test_conformance.py` replays through reconciler's evaluator. To re-record (after adding rows):

    TERRAFORM=/usr/local/bin/terraform python tests/expressions/record_conformance.py [--new-only]

(`--new-only` keeps the rows already in the fixture and asks Terraform only for the new lines.)

Each row is evaluated by `terraform console` (offline, in a scratch directory holding LOCALS as
main.tf) and stored as the text Terraform printed, or the summary and detail of its error.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

FIXTURE = Path(__file__).parent / "fixtures" / "terraform_conformance.json"
ANSI = re.compile(r"\x1b\[[0-9;]*m")

# Locals the rows may refer to (templatestring needs a named template); the test defines the same.
LOCALS = {
    "tmpl": "Hello, ${name}!%{ if loud } !!%{ endif }",
    "list_tmpl": "%{ for i, x in items ~}\n${i}=${x}\n%{ endfor ~}",
}


def _expressions() -> list[str]:
    path = Path(__file__).parent / "fixtures" / "conformance_expressions.txt"
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            rows.append(line)
    return rows


def _locals_tf() -> str:
    lines = ["locals {"]
    for name, text in LOCALS.items():
        quoted = json.dumps(text).replace("${", "$${").replace("%{", "%%{")  # literal template text
        lines.append(f"  {name} = {quoted}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _parse_error(text: str) -> dict[str, str]:
    lines = [ln.strip("│╷╵ ").rstrip() for ln in ANSI.sub("", text).splitlines()]
    summary = next(ln[len("Error: ") :] for ln in lines if ln.startswith("Error: "))
    start = next(i for i, ln in enumerate(lines) if ln.startswith("(source code not available)"))
    detail = " ".join(ln for ln in lines[start + 1 :] if ln and not ln.startswith("Error: "))
    return {"summary": summary, "detail": detail}


def record(terraform: str, known: dict[str, dict[str, object]]) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as scratch:
        Path(scratch, "main.tf").write_text(_locals_tf(), encoding="utf-8")
        cli_config = Path(scratch, "empty.tfrc")
        cli_config.write_text("", encoding="utf-8")
        env = {**os.environ, "TF_CLI_CONFIG_FILE": str(cli_config), "COLUMNS": "2000"}
        for expr in _expressions():
            if expr in known:
                out.append(known[expr])
                continue
            proc = subprocess.run(
                [terraform, "console"],
                input=expr + "\n",
                capture_output=True,
                text=True,
                cwd=scratch,
                env=env,
                timeout=60,
                check=False,
            )
            if proc.returncode == 0:
                out.append({"expr": expr, "value": proc.stdout.rstrip("\n")})
            else:
                out.append({"expr": expr, "error": _parse_error(proc.stderr + proc.stdout)})
    return out


def main() -> int:
    terraform = os.environ.get("TERRAFORM", "terraform")
    version = subprocess.run([terraform, "version"], capture_output=True, text=True, check=True)
    known: dict[str, dict[str, object]] = {}
    if "--new-only" in sys.argv[1:] and FIXTURE.exists():
        known = {row["expr"]: row for row in json.loads(FIXTURE.read_text(encoding="utf-8"))["rows"]}
    rows = record(terraform, known)
    document = {
        "terraform": version.stdout.splitlines()[0],
        "locals": LOCALS,
        "rows": rows,
    }
    FIXTURE.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(rows)} rows written to {FIXTURE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
