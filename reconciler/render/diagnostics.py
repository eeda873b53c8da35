"""Diagnostics → plain text: summary, file and line, the offending source line, a caret, advice.

    Error: Unsupported attribute "instance_typo"
      on main.hcl line 12, in resource "aws_launch_template" "web":
      12:   instance_typo = "t3.micro"
                ^
    Did you mean "instance_type"?

No colour here (the CLI may add it). Callers: reconciler.cli (report), for every ConfigError.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from reconciler.errors import Diagnostic, Severity, SourcePos


def format_diagnostics(diags: list[Diagnostic], sources: Mapping[Path, str] | None = None) -> str:
    """Every diagnostic in the shape above, separated by blank lines (ends with a newline)."""
    cache: dict[Path, list[str] | None] = {}
    blocks = [_one(d, sources, cache) for d in diags]
    return "\n\n".join(blocks) + ("\n" if blocks else "")


def format_diagnostic(diag: Diagnostic, sources: Mapping[Path, str] | None = None) -> str:
    return _one(diag, sources, {})


def _lines_of(
    file: Path, sources: Mapping[Path, str] | None, cache: dict[Path, list[str] | None]
) -> list[str] | None:
    if file not in cache:
        text: str | None = None
        if sources is not None:
            text = sources.get(file)
            if text is None:  # tolerate relative vs absolute keys
                text = next(
                    (
                        t
                        for p, t in sources.items()
                        if p.name == file.name and (p.resolve() == file.resolve())
                    ),
                    None,
                )
        if text is None:
            try:  # a file that is not UTF-8 is shown with U+FFFD where its bad bytes are
                text = file.read_bytes().decode("utf-8", errors="replace").removeprefix("\ufeff")
            except OSError:
                text = None
        # lines as the parser counts them: only "\n" ends a line (not \f, \x1c, U+2028, ...)
        cache[file] = [ln.removesuffix("\r") for ln in text.split("\n")] if text is not None else None
    return cache[file]


def _one(diag: Diagnostic, sources: Mapping[Path, str] | None, cache: dict[Path, list[str] | None]) -> str:
    label = "Warning" if diag.severity is Severity.WARNING else "Error"
    out = [f"{label}: {diag.summary}"]
    pos: SourcePos | None = diag.pos
    if pos is not None:
        where = f"  on {pos.file.name} line {pos.line}"
        if diag.context:
            where += f", {diag.context}"
        out.append(where + ":")
        lines = _lines_of(pos.file, sources, cache)
        if lines is not None and 0 < pos.line <= len(lines):
            source = lines[pos.line - 1].rstrip().replace("\t", " ")
            prefix = f"  {pos.line}: "
            out.append(prefix + source)
            if pos.column >= 1 and pos.column <= len(source) + 1:
                out.append(" " * (len(prefix) + pos.column - 1) + "^")
    elif diag.context:
        out.append(f"  {diag.context}")
    if diag.detail:
        out.extend(diag.detail.splitlines())
    if diag.suggestion:
        out.append(f'Did you mean "{diag.suggestion}"?')
    return "\n".join(out)
