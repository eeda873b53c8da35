"""Record what `terraform fmt` makes of every fmt corpus input (not run by CI).

Terraform is not a dependency of reconciler or of its tests: this script was run once, by hand,
with Terraform 1.11.4; it writes `fixtures/fmt/NAME.out.hcl` next to every `NAME.in.hcl`, and
`test_fmt_terraform.py` checks reconciler fmt against those files. To re-record:

    TERRAFORM=/usr/local/bin/terraform python tests/config/record_fmt_corpus.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

CORPUS = Path(__file__).parent / "fixtures" / "fmt"


def main() -> int:
    terraform = os.environ.get("TERRAFORM", "terraform")
    with tempfile.TemporaryDirectory() as scratch:
        cli_config = Path(scratch, "empty.tfrc")
        cli_config.write_text("", encoding="utf-8")
        env = {**os.environ, "TF_CLI_CONFIG_FILE": str(cli_config)}
        for source in sorted(CORPUS.glob("*.in.hcl")):
            proc = subprocess.run(
                [terraform, "fmt", "-no-color", "-"],
                input=source.read_bytes(),
                capture_output=True,
                env=env,
                timeout=60,
                check=False,
            )
            if proc.returncode != 0:
                print(f"{source.name}: terraform fmt failed: {proc.stderr.decode()}", file=sys.stderr)
                return 1
            source.with_name(source.name.replace(".in.hcl", ".out.hcl")).write_bytes(proc.stdout)
    print(f"recorded {len(list(CORPUS.glob('*.out.hcl')))} files in {CORPUS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
