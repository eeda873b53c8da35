"""`reconciler fmt` on a directory: rewrites as terraform fmt would, keeps CRLF line endings,
and reports (and never rewrites) a file that does not parse.

(Not under tests/config: that package swaps in fake provider schemas, and importing the CLI
there would bind them into the planning modules for the rest of the session.)"""

from __future__ import annotations

from pathlib import Path

import pytest


def test_cli_fmt_rewrites_keeps_line_endings_and_refuses_unparsable_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from reconciler.cli import main

    crlf = tmp_path / "a.hcl"
    crlf.write_bytes(b"locals {\r\n  a = 1\r\n  bb = 2\r\n}\r\n")
    broken = tmp_path / "b.hcl"
    broken.write_bytes(b"locals {\n  a = \n")
    assert main(["--chdir", str(tmp_path), "fmt", "--check"]) == 1
    assert crlf.read_bytes() == b"locals {\r\n  a = 1\r\n  bb = 2\r\n}\r\n"  # --check writes nothing
    assert main(["--chdir", str(tmp_path), "fmt"]) == 1  # b.hcl does not parse: reported
    assert crlf.read_bytes() == b"locals {\r\n  a  = 1\r\n  bb = 2\r\n}\r\n"  # as terraform fmt writes it
    assert broken.read_bytes() == b"locals {\n  a = \n"  # never reformatted
    assert "b.hcl line 2" in capsys.readouterr().err
    broken.unlink()
    assert main(["--chdir", str(tmp_path), "fmt", "--check"]) == 0
